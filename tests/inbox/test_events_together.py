"""The live events of one webhook task travel as one channel-layer message (`events.published_together`), and
the staff socket still gets one frame per event, in order; only committed events are sent."""
from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from inbox import events
from inbox.consumers import InboxConsumer
from tests import factories
from tests.webhooks import messenger_body, messenger_text, post_messenger

pytestmark = pytest.mark.django_db(transaction=True)


def ingest_unless_boom(*, channel, event) -> None:
    """The real ingest, except that a text saying "boom" fails (a receipt whose processing breaks)."""
    from inbox.services.ingest import ingest_event

    if "boom" in event.text:
        raise RuntimeError("boom")
    ingest_event(channel=channel, event=event)


@database_sync_to_async
def customers(channel, count: int) -> list[str]:
    return [factories.conversation(channel).contact.platform_user_id for _ in range(count)]


@database_sync_to_async
def deliver(channel, *texts: tuple[str, str]) -> None:
    """One signed delivery with a text from each (customer id, text); tasks run in-process here, so its
    receipts are processed by one task before this returns."""
    page = channel.external_id
    body = messenger_body(page, *(messenger_text(psid, page, f"m_together_{n}_{text}", text) for n, (psid, text) in enumerate(texts)))
    assert post_messenger(Client(), body, "test-app-secret").status_code == 200


async def listening():
    layer = get_channel_layer()
    name = await layer.new_channel()
    await layer.group_add(events.STAFF_GROUP, name)
    return layer, name


async def next_message(layer, name, timeout: float = 5):
    return await asyncio.wait_for(layer.receive(name), timeout)


async def nothing_more(layer, name) -> bool:
    try:
        await asyncio.wait_for(layer.receive(name), 0.5)
    except asyncio.TimeoutError:
        return True
    return False


async def test_a_tasks_events_are_one_message_and_one_frame_each_on_the_socket(messenger_channel):
    psids = await customers(messenger_channel, 3)
    layer, name = await listening()
    agent = await database_sync_to_async(factories.staff_user)("agent")
    socket = WebsocketCommunicator(InboxConsumer.as_asgi(), "/ws/inbox/")
    socket.scope["user"] = agent
    assert (await socket.connect())[0]

    await deliver(messenger_channel, *((psid, f"hello {n}") for n, psid in enumerate(psids)))

    message = await next_message(layer, name)
    assert message["type"] == "inbox.events"
    texts = [e["message"]["text"] for e in message["events"] if e["type"] == "message"]
    assert texts == ["hello 0", "hello 1", "hello 2"]
    assert [e["seq"] for e in message["events"]] == sorted(e["seq"] for e in message["events"])
    assert await nothing_more(layer, name)

    frames = [await socket.receive_json_from(timeout=5) for _ in message["events"]]
    assert frames == message["events"]  # forwarded one frame each, in order
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()
    await layer.group_discard(events.STAFF_GROUP, name)


async def test_a_receipt_that_fails_sends_nothing_and_the_others_are_sent(messenger_channel, settings):
    settings.INBOUND_EVENT_HANDLER = "tests.inbox.test_events_together.ingest_unless_boom"
    first, second, third = await customers(messenger_channel, 3)
    layer, name = await listening()

    # Processed together, the task fails; each receipt then runs alone: the second is rolled back and kept FAILED.
    await deliver(messenger_channel, (first, "one"), (second, "boom"), (third, "three"))

    message = await next_message(layer, name)
    sent = message["events"] if message["type"] == "inbox.events" else [message["event"]]
    assert [e["message"]["text"] for e in sent if e["type"] == "message"] == ["one", "three"]
    assert await nothing_more(layer, name)
    await layer.group_discard(events.STAFF_GROUP, name)


async def test_a_single_event_keeps_the_one_event_message(messenger_channel):
    [psid] = await customers(messenger_channel, 1)
    layer, name = await listening()
    await deliver(messenger_channel, (psid, "just one"))
    message = await next_message(layer, name)
    assert message["type"] == "inbox.event" and message["event"]["message"]["text"] == "just one"
    await layer.group_discard(events.STAFF_GROUP, name)
