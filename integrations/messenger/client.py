"""Messenger Send API and User Profile API over HTTP (platforms.md §1.3–1.5)."""
from __future__ import annotations

import requests
from django.conf import settings

from integrations import http
from integrations.base import (
    AuthError,
    Content,
    Delivery,
    InvalidRequest,
    OutboundMessage,
    PlatformError,
    Profile,
    Quota,
    RateLimited,
    RecipientUnavailable,
    SendResult,
    ThreadControlled,
    TransientError,
    WindowClosed,
)

WINDOW_SUBCODES = {2018278, 2534022}
UNAVAILABLE_SUBCODES = {2018108, 1545041, 2018001}
RATE_LIMIT_CODES = {4, 17, 32, 613}
TRANSIENT_CODES = {1, 2}
AUTH_CODES = {190, 200, 10}
BUTTON_TEXT_LIMIT = 640
BUTTON_TITLE_LIMIT = 20


def classify(response: requests.Response) -> PlatformError | None:
    """Map a Graph response to a typed error by its `code`/`error_subcode` (the HTTP status is usually 400)."""
    if response.status_code < 300:
        return None
    error = http.json_or_empty(response).get("error")
    if not isinstance(error, dict):
        if response.status_code == 429:
            return RateLimited("rate limited", status=429, retry_after=http.retry_after_header(response))
        if response.status_code >= 500:
            return TransientError("server error", status=response.status_code)
        return InvalidRequest(f"unexpected answer {response.status_code}", status=response.status_code)
    message = str(error.get("error_user_msg") or error.get("message") or "error")
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    kwargs = {"status": response.status_code, "code": code, "subcode": subcode}
    if subcode in WINDOW_SUBCODES:
        return WindowClosed(message, **kwargs)
    if code == 551 or subcode in UNAVAILABLE_SUBCODES:
        return RecipientUnavailable(message, **kwargs)
    if code == 2018300 or subcode == 2018300:
        return ThreadControlled(message, **kwargs)
    if code == 613 and subcode == 2018338:  # tag abuse warning: stop, don't retry
        return InvalidRequest(message, **kwargs)
    if code in RATE_LIMIT_CODES or response.status_code == 429:
        return RateLimited(message, retry_after=http.retry_after_header(response), **kwargs)
    if code in TRANSIENT_CODES or response.status_code >= 500:
        return TransientError(message, **kwargs)
    if code in AUTH_CODES:
        return AuthError(message, **kwargs)
    return InvalidRequest(message, **kwargs)


def message_parts(message: OutboundMessage) -> list[dict]:
    """The Send API `message` objects, one per request: text (or a link button), then the image."""
    parts: list[dict] = []
    if message.buttons:
        parts.append(
            {
                "attachment": {
                    "type": "template",
                    "payload": {
                        "template_type": "button",
                        "text": message.text[:BUTTON_TEXT_LIMIT],
                        "buttons": [
                            {"type": "web_url", "url": b.url, "title": b.label[:BUTTON_TITLE_LIMIT], "webview_height_ratio": "full"}
                            for b in message.buttons
                        ],
                    },
                }
            }
        )
    elif message.text:
        parts.append({"text": message.text})
    if message.image_url:
        parts.append({"attachment": {"type": "image", "payload": {"url": message.image_url, "is_reusable": True}}})
    if message.metadata:
        for part in parts:
            part["metadata"] = message.metadata
    return parts


class MessengerClient:
    def __init__(self, *, page_id: str, access_token: str, base_url: str | None = None):
        self.page_id = page_id
        self.access_token = access_token
        self.base_url = (base_url or settings.GRAPH_API_BASE).rstrip("/")

    def send(self, *, recipient_id: str, message: OutboundMessage, delivery: Delivery, skip_parts: int = 0) -> SendResult:
        """Send each part in its own request. `skip_parts` skips parts a previous attempt already sent."""
        sent: list[str] = []
        for part in message_parts(message)[skip_parts:]:
            body: dict = {"recipient": {"id": recipient_id}, "messaging_type": delivery.messaging_type, "message": part}
            if delivery.tag:
                body["tag"] = delivery.tag
            try:
                response = http.call(
                    "POST",
                    f"{self.base_url}/{self.page_id}/messages",
                    params={"access_token": self.access_token},
                    json=body,
                    classify=classify,
                    idempotent=False,
                )
            except PlatformError as error:
                error.sent_ids = tuple(sent)
                raise
            sent.append(str(http.json_or_empty(response).get("message_id", "")))
        return SendResult(message_ids=tuple(sent))

    def get_profile(self, *, user_id: str) -> Profile:
        response = http.call(
            "GET",
            f"{self.base_url}/{user_id}",
            params={"fields": "first_name,last_name,profile_pic", "access_token": self.access_token},
            classify=classify,
            idempotent=True,
        )
        data = http.json_or_empty(response)
        name = " ".join(str(data.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
        return Profile(display_name=name, picture_url=str(data.get("profile_pic") or ""))

    def get_quota(self) -> Quota | None:
        """Messenger has no message quota."""
        return None

    def get_content(self, *, message_id: str) -> Content:
        """Messenger media arrives as URLs in the webhook; there is no content endpoint."""
        raise InvalidRequest("Messenger has no content API: media comes by URL")
