"""Every documented event type, delivered as a signed webhook, and what the inbox makes of it."""
import datetime as dt
import json
from pathlib import Path

import pytest

from inbox.models import Contact, Conversation, Message
from inbox.services import messaging
from integrations.models import WebhookReceipt
from integrations.services import line_channel_add, messenger_channel_add
from tests.webhooks import post_line, post_messenger

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PAGE = "104857362918475"
PSID = "7294018365527103"
LINE_SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"


def fixture(platform: str, name: str) -> bytes:
    return (FIXTURES / platform / f"{name}.json").read_bytes()


@pytest.fixture
def page(db):
    return messenger_channel_add(
        name="Page", page_id=PAGE, app_secret="s3cret", verify_token="v", access_token="t", app_id="1480723916354082"
    )


@pytest.fixture
def line(db):
    return line_channel_add(name="LINE", channel_id="1", channel_secret=LINE_SECRET, access_token="t")


# fixture -> (direction, source, kind, text or None to skip)
MESSENGER_MESSAGES = {
    "text_message": ("inbound", "customer", "text", "請問這件碎花洋裝 M 號還有貨嗎？🌸"),
    "quick_reply": ("inbound", "customer", "text", "7-11 取貨"),
    "image": ("inbound", "customer", "image", None),
    "file": ("inbound", "customer", "file", None),
    "sticker": ("inbound", "customer", "sticker", None),
    "sticker_transition": ("inbound", "customer", "sticker", None),
    "postback": ("inbound", "customer", "postback", "確認訂單"),
    "standby_message": ("inbound", "customer", "text", "我想改地址，可以嗎？"),
    "standby_postback": ("inbound", "customer", "postback", "聯絡真人客服"),
    "echo_page_inbox": ("outbound", "page_inbox", "text", "您好，我是小編 Amy，已經幫您保留到週五 🙏"),
}


class MessengerEventTests:
    @pytest.mark.parametrize("name", sorted(MESSENGER_MESSAGES))
    def test_message_like_events_become_one_message(self, client, page, name):
        assert post_messenger(client, fixture("messenger", name), "s3cret").status_code == 200
        direction, source, kind, text = MESSENGER_MESSAGES[name]
        message = Message.objects.get()
        assert (message.direction, message.source, message.kind) == (direction, source, kind)
        if text is not None:
            assert message.text == text
        assert WebhookReceipt.objects.get().status == WebhookReceipt.Status.PROCESSED
        conversation = Conversation.objects.get()
        assert conversation.unread_count == (1 if direction == "inbound" else 0)
        assert conversation.last_message_id == message.pk

    def test_sticker_keeps_its_id_and_image(self, client, page):
        post_messenger(client, fixture("messenger", "sticker_transition"), "s3cret")
        (attachment,) = Message.objects.get().attachments
        assert attachment["type"] == "sticker"
        assert attachment["sticker_id"] and attachment["url"].startswith("https://")

    @pytest.mark.parametrize("name", ["reaction", "pass_thread_control"])
    def test_other_events_are_kept_without_a_message(self, client, page, name):
        assert post_messenger(client, fixture("messenger", name), "s3cret").status_code == 200
        assert WebhookReceipt.objects.count() == 1
        assert not Message.objects.exists()

    def test_a_reaction_reopens_the_24_hours_without_a_message_or_unread(self, client, page):
        from django.utils import timezone

        from inbox.selectors import conversation_window
        from integrations.policy import Sender, Window

        post_messenger(client, fixture("messenger", "text_message"), "s3cret")
        conversation = Conversation.objects.get()
        # The customer wrote 30 hours before they react: automated messages (order links) were not allowed.
        reacted_at = timezone.now() - dt.timedelta(minutes=1)
        Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=reacted_at - dt.timedelta(hours=30), unread_count=0)
        conversation.refresh_from_db()
        assert not conversation_window(conversation, now=timezone.now(), sender=Sender.AUTOMATED).allowed

        def reaction(action: str, ms: int) -> bytes:
            body = json.loads(fixture("messenger", "reaction"))
            event = body["entry"][0]["messaging"][0]
            event["timestamp"], event["reaction"]["action"] = ms, action
            return json.dumps(body).encode()

        ms = int(reacted_at.timestamp() * 1000)
        assert post_messenger(client, reaction("unreact", ms), "s3cret").status_code == 200  # taking one back opens nothing
        assert Conversation.objects.get().last_engaged_at is None
        assert post_messenger(client, reaction("react", ms + 1), "s3cret").status_code == 200
        conversation = Conversation.objects.get()
        decision = conversation_window(conversation, now=timezone.now(), sender=Sender.AUTOMATED)
        assert decision.allowed and decision.window == Window.STANDARD
        assert (Message.objects.count(), conversation.unread_count) == (1, 0)  # nothing to read or answer
        assert conversation.last_inbound_at == reacted_at - dt.timedelta(hours=30)  # "needs reply" doesn't move

    @pytest.mark.parametrize("source,opens", [("SHORTLINK", True), ("CUSTOMER_CHAT_PLUGIN", True), ("ADS", False)])
    def test_a_referral_into_the_chat_opens_the_window_but_an_ad_click_alone_does_not(self, client, page, source, opens):
        from django.utils import timezone

        post_messenger(client, fixture("messenger", "text_message"), "s3cret")
        at = timezone.now() - dt.timedelta(minutes=1)
        Conversation.objects.update(last_inbound_at=at - dt.timedelta(hours=30))
        referral = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": int(at.timestamp() * 1000),
                    "referral": {"ref": "fall-sale", "source": source, "type": "OPEN_THREAD"}}
        body = json.dumps({"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [referral]}]}).encode()
        assert post_messenger(client, body, "s3cret").status_code == 200
        assert (Conversation.objects.get().last_engaged_at is not None) == opens

    def test_a_reaction_from_someone_without_a_chat_makes_no_empty_chat(self, client, page):
        assert post_messenger(client, fixture("messenger", "reaction"), "s3cret").status_code == 200
        assert not Conversation.objects.exists() and not Contact.objects.exists()

    def test_batched_body_routes_each_entry_to_its_page(self, client, page):
        post_messenger(client, fixture("messenger", "batched"), "s3cret")
        assert Message.objects.count() == 1  # the second entry is another page, not connected yet: kept
        assert WebhookReceipt.objects.filter(status=WebhookReceipt.Status.IGNORED).count() == 1
        second = messenger_channel_add(
            name="Second", page_id="231094857716203", app_secret="s3cret", verify_token="v2", access_token="t2", secondary=True
        )
        post_messenger(client, fixture("messenger", "batched"), "s3cret")
        assert Message.objects.filter(channel=second).count() == 0  # same events: already stored once

    def test_echo_delivery_and_read_move_our_message_forward(self, client, page):
        post_messenger(client, fixture("messenger", "text_message"), "s3cret")
        conversation = Conversation.objects.get()
        ours = Message.objects.create(
            conversation=conversation, channel=page, direction="outbound", source="staff", text="有的喔！",
            state="queued", platform_timestamp=conversation.last_inbound_at,
        )
        echo = json.loads(fixture("messenger", "echo_app"))
        echo["entry"][0]["messaging"][0]["message"]["metadata"] = f"inbox:{ours.pk}"
        post_messenger(client, json.dumps(echo).encode(), "s3cret")
        ours.refresh_from_db()
        assert ours.platform_message_id == "m_Ex1Zq5Wr8Kc3Xv6Bn9Lm2Jd7Fs0Gp4Ya8Ue1Io5Qy9Wt2Rk6Np0Zb3Vc7Mx4Ja"
        assert Message.objects.filter(direction="outbound").count() == 1  # our echo is not a second message

        Message.objects.filter(pk=ours.pk).update(state="sent", sent_at=conversation.last_inbound_at)
        post_messenger(client, fixture("messenger", "delivery"), "s3cret")
        ours.refresh_from_db()
        assert ours.state == "delivered"
        post_messenger(client, fixture("messenger", "read"), "s3cret")
        ours.refresh_from_db()
        assert ours.state == "read"

    def test_echo_settles_a_send_whose_answer_was_lost(self, client, page):
        post_messenger(client, fixture("messenger", "text_message"), "s3cret")
        conversation = Conversation.objects.get()
        ours = Message.objects.create(
            conversation=conversation, channel=page, direction="outbound", source="staff", text="x",
            state="failed", error="no answer in time", platform_timestamp=conversation.last_inbound_at,
        )
        echo = json.loads(fixture("messenger", "echo_app"))
        echo["entry"][0]["messaging"][0]["message"]["metadata"] = f"inbox:{ours.pk}"
        post_messenger(client, json.dumps(echo).encode(), "s3cret")
        ours.refresh_from_db()
        assert (ours.state, ours.error) == ("sent", "")


    def test_every_parts_echo_is_recorded(self, client, page):
        """A text with an image goes out as two sends, each echoed with our metadata: both ids are kept, so a
        send interrupted half-way knows what went out."""
        post_messenger(client, fixture("messenger", "text_message"), "s3cret")
        conversation = Conversation.objects.get()
        ours = Message.objects.create(
            conversation=conversation, channel=page, direction="outbound", source="staff", text="x", state="queued",
            platform_timestamp=conversation.last_inbound_at,
        )
        for mid in ("m_part_1", "m_part_2", "m_part_1"):  # the platform may deliver an echo twice
            echo = json.loads(fixture("messenger", "echo_app"))
            echo["entry"][0]["messaging"][0]["message"].update(metadata=f"inbox:{ours.pk}", mid=mid)
            post_messenger(client, json.dumps(echo).encode(), "s3cret")
        ours.refresh_from_db()
        assert ours.part_ids == ["m_part_1", "m_part_2"] and ours.platform_message_id == "m_part_1"


class InterruptedSendTests:
    """inbox.tasks.message_deliver hands a Messenger send whose worker died to `settle_interrupted_send`."""

    @pytest.fixture
    def queued(self, client, page):
        post_messenger(client, fixture("messenger", "text_message"), "s3cret")
        conversation = Conversation.objects.get()
        return Message.objects.create(
            conversation=conversation, channel=page, direction="outbound", source="staff", text="x", state="queued", attempts=1,
            platform_timestamp=conversation.last_inbound_at,
        )

    def test_every_part_echoed_is_sent(self, queued):
        Message.objects.filter(pk=queued.pk).update(part_ids=["m_1", "m_2"], platform_message_id="m_1")
        assert messaging.settle_interrupted_send(message_id=queued.pk, parts=2) == "sent"
        queued.refresh_from_db()
        assert queued.state == "sent" and queued.part_ids == ["m_1", "m_2"]

    def test_a_part_without_its_echo_is_failed_asking_staff_to_check(self, queued):
        Message.objects.filter(pk=queued.pk).update(part_ids=["m_1"], platform_message_id="m_1")
        assert messaging.settle_interrupted_send(message_id=queued.pk, parts=2) == "failed"
        queued.refresh_from_db()
        assert queued.state == "failed" and "check the chat" in queued.error

    def test_no_echo_at_all_is_failed(self, queued):
        assert messaging.settle_interrupted_send(message_id=queued.pk, parts=1) == "failed"


LINE_MESSAGES = {
    "text_emoji_mention": "text",
    "text_quoted": "text",
    "image_line": "image",
    "image_external": "image",
    "sticker": "sticker",
    "location": "location",
    "file": "file",
    "postback": "postback",
    "standby_message": "text",
    "redelivered_message": "text",
}


class LineEventTests:
    @pytest.mark.parametrize("name", sorted(LINE_MESSAGES))
    def test_message_like_events_become_one_message(self, client, line, name):
        assert post_line(client, line, fixture("line", name), LINE_SECRET).status_code == 200
        message = Message.objects.get()
        assert (message.direction, message.kind) == ("inbound", LINE_MESSAGES[name])
        conversation = Conversation.objects.get()
        standby = name == "standby_message"
        assert bool(conversation.reply_token) is not standby  # never reply in standby mode

    def test_location_keeps_coordinates(self, client, line):
        post_line(client, line, fixture("line", "location"), LINE_SECRET)
        (attachment,) = Message.objects.get().attachments
        assert attachment["type"] == "location" and attachment["latitude"] and attachment["longitude"]

    @pytest.mark.parametrize("name", ["unknown_type", "message_edited", "unsend", "group_source"])
    def test_other_events_are_kept(self, client, line, name):
        assert post_line(client, line, fixture("line", name), LINE_SECRET).status_code == 200
        assert WebhookReceipt.objects.count() == 1

    def test_follow_and_unfollow(self, client, line):
        post_line(client, line, fixture("line", "unfollow"), LINE_SECRET)
        assert Contact.objects.get().is_following is False
        post_line(client, line, fixture("line", "follow"), LINE_SECRET)
        assert Contact.objects.get().is_following is True
