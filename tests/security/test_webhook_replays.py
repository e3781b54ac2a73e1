"""Replays of captured deliveries that change state, not only messages (test_webhooks.py replays a message).

Neither platform signs a timestamp: Meta's X-Hub-Signature-256 and LINE's X-Line-Signature are HMACs of the
body alone, so a captured delivery stays validly signed forever and freshness can't be judged from the
signature. What stops a replay is that each event is stored once under its own key (LINE's webhookEventId,
Meta's mid or watermark) and receipts are never pruned. Here a captured delivery is replayed after the
customer's state has moved on, and must not move it back.
"""
from __future__ import annotations

import time

import pytest

from inbox.models import Contact, Conversation, Message
from integrations.models import WebhookReceipt
from tests.webhooks import line_body, messenger_body, messenger_text, post_line, post_messenger

pytestmark = pytest.mark.django_db

LINE_SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"
APP_SECRET = "test-app-secret"
USER = "U" + "7" * 32
PSID = "6000000000000777"


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """Post a signed delivery and run what it queued (processing, eager here) as after a real commit."""

    def post(poster, *args):
        with django_capture_on_commit_callbacks(execute=True):
            response = poster(client, *args)
        assert response.status_code == 200, response.content
        return response

    return post


def line_event(kind: str, event_id: str, *, at: int, reply_token: str = "") -> dict:
    event = {
        "type": kind,
        "mode": "active",
        "timestamp": at,
        "source": {"type": "user", "userId": USER},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
    }
    if reply_token:
        event["replyToken"] = reply_token
    return event


def test_a_replayed_unfollow_does_not_unfollow_a_customer_who_came_back(deliver, line_channel):
    now = int(time.time() * 1000)
    destination = line_channel.line_destination
    captured = line_body(destination, line_event("unfollow", "01REPLAYUNFOLLOW0000000001", at=now - 60_000))
    deliver(post_line, line_channel, captured, LINE_SECRET)
    assert Contact.objects.get(platform_user_id=USER).is_following is False

    follow = line_body(destination, line_event("follow", "01REPLAYFOLLOW000000000001", at=now, reply_token="rt-fresh"))
    deliver(post_line, line_channel, follow, LINE_SECRET)
    assert Contact.objects.get(platform_user_id=USER).is_following is True

    for _ in range(3):
        deliver(post_line, line_channel, captured, LINE_SECRET)
    assert Contact.objects.get(platform_user_id=USER).is_following is True
    assert WebhookReceipt.objects.count() == 2


def test_a_replayed_follow_does_not_bring_back_a_used_reply_token(deliver, line_channel):
    """A follow carries a reply token; replaying it must not put that (long used) token back on the chat."""
    now = int(time.time() * 1000)
    captured = line_body(line_channel.line_destination, line_event("follow", "01REPLAYFOLLOW000000000002", at=now - 60_000, reply_token="rt-old"))
    deliver(post_line, line_channel, captured, LINE_SECRET)
    conversation = Conversation.objects.get(contact__platform_user_id=USER)
    assert conversation.reply_token == "rt-old"
    Conversation.objects.filter(pk=conversation.pk).update(reply_token="", reply_token_at=None)  # used by a reply

    deliver(post_line, line_channel, captured, LINE_SECRET)
    conversation.refresh_from_db()
    assert conversation.reply_token == "" and WebhookReceipt.objects.count() == 1


def test_a_replayed_messenger_message_after_staff_read_it_does_not_make_it_unread_again(deliver, messenger_channel):
    page = messenger_channel.external_id
    captured = messenger_body(page, messenger_text(PSID, page, "m_replay_unread", "在嗎"))
    deliver(post_messenger, captured, APP_SECRET)
    conversation = Conversation.objects.get(contact__platform_user_id=PSID)
    assert conversation.unread_count == 1
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)  # staff read it

    for _ in range(3):
        deliver(post_messenger, captured, APP_SECRET)
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert Message.objects.filter(platform_message_id="m_replay_unread").count() == 1 and WebhookReceipt.objects.count() == 1
