"""The one place that picks a platform client for a channel; the inbox never branches on the platform."""
from __future__ import annotations

from integrations.base import ChannelClient, Platform
from integrations.line.client import LineClient
from integrations.messenger.client import MessengerClient
from integrations.models import Channel


def get_client(channel: Channel) -> ChannelClient:
    if channel.platform == Platform.MESSENGER:
        return MessengerClient(page_id=channel.external_id, access_token=channel.access_token)
    if channel.platform == Platform.LINE:
        return LineClient(access_token=channel.access_token)
    raise ValueError(f"unknown platform {channel.platform!r}")
