"""Helpers for posting signed webhooks to our endpoints in tests (the platforms' side of the wire)."""
from __future__ import annotations

import json
import time

from integrations.line import signature as line_signature
from integrations.messenger import signature as messenger_signature


def messenger_body(page_id: str, *events: dict) -> bytes:
    now = int(time.time() * 1000)
    return json.dumps({"object": "page", "entry": [{"id": page_id, "time": now, "messaging": list(events)}]}).encode()


def messenger_text(psid: str, page_id: str, mid: str, text: str, *, ts: int | None = None) -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": page_id},
        "timestamp": ts or int(time.time() * 1000),
        "message": {"mid": mid, "text": text},
    }


def post_messenger(client, body: bytes, secret: str | None, **extra):
    headers = {"X-Hub-Signature-256": messenger_signature.sign(body, secret)} if secret else {}
    return client.post("/webhooks/messenger/", data=body, content_type="application/json", headers=headers, **extra)


def line_body(destination: str, *events: dict) -> bytes:
    return json.dumps({"destination": destination, "events": list(events)}).encode()


def line_text(user_id: str, event_id: str, text: str, *, reply_token: str = "rt-1", ts: int | None = None, message_id: str = "") -> dict:
    return {
        "type": "message",
        "mode": "active",
        "timestamp": ts or int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
        "replyToken": reply_token,
        "message": {"id": message_id or event_id[-10:], "type": "text", "text": text, "quoteToken": "q"},
    }


def post_line(client, channel, body: bytes, secret: str | None):
    headers = {"X-Line-Signature": line_signature.sign(body, secret)} if secret else {}
    return client.post(f"/webhooks/line/{channel.pk}/", data=body, content_type="application/json", headers=headers)
