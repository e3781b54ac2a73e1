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


def message_add_events() -> list[dict]:
    return [e.payload for e in InboxEvent.objects.order_by("pk") if e.payload["type"] == "message" and e.payload["op"] == "add"]


def test_inbound_into_an_assigned_chat_carries_the_whole_summary_a_fresh_load_shows(agent, client, messenger_channel):
    """The webhook path builds the summary from what its statements returned (integrations.sql), not from a
    fresh query: every field of it, not only those the list shows, must equal a fresh load's."""
    convo = factories.conversation(messenger_channel, name="Lin")
    conversations.assign_conversation(conversation=convo, assignee_id=agent.pk, actor=agent)
    conversations.star_conversation(conversation=convo, starred=True, actor=agent)
    conversations.mark_read(conversation=convo, read=True, actor=agent)  # the text makes it unread again
    page = messenger_channel.external_id
    psid = convo.contact.platform_user_id
    post_messenger(client, messenger_body(page, messenger_text(psid, page, "m_assigned", "still there?")), "test-app-secret")
    event = message_add_events()[-1]
    assert event["conversation"]["assignee"] == {"id": agent.pk, "name": agent.username}
    assert event["conversation"]["last_message"]["text"] == "still there?"
    assert event["conversation"] == fresh(convo.pk)


def test_an_older_message_arriving_late_keeps_the_newer_preview(client, messenger_channel):
    convo = factories.conversation(messenger_channel, last_inbound_ago=dt.timedelta(minutes=1), text="newest")
    page = messenger_channel.external_id
    an_hour_ago = int((timezone.now() - dt.timedelta(hours=1)).timestamp() * 1000)
    psid = convo.contact.platform_user_id
    post_messenger(client, messenger_body(page, messenger_text(psid, page, "m_late", "older", ts=an_hour_ago)), "test-app-secret")
    event = message_add_events()[-1]
    assert event["message"]["text"] == "older"
    assert event["conversation"]["last_message"]["text"] == "newest"
    assert event["conversation"] == fresh(convo.pk)


def test_line_inbound_summary_shows_the_reply_window_a_fresh_load_shows(client, line_channel):
    from tests.webhooks import line_body, line_text, post_line

    body = line_body(line_channel.line_destination, line_text("U" + "a" * 32, "ev-1", "hi there", reply_token="rt-window"))
    post_line(client, line_channel, body, line_channel.app_secret)
    event = message_add_events()[-1]
    assert event["conversation"] == fresh(event["message"]["conversation_id"])
    assert event["conversation"]["window"] == fresh(event["message"]["conversation_id"])["window"]
