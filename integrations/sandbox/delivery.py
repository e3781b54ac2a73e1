"""Posting signed webhooks to the app, the way each platform does it.

Meta retries a failed delivery "immediately a few more times"; LINE posts once and, only when redelivery is
enabled for the channel, sends the same event again later (that part lives in `services`, which owns the
reply tokens a redelivery extends).
"""
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings

from integrations.sandbox import signing
from integrations.sandbox.models import SandboxLineBot, SandboxPage

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 10
MESSENGER_RETRIES = 3  # after the first attempt
MESSENGER_RETRY_BACKOFF_SECONDS = 0.1  # doubled each retry; tests may set SANDBOX_WEBHOOK_BACKOFF_SECONDS=0


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one webhook: the app's last HTTP status (None if it never answered or no URL)."""

    status_code: int | None
    body_sent: bytes
    event: dict[str, Any]
    attempts: int = 1
    error: str = ""
    headers_sent: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def resolve_webhook_url(url: str) -> str:
    """A path ("/webhooks/messenger/") points at the app itself, wherever settings say it runs."""
    if url.startswith("/"):
        return settings.SANDBOX_APP_BASE_URL + url
    return url


def deliver_messenger(page: SandboxPage, payload: dict[str, Any], event: dict[str, Any]) -> DeliveryResult:
    body = signing.messenger_body(payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "facebookexternalua",
        "X-Hub-Signature-256": signing.messenger_signature(body, page.app_secret),
    }
    return _post_with_retries(page.webhook_url, body, headers, event, retries=MESSENGER_RETRIES)


def deliver_line(bot: SandboxLineBot, payload: dict[str, Any], event: dict[str, Any]) -> DeliveryResult:
    body = signing.line_body(payload)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "LineBotWebhook/2.0",
        "X-Line-Signature": signing.line_signature(body, bot.channel_secret),
    }
    return _post_with_retries(bot.webhook_url, body, headers, event, retries=0)


def _post_with_retries(
    webhook_url: str, body: bytes, headers: dict[str, str], event: dict[str, Any], *, retries: int
) -> DeliveryResult:
    url = resolve_webhook_url(webhook_url)
    if not url:
        return DeliveryResult(None, body, event, attempts=0, error="no webhook URL", headers_sent=headers)
    backoff = getattr(settings, "SANDBOX_WEBHOOK_BACKOFF_SECONDS", MESSENGER_RETRY_BACKOFF_SECONDS)
    attempt = 0
    while True:
        attempt += 1
        status, error = _post(url, body, headers)
        if (status is not None and 200 <= status < 300) or attempt > retries:
            return DeliveryResult(status, body, event, attempts=attempt, error=error, headers_sent=headers)
        time.sleep(backoff * 2 ** (attempt - 1))


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """One POST; a connection failure is an answer too (None), never an exception for the caller."""
    try:
        response = requests.post(url, data=body, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        logger.warning("sandbox webhook to %s failed: %s", url, exc)
        return None, str(exc)
    if not 200 <= response.status_code < 300:
        logger.warning("sandbox webhook to %s answered %s", url, response.status_code)
        return response.status_code, response.text[:500]
    return response.status_code, ""
