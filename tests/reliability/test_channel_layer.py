"""The channel layer holds a campaign's burst for a slow inbox tab: 500 frames sent to a group before its
socket reads any all arrive, in order (the default capacity, 100, silently dropped the rest). The configured
layer is used: Redis when REDIS_URL is set (CI), else the in-memory layer."""
from __future__ import annotations

import uuid

import pytest
from channels.layers import channel_layers, get_channel_layer
from django.conf import settings

BURST = 500


@pytest.fixture
def layer():
    channel_layers.backends.clear()  # built from the settings, bound to this test's event loop
    yield get_channel_layer()
    channel_layers.backends.clear()


def test_the_configured_capacity_and_expiry():
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    assert config["capacity"] == 1000 and config["expiry"] == 60


async def test_a_burst_reaches_a_socket_that_was_not_reading(layer):
    group = f"burst-{uuid.uuid4().hex[:8]}"
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    try:
        for n in range(BURST):
            await layer.group_send(group, {"type": "inbox.event", "n": n})
        received = [(await layer.receive(channel))["n"] for _ in range(BURST)]
        assert received == list(range(BURST))
    finally:
        await layer.group_discard(group, channel)


@pytest.mark.skipif(not settings.REDIS_URL, reason="the blocking pop is Redis's (CI sets REDIS_URL)")
async def test_a_socket_idle_longer_than_one_blocking_pop_still_gets_the_next_frame(layer):
    """An open inbox waits on Redis with a blocking pop that Redis ends after `brpop_timeout` (5 s) with nothing.
    With redis-py 8's default 5 s read timeout the client gave up first: the wait raised TimeoutError and the
    page's socket dropped every few seconds. Here the wait outlasts one pop and a frame sent then arrives."""
    import asyncio

    channel = await layer.new_channel()
    waiting = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(layer.brpop_timeout + 1.5)
    assert not waiting.done() or waiting.exception() is None, waiting.exception()
    await layer.send(channel, {"type": "after-the-pause"})
    assert (await asyncio.wait_for(waiting, 5))["type"] == "after-the-pause"


@pytest.mark.skipif(not settings.REDIS_URL, reason="the kept publishing connection is Redis's (CI sets REDIS_URL)")
async def test_publishing_survives_a_dropped_redis_connection(layer):
    """inbox.events keeps one Redis connection per process for publishing; Redis may drop it (a restart, an idle
    timeout) between two events. The next event still reaches the open inboxes."""
    import asyncio

    import redis
    from asgiref.sync import sync_to_async
    from channels_redis.core import RedisChannelLayer

    from inbox import events

    admin = redis.Redis.from_url(settings.REDIS_URL)
    db = admin.connection_pool.connection_kwargs.get("db", 0)

    def client_ids() -> set[str]:
        return {c["id"] for c in admin.client_list() if int(c["db"]) == db}

    # An open inbox, with connections of its own (made before, spared below).
    before = client_ids()
    inbox = RedisChannelLayer(hosts=settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"])
    channel = await inbox.new_channel()
    await inbox.group_add(events.STAFF_GROUP, channel)
    await inbox.send(channel, {"type": "warm-up"})
    assert (await inbox.receive(channel))["type"] == "warm-up"
    spared = (client_ids() - before) | {str(admin.client_id())}
    try:
        await sync_to_async(events.publish)({"type": "conversation", "op": "first"})
        assert (await asyncio.wait_for(inbox.receive(channel), 5))["event"]["op"] == "first"

        for client_id in client_ids() - spared:  # the publisher's kept connection among them
            admin.client_kill_filter(_id=client_id)

        await sync_to_async(events.publish)({"type": "conversation", "op": "second"})
        assert (await asyncio.wait_for(inbox.receive(channel), 5))["event"]["op"] == "second"
    finally:
        await inbox.group_discard(events.STAFF_GROUP, channel)
        admin.close()
