"""Losing the worker or the broker loses nothing.

- A Celery worker killed in the middle of processing a webhook event: its transaction rolls back, the task
  was not acknowledged (acks_late), and the event is processed again later, exactly once (the redelivered
  task and the sweep's copy both run; the second finds the receipt processed and skips it).
- Redis down: the webhook is still accepted (200) and stored; once Redis is back the sweep queues it, a
  worker processes it and a connected inbox websocket receives the message frame.
- A real Redis killed and started again (empty, as it keeps nothing on disk) under a running worker: the worker
  reconnects by itself and processes what the web process stored meanwhile, once.

Real PostgreSQL, real Redis, real `celery worker` processes (killed with SIGKILL). Skipped only without
REDIS_URL / DATABASE_URL (CI always sets both; tests/conftest.py refuses CI without them).
"""
from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from inbox.consumers import InboxConsumer
from inbox.models import InboxEvent, Message
from integrations import queueing
from integrations.models import WebhookReceipt
from integrations.tasks import webhook_receipts_sweep
from tests import factories
from tests.reliability.support import PrivateRedis, isolated_broker_url, use_broker, wait_for
from tests.webhooks import line_body, line_text, messenger_body, messenger_text, post_line, post_messenger

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL")),
        reason="needs Redis and PostgreSQL (REDIS_URL, DATABASE_URL); CI always sets both",
    ),
]

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


def backdate_receipts(minutes: int = 10) -> None:
    """The sweep takes receipts older than five minutes: make ours that old."""
    WebhookReceipt.objects.update(received_at=timezone.now() - dt.timedelta(minutes=minutes))


class WorkerKilledTests:
    def test_killed_mid_processing_the_event_is_processed_again_once(self, queue, workers, tmp_path, messenger_channel, client):
        stall = tmp_path / "stalled"
        first = workers(queue, stall_file=stall)
        page = messenger_channel.external_id
        body = messenger_body(page, messenger_text("6000000000000077", page, "m_killed", "付款了"))
        assert post_messenger(client, body, "test-app-secret").status_code == 200

        # The worker is inside the receipt's transaction (the message row written, not committed): kill it.
        assert wait_for(lambda: stall.exists(), timeout=30), first.output()
        first.kill()
        receipt = WebhookReceipt.objects.get()
        assert receipt.status == WebhookReceipt.Status.RECEIVED and receipt.attempts == 0
        assert not Message.objects.exists()  # rolled back with the dead worker's connection

        # Later: the beat's sweep finds the receipt still RECEIVED and queues it again, and the killed
        # worker's unacknowledged task comes back once its visibility timeout has passed.
        backdate_receipts()
        assert webhook_receipts_sweep() == 1
        second = workers(queue, visibility_timeout=1)
        assert wait_for(lambda: len(second.results()) == 2, timeout=30), second.output()
        assert sorted(second.results()) == ["processed", "skipped"]

        receipt.refresh_from_db()
        assert receipt.status == WebhookReceipt.Status.PROCESSED and receipt.attempts == 1
        assert Message.objects.filter(platform_message_id="m_killed").count() == 1
        added = [e for e in InboxEvent.objects.all() if e.payload.get("type") == "message" and e.payload.get("op") == "add"]
        assert len(added) == 1  # staff saw it once
        assert webhook_receipts_sweep() == 0  # nothing left behind


async def _receive_message_frames(communicator: WebsocketCommunicator, texts: set[str], timeout: float = 20.0) -> dict[str, dict]:
    """The `message add` frames carrying `texts`, in whatever order they come (other frames are skipped)."""
    found: dict[str, dict] = {}
    deadline = timezone.now() + dt.timedelta(seconds=timeout)
    while set(found) != texts and timezone.now() < deadline:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame.get("type") == "message" and frame.get("op") == "add" and frame["message"]["text"] in texts:
            found[frame["message"]["text"]] = frame
    return found


@pytest.fixture
def fork_safe_afterwards():
    """After this async test, leave nothing that a process forked later would inherit half-alive.

    The browser tests fork Daphne from this process. asgiref runs thread-sensitive calls (the ORM from async
    code) on one shared single-thread executor; a fork copies that executor but not its thread, so in the child
    every such call would queue forever (the inbox's socket never connects). Give asgiref a fresh executor,
    whose thread will be started where it is first used, and forget the channel layer bound to this test's loop.
    """
    yield
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    channel_layers.backends.clear()


@pytest.mark.usefixtures("fork_safe_afterwards")
class RedisDownTests:
    async def test_webhooks_are_accepted_while_redis_is_down_and_processed_when_it_is_back(
        self, queue, workers, messenger_channel, line_channel, queue_window
    ):
        page = messenger_channel.external_id
        client = Client()
        queue_window(60)  # the web process queues them below, while Redis is down, not whenever its thread wakes

        # Redis goes down: the broker is unreachable.
        use_broker(DEAD_BROKER, queue=queue)
        m_body = messenger_body(page, messenger_text("6000000000000088", page, "m_during_outage", "Redis 掛了嗎"))
        l_body = line_body(line_channel.line_destination, line_text("U" + "f" * 32, "01RELIABILITYOUTAGE00000001", "還在嗎"))
        started = timezone.now()
        m_response = await sync_to_async(post_messenger)(client, m_body, "test-app-secret")
        l_response = await sync_to_async(post_line)(client, line_channel, l_body, "8c570fa6dd201bb328f1c1eac23a96d8")
        assert (m_response.status_code, l_response.status_code) == (200, 200)
        assert (timezone.now() - started).total_seconds() < 2  # still a fast ACK (LINE waits 2 s at most)
        assert await sync_to_async(queueing._batcher().flush)() == 2  # tried, refused: logged, left for the sweep

        @sync_to_async
        def stored():
            return sorted(WebhookReceipt.objects.values_list("dedupe_key", "status")), Message.objects.count()

        receipts, messages = await stored()
        assert [status for _, status in receipts] == ["received", "received"]
        assert any("m_during_outage" in key for key, _ in receipts) and any("OUTAGE" in key for key, _ in receipts)
        assert messages == 0

        # Redis is back. A staff inbox is open; the beat's next sweep queues what was left; a worker runs.
        use_broker(isolated_broker_url(), queue=queue)
        agent = await sync_to_async(factories.staff_user)("agent")
        communicator = WebsocketCommunicator(InboxConsumer.as_asgi(), "/ws/inbox/")
        communicator.scope["user"] = agent
        connected, _ = await communicator.connect()
        assert connected
        try:
            await sync_to_async(backdate_receipts)()
            assert await sync_to_async(webhook_receipts_sweep)() == 2
            worker = await sync_to_async(workers)(queue)
            frames = await _receive_message_frames(communicator, {"Redis 掛了嗎", "還在嗎"})
            assert set(frames) == {"Redis 掛了嗎", "還在嗎"}, worker.output()
            assert {frame["message"]["direction"] for frame in frames.values()} == {"inbound"}
        finally:
            await communicator.disconnect()

        @sync_to_async
        def settled():
            return (
                sorted(WebhookReceipt.objects.values_list("status", flat=True)),
                sorted(Message.objects.values_list("text", flat=True)),
            )

        assert await settled() == (["processed", "processed"], ["Redis 掛了嗎", "還在嗎"])
        assert sorted(worker.results()) == ["processed", "processed"]  # the sweep queues one task per receipt
        assert await sync_to_async(webhook_receipts_sweep)() == 0


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    yield server
    server.kill()


class RedisRestartTests:
    def test_a_running_worker_outlives_a_real_redis_restart_and_processes_what_was_stored_meanwhile(
        self, private_redis, queue, workers, messenger_channel, client, queue_window
    ):
        page = messenger_channel.external_id
        queue_window(60)  # the test flushes the web process's batch itself, at known moments

        def deliver(mid: str, text: str) -> None:
            body = messenger_body(page, messenger_text("6000000000000099", page, mid, text))
            assert post_messenger(client, body, "test-app-secret").status_code == 200

        use_broker(private_redis.url, queue=queue)
        worker = workers(queue, env={"RELIABILITY_BROKER_URL": private_redis.url})
        deliver("m_before", "重啟前")
        assert queueing._batcher().flush() == 1
        assert wait_for(lambda: worker.results() == ["processed"], timeout=30), worker.output()
        # The worker now holds a task, as a busy one always does: the new customer's profile look-up failed (the
        # platform is unreachable here) and its retry waits for its countdown, unacknowledged. Celery 5.7's worker
        # died on a lost connection while holding one (config/celery_consumer.py).
        assert wait_for(lambda: "contact_profile_fetch" in worker.output() and "retry: Retry in" in worker.output(), timeout=30), worker.output()

        # Redis dies. The webhooks are still answered and stored; publishing their task fails (logged).
        private_redis.kill()
        deliver("m_during_1", "Redis 重啟中")
        deliver("m_during_2", "還在嗎")
        assert queueing._batcher().flush() == 2
        assert sorted(WebhookReceipt.objects.values_list("status", flat=True)) == ["processed", "received", "received"]

        # Redis comes back empty; the same worker reconnects by itself; the beat's sweep queues what was left.
        private_redis.start()
        WebhookReceipt.objects.filter(status=WebhookReceipt.Status.RECEIVED).update(received_at=timezone.now() - dt.timedelta(minutes=10))
        assert webhook_receipts_sweep() == 2
        assert wait_for(lambda: worker.results() == ["processed"] * 3, timeout=60), worker.output()
        assert worker.process.poll() is None  # the one worker, never restarted

        assert set(WebhookReceipt.objects.values_list("status", "attempts")) == {(WebhookReceipt.Status.PROCESSED, 1)}
        assert sorted(Message.objects.filter(direction="inbound").values_list("text", flat=True)) == sorted(["重啟前", "Redis 重啟中", "還在嗎"])
        assert webhook_receipts_sweep() == 0
