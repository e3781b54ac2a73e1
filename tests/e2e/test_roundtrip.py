"""A signed webhook in, a reply out through the real client over HTTP to the sandbox, both sides checked."""
import datetime as dt

import pytest
from django.utils import timezone

from inbox.errors import SendRefused
from inbox.models import Contact, Conversation, Message
from inbox.services.messaging import retry_message, send_message
from integrations.models import WebhookReceipt
from integrations.sandbox import services as sandbox
from integrations.sandbox.models import SandboxChatMessage
from tests import factories
from tests.live import LINE_DEST, PAGE_ID, platforms  # noqa: F401 (fixture)

PSID = "7000000000000042"
LINE_USER = "U" + "b" * 32


def only_conversation() -> Conversation:
    return Conversation.objects.select_related("channel", "contact").get()


class MessengerRoundTripTests:
    def test_customer_message_in_staff_reply_out(self, platforms):
        agent = factories.staff_user("agent")
        result = sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="請問還有貨嗎？")
        assert result.status_code == 200
        conversation = only_conversation()
        assert conversation.messages.get().text == "請問還有貨嗎？"
        # The profile was fetched from the sandbox's Graph API after the ACK.
        contact = Contact.objects.get()
        assert contact.display_name and contact.profile_fetched_at

        message = send_message(conversation=conversation, author=agent, text="有的，幫您保留！")
        message.refresh_from_db()
        assert message.state == Message.State.SENT
        assert message.decision["messaging_type"] == "RESPONSE" and not message.decision["tag"]
        (call,) = sandbox.calls("messenger", "send")
        assert call.body["recipient"] == {"id": PSID}
        assert call.body["messaging_type"] == "RESPONSE"
        assert call.body["message"]["text"] == "有的，幫您保留！"
        assert message.platform_message_id == call.response["message_id"]
        # The sandbox echoed the send; it is recognised as ours, not stored twice.
        assert WebhookReceipt.objects.filter(event_type="echo").count() == 1
        assert Message.objects.filter(direction="outbound").count() == 1
        assert SandboxChatMessage.objects.filter(direction="from_shop", text="有的，幫您保留！").exists()

    def test_after_24_hours_a_person_replies_as_human_agent_and_automation_is_refused(self, platforms):
        agent = factories.staff_user("agent")
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi", at=timezone.now() - dt.timedelta(hours=30))
        conversation = only_conversation()
        with pytest.raises(SendRefused, match="24 hours"):
            send_message(conversation=conversation, text="Your order link", automated=True)
        message = send_message(conversation=conversation, author=agent, text="抱歉晚回覆")
        message.refresh_from_db()
        assert message.state == Message.State.SENT
        (call,) = sandbox.calls("messenger", "send")
        assert (call.body["messaging_type"], call.body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")

    def test_platform_refusal_is_kept_with_its_reason_and_retry_sends_once(self, platforms):
        agent = factories.staff_user("agent")
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi")
        conversation = only_conversation()
        sandbox.set_fault("messenger", status=500, count=10, endpoint="send")
        message = send_message(conversation=conversation, author=agent, text="hello")
        message.refresh_from_db()
        assert message.state == Message.State.FAILED
        assert "retry later" in message.error.lower() or "unexpected" in message.error.lower()
        sandbox.clear_faults()
        retry_message(message=message, actor=agent)
        message.refresh_from_db()
        assert message.state == Message.State.SENT
        assert sandbox.calls("messenger", "send").filter(status=200).count() == 1


class LineRoundTripTests:
    def test_free_reply_then_paid_push_with_retry_key(self, platforms):
        agent = factories.staff_user("agent")
        sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="在嗎")
        conversation = only_conversation()
        assert conversation.reply_token

        first = send_message(conversation=conversation, author=agent, text="在的！")
        first.refresh_from_db()
        assert (first.state, first.billed, first.decision["window"]) == ("sent", False, "line_reply")
        (reply,) = sandbox.calls("line", "reply")
        assert reply.body["messages"] == [{"type": "text", "text": "在的！"}]

        with pytest.raises(SendRefused) as refused:
            send_message(conversation=conversation, author=agent, text="還需要什麼嗎？")
        assert refused.value.extra["needs_confirmation"] is True
        second = send_message(conversation=conversation, author=agent, text="還需要什麼嗎？", confirm_paid=True)
        second.refresh_from_db()
        assert (second.state, second.billed, second.decision["window"]) == ("sent", True, "line_push")
        (push,) = sandbox.calls("line", "push")
        assert push.headers.get("X-Line-Retry-Key") == str(second.retry_key)
        assert push.body["to"] == LINE_USER

    def test_push_repeated_with_the_same_retry_key_is_not_sent_twice(self, platforms):
        from integrations.base import Delivery, OutboundMessage
        from integrations.registry import get_client

        sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="hi")
        client = get_client(platforms.line)
        delivery = Delivery(retry_key="8d3c8a0e-4b1f-4e51-9d7c-2f1a7b6c5d4e")
        first = client.send(recipient_id=LINE_USER, message=OutboundMessage(text="once"), delivery=delivery)
        again = client.send(recipient_id=LINE_USER, message=OutboundMessage(text="once"), delivery=delivery)
        assert again.message_ids == first.message_ids  # LINE's 409: already accepted
        assert [c.status for c in sandbox.calls("line", "push")] == [200, 409]
        assert SandboxChatMessage.objects.filter(direction="from_shop", text="once").count() == 1

    def test_customer_image_is_fetched_from_the_content_api(self, platforms):
        png = (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
            b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
        )
        sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, image=png)
        message = Message.objects.get()
        (attachment,) = message.attachments
        assert attachment["content_id"] and attachment["url"].startswith(platforms.url + "/media/inbound/")
        assert sandbox.calls("line", "content").filter(status=200).count() == 1

    def test_quota_comes_from_the_quota_api(self, platforms):
        from integrations.registry import get_client

        quota = get_client(platforms.line).get_quota()
        assert (quota.limited, quota.limit, quota.used) == (True, 100, 0)


class ButtonMessageTests:
    def test_order_link_as_buttons_on_both_platforms(self, platforms):
        from integrations.base import LinkButton

        buttons = (LinkButton("查看訂單詳情", f"{platforms.url}/o/abc/"), LinkButton("去支付", f"{platforms.url}/o/abc/pay/"))
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="下單")
        messenger_conversation = Conversation.objects.get(channel=platforms.page)
        sent = send_message(conversation=messenger_conversation, text="您的訂單 #1001 已成立", buttons=buttons, automated=True)
        sent.refresh_from_db()
        assert (sent.state, sent.kind, sent.source) == ("sent", "template", "automated")
        (call,) = sandbox.calls("messenger", "send")
        payload = call.body["message"]["attachment"]["payload"]
        assert payload["template_type"] == "button"
        assert [b["title"] for b in payload["buttons"]] == ["查看訂單詳情", "去支付"]

        sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="下單")
        line_conversation = Conversation.objects.get(channel=platforms.line)
        sent = send_message(conversation=line_conversation, text="您的訂單 #1002 已成立", buttons=buttons, automated=True)
        sent.refresh_from_db()
        assert (sent.state, sent.billed) == ("sent", False)  # the reply token made it free
        (reply,) = sandbox.calls("line", "reply")
        (template,) = reply.body["messages"]
        assert template["template"]["type"] == "buttons"
        assert "查看訂單詳情: " in template["altText"]
