"""LINE Messaging API over HTTP: reply, push, profile, quota, content (platforms.md §2.2–2.4)."""
from __future__ import annotations

import requests
from django.conf import settings

from integrations import http
from integrations.base import (
    AuthError,
    Content,
    Delivery,
    InvalidReplyToken,
    InvalidRequest,
    OutboundMessage,
    PlatformError,
    Profile,
    Quota,
    QuotaExceeded,
    RateLimited,
    RecipientUnavailable,
    SendResult,
    TransientError,
)

TEXT_LIMIT_UTF16 = 5000
BUTTONS_TEXT_LIMIT = 160
ALT_TEXT_LIMIT = 1500
LABEL_LIMIT = 20


def classify(response: requests.Response) -> PlatformError | None:
    """LINE has no error codes: the HTTP status and the message text say what went wrong."""
    status = response.status_code
    if status < 300:
        return None
    message = str(http.json_or_empty(response).get("message") or f"HTTP {status}")
    if status == 400 and "reply token" in message.lower():
        return InvalidReplyToken(message, status=status)
    if status in (401, 403):
        return AuthError(message, status=status)
    if status == 404:
        return RecipientUnavailable(message, status=status)
    if status == 429 and "monthly limit" in message.lower():
        return QuotaExceeded(message, status=status)
    if status == 429:
        return RateLimited(message, status=status, retry_after=http.retry_after_header(response))
    if status >= 500:
        return TransientError(message, status=status)
    return InvalidRequest(message, status=status)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def line_messages(message: OutboundMessage) -> list[dict]:
    """LINE message objects for one request: text (or text + link buttons), then the image."""
    if message.text and utf16_length(message.text) > TEXT_LIMIT_UTF16:
        raise InvalidRequest(f"text longer than {TEXT_LIMIT_UTF16} characters")
    messages: list[dict] = []
    if message.buttons:
        # Buttons text is short (160); the whole text goes first as a text message when it is longer.
        if len(message.text) > BUTTONS_TEXT_LIMIT:
            messages.append({"type": "text", "text": message.text})
        messages.append(
            {
                "type": "template",
                "altText": message.fallback_text[:ALT_TEXT_LIMIT],
                "template": {
                    "type": "buttons",
                    "text": message.text[:BUTTONS_TEXT_LIMIT],
                    "actions": [{"type": "uri", "label": b.label[:LABEL_LIMIT], "uri": b.url} for b in message.buttons],
                },
            }
        )
    elif message.text:
        messages.append({"type": "text", "text": message.text})
    if message.image_url:
        messages.append(
            {"type": "image", "originalContentUrl": message.image_url, "previewImageUrl": message.preview_url or message.image_url}
        )
    return messages


class LineClient:
    def __init__(self, *, access_token: str, base_url: str | None = None, data_base_url: str | None = None):
        self.access_token = access_token
        self.base_url = (base_url or settings.LINE_API_BASE).rstrip("/")
        self.data_base_url = (data_base_url or settings.LINE_DATA_API_BASE).rstrip("/")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def send(self, *, recipient_id: str, message: OutboundMessage, delivery: Delivery, skip_parts: int = 0) -> SendResult:
        """One request for all parts: a free reply when a reply token is given, else a paid push.

        A push carries the message's X-Line-Retry-Key, so repeating it after a timeout can't send twice:
        LINE answers 409 for a key it already accepted, which means "sent".
        """
        messages = line_messages(message)
        if delivery.reply_token:
            response = http.call(
                "POST",
                f"{self.base_url}/v2/bot/message/reply",
                json={"replyToken": delivery.reply_token, "messages": messages},
                headers=self.headers,
                classify=classify,
                idempotent=False,
            )
            return self._result(response, used_reply=True)
        headers = dict(self.headers)
        if delivery.retry_key:
            headers["X-Line-Retry-Key"] = delivery.retry_key
        response = http.call(
            "POST",
            f"{self.base_url}/v2/bot/message/push",
            json={"to": recipient_id, "messages": messages},
            headers=headers,
            classify=lambda r: None if (r.status_code == 409 and delivery.retry_key) else classify(r),
            idempotent=bool(delivery.retry_key),
        )
        return self._result(response, used_reply=False)

    @staticmethod
    def _result(response: requests.Response, *, used_reply: bool) -> SendResult:
        data = http.json_or_empty(response)
        sent = data.get("sentMessages") if isinstance(data.get("sentMessages"), list) else []
        ids = tuple(str(m.get("id", "")) for m in sent if isinstance(m, dict))
        request_id = response.headers.get("x-line-accepted-request-id") or response.headers.get("X-Line-Request-Id", "")
        return SendResult(message_ids=ids, request_id=request_id, used_reply=used_reply, billed=not used_reply)

    def get_profile(self, *, user_id: str) -> Profile:
        response = http.call(
            "GET", f"{self.base_url}/v2/bot/profile/{user_id}", headers=self.headers, classify=classify, idempotent=True
        )
        data = http.json_or_empty(response)
        return Profile(
            display_name=str(data.get("displayName") or ""),
            picture_url=str(data.get("pictureUrl") or ""),
            language=str(data.get("language") or ""),
        )

    def get_quota(self) -> Quota:
        quota = http.json_or_empty(
            http.call("GET", f"{self.base_url}/v2/bot/message/quota", headers=self.headers, classify=classify, idempotent=True)
        )
        usage = http.json_or_empty(
            http.call(
                "GET", f"{self.base_url}/v2/bot/message/quota/consumption", headers=self.headers, classify=classify, idempotent=True
            )
        )
        limited = quota.get("type") == "limited"
        limit = int(quota.get("value", 0)) if limited else None
        return Quota(limited=limited, limit=limit, used=int(usage.get("totalUsage", 0) or 0))

    def get_content(self, *, message_id: str) -> Content:
        response = http.call(
            "GET",
            f"{self.data_base_url}/v2/bot/message/{message_id}/content",
            headers=self.headers,
            classify=classify,
            idempotent=True,
        )
        return Content(content_type=response.headers.get("Content-Type", "application/octet-stream"), data=response.content)
