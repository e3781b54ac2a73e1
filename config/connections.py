"""Database connections kept by long-lived threads and processes: the webhook handler's threads
(config/asgi.py) and the Celery worker's processes (config/celery.py)."""
from django.db import connections


def keep_working_connections() -> None:
    """Django's check between requests (`close_old_connections`) without the age limit: a connection that is
    broken (the server dropped it: a restart, a failover, an idle timeout; or a request or task left a
    transaction state that isn't the default) is closed and reopened on first use; a working one is kept. The
    check is one `SELECT 1` on PostgreSQL, far cheaper than connecting (about 5 ms), and it comes before the
    work: the platforms don't all redeliver an event we answered with a 500, and a task that fails on a dead
    connection would wait for the sweep."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        if conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"] or not conn.is_usable():
            conn.close()
        else:
            conn.errors_occurred = False
