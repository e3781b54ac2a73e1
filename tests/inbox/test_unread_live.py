"""The tab counts kept live without an aggregate per inbound message, and the worker's writes per message.

A `message add` event says by how much the counts grow (`unread_delta`, only when the message made a read
conversation unread); conversation events carry the whole counts. A page that loaded the counts and then
applies every later event (live or replayed after a drop) shows what a fresh load would.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox import events
from inbox.models import Conversation, InboxEvent, Message
from inbox.services import conversations
from inbox.services.ingest import ingest_event
from integrations import services as channel_services
from integrations.messenger import parse as messenger_parse
from integrations.models import Channel
from tests import factories
from tests.webhooks import messenger_body, messenger_text

pytestmark = pytest.mark.django_db

_mids = itertools.count(1)


def inbound(channel: Channel, psid: str, *, at: dt.datetime | None = None) -> None:
    """A customer's text, parsed from a Messenger body and ingested as the worker does (in a transaction)."""
    ts = int((at or timezone.now()).timestamp() * 1000)
    body = json.loads(messenger_body(channel.external_id, messenger_text(psid, channel.external_id, f"m_live_{next(_mids)}", "hi", ts=ts)))
    (event,) = messenger_parse.parse_body(body)
    with transaction.atomic():
        ingest_event(channel=channel, event=event)


def page_view() -> tuple[dict[str, int], int]:
    """What the inbox page starts from: the counts and the newest event number."""
    return events.tab_counts(), InboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def apply(counts: dict[str, int], event: dict) -> dict[str, int]:
    """What static/js/inbox/inbox.js does with an event's counts."""
    if "unread_counts" in event:
        return dict(event["unread_counts"])
    counts = dict(counts)
    for key, n in (event.get("unread_delta") or {}).items():
        counts[key] = counts.get(key, 0) + n
    return counts


def shown(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}  # an empty badge and a missing count look the same


@pytest.fixture
def pages(db):
    main = channel_services.messenger_channel_add(
        name="Main page", page_id="104000000000001", app_secret="s1", verify_token="v1", access_token="t1"
    )
    second = channel_services.messenger_channel_add(
        name="Second page", page_id="104000000000002", app_secret="s2", verify_token="v2", access_token="t2", secondary=True
    )
    retired = channel_services.messenger_channel_add(
        name="Retired page", page_id="104000000000003", app_secret="s3", verify_token="v3", access_token="t3", secondary=True
    )
    Channel.objects.filter(pk=retired.pk).update(is_active=False)
    retired.refresh_from_db()
    return [main, second, retired]


class DeltaTests:
    def test_only_the_message_that_makes_a_conversation_unread_carries_a_delta(self, pages):
        main = pages[0]
        inbound(main, "6100")  # a new conversation: unread now
        inbound(main, "6100")  # already unread: the counts don't change
        added = [e.payload for e in InboxEvent.objects.order_by("pk")]
        assert [e.get("unread_delta") for e in added] == [{"all": 1, str(main.pk): 1}, None]
        assert all("unread_counts" not in e for e in added)
        assert added[1]["conversation"]["unread_count"] == 2

        convo = Conversation.objects.get()
        conversations.mark_read(conversation=convo, read=True, actor=None)
        assert InboxEvent.objects.latest("pk").payload["unread_counts"] == {"all": 0}
        inbound(main, "6100")  # read, then a new message: unread again
        assert InboxEvent.objects.latest("pk").payload["unread_delta"] == {"all": 1, str(main.pk): 1}

    def test_a_retired_channel_counts_nowhere(self, pages):
        inbound(pages[2], "6200")
        assert "unread_delta" not in InboxEvent.objects.latest("pk").payload
        assert events.tab_counts() == {"all": 0}

    def test_a_message_add_event_costs_no_count(self, pages):
        inbound(pages[0], "6300")
        with CaptureQueriesContext(connection) as captured:
            inbound(pages[0], "6300")
        sql = [q["sql"].upper() for q in captured.captured_queries]
        assert not any("COUNT(" in q for q in sql)
        assert sum(q.startswith("UPDATE") and "INBOX_CONVERSATION" in q for q in sql) == 1  # record_activity: one UPDATE

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        actions=st.lists(
            st.tuples(st.sampled_from(["in", "in", "in", "read", "unread"]), st.integers(0, 2), st.integers(0, 3)),
            min_size=1,
            max_size=12,
        ),
        load_after=st.integers(0, 12),
    )
    def test_a_page_applying_the_events_shows_the_counts_a_fresh_load_shows(self, pages, actions, load_after):
        """Whenever the page loaded (`load_after` actions in), applying every later event in order, as the live
        socket and the catch-up after a drop deliver them, leaves it with the counts of a fresh load."""
        start = page_view()
        for n, (kind, channel, customer) in enumerate(actions):
            if n == load_after:
                start = page_view()
            psid = f"6{channel}0{customer}"
            if kind == "in":
                inbound(pages[channel], psid)
                continue
            convo = Conversation.objects.filter(channel=pages[channel], contact__platform_user_id=psid).first()
            if convo is not None:
                conversations.mark_read(conversation=convo, read=kind == "read", actor=None)
        counts, seq = start
        missed = events.events_since(seq)
        assert missed is not None
        for event in missed:
            counts = apply(counts, event)
        assert shown(counts) == shown(events.tab_counts())


class RecordActivityTests:
    def test_the_newest_message_stays_the_preview_when_events_arrive_out_of_order(self, pages):
        main = pages[0]
        now = timezone.now()
        inbound(main, "6400", at=now - dt.timedelta(minutes=1))
        inbound(main, "6400", at=now - dt.timedelta(minutes=5))  # older, arriving late
        convo = Conversation.objects.get()
        newest = Message.objects.order_by("-platform_timestamp").first()
        assert convo.last_message_id == newest.pk
        assert convo.last_message_at == convo.activity_at == newest.platform_timestamp
        assert convo.unread_count == 2

        inbound(main, "6400", at=now)  # the newest: becomes the preview
        convo.refresh_from_db()
        assert convo.last_message_id == Message.objects.order_by("-platform_timestamp").first().pk
        assert convo.last_message_at == Message.objects.order_by("-platform_timestamp").first().platform_timestamp

    def test_the_first_message_of_a_conversation_becomes_its_preview(self, messenger_channel):
        convo = factories.conversation(messenger_channel, last_inbound_ago=None)
        assert convo.last_message_id is None
        message = Message.objects.create(
            conversation=convo, channel=messenger_channel, direction="outbound", source="staff", text="hello",
            platform_message_id="out-1", state="sent", platform_timestamp=timezone.now(),
        )
        conversations.record_activity(conversation_id=convo.pk, message=message, by_person=True)
        convo.refresh_from_db()
        assert (convo.last_message_id, convo.last_reply_at, convo.unread_count) == (message.pk, message.platform_timestamp, 0)


class InsertOnceTests:
    def test_the_same_message_ingested_twice_is_stored_and_counted_once(self, pages):
        main = pages[0]
        body = json.loads(messenger_body(main.external_id, messenger_text("6500", main.external_id, "m_twice", "once")))
        (event,) = messenger_parse.parse_body(body)
        for _ in range(2):  # e.g. the platform's redelivery under another event id, or the sweep's copy
            with transaction.atomic():
                ingest_event(channel=main, event=event)
        message = Message.objects.get()
        assert (message.text, message.platform_message_id, message.direction) == ("once", "m_twice", "inbound")
        assert message.created_at is not None and message.attachments == [] and message.conversation.last_message_id == message.pk
        assert Conversation.objects.get().unread_count == 1
        assert InboxEvent.objects.filter(payload__type="message", payload__op="add").count() == 1
