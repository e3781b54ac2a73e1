"""Queuing webhook receipts in batches (integrations/queueing.py), against the real Redis broker and worker.

The deliveries a web process answers within the window become one task; nothing is lost or processed twice;
a process that exits publishes what it holds. Skipped only without REDIS_URL / DATABASE_URL (CI sets both).
"""
from __future__ import annotations

import base64
import json
import os

import pytest
import redis

from inbox.models import Message
from integrations import queueing
from integrations.models import WebhookReceipt
from tests.reliability.support import isolated_broker_url, wait_for
from tests.webhooks import messenger_body, messenger_text, post_messenger

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL")),
        reason="needs Redis and PostgreSQL (REDIS_URL, DATABASE_URL); CI always sets both",
    ),
]


def queued_tasks(queue: str) -> list[tuple[str, list]]:
    """(task name, positional args) of each task message waiting in the queue, oldest first."""
    found = []
    for raw in reversed(redis.Redis.from_url(isolated_broker_url()).lrange(queue, 0, -1)):  # LPUSHed: newest first
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], args))
    return found


class BatchTests:
    def test_deliveries_answered_within_the_window_are_one_task_and_all_processed(self, queue, workers, client, messenger_channel, queue_window):
        queue_window(2.0)  # wide enough for three posts on a busy machine
        page = messenger_channel.external_id
        for n in range(3):
            body = messenger_body(page, messenger_text(f"60000000000001{n}", page, f"m_batch_{n}", f"第 {n} 則"))
            assert post_messenger(client, body, "test-app-secret").status_code == 200
        stored = sorted(WebhookReceipt.objects.values_list("pk", flat=True))
        assert len(stored) == 3  # stored before each ACK, whatever happens to the queue

        assert wait_for(lambda: len(queued_tasks(queue)) == 1, timeout=5)
        [(name, args)] = queued_tasks(queue)
        assert name == "integrations.tasks.webhook_receipt_process" and sorted(args[0]) == stored

        worker = workers(queue)
        assert wait_for(lambda: worker.results() == ["processed"], timeout=30), worker.output()
        assert sorted(Message.objects.values_list("platform_message_id", flat=True)) == ["m_batch_0", "m_batch_1", "m_batch_2"]
        assert set(WebhookReceipt.objects.values_list("status", flat=True)) == {WebhookReceipt.Status.PROCESSED}

    def test_a_burst_is_split_into_tasks_of_the_batch_limit(self, queue):
        batcher = queueing.Batcher(window=0.3, limit=2)
        batcher.add([11, 12, 13])
        batcher.add([14, 15])
        assert wait_for(lambda: len(queued_tasks(queue)) == 3, timeout=5)
        assert [args[0] for _, args in queued_tasks(queue)] == [[11, 12], [13, 14], [15]]

    def test_flush_publishes_at_once_what_is_pending(self, queue):
        batcher = queueing.Batcher(window=60, limit=50)  # its thread would wait a minute
        batcher.add([21, 22])
        assert queued_tasks(queue) == []
        assert batcher.flush() == 2  # what a process exiting normally runs (atexit)
        assert [args[0] for _, args in queued_tasks(queue)] == [[21, 22]]
        assert batcher.flush() == 0
