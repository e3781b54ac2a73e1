"""Every event a service publishes carries the conversation as a fresh load shows it (Zulip's
verify_action idea): a page that applies the event ends up where a reload would put it."""
import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from inbox.events import conversation_for_event, conversation_payload
from inbox.models import InboxEvent, Message
from inbox.services import conversations, messaging
from tests import factories
from tests.webhooks import messenger_body, messenger_text, post_messenger

pytestmark = pytest.mark.django_db(transaction=True)


def last_event() -> dict:
    return InboxEvent.objects.order_by("-pk").first().payload


def fresh(conversation_id: int) -> dict:
    return conversation_payload(conversation_for_event(conversation_id))


def api_view(user, conversation_id: int) -> dict:
    client = Client()
    client.force_login(user)
    data = client.get(f"/api/v1/conversations/{conversation_id}/").json()
    return {k: data[k] for k in ("unread_count", "starred", "assignee", "note", "last_message", "needs_reply")}


def comparable(payload: dict) -> dict:
    return {k: payload[k] for k in ("unread_count", "starred", "assignee", "note", "last_message", "needs_reply")}


@pytest.fixture
def agent(db):
    return factories.staff_user("agent")


ACTIONS = {
    "assign": lambda c, u: conversations.assign_conversation(conversation=c, assignee_id=u.pk, actor=u),
    "star": lambda c, u: conversations.star_conversation(conversation=c, starred=True, due_at=timezone.now() + dt.timedelta(hours=2), actor=u),
    "read": lambda c, u: conversations.mark_read(conversation=c, read=True, actor=u),
    "unread": lambda c, u: conversations.mark_read(conversation=c, read=False, actor=u),
    "note": lambda c, u: conversations.set_note(conversation=c, note="回電 0912", actor=u),
    "send": lambda c, u: messaging.send_message(conversation=c, author=u, text="好的"),
}


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_event_equals_a_fresh_load(agent, messenger_channel, name):
    convo = factories.conversation(messenger_channel)
    ACTIONS[name](convo, agent)
    event = next(e.payload for e in InboxEvent.objects.order_by("-pk") if "conversation" in e.payload)
    assert comparable(event["conversation"]) == comparable(fresh(convo.pk)) == api_view(agent, convo.pk)


def test_inbound_message_event_equals_a_fresh_load(agent, client, messenger_channel):
    page = messenger_channel.external_id
    post_messenger(client, messenger_body(page, messenger_text("600", page, "m_ev", "hello")), "test-app-secret")
    message = Message.objects.get()
    event = next(e.payload for e in InboxEvent.objects.order_by("pk") if e.payload["type"] == "message" and e.payload["op"] == "add")
    assert event["message"]["id"] == message.pk
    assert comparable(event["conversation"]) == comparable(fresh(message.conversation_id)) == api_view(agent, message.conversation_id)
    # A new conversation is unread: the page adds one to its tab and to All (no aggregate per message).
    assert event["unread_delta"] == {"all": 1, str(messenger_channel.pk): 1} and "unread_counts" not in event
