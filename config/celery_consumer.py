"""The Celery worker's consumer, surviving a lost Redis connection (`CELERY_WORKER_CONSUMER` in settings).

When the broker connection breaks (Redis restarted, a network blip), Celery 5.7's consumer lets the connection
`collect()` its transport, then closes the connection, which closes its channel once more. Closing the channel
hands the worker's unacknowledged messages (a task running with acks_late, a retry waiting for its countdown)
back to Redis, and by then that needs a client `collect()` has dropped: kombu raises AttributeError, which the
consumer doesn't expect, and the whole worker stops ("Unrecoverable error"). A worker holding any task died on
every Redis restart (tests/reliability/test_broker.py, RedisRestartTests, fails without this class).

Here the channel is closed first, before Celery's clean-up, with the open sockets' reads bounded as Celery bounds
them (a broker that went silent without closing the connection must not hang the worker): the unacknowledged
messages are handed back, or, with Redis unreachable, left in its unacked set, whence the visibility timeout
restores them (our tasks are idempotent). Then Celery goes on as usual and reconnects.
"""
from __future__ import annotations

import logging

from celery.worker.consumer import Consumer as CeleryConsumer

try:  # Celery 5.7+: bound reads on sockets that are already open (a silent peer would block them for ever)
    from celery.utils.threads import bound_open_broker_sockets
except ImportError:  # older Celery: nothing to bound with
    def bound_open_broker_sockets(connection, timeout):
        return None

logger = logging.getLogger(__name__)

CLOSE_SOCKET_TIMEOUT = 5.0  # seconds, as Celery's own clean-up after a lost connection


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc):
        connection = self.connection
        channel = getattr(connection, "_default_channel", None)  # never `default_channel`: that would connect
        if channel is not None:
            bound_open_broker_sockets(connection, CLOSE_SOCKET_TIMEOUT)
            try:
                connection.maybe_close_channel(channel)  # ignores the broker's connection errors
            except Exception:  # nothing here may stop the reconnection below
                logger.warning("closing the broker channel after a lost connection failed", exc_info=True)
        super().on_connection_error_after_connected(exc)
