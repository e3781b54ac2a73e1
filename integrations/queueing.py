"""Queuing stored webhook receipts for processing, in batches per web process.

A delivery's receipts are committed before its ACK; queuing them is the ACK path's only other call. Publishing
a Celery task costs about 0.5 ms of CPU (kombu builds a Redis client per message), as much as the rest of the
webhook, and each task then costs the worker its own fetch and acknowledgement. So the web process doesn't
publish per delivery: the receipts of the deliveries it answers within `WEBHOOK_QUEUE_WINDOW` seconds are
queued by one thread of the process as one task (at most `WEBHOOK_QUEUE_BATCH` receipts each), at most that
window after the first ACK (benchmark 1, docs/benchmarks.md).

Nothing is lost that way: the receipts are stored whatever happens next. A broker that is down (Redis
restarting, a network blip) or a process that dies before its batch is published leaves them RECEIVED, and
`integrations.tasks.webhook_receipts_sweep` queues them later; a process that exits normally publishes what it
holds first. With tasks run in-process (the demo, most tests) there is no broker: the receipts are processed
at once, after the commit, as before.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_processing(receipt_ids: list[int]) -> None:
    """Queue processing of these receipts once they are committed. Never raises: the ACK must not become a
    500 for events we already have (the platform would send them again)."""
    if receipt_ids:
        ids = list(receipt_ids)
        transaction.on_commit(lambda: _after_commit(ids))


def _after_commit(receipt_ids: list[int]) -> None:
    from integrations.tasks import webhook_receipt_process

    if webhook_receipt_process.app.conf.task_always_eager:
        webhook_receipt_process.delay(receipt_ids)
    else:
        _batcher().add(receipt_ids)


def publish(receipt_ids: list[int]) -> bool:
    """One task for these receipts, published now; whether the broker took it. A single quick connection
    attempt: Celery's reconnect loop would hold the caller for seconds, and the sweep covers a failure."""
    from integrations.tasks import webhook_receipt_process

    try:
        with webhook_receipt_process.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0.1, timeout=1)
            webhook_receipt_process.apply_async((receipt_ids,), producer=producer, retry=False)
        return True
    except Exception:  # kombu and redis raise several types; none may escape
        logger.exception("broker unavailable: webhook receipts %s left for the sweep", receipt_ids)
        return False


class Batcher:
    """Receipt ids waiting to be queued, and the thread that queues them.

    `add` only appends (under a lock, from the request threads); the thread wakes on the first id of a batch,
    waits `window` seconds for the deliveries arriving meanwhile, then publishes what came, `limit` ids per
    task (several tasks let several worker processes share a burst).
    """

    def __init__(self, *, window: float, limit: int):
        self.window, self.limit = window, limit
        self.pending: list[int] = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="webhook-queue", daemon=True)
        self.thread.start()

    def add(self, receipt_ids: list[int]) -> None:
        with self.lock:
            self.pending.extend(receipt_ids)
            self.ready.set()

    def flush(self) -> int:
        """Publish everything pending now; how many ids."""
        with self.lock:
            batch, self.pending = self.pending, []
            self.ready.clear()
        for start in range(0, len(batch), self.limit):
            publish(batch[start : start + self.limit])
        return len(batch)

    def _run(self) -> None:
        while True:
            self.ready.wait()
            time.sleep(self.window)
            self.flush()


_batchers: dict[int, Batcher] = {}  # by process id: a forked process starts its own thread
_batchers_lock = threading.Lock()


def _batcher() -> Batcher:
    pid = os.getpid()
    batcher = _batchers.get(pid)
    if batcher is None:
        with _batchers_lock:
            batcher = _batchers.get(pid)
            if batcher is None:
                batcher = _batchers[pid] = Batcher(window=settings.WEBHOOK_QUEUE_WINDOW, limit=settings.WEBHOOK_QUEUE_BATCH)
                atexit.register(batcher.flush)
    return batcher
