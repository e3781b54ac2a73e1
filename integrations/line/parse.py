"""LINE webhook bodies -> `InboundEvent`s. Pure: no ORM, no HTTP, no settings.

The view checks `x-line-signature` over the raw bytes, decodes the JSON and calls `parse_body`. A body that is
not a LINE webhook raises `MalformedPayload`; `"events": []` is LINE's connection check and gives no events.
Inside a valid body nothing raises: unknown event types (LINE adds them, and its SDK fixtures include
`"type": "undefined"`) and shapes that aren't understood become `EventKind.OTHER`.

Each event carries `raw`, a one-event body that `parse_body` turns back into the same event; that is what is
stored per event and replayed.
"""
from __future__ import annotations

import copy
from typing import Any

from integrations.base import Attachment, EventKind, InboundEvent, MessageKind, Platform
from integrations.parsing import (
    EPOCH,
    MalformedPayload,
    as_dict,
    as_float,
    as_size,
    as_str,
    bounded_key,
    id_str,
    message_kind,
    ms_to_datetime,
    short_hash,
    valid_ms,
)

_MEDIA_TYPES = ("image", "video", "audio")

Fields = dict[str, Any]


def parse_body(body: Any) -> list[InboundEvent]:
    """Every event of a LINE webhook body, in order; `MalformedPayload` when the body isn't one."""
    if not isinstance(body, dict) or not as_str(body.get("destination")) or not isinstance(body.get("events"), list):
        raise MalformedPayload('expected {"destination": "<bot user id>", "events": [...]}')
    return [_parse_event(body["destination"], event) for event in body["events"]]


def _parse_event(destination: str, event: Any) -> InboundEvent:
    """One event; `OTHER` unless it has a timestamp and a type and content we understand."""
    fields = as_dict(event)
    ms = valid_ms(fields.get("timestamp"))
    kind, details = _classify(fields) if ms is not None else (EventKind.OTHER, {})
    if as_dict(fields.get("source")).get("type") != "user":
        # Group and room chats are not one-to-one conversations with a customer: kept, not filed.
        kind, details = EventKind.OTHER, {}
    standby = fields.get("mode") == "standby"
    return InboundEvent(
        platform=Platform.LINE,
        kind=kind,
        channel_key=destination,
        # May be absent in groups and rooms: LINE includes it only for users of LINE for iOS and Android.
        user_id=as_str(as_dict(fields.get("source")).get("userId")),
        timestamp=ms_to_datetime(ms) if ms is not None else EPOCH,
        dedupe_key=_dedupe_key(destination, event, ms or 0),
        raw={"destination": destination, "events": [copy.deepcopy(event)]},
        # Standby: another channel answers this chat, so never reply. An unfollow (block) can't be replied to.
        reply_token="" if standby or kind == EventKind.UNFOLLOW else as_str(fields.get("replyToken")),
        is_standby=standby,
        is_redelivery=as_dict(fields.get("deliveryContext")).get("isRedelivery") is True,
        **details,
    )


def _classify(event: Fields) -> tuple[EventKind, Fields]:
    """The event's kind and its kind-specific fields; `messageEdited` and unknown types are OTHER."""
    event_type = event.get("type")
    if event_type == "message":
        return _message_event(as_dict(event.get("message")))
    if event_type == "follow":
        return EventKind.FOLLOW, {}
    if event_type == "unfollow":
        return EventKind.UNFOLLOW, {}
    if event_type == "postback":
        return _postback_event(as_dict(event.get("postback")))
    if event_type == "unsend":
        return _unsend_event(as_dict(event.get("unsend")))
    return EventKind.OTHER, {}


def _message_event(message: Fields) -> tuple[EventKind, Fields]:
    """A message from the customer; without its id it can't be referenced (content, unsend), so it is OTHER.

    Text is kept exactly as typed; emojis and mentions index into it and stay in `raw`.
    """
    message_id = as_str(message.get("id"))
    if not message_id:
        return EventKind.OTHER, {}
    content_type = as_str(message.get("type"))
    attachment = _attachment(content_type, message_id, message)
    attachments = (attachment,) if attachment else ()
    text = as_str(message.get("text")) if content_type == "text" else ""
    return EventKind.MESSAGE, {
        "message_id": message_id,
        "message_kind": message_kind(attachments, text),
        "text": text,
        "attachments": attachments,
        "reply_to": as_str(message.get("quotedMessageId")),
    }


def _attachment(content_type: str, message_id: str, message: Fields) -> Attachment | None:
    """The message's content as an attachment; None for text and for types LINE may add later."""
    if content_type in _MEDIA_TYPES:
        return _media_attachment(content_type, message_id, as_dict(message.get("contentProvider")))
    if content_type == "file":
        # File bytes come from the content API, like LINE-hosted media.
        return Attachment(
            type="file",
            content_id=message_id,
            file_name=as_str(message.get("fileName")),
            file_size=as_size(message.get("fileSize")),
        )
    if content_type == "location":
        return Attachment(
            type="location",
            title=as_str(message.get("title")),
            address=as_str(message.get("address")),
            latitude=as_float(message.get("latitude")),
            longitude=as_float(message.get("longitude")),
        )
    if content_type == "sticker":
        # The sticker image can't be fetched through the API; resource type, keywords and text stay in `raw`.
        return Attachment(
            type="sticker",
            sticker_id=id_str(message.get("stickerId")),
            package_id=id_str(message.get("packageId")),
        )
    return None


def _media_attachment(content_type: str, message_id: str, provider: Fields) -> Attachment:
    """Image, video or audio: LINE-hosted bytes come from the content API by message id; external ones by URL."""
    provider_type = provider.get("type")
    if provider_type == "line":
        return Attachment(type=content_type, content_id=message_id)
    if provider_type == "external":
        return Attachment(
            type=content_type,
            url=as_str(provider.get("originalContentUrl")),
            preview_url=as_str(provider.get("previewImageUrl")),
        )
    return Attachment(type=content_type)


def _postback_event(postback: Fields) -> tuple[EventKind, Fields]:
    """A postback action: its `data` is the payload; without `data` there is nothing to act on."""
    data = postback.get("data")
    if not isinstance(data, str):
        return EventKind.OTHER, {}
    return EventKind.POSTBACK, {"message_kind": MessageKind.POSTBACK, "payload": data}


def _unsend_event(unsend: Fields) -> tuple[EventKind, Fields]:
    """The customer took a message back; `message_id` names it so it can be hidden."""
    message_id = as_str(unsend.get("messageId"))
    if not message_id:
        return EventKind.OTHER, {}
    return EventKind.UNSEND, {"message_id": message_id}


def _dedupe_key(destination: str, event: Any, ms: int) -> str:
    """LINE's advice: dedupe on `webhookEventId` (a redelivery keeps it; `messageEdited` reuses `message.id`).

    Without one, the type, time and a hash of the event stand in.
    """
    fields = as_dict(event)
    event_id = as_str(fields.get("webhookEventId"))
    if event_id:
        return bounded_key(f"{destination}:{event_id}")
    event_hash = short_hash(_without_delivery_context(event))
    return bounded_key(f"{destination}:{as_str(fields.get('type'))}:{ms}:{event_hash}")


def _without_delivery_context(event: Any) -> Any:
    """The event as hashed for a fallback key: `deliveryContext` is the one thing a redelivery changes."""
    if not isinstance(event, dict):
        return event
    return {key: value for key, value in event.items() if key != "deliveryContext"}
