"""Processing stored webhook events, outside the ACK path."""
from __future__ import annotations

import datetime as dt
import json
import logging
import traceback

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from integrations.base import Platform
from integrations.line import parse as line_parse
from integrations.messenger import parse as messenger_parse
from integrations.models import WebhookReceipt

logger = logging.getLogger(__name__)

PARSERS = {Platform.MESSENGER: messenger_parse.parse_body, Platform.LINE: line_parse.parse_body}
MAX_ATTEMPTS = 5


@shared_task(name="integrations.tasks.webhook_receipt_process", acks_late=True)
def webhook_receipt_process(receipt_id: int) -> str:
    """Hand a stored event to the inbox. Safe to run twice: the inbox's writes are idempotent."""
    receipt = WebhookReceipt.objects.select_related("channel").filter(pk=receipt_id).first()
    if receipt is None or receipt.status in (WebhookReceipt.Status.PROCESSED, WebhookReceipt.Status.REJECTED):
        return "skipped"
    if receipt.channel is None:
        WebhookReceipt.objects.filter(pk=receipt.pk).update(status=WebhookReceipt.Status.IGNORED)
        return "ignored"
    handler = import_string(settings.INBOUND_EVENT_HANDLER)
    try:
        events = PARSERS[Platform(receipt.platform)](json.loads(receipt.body))
        with transaction.atomic():
            for event in events:
                handler(channel=receipt.channel, event=event)
    except Exception:  # kept on the row for a person and for the sweep; never lost
        logger.exception("webhook receipt %s failed", receipt.pk)
        WebhookReceipt.objects.filter(pk=receipt.pk).update(
            status=WebhookReceipt.Status.FAILED,
            error=traceback.format_exc()[-4000:],
            attempts=receipt.attempts + 1,
        )
        return "failed"
    WebhookReceipt.objects.filter(pk=receipt.pk).update(
        status=WebhookReceipt.Status.PROCESSED, processed_at=timezone.now(), attempts=receipt.attempts + 1, error=""
    )
    return "processed"


@shared_task(name="integrations.tasks.webhook_receipts_sweep")
def webhook_receipts_sweep() -> int:
    """Re-queue events whose processing was lost (worker died) or failed fewer than MAX_ATTEMPTS times."""
    stale = timezone.now() - dt.timedelta(minutes=5)
    ids = list(
        WebhookReceipt.objects.filter(received_at__lt=stale, attempts__lt=MAX_ATTEMPTS)
        .filter(status__in=[WebhookReceipt.Status.RECEIVED, WebhookReceipt.Status.FAILED])
        .values_list("pk", flat=True)[:500]
    )
    for receipt_id in ids:
        webhook_receipt_process.delay(receipt_id)
    return len(ids)
