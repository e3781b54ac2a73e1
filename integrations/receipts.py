"""Storing raw webhook events: the first thing that happens to every delivery, before any processing.

One row per event, unique on its dedupe key, so a redelivered or concurrently delivered event is kept
once and processed once (the database's unique constraint decides, never a check-then-insert).
"""
from __future__ import annotations

import json
import logging

from django.db import IntegrityError, transaction

from integrations.base import InboundEvent
from integrations.models import Channel, WebhookReceipt

logger = logging.getLogger(__name__)

# Headers worth keeping for audit; signatures are kept so a replay can be re-verified.
KEPT_HEADERS = ("CONTENT_TYPE", "HTTP_USER_AGENT", "HTTP_X_HUB_SIGNATURE_256", "HTTP_X_LINE_SIGNATURE", "REMOTE_ADDR")


def request_headers(request) -> dict[str, str]:
    return {name: request.META[name] for name in KEPT_HEADERS if name in request.META}


def keep_rejected(*, platform: str, body: bytes, headers: dict, error: str, channel: Channel | None = None) -> WebhookReceipt:
    """Keep a body we could not accept (bad JSON, unknown shape) whole, for a person to look at."""
    return WebhookReceipt.objects.create(
        platform=platform,
        channel=channel,
        # PostgreSQL text can't hold NUL: kept as U+FFFD like any other undecodable byte.
        body=body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
        headers=headers,
        status=WebhookReceipt.Status.REJECTED,
        error=error[:2000],
    )


def store_events(*, platform: str, events: list[tuple[Channel | None, InboundEvent]], headers: dict) -> list[int]:
    """Store each event once; return the ids of the newly stored rows that need processing.

    An event for a channel we don't know is kept as IGNORED. Duplicates (same dedupe key) are skipped.
    Processing is enqueued by the caller after commit.
    """
    new_ids: list[int] = []
    for channel, event in events:
        status = WebhookReceipt.Status.RECEIVED if channel else WebhookReceipt.Status.IGNORED
        try:
            with transaction.atomic():
                receipt = WebhookReceipt.objects.create(
                    platform=platform,
                    channel=channel,
                    dedupe_key=event.dedupe_key,
                    event_type=event.kind.value,
                    body=json.dumps(event.raw, ensure_ascii=False, separators=(",", ":")),
                    headers=headers,
                    status=status,
                    error="" if channel else f"no active channel for {event.channel_key}",
                )
        except IntegrityError:
            logger.info("duplicate webhook event %s skipped", event.dedupe_key)
            continue
        if channel:
            new_ids.append(receipt.pk)
    return new_ids


def enqueue_processing(receipt_ids: list[int]) -> None:
    """Queue processing once the receipts are committed (the ACK path makes no other call).

    The receipts are already stored when this runs, so a broker that is down (Redis restarting, a network
    blip) must not turn the ACK into a 500: the platform would resend events we already have. The error is
    logged and the rows stay RECEIVED; `integrations.tasks.webhook_receipts_sweep` queues them once the
    broker is back. Publishing is tried once, without Celery's reconnect loop, so the ACK stays fast.
    """
    if receipt_ids:
        transaction.on_commit(lambda: _enqueue(list(receipt_ids)))


def _enqueue(receipt_ids: list[int]) -> None:
    from integrations.tasks import webhook_receipt_process

    if webhook_receipt_process.app.conf.task_always_eager:
        for receipt_id in receipt_ids:
            webhook_receipt_process.delay(receipt_id)
        return
    try:
        with webhook_receipt_process.app.producer_or_acquire() as producer:
            # One quick connection attempt (Celery's default reconnect loop would hold the ACK for seconds).
            producer.connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0.1, timeout=1)
            for receipt_id in receipt_ids:
                webhook_receipt_process.apply_async((receipt_id,), producer=producer, retry=False)
    except Exception:  # kombu and redis raise several types; none may reach the platform as a 500
        logger.exception("broker unavailable: webhook receipts %s left for the sweep", receipt_ids)
