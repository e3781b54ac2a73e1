"""Events for open inboxes: built here, sent to the staff group after the transaction commits.

Only services call `publish_on_commit`. Event shape: {"type": <entity>, "op": <what happened>, ...}.
"""
from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

STAFF_GROUP = "inbox.staff"


def message_payload(message) -> dict:
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "kind": message.kind,
        "text": message.text,
        "attachments": message.attachments,
        "state": message.state,
        "error": message.error,
        "created_at": message.platform_timestamp.isoformat(),
    }


def message_added(message, *, conversation_created: bool = False) -> dict:
    return {"type": "message", "op": "add", "message": message_payload(message), "conversation_created": conversation_created}


def message_changed(message) -> dict:
    return {"type": "message", "op": "update", "message": message_payload(message)}


def states_changed(conversation, message_ids: list[int], state: str) -> dict:
    return {"type": "message", "op": "state", "conversation_id": conversation.pk, "ids": message_ids, "state": state}


def publish_on_commit(event: dict) -> None:
    transaction.on_commit(lambda: publish(event))


def publish(event: dict) -> None:
    """Send to every open staff inbox. A broken channel layer must not fail the write that happened."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(STAFF_GROUP, {"type": "inbox.event", "event": event})
    except Exception:
        logger.exception("could not publish %s/%s", event.get("type"), event.get("op"))
