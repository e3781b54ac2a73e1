"""Database connections kept by long-lived threads and processes: the webhook handler's threads
(config/asgi.py) and the Celery worker's processes (config/celery.py)."""
import select
import time

from django.db import connections

# A kept connection idle longer than this is asked `SELECT 1` before it is used again (see below).
QUIET_SECONDS = 5.0


def keep_working_connections() -> None:
    """Django's check between requests (`close_old_connections`) without the age limit: a connection that is
    broken (the server dropped it: a restart, a failover, an idle timeout; or a request or task left a
    transaction state that isn't the default) is closed and reopened on first use; a working one is kept. It
    comes before the work: the platforms don't all redeliver an event we answered with a 500, and a task that
    fails on a dead connection would wait for the sweep."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        if conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"] or not _still_usable(conn):
            conn.close()
        else:
            conn.errors_occurred = False


def _still_usable(conn) -> bool:
    """Whether a kept connection still works, usually without a round trip to the server.

    It is asked `SELECT 1` (`is_usable`) when it had an error, when it has been idle more than QUIET_SECONDS
    (a proxy or a firewall may have dropped it without a word), or when its socket has something to read:
    between requests nothing is due from the server, so that is the server ending the session (a restart or a
    failover sends a termination notice, or closes the socket). Otherwise a glance at the socket is enough:
    under load that saves a statement per webhook and per task (benchmark 1, docs/benchmarks.md)."""
    now = time.monotonic()
    last, conn.last_check = getattr(conn, "last_check", None), (conn.connection, now)  # per database session
    quiet = last is None or last[0] is not conn.connection or now - last[1] > QUIET_SECONDS
    if conn.vendor != "postgresql" or conn.errors_occurred or quiet:
        return conn.is_usable()
    try:
        socket = select.poll()  # not select.select(): it refuses descriptors over 1023, common in a busy web process
        socket.register(conn.connection.fileno(), select.POLLIN)
        readable = socket.poll(0)
    except (OSError, ValueError, conn.Database.Error):  # closed on our side
        return False
    return not readable or conn.is_usable()
