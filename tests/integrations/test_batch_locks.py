"""Two worker processes handling two batches that touch the same two conversations in opposite order: each batch
holds a conversation's row lock until it commits, so taking them in delivery order would deadlock (PostgreSQL
breaks it after deadlock_timeout by failing one batch, redone one receipt at a time). integrations.tasks takes
them in one order (channel, sender) in every batch. Found by review; PostgreSQL only (SQLite locks the database)."""
from __future__ import annotations

import json
import logging
import threading

import pytest
from django.db import connection

from inbox.models import Message
from integrations import receipts
from integrations.base import Platform
from integrations.messenger import parse
from integrations.models import WebhookReceipt
from integrations.tasks import webhook_receipt_process
from tests.webhooks import messenger_body, messenger_text, post_messenger

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.skipif("connection.vendor != 'postgresql'")]

BARRIER = threading.Barrier(2, timeout=3)  # with the fix one worker waits on the other's lock, never here
WAITED: set[int] = set()


def ingest_then_meet(*, channel, event) -> None:
    """The real ingest; after the first event of each worker's batch, both workers meet (forces the interleaving
    that two busy worker processes reach by chance)."""
    from inbox.services.ingest import ingest_event

    ingest_event(channel=channel, event=event)
    me = threading.get_ident()
    if me not in WAITED:
        WAITED.add(me)
        try:
            BARRIER.wait()
        except threading.BrokenBarrierError:
            pass


def test_two_batches_over_the_same_two_chats_in_opposite_order_do_not_deadlock(client, messenger_channel, settings, caplog):
    from django.utils.module_loading import import_string

    page = messenger_channel.external_id
    x, y = "6000000000009101", "6000000000009102"
    # Both chats exist (their first messages processed as usual).
    post_messenger(client, messenger_body(page, messenger_text(x, page, "m_dl_x0", "x0"), messenger_text(y, page, "m_dl_y0", "y0")), "test-app-secret")
    assert Message.objects.count() == 2

    settings.INBOUND_EVENT_HANDLER = "tests.integrations.test_batch_locks.ingest_then_meet"
    import importlib

    module = importlib.import_module("tests.integrations.test_batch_locks")
    module.WAITED.clear()
    module.BARRIER.reset()
    events = parse.parse_body(json.loads(messenger_body(
        page,
        messenger_text(x, page, "m_dl_x1", "x1"),
        messenger_text(y, page, "m_dl_y1", "y1"),
        messenger_text(y, page, "m_dl_y2", "y2"),
        messenger_text(x, page, "m_dl_x2", "x2"),
    )))
    r1, r2, r3, r4 = receipts.store_events(platform=Platform.MESSENGER, events=[(messenger_channel, e) for e in events], headers={})

    results = {}

    def worker(name, ids):
        try:
            results[name] = webhook_receipt_process(ids)
        finally:
            connection.close()

    with caplog.at_level(logging.WARNING, logger="integrations.tasks"):
        threads = [threading.Thread(target=worker, args=("a", [r1, r2])), threading.Thread(target=worker, args=("b", [r3, r4]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)

    assert Message.objects.count() == 6  # nothing lost: the loser was redone one by one
    assert set(WebhookReceipt.objects.filter(pk__in=[r1, r2, r3, r4]).values_list("status", flat=True)) == {"processed"}
    fallbacks = [r.getMessage() for r in caplog.records if "failed together" in r.getMessage()]
    deadlocks = [r for r in caplog.records if r.exc_text and "deadlock detected" in r.exc_text]
    assert not fallbacks, f"{fallbacks} / deadlock: {bool(deadlocks)}"
