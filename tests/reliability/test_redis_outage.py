"""Redis down for the web process as a whole: the Celery broker, the channel layer and the cache at once
(tests/reliability/test_broker.py takes away only the broker, so the live updates never actually stopped).

While it is down: both platforms' webhooks are still answered 200 at once and stored; a staff member's
change still succeeds and its event is stored, though no socket can be told. The inbox that was open lost
its socket. When Redis is back: the inbox reconnects with the last event number it had and is replayed what
it missed; the sweep queues the stored deliveries, a real worker processes them, and their messages arrive
live. Proof that nothing is lost: every event stored after the last one the inbox saw reaches it exactly
once, in order, and each delivery became one message.

Real PostgreSQL, real Redis (the outage is the web process pointed at a port where nothing listens), a real
`celery worker` process. Skipped only without REDIS_URL / DATABASE_URL (CI always sets both).
"""
from __future__ import annotations

import os
import time

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from inbox import events
from inbox.consumers import InboxConsumer
from inbox.models import InboxEvent, Message
from integrations.models import WebhookReceipt
from integrations.tasks import webhook_receipts_sweep
from tests import factories
from tests.reliability.support import isolated_broker_url, use_broker, wait_for
from tests.reliability.test_broker import DEAD_BROKER, backdate_receipts, fork_safe_afterwards  # noqa: F401 (fixture)
from tests.webhooks import line_body, line_text, messenger_body, messenger_text, post_line, post_messenger

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL")),
        reason="needs Redis and PostgreSQL (REDIS_URL, DATABASE_URL); CI always sets both",
    ),
    pytest.mark.usefixtures("fork_safe_afterwards"),
]

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once
MESSENGER_SECRET = "test-app-secret"
LINE_SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"


def forget_publishers() -> None:
    """Drop this process's kept publishing connection and shared channel layer, so the next event is sent
    with the settings of now (as a restarted Redis, or a process started during the outage, would be)."""
    for loop, _layer in list(events._publishers.values()):
        loop.call_soon_threadsafe(loop.stop)
    events._publishers.clear()
    channel_layers.backends.clear()


@pytest.fixture
def redis_switch(settings, queue):
    """`down()` points the broker, the channel layer and the cache of this process at a dead port; `up()`
    points them back."""
    layers, caches = django_settings.CHANNEL_LAYERS, django_settings.CACHES

    def down() -> None:
        use_broker(DEAD_BROKER, queue=queue)
        settings.CHANNEL_LAYERS = {"default": {**layers["default"], "CONFIG": {**layers["default"]["CONFIG"], "hosts": [DEAD_REDIS]}}}
        settings.CACHES = {"default": {**caches["default"], "LOCATION": DEAD_REDIS}}
        forget_publishers()

    def up() -> None:
        use_broker(isolated_broker_url(), queue=queue)
        settings.CHANNEL_LAYERS, settings.CACHES = layers, caches
        forget_publishers()

    yield down, up
    up()


def staff_socket(agent, query: str = "") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(InboxConsumer.as_asgi(), f"/ws/inbox/{query}")
    communicator.scope["user"] = agent
    return communicator


async def frames_until(communicator: WebsocketCommunicator, done, timeout: float = 30.0) -> list[dict]:
    """Every frame the socket receives until `done(frames)` says enough (or the time is up)."""
    frames: list[dict] = []
    deadline = time.monotonic() + timeout
    while not await sync_to_async(done)(frames) and time.monotonic() < deadline:
        try:
            frames.append(await communicator.receive_json_from(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
    return frames


class WholeRedisOutageTests:
    async def test_webhooks_and_staff_work_through_it_and_the_inbox_misses_nothing(
        self, queue, workers, messenger_channel, line_channel, queue_window, redis_switch, caplog
    ):
        down, up = redis_switch
        queue_window(60)  # this process queues its receipts when the test says (flush), not when its thread wakes
        agent = await sync_to_async(factories.staff_user)("agent")
        conversation = await sync_to_async(factories.conversation)(messenger_channel, name="Mei")
        staff = Client()
        await sync_to_async(staff.force_login)(agent)
        note_url = f"/api/v1/conversations/{conversation.pk}/note/"

        # Redis is up, an inbox is open and live.
        inbox = staff_socket(agent)
        assert (await inbox.connect())[0]
        response = await sync_to_async(staff.post)(note_url, {"note": "before"}, content_type="application/json")
        assert response.status_code == 200
        [seen] = await frames_until(inbox, lambda frames: len(frames) == 1, timeout=10)
        assert seen["conversation"]["note"] == "before"
        last_seen = seen["seq"]

        # Redis goes down; the open inbox loses its socket.
        await inbox.disconnect()
        await sync_to_async(down)()
        page = messenger_channel.external_id
        m_body = messenger_body(page, messenger_text("6000000000000099", page, "m_whole_outage", "Redis 全掛了"))
        l_body = line_body(line_channel.line_destination, line_text("U" + "e" * 32, "01RELIABILITYWHOLEOUTAGE001", "還收得到嗎"))
        client = Client()
        started = time.monotonic()
        answers = (
            (await sync_to_async(post_messenger)(client, m_body, MESSENGER_SECRET)).status_code,
            (await sync_to_async(post_line)(client, line_channel, l_body, LINE_SECRET)).status_code,
        )
        assert answers == (200, 200)
        assert time.monotonic() - started < 2  # still a fast ACK (LINE waits 2 s at most)
        from integrations import queueing

        assert await sync_to_async(queueing._batcher().flush)() == 2  # tried, refused: left for the sweep

        started = time.monotonic()
        response = await sync_to_async(staff.post)(note_url, {"note": "during the outage"}, content_type="application/json")
        assert response.status_code == 200, response.content
        assert time.monotonic() - started < 5  # the failed publish is given up quickly
        assert "could not publish conversation/" in caplog.text  # really down: the event reached no socket

        @sync_to_async
        def cache_is_down() -> bool:
            from django.core.cache import cache

            try:
                cache.get("anything")
            except Exception:
                return True
            return False

        assert await cache_is_down()

        @sync_to_async
        def during():
            return (
                sorted(WebhookReceipt.objects.values_list("status", flat=True)),
                Message.objects.filter(direction="inbound").exclude(conversation=conversation).count(),
                list(InboxEvent.objects.filter(pk__gt=last_seen).values_list("payload__conversation__note", flat=True)),
            )

        assert await during() == (["received", "received"], 0, ["during the outage"])

        # Redis is back. The inbox reconnects with the last number it had and is replayed what it missed.
        await sync_to_async(up)()
        inbox = staff_socket(agent, f"?since={last_seen}&known={last_seen}")
        assert (await inbox.connect())[0]
        try:
            [replayed] = await frames_until(inbox, lambda frames: len(frames) == 1, timeout=10)
            assert replayed["conversation"]["note"] == "during the outage" and replayed["seq"] > last_seen

            # The beat's next sweep queues what was stored; a worker processes it; the messages arrive live.
            await sync_to_async(backdate_receipts)()
            assert await sync_to_async(webhook_receipts_sweep)() == 2
            worker = await sync_to_async(workers)(queue)

            def everything_arrived(frames) -> bool:
                stored = set(InboxEvent.objects.filter(pk__gt=last_seen).values_list("pk", flat=True))
                texts = {f["message"]["text"] for f in frames if f.get("type") == "message" and f.get("op") == "add"}
                return {"Redis 全掛了", "還收得到嗎"} <= texts and {f["seq"] for f in frames} | {replayed["seq"]} >= stored

            live = await frames_until(inbox, everything_arrived, timeout=40)
            assert await sync_to_async(everything_arrived)(live), worker.output()
        finally:
            await inbox.disconnect()

        # Nothing lost, nothing twice: every event stored since the last one seen reached the inbox once, in order.
        received = [replayed["seq"]] + [f["seq"] for f in live]
        stored = await sync_to_async(lambda: list(InboxEvent.objects.filter(pk__gt=last_seen).order_by("pk").values_list("pk", flat=True)))()
        assert sorted(received) == stored and len(set(received)) == len(received)

        @sync_to_async
        def settled():
            return (
                sorted(WebhookReceipt.objects.values_list("status", flat=True)),
                sorted(Message.objects.filter(direction="inbound").exclude(conversation=conversation).values_list("text", flat=True)),
            )

        assert await settled() == (["processed", "processed"], ["Redis 全掛了", "還收得到嗎"])
        assert wait_for(lambda: sorted(worker.results()) == ["processed", "processed"], timeout=10), worker.output()
        assert await sync_to_async(webhook_receipts_sweep)() == 0


class CacheOutageTests:
    """The cache (Redis) only saves work: LINE's quota figure for a minute, the customer page's rate-limit
    counters, and after a paid push its cached quota is dropped. Down, it must cost no page and no send."""

    def test_pages_that_use_the_cache_still_answer(self, line_channel, redis_switch):
        from orders import confirmation
        from tests.orders.public.factories import make_order

        agent = factories.staff_user("agent")
        conversation = factories.conversation(line_channel, name="Lin")
        token = confirmation.order_token(make_order(conversation=conversation))
        down, _up = redis_switch
        down()
        staff = Client(raise_request_exception=False)
        staff.force_login(agent)
        assert staff.get(f"/inbox/c/{conversation.pk}/").status_code == 200
        assert staff.get(f"/inbox/fragments/header/{conversation.pk}/").status_code == 200
        customer = Client(raise_request_exception=False)
        assert customer.get(f"/o/{token}/").status_code == 200
        assert customer.get(f"/o/{token}/state/").status_code == 200

    def test_a_paid_push_is_still_recorded_as_sent(self, line_channel, redis_switch):
        from inbox.services.messaging import mark_sent

        conversation = factories.conversation(line_channel, name="Lin")
        message = Message.objects.create(
            conversation=conversation, channel=line_channel, direction="outbound", source="staff", text="已出貨", state="queued",
            platform_timestamp=timezone.now(),
        )
        down, _up = redis_switch
        down()
        mark_sent(message_id=message.pk, message_ids=("line-1",), billed=True)
        message.refresh_from_db()
        assert message.state == Message.State.SENT and message.billed and message.platform_message_id == "line-1"
