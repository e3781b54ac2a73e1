"""The staff browser's websocket: authenticate, join the staff group, forward events. Writes go
through HTTP (views and API), never through the socket.

A browser that reconnects sends the last `seq` it saw and receives everything stored since, in order;
the browser ignores any `seq` it already applied, so nothing is missed and nothing is shown twice.
"""
from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox import events
from inbox.permissions import is_inbox_staff

CLOSE_FORBIDDEN = 4403


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if not await database_sync_to_async(is_inbox_staff)(user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(events.STAFF_GROUP, self.channel_name)
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode())
        since, known = query.get("since", [""])[0], query.get("known", [""])[0]
        if since.isdigit():
            await self.catch_up(int(since), int(known) if known.isdigit() else None)

    async def disconnect(self, code):
        await self.channel_layer.group_discard(events.STAFF_GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "catch_up" and str(content.get("since", "")).isdigit():
            known = str(content.get("known", ""))
            await self.catch_up(int(content["since"]), int(known) if known.isdigit() else None)

    async def catch_up(self, since: int, known: int | None = None) -> None:
        missed = await database_sync_to_async(events.events_since)(since, known=known)
        if missed is None:
            await self.send_json({"type": "resync"})
            return
        for event in missed:
            await self.send_json(event)

    async def inbox_event(self, message):
        await self.send_json(message["event"])

    async def inbox_events(self, message):  # several committed together (events.published_together)
        for event in message["events"]:
            await self.send_json(event)
