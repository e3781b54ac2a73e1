"""Storing raw webhook events: the first thing that happens to every delivery, before any processing.

One row per event, unique on its dedupe key, so a redelivered or concurrently delivered event is kept
once and processed once (the database's unique constraint decides, never a check-then-insert).
"""
from __future__ import annotations

import functools
import json
import logging

from django.db import transaction

from integrations import sql
from integrations.base import InboundEvent
from integrations.models import Channel, WebhookReceipt

logger = logging.getLogger(__name__)

INSERT_BATCH = 500  # rows per INSERT: well under SQLite's and PostgreSQL's limits on parameters

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

    An event for a channel we don't know is kept as IGNORED. Duplicates (same dedupe key: stored by an
    earlier or a concurrent delivery, or twice in this one) are skipped. One INSERT for the whole delivery
    (several in one transaction past INSERT_BATCH events); processing is queued by the caller (integrations.queueing).
    """
    rows, seen = [], set()
    for channel, event in events:
        if event.dedupe_key in seen:
            logger.info("duplicate webhook event %s skipped", event.dedupe_key)
            continue
        seen.add(event.dedupe_key)
        rows.append(
            WebhookReceipt(
                platform=platform,
                channel=channel,
                dedupe_key=event.dedupe_key,
                event_type=event.kind.value,
                body=json.dumps(event.raw, ensure_ascii=False, separators=(",", ":")),
                headers=headers,
                status=WebhookReceipt.Status.RECEIVED if channel else WebhookReceipt.Status.IGNORED,
                error="" if channel else f"no active channel for {event.channel_key}",
            )
        )
    if len(rows) <= INSERT_BATCH:
        stored = insert_new(rows)  # one statement: atomic on its own, no BEGIN/COMMIT round trips
    else:
        with transaction.atomic():
            stored = [row for start in range(0, len(rows), INSERT_BATCH) for row in insert_new(rows[start : start + INSERT_BATCH])]
    if len(stored) < len(rows):
        logger.info("%d duplicate webhook event(s) skipped", len(rows) - len(stored))
    return sorted(pk for pk, status in stored if status == WebhookReceipt.Status.RECEIVED)


def insert_new(receipts: list[WebhookReceipt]) -> list[tuple[int, str]]:
    """INSERT the receipts in one statement, skipping those whose dedupe key is already stored; (id, status)
    of the rows this statement stored.

    `INSERT ... ON CONFLICT (platform, dedupe_key) DO NOTHING RETURNING`: the unique constraint decides, also
    against a concurrent delivery of the same event (PostgreSQL waits for the other transaction). The ORM's
    bulk_create(ignore_conflicts=True) can't say which rows were new, which is what decides what to process.
    """
    return sql.insert_returning(receipts, returning=("id", "status"), on_conflict="platform,dedupe_key")


LOCKED_FIELDS = ("id", "platform", "channel_id", "status", "body", "attempts")
CHANNEL_FIELDS = tuple(f.name for f in Channel._meta.concrete_fields)


def lock_for_processing(receipt_ids: list[int]) -> dict[int, WebhookReceipt]:
    """The receipts (the fields processing needs) by id, their rows locked until the transaction ends; one
    missing is gone or held by another transaction (`SKIP LOCKED`: that run is processing it right now). Called
    for every task of the worker, hence composed SQL (integrations.sql), not a queryset."""
    connection = sql.connection_for(WebhookReceipt)
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(connection, len(receipt_ids)), list(receipt_ids))
        rows = cursor.fetchall()
    found = (sql.instance(WebhookReceipt, LOCKED_FIELDS, row, connection) for row in rows)
    return {receipt.pk: receipt for receipt in found}


def mark_processed(receipt_ids: list[int], *, at) -> None:
    if not receipt_ids:
        return
    connection = sql.connection_for(WebhookReceipt)
    params = [WebhookReceipt.Status.PROCESSED.value, connection.ops.adapt_datetimefield_value(at), "", *receipt_ids]
    with connection.cursor() as cursor:
        cursor.execute(_processed_sql(connection, len(receipt_ids)), params)


def channel_get(channel_id: int) -> Channel:
    """The channel a receipt belongs to, every field loaded (the handlers and the live event read it)."""
    connection = sql.connection_for(Channel)
    row = sql.fetch_one(Channel, _channel_sql(connection), [channel_id])
    if row is None:
        raise Channel.DoesNotExist(channel_id)
    return sql.instance(Channel, CHANNEL_FIELDS, row, connection)


@sql.statement
def _lock_sql(connection, count: int) -> str:
    # In id order: two runs locking overlapping sets never wait for each other in a cycle.
    key = sql.column(WebhookReceipt, "id", connection)
    return (
        f"SELECT {sql.columns(WebhookReceipt, LOCKED_FIELDS, connection)} FROM {sql.table(WebhookReceipt, connection)} "
        f"WHERE {key} IN ({', '.join(['%s'] * count)}) ORDER BY {key}{sql.skip_locked(connection)}"
    )


@sql.statement
def _processed_sql(connection, count: int) -> str:
    column = functools.partial(sql.column, WebhookReceipt, connection=connection)
    return (
        f"UPDATE {sql.table(WebhookReceipt, connection)} SET {column('status')} = %s, {column('processed_at')} = %s, "
        f"{column('attempts')} = {column('attempts')} + 1, {column('error')} = %s WHERE {column('id')} IN ({', '.join(['%s'] * count)})"
    )


@sql.statement
def _channel_sql(connection) -> str:
    return (
        f"SELECT {sql.columns(Channel, CHANNEL_FIELDS, connection)} FROM {sql.table(Channel, connection)} "
        f"WHERE {sql.column(Channel, 'id', connection)} = %s"
    )


WEBHOOK_CHANNEL_FIELDS = ("id", "platform", "external_id", "line_destination", "app_secret", "is_active")


def active_channels(platform: str) -> list[Channel]:
    """The platform's active channels, with what a webhook needs of them: routing keys and secrets (other fields
    load if used). Read for the webhook views by integrations.webhook_channels; composed SQL."""
    connection = sql.connection_for(Channel)
    with connection.cursor() as cursor:
        cursor.execute(_active_channels_sql(connection), [platform, True])
        rows = cursor.fetchall()
    return [sql.instance(Channel, WEBHOOK_CHANNEL_FIELDS, row, connection) for row in rows]


@sql.statement
def _active_channels_sql(connection) -> str:
    column = functools.partial(sql.column, Channel, connection=connection)
    return (
        f"SELECT {sql.columns(Channel, WEBHOOK_CHANNEL_FIELDS, connection)} FROM {sql.table(Channel, connection)} "
        f"WHERE {column('platform')} = %s AND {column('is_active')} = %s"
    )
