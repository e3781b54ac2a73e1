"""Webhook bodies exactly as Meta and LINE send them. Pure functions: values in, dicts out."""
import datetime as dt
from typing import Any

from integrations.sandbox import ids

LINE_STICKER_RESOURCE_TYPE = "STATIC"


def epoch_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- Messenger ------------------------------------------------------------------------------------

def messenger_envelope(page_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """One entry holding one event: Meta batches entries, but each `messaging` list has a single event."""
    return {"object": "page", "entry": [{"id": page_id, "time": event["timestamp"], "messaging": [event]}]}


def messenger_user_event(page_id: str, psid: str, at: dt.datetime, **content: Any) -> dict[str, Any]:
    """An event the customer caused: sender is the PSID, recipient the Page."""
    return {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": epoch_ms(at), **content}


def messenger_echo_event(page_id: str, psid: str, at: dt.datetime, message: dict[str, Any]) -> dict[str, Any]:
    """A message the Page sent, echoed back: sender is the Page, recipient the PSID."""
    return {"sender": {"id": page_id}, "recipient": {"id": psid}, "timestamp": epoch_ms(at), "message": message}


def messenger_echo_message(
    *, mid: str, app_id: str, sent: dict[str, Any], metadata: str | None
) -> dict[str, Any]:
    """The echo's `message`: what was sent (text or attachment) plus is_echo, app_id, metadata and the mid."""
    message: dict[str, Any] = {"is_echo": True, "app_id": number_or_string(app_id), "mid": mid}
    if metadata is not None:
        message["metadata"] = metadata
    if "text" in sent:
        message["text"] = sent["text"]
    if "attachment" in sent:
        attachment = sent["attachment"]
        message["attachments"] = [{"type": attachment["type"], "payload": attachment.get("payload", {})}]
    return message


def messenger_text(text: str) -> dict[str, Any]:
    return {"mid": ids.messenger_mid(), "text": text}


def messenger_attachment(type_: str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"mid": ids.messenger_mid(), "attachments": [{"type": type_, "payload": payload, **extra}]}


def messenger_sticker(sticker_id: str, url: str) -> dict[str, Any]:
    """After 2026-08-30 Meta sends stickers only as type "sticker"; sticker_id is a number in the reference."""
    return messenger_attachment("sticker", {"url": url, "sticker_id": number_or_string(sticker_id)})


def messenger_location(location: dict[str, Any]) -> dict[str, Any]:
    """The legacy location attachment: Meta no longer documents it, but old clients still produce it."""
    lat, lng = location["latitude"], location["longitude"]
    return messenger_attachment(
        "location",
        {"coordinates": {"lat": lat, "long": lng}},
        title=location.get("title") or "Pinned location",
        url=f"https://www.bing.com/maps/default.aspx?v=2&pc=FACEBK&mid=8100&where1={lat},{lng}",
    )


def number_or_string(value: str) -> int | str:
    """Meta sends numeric ids (app_id, sticker_id) as JSON numbers."""
    return int(value) if str(value).isdigit() else value


# --- LINE -----------------------------------------------------------------------------------------

def line_envelope(destination: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"destination": destination, "events": events}


def line_event(
    type_: str, user_id: str, at: dt.datetime, *, reply_token: str | None = None, **content: Any
) -> dict[str, Any]:
    """The properties every event shares; `replyToken` only for events that can be answered."""
    event: dict[str, Any] = {
        "type": type_,
        "mode": "active",
        "timestamp": epoch_ms(at),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": ids.ulid(),
        "deliveryContext": {"isRedelivery": False},
    }
    if reply_token:
        event["replyToken"] = reply_token
    event.update(content)
    return event


def as_redelivery(event: dict[str, Any]) -> dict[str, Any]:
    """A redelivered event is identical (same webhookEventId, replyToken, timestamp) but for isRedelivery."""
    return {**event, "deliveryContext": {"isRedelivery": True}}


def line_text(text: str) -> dict[str, Any]:
    return {"id": ids.line_message_id(), "type": "text", "quoteToken": ids.line_quote_token(), "text": text}


def line_image(message_id: str) -> dict[str, Any]:
    """The bytes stay on LINE's side: the bot fetches them from the api-data content endpoint."""
    return {
        "id": message_id,
        "type": "image",
        "quoteToken": ids.line_quote_token(),
        "contentProvider": {"type": "line"},
    }


def line_sticker(package_id: str, sticker_id: str) -> dict[str, Any]:
    return {
        "id": ids.line_message_id(),
        "type": "sticker",
        "quoteToken": ids.line_quote_token(),
        "packageId": str(package_id),
        "stickerId": str(sticker_id),
        "stickerResourceType": LINE_STICKER_RESOURCE_TYPE,
    }


def line_location(location: dict[str, Any]) -> dict[str, Any]:
    message = {
        "id": ids.line_message_id(),
        "type": "location",
        "latitude": location["latitude"],
        "longitude": location["longitude"],
    }
    for key in ("title", "address"):
        if location.get(key):
            message[key] = location[key]
    return message
