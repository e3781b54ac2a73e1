"""Messenger webhook bodies -> `InboundEvent`s. Pure: no ORM, no HTTP, no settings.

The view checks the signature over the raw bytes, decodes the JSON and calls `parse_body`. A body that is not a
Page webhook raises `MalformedPayload` (the view answers 400 and keeps the body). Inside a valid body nothing
raises: an event whose shape isn't understood becomes `EventKind.OTHER`, so everything Meta sends is kept.

Each event carries `raw`, a one-event body that `parse_body` turns back into the same event; that is what is
stored per event and replayed.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from integrations.base import Attachment, EventKind, InboundEvent, MessageKind, Platform
from integrations.parsing import (
    EPOCH,
    MalformedPayload,
    as_dict,
    as_float,
    as_list,
    as_str,
    bounded_key,
    first_str,
    id_str,
    message_kind,
    ms_to_datetime,
    short_hash,
    valid_ms,
)

# Where an entry keeps its events, and whether they are standby ones (another app owns the thread).
_EVENT_LISTS = (("messaging", False), ("standby", True))
_HANDOVER_KEYS = ("pass_thread_control", "take_thread_control", "request_thread_control", "app_roles")
_WATERMARK_KINDS = (EventKind.DELIVERY, EventKind.READ)

Fields = dict[str, Any]


def parse_body(body: Any) -> list[InboundEvent]:
    """Every event of a Page webhook body, in order; `MalformedPayload` when the body isn't one."""
    if not isinstance(body, dict) or body.get("object") != "page" or not isinstance(body.get("entry"), list):
        raise MalformedPayload('expected {"object": "page", "entry": [...]}')
    return [event for entry in body["entry"] for event in _parse_entry(entry)]


def _parse_entry(entry: Any) -> list[InboundEvent]:
    """The events of one entry: one Page, its `messaging` and/or `standby` lists (batched bodies have several)."""
    page_id = id_str(as_dict(entry).get("id"))
    if not page_id:
        raise MalformedPayload("every entry needs the Page id")
    lists = [(key, standby) for key, standby in _EVENT_LISTS if key in entry]
    if any(not isinstance(entry[key], list) for key, _ in lists):
        raise MalformedPayload("messaging and standby must be lists")
    if not lists:
        # Another subscribed field (feed `changes`, ...): kept as one OTHER event, never refused, since
        # Meta unsubscribes a Page whose webhook keeps failing.
        return [_entry_without_events(entry, page_id)]
    return [_parse_event(entry, page_id, key, standby, event) for key, standby in lists for event in entry[key]]


def _entry_without_events(entry: dict, page_id: str) -> InboundEvent:
    ms = valid_ms(entry.get("time"))
    return InboundEvent(
        platform=Platform.MESSENGER,
        kind=EventKind.OTHER,
        channel_key=page_id,
        user_id="",
        timestamp=ms_to_datetime(ms) if ms is not None else EPOCH,
        dedupe_key=bounded_key(f"{page_id}:entry:{ms or 0}:{short_hash(entry)}"),
        raw={"object": "page", "entry": [copy.deepcopy(entry)]},
    )


def _parse_event(entry: dict, page_id: str, list_key: str, standby: bool, event: Any) -> InboundEvent:
    """One event; `OTHER` unless it has its own timestamp, a customer and a body we understand."""
    fields = as_dict(event)
    own_ms = valid_ms(fields.get("timestamp"))
    ms = own_ms if own_ms is not None else valid_ms(entry.get("time"))
    user_id = _customer_id(fields, page_id)
    classified = _classify(fields) if own_ms is not None and user_id else None
    kind, details = classified or (EventKind.OTHER, {})
    return InboundEvent(
        platform=Platform.MESSENGER,
        kind=kind,
        channel_key=page_id,
        user_id=user_id,
        timestamp=ms_to_datetime(ms) if ms is not None else EPOCH,
        dedupe_key=_dedupe_key(page_id, kind, user_id, ms or 0, event, details),
        raw=_single_event_body(entry, list_key, event),
        is_standby=standby,
        **details,
    )


def _customer_id(event: Fields, page_id: str) -> str:
    """The customer's PSID: whichever side of the event isn't the Page.

    For an echo the Page is the sender and the customer the recipient; for everything else the reverse. Older
    docs had echoes the other way round, and this reading is right either way.
    """
    sender = id_str(as_dict(event.get("sender")).get("id"))
    if sender == page_id:
        return id_str(as_dict(event.get("recipient")).get("id"))
    return sender


def _classify(event: Fields) -> tuple[EventKind, Fields] | None:
    """The event's kind and its kind-specific fields; None when the shape isn't understood."""
    message = event.get("message")
    if isinstance(message, dict):
        if message.get("is_echo") is True:
            return EventKind.ECHO, _echo_fields(message)
        return EventKind.MESSAGE, _message_fields(message)
    for key, kind, build in _DETAIL_BUILDERS:
        if isinstance(event.get(key), dict):
            details = build(event[key])
            return (kind, details) if details is not None else None
    if any(isinstance(event.get(key), dict) for key in _HANDOVER_KEYS):
        return EventKind.HANDOVER, _handover_fields(event)
    return None


def _message_fields(message: Fields) -> Fields:
    """Text (kept exactly as typed), quick-reply payload, the message replied to, and attachments."""
    attachments = _attachments(message)
    text = as_str(message.get("text"))
    return {
        "message_id": as_str(message.get("mid")),
        "message_kind": message_kind(attachments, text),
        "text": text,
        "attachments": attachments,
        "payload": as_str(as_dict(message.get("quick_reply")).get("payload")),
        "reply_to": as_str(as_dict(message.get("reply_to")).get("mid")),
    }


def _echo_fields(message: Fields) -> Fields:
    """A message the Page sent; `app_id` and `metadata` tell our own sends from the Page inbox's."""
    return _message_fields(message) | {
        "app_id": id_str(message.get("app_id")),
        "metadata": as_str(message.get("metadata")),
    }


def _postback_fields(postback: Fields) -> Fields:
    """A button press: the button title shows as text; standby postbacks carry no payload."""
    return {
        "message_id": as_str(postback.get("mid")),
        "message_kind": MessageKind.POSTBACK,
        "text": as_str(postback.get("title")),
        "payload": as_str(postback.get("payload")),
    }


def _watermark_fields(detail: Fields) -> Fields | None:
    """Delivery or read: everything up to the watermark; without a usable watermark it means nothing."""
    watermark = valid_ms(detail.get("watermark"))
    if watermark is None:
        return None
    return {
        "watermark": ms_to_datetime(watermark),
        "mids": tuple(mid for mid in as_list(detail.get("mids")) if isinstance(mid, str)),
    }


def _handover_fields(event: Fields) -> Fields:
    """Thread control changed: `payload` names the change, `app_id` the app that owns (or asks for) the thread."""
    key = next(key for key in _HANDOVER_KEYS if isinstance(event.get(key), dict))
    detail = event[key]
    return {
        "payload": key,
        "app_id": id_str(detail.get("new_owner_app_id")) or id_str(detail.get("requested_owner_app_id")),
        "metadata": as_str(detail.get("metadata")),
    }


def _reaction_fields(reaction: Fields) -> Fields | None:
    """`react` or `unreact` (payload), the emoji (text) and the message reacted to (reply_to). Keyed by a hash of
    the event, never by that message's mid: a reaction and its undoing share it."""
    action = as_str(reaction.get("action"))
    if action not in ("react", "unreact"):
        return None
    return {"payload": action, "text": as_str(reaction.get("emoji")) or as_str(reaction.get("reaction")), "reply_to": as_str(reaction.get("mid"))}


def _referral_fields(referral: Fields) -> Fields:
    """Where the customer came from: `ref` (payload) and `source` (text), e.g. ADS, SHORTLINK, CUSTOMER_CHAT_PLUGIN."""
    return {"payload": as_str(referral.get("ref")), "text": as_str(referral.get("source"))}


_DETAIL_BUILDERS: tuple[tuple[str, EventKind, Callable[[Fields], Fields | None]], ...] = (
    ("postback", EventKind.POSTBACK, _postback_fields),
    ("delivery", EventKind.DELIVERY, _watermark_fields),
    ("read", EventKind.READ, _watermark_fields),
    ("reaction", EventKind.REACTION, _reaction_fields),
    ("referral", EventKind.REFERRAL, _referral_fields),
)


def _attachments(message: Fields) -> tuple[Attachment, ...]:
    """The message's attachments, with a sticker counted once.

    Until 2026-08-30 Meta sends a sticker as both a `sticker` and an `image` attachment (echoes too); a Messenger
    message never holds a sticker next to a real image, so beside a sticker the images are that duplicate.
    """
    items = [item for item in as_list(message.get("attachments")) if isinstance(as_dict(item).get("type"), str)]
    if any(item["type"] == "sticker" for item in items):
        items = [item for item in items if item["type"] != "image"]
    return tuple(_attachment(item) for item in items)


def _attachment(item: Fields) -> Attachment:
    """One attachment. `title`/`url` sat beside `payload` in old fallback attachments; button templates have text."""
    payload = as_dict(item.get("payload"))
    sticker_id = id_str(payload.get("sticker_id"))
    coordinates = as_dict(payload.get("coordinates"))
    return Attachment(
        # Before the transition a sticker was an image whose payload carried the sticker_id.
        type="sticker" if item["type"] == "image" and sticker_id else item["type"],
        url=first_str(payload.get("url"), item.get("url")),
        title=first_str(payload.get("title"), item.get("title"), payload.get("text")),
        sticker_id=sticker_id,
        latitude=as_float(coordinates.get("lat")),
        longitude=as_float(coordinates.get("long")),
    )


def _dedupe_key(page_id: str, kind: EventKind, user_id: str, ms: int, event: Any, details: Fields) -> str:
    """Meta's advice: dedupe on `mid`. Deliveries and reads have none and are keyed by their watermark.

    Anything else gets its customer, time and a hash of the event, so a retried delivery maps to the same key.
    """
    if kind in _WATERMARK_KINDS:
        key = f"{page_id}:{kind}:{user_id}:{event[kind.value]['watermark']}"
    elif details.get("message_id"):
        key = f"{page_id}:{kind}:{details['message_id']}"
    else:
        key = f"{page_id}:{kind}:{user_id}:{ms}:{short_hash(event)}"
    return bounded_key(key)


def _single_event_body(entry: dict, list_key: str, event: Any) -> dict[str, Any]:
    """A body holding just this event in its entry, so storing it and parsing it again gives the same event."""
    single = {key: entry[key] for key in ("id", "time") if key in entry}
    single[list_key] = [event]
    return {"object": "page", "entry": [copy.deepcopy(single)]}
