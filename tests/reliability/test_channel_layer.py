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
