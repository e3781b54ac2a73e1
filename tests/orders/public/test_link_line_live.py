"""The order link on LINE over real HTTP to the platform sandbox: free with a valid reply token, otherwise a
paid push; what the panel is told before sending (GET /api/v1/orders/<id>/link/, which the quick-order panel
shows) is what then happens: the endpoint LINE records, the month's quota counter, the message's billing.

The customer's message reaches us as a signed webhook from the sandbox; the link goes out through our LINE
client to the sandbox's Messaging API. Nothing of ours is mocked.
"""
from __future__ import annotations

import datetime as dt

import pytest
import requests
from django.test import Client
from django.utils import timezone

from inbox.models import Conversation, InboxSettings, Message
from inbox.services.messaging import send_message
from integrations.sandbox import services as sandbox
from integrations.sandbox.models import SandboxChatMessage
from orders import confirmation
from orders.logistics import PaymentType
from orders.models import Order, OrderEvent
from tests import factories
from tests.live import LINE_DEST, LINE_TOKEN, platforms  # noqa: F401 (fixture)
from tests.orders.public.factories import make_order

LINE_USER = "U" + "c" * 32


@pytest.fixture
def staff_client(platforms) -> Client:
    client = Client()
    client.force_login(factories.staff_user("olivia"))
    return client


@pytest.fixture
def line_chat(platforms) -> Conversation:
    """The customer has just written on LINE: the webhook gave us a fresh reply token."""
    sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="我要訂這件")
    conversation = Conversation.objects.select_related("channel", "contact").get(channel=platforms.line)
    assert conversation.reply_token and conversation.reply_token_at
    return conversation


def quota_used(platforms) -> int:
    """The month's paid-message count, as LINE's quota/consumption endpoint answers it."""
    response = requests.get(
        f"{platforms.url}/sandbox/line/v2/bot/message/quota/consumption",
        headers={"Authorization": f"Bearer {LINE_TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 200
    return response.json()["totalUsage"]


def link_bubbles(order) -> list[SandboxChatMessage]:
    """What the customer's phone shows from the shop carrying this order's number."""
    return [m for m in SandboxChatMessage.objects.filter(direction="from_shop") if order.number in m.text]


def announce_and_send(client: Client, order) -> tuple[dict, dict]:
    before = client.get(f"/api/v1/orders/{order.pk}/link/")
    assert before.status_code == 200, before.content
    sent = client.post(f"/api/v1/orders/{order.pk}/link/", {}, content_type="application/json")
    return before.json()["window"], sent


class LineLinkBillingTests:
    def test_valid_reply_token_the_link_is_a_free_reply_as_announced(self, platforms, line_chat, staff_client):
        order = make_order(conversation=line_chat)
        used_before = quota_used(platforms)

        announced, sent = announce_and_send(staff_client, order)
        assert announced["allowed"] is True
        assert (announced["window"], announced["billed"], announced["use_reply_token"]) == ("line_reply", False, True)

        assert sent.status_code == 200, sent.content
        body = sent.json()
        assert body["sent"] is True and body["window"]["window"] == "line_reply"
        message = Message.objects.get(pk=body["message_id"])
        assert message.state == Message.State.SENT, message.error
        assert message.billed is False and message.retry_key is None

        # LINE saw one reply (with the webhook's token) and no push; the quota did not move.
        replies = list(sandbox.calls("line", "reply"))
        assert [c.status for c in replies] == [200]
        assert replies[0].body["replyToken"] and replies[0].billed == 0
        assert not sandbox.calls("line", "push").exists()
        assert quota_used(platforms) == used_before
        # The customer got the buttons message with both links.
        (bubble,) = link_bubbles(order)
        uris = [a["uri"] for a in bubble.payload["template"]["actions"]]
        assert len(uris) == 2 and all("/o/" in uri for uri in uris) and uris[1].endswith("#pay")
        event = order.events.get(type=OrderEvent.Type.LINK_SENT)
        assert event.parameters["billed"] is False and event.parameters["window"] == "line_reply"
        # The token works once: it is gone, so whatever is sent next is announced as a push.
        assert confirmation.link_decision(order=Order.objects.get(pk=order.pk))["window"] == "line_push"

    def test_expired_reply_token_the_link_is_a_paid_push_as_announced(self, platforms, line_chat, staff_client):
        # The customer wrote two minutes ago: LINE no longer takes that reply token.
        Conversation.objects.filter(pk=line_chat.pk).update(reply_token_at=timezone.now() - dt.timedelta(minutes=2))
        order = make_order(conversation=line_chat, payment_type=PaymentType.PICKUP_711, payment_name="7-11 取貨付款")
        used_before = quota_used(platforms)

        announced, sent = announce_and_send(staff_client, order)
        assert announced["allowed"] is True
        assert (announced["window"], announced["billed"], announced["use_reply_token"]) == ("line_push", True, False)

        assert sent.status_code == 200, sent.content
        body = sent.json()
        assert body["sent"] is True and body["window"]["billed"] is True
        message = Message.objects.get(pk=body["message_id"])
        assert message.state == Message.State.SENT, message.error
        assert message.billed is True and message.retry_key is not None

        pushes = list(sandbox.calls("line", "push"))
        assert [c.status for c in pushes] == [200]
        assert pushes[0].body["to"] == LINE_USER
        assert pushes[0].headers["X-Line-Retry-Key"] == str(message.retry_key)
        assert not sandbox.calls("line", "reply").exists()
        assert quota_used(platforms) == used_before + 1
        (bubble,) = link_bubbles(order)
        assert len(bubble.payload["template"]["actions"]) == 1  # paid on pickup: no "pay" button
        event = order.events.get(type=OrderEvent.Type.LINK_SENT)
        assert event.parameters["billed"] is True and event.parameters["window"] == "line_push"

    def test_token_already_used_by_a_staff_reply_the_link_goes_as_a_push(self, platforms, line_chat, staff_client):
        """Staff answered first with the free reply; the link that follows is announced and sent as a push."""
        InboxSettings.objects.update_or_create(pk=1, defaults={"confirm_paid_line_push": True})
        staff = factories.staff_user("agent")
        first = send_message(conversation=line_chat, author=staff, text="有的，幫您下單")
        first.refresh_from_db()
        assert (first.state, first.billed) == (Message.State.SENT, False)
        assert sandbox.calls("line", "reply").count() == 1
        order = make_order(conversation=line_chat)
        used_before = quota_used(platforms)

        announced, sent = announce_and_send(staff_client, order)
        assert (announced["window"], announced["billed"]) == ("line_push", True)
        # An automated link needs no per-conversation paid-push click (that is for staff typing), but it is
        # announced as paid before the click that sends it.
        assert sent.status_code == 200, sent.content
        message = Message.objects.get(pk=sent.json()["message_id"])
        assert message.state == Message.State.SENT and message.billed is True
        assert sandbox.calls("line", "reply").count() == 1 and sandbox.calls("line", "push").filter(status=200).count() == 1
        assert quota_used(platforms) == used_before + 1

    def test_blocked_customer_announced_refused_and_nothing_sent(self, platforms, line_chat, staff_client):
        sandbox.user_unfollows(LINE_DEST, LINE_USER)
        order = make_order(conversation=line_chat)
        used_before = quota_used(platforms)

        announced, sent = announce_and_send(staff_client, order)
        assert announced["allowed"] is False and announced["window"] == "closed"
        assert sent.status_code == 409
        assert sent.json()["sent"] is False and sent.json()["reason"] == announced["reason"]
        order.refresh_from_db()
        assert order.link_error and order.link_message_id is None
        assert not sandbox.calls("line", "push").exists() and not sandbox.calls("line", "reply").exists()
        assert quota_used(platforms) == used_before
        assert not link_bubbles(order)
