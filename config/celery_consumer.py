"""The Celery worker's consumer, surviving a lost Redis connection (`CELERY_WORKER_CONSUMER` in settings).

When the broker connection breaks (Redis restarted, a network blip), Celery 5.7's consumer first lets the
connection `collect()` its transport, which drops the transport's client, and then closes the connection. Closing
its channel hands the worker's unacknowledged messages (a task running with acks_late, a retry waiting for its
countdown) back to Redis through that client: with the client gone that raises AttributeError, which the
consumer doesn't expect, and the whole worker stops ("Unrecoverable error"). A worker holding any task would
die on every Redis restart (tests/reliability/test_broker.py, RedisRestartTests).

Here the channel is closed first, while the client still exists: the unacknowledged messages are handed back
(or, with Redis unreachable, left in its unacked set, whence the visibility timeout restores them; our tasks are
idempotent), then Celery goes on as usual and reconnects.
"""
from __future__ import annotations

import logging

from celery.worker.consumer import Consumer as CeleryConsumer

logger = logging.getLogger(__name__)


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc):
        connection = self.connection
        channel = getattr(connection, "_default_channel", None)  # never `default_channel`: that would connect
        if channel is not None:
            try:
                connection.maybe_close_channel(channel)  # ignores the broker's connection errors
            except Exception:  # nothing here may stop the reconnection below
                logger.warning("closing the broker channel after a lost connection failed", exc_info=True)
        super().on_connection_error_after_connected(exc)
