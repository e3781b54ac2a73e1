"""Processing stored webhook events, outside the ACK path."""
from __future__ import annotations

import datetime as dt
import json
import logging
import traceback

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from inbox.events import published_together
from integrations import receipts
from integrations.base import Platform
from integrations.line import parse as line_parse
from integrations.messenger import parse as messenger_parse
from integrations.models import Channel, WebhookReceipt

logger = logging.getLogger(__name__)

PARSERS = {Platform.MESSENGER: messenger_parse.parse_body, Platform.LINE: line_parse.parse_body}
MAX_ATTEMPTS = 5


@shared_task(name="integrations.tasks.webhook_receipt_process", acks_late=True)
def webhook_receipt_process(receipt_ids: int | list[int]) -> str:
    """Hand stored events to the inbox: the receipts a web process queued together (a list of ids,
    integrations.queueing), or one receipt (an id: the sweep, and tasks queued by earlier versions).

    Exactly once: receipts are processed in a transaction that locks their rows (a concurrent run of the same
    receipt, e.g. the broker's redelivery and the sweep's copy, skips it) and marks them processed together with
    the inbox's writes, which are idempotent besides. A task's receipts share one transaction (one BEGIN, one
    lock, one COMMIT for all: the worker's throughput, benchmark 1); if anything in it fails, it is rolled back
    and each receipt runs again in a transaction of its own, so one that fails is rolled back alone and kept
    FAILED with the error, for a person and for the sweep.
    Returns the outcome ("processed", "skipped", "ignored", "failed"), or one per receipt when they differ.
    """
    ids = [receipt_ids] if isinstance(receipt_ids, int) else list(dict.fromkeys(receipt_ids))
    handler = import_string(settings.INBOUND_EVENT_HANDLER)
    channels: dict[int, Channel] = {}  # the receipts of a task mostly share their channel: read it once
    outcomes = None
    with published_together():  # the live events of the task's receipts: one channel-layer message
        if len(ids) > 1:
            try:
                outcomes = _process_together(ids, handler, channels)
            except Exception:
                logger.warning("webhook receipts %s failed together: processing them one by one", ids, exc_info=True)
        if outcomes is None:
            outcomes = [_process_alone(receipt_id, handler, channels) for receipt_id in ids]
    return outcomes[0] if len(set(outcomes)) == 1 else ",".join(outcomes)


def _process_together(ids: list[int], handler, channels: dict[int, Channel]) -> list[str]:
    with transaction.atomic():
        locked = receipts.lock_for_processing(ids)
        outcomes, processed, work = [], [], []
        for receipt_id in ids:
            outcome, events = _events_of(locked.get(receipt_id), channels)
            outcomes.append(outcome)
            if outcome == "processed":
                processed.append(receipt_id)
                work += events
        # Every batch takes the conversations' row locks in the same order (by channel, then sender), so two
        # workers' batches never wait for each other in a cycle (a deadlock PostgreSQL would break after a second
        # by failing one batch). The sort is stable: one sender's events keep their order.
        for channel, event in sorted(work, key=lambda item: (item[0].pk, item[1].user_id or "")):
            handler(channel=channel, event=event)
        receipts.mark_processed(processed, at=timezone.now())
    return outcomes


def _process_alone(receipt_id: int, handler, channels: dict[int, Channel]) -> str:
    try:
        with transaction.atomic():
            outcome, events = _events_of(receipts.lock_for_processing([receipt_id]).get(receipt_id), channels)
            for channel, event in events:
                handler(channel=channel, event=event)
            if outcome == "processed":
                receipts.mark_processed([receipt_id], at=timezone.now())
    except Exception:  # kept on the row for a person and for the sweep; never lost
        logger.exception("webhook receipt %s failed", receipt_id)
        WebhookReceipt.objects.filter(pk=receipt_id).update(
            status=WebhookReceipt.Status.FAILED, error=traceback.format_exc()[-4000:], attempts=F("attempts") + 1
        )
        return "failed"
    return outcome


def _events_of(receipt: WebhookReceipt | None, channels: dict[int, Channel]) -> tuple[str, list[tuple[Channel, object]]]:
    """A locked receipt's outcome, and its (channel, event) pairs for the inbox when it is to be processed."""
    if receipt is None or receipt.status in (WebhookReceipt.Status.PROCESSED, WebhookReceipt.Status.REJECTED):
        return "skipped", []  # gone, done, or being processed by another run right now
    if receipt.channel_id is None:
        WebhookReceipt.objects.filter(pk=receipt.pk).update(status=WebhookReceipt.Status.IGNORED)
        return "ignored", []
    if receipt.channel_id not in channels:
        channels[receipt.channel_id] = receipts.channel_get(receipt.channel_id)
    channel = channels[receipt.channel_id]
    return "processed", [(channel, event) for event in PARSERS[Platform(receipt.platform)](json.loads(receipt.body))]


@shared_task(name="integrations.tasks.webhook_receipts_sweep")
def webhook_receipts_sweep() -> int:
    """Re-queue events whose processing was lost (a worker died, the broker was down when they were ACKed) or
    failed fewer than MAX_ATTEMPTS times; how many. The beat runs it every five minutes (settings).

    The oldest first, at most WEBHOOK_SWEEP_LIMIT per run: after a long broker outage (800 events/s for a minute
    is 48,000 receipts) the backlog is queued within a few runs, at about the pace a worker drains it, so a run
    rarely queues what the previous one queued (and processing a receipt twice is a no-op). One task per receipt,
    not the web processes' batches: what is left here may be what killed a worker process, and alone it takes no
    other receipt down with it."""
    stale = timezone.now() - dt.timedelta(minutes=5)
    ids = list(
        WebhookReceipt.objects.filter(received_at__lt=stale, attempts__lt=MAX_ATTEMPTS)
        .filter(status__in=[WebhookReceipt.Status.RECEIVED, WebhookReceipt.Status.FAILED])
        .order_by("pk")
        .values_list("pk", flat=True)[: settings.WEBHOOK_SWEEP_LIMIT]
    )
    for receipt_id in ids:
        webhook_receipt_process.delay(receipt_id)
    return len(ids)
