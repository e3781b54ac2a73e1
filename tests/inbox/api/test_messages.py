"""The timeline, sending (text, images, the platforms' windows, paid LINE pushes) and retrying.

Sends are delivered after commit to a closed local port (see tests/conftest.py), so a message ends
`failed`; these tests check the 201 answer and the decision stored with the message.
"""
import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from inbox.models import Conversation, InboxEvent, Message

pytestmark = pytest.mark.django_db(transaction=True)


def messages_url(conversation) -> str:
    return f"/api/v1/conversations/{conversation.pk}/messages/"


def hours_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=n)


def png(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 90)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


class TimelineTests:
    def test_newest_page_oldest_first_then_the_page_before(self, agent_api, messenger_channel, make_conversation, make_message):
        conversation = make_conversation(messenger_channel, "Mei")
        start = hours_ago(10)
        made = [make_message(conversation, text=f"m{i}", at=start + dt.timedelta(minutes=i)) for i in range(55)]

        newest = agent_api.get(messages_url(conversation)).json()
        assert [m["id"] for m in newest["results"]] == [m.pk for m in made[5:]]
        assert newest["has_more"] is True

        older = agent_api.get(f"{messages_url(conversation)}?before={newest['results'][0]['id']}").json()
        assert [m["id"] for m in older["results"]] == [m.pk for m in made[:5]]
        assert older["has_more"] is False

    def test_a_message_has_the_realtime_shape(self, agent_api, messenger_channel, make_conversation, make_message, agent):
        conversation = make_conversation(messenger_channel, "Mei")
        make_message(
            conversation, direction=Message.Direction.OUTBOUND, text="Yes!", sent_by=agent, decision={"window": "standard"},
            attachments=[{"type": "image", "url": "https://example.com/a.png"}],
        )
        (message,) = agent_api.get(messages_url(conversation)).json()["results"]
        assert {k: message[k] for k in ("direction", "kind", "text", "state", "error", "sent_by", "window")} == {
            "direction": "outbound", "kind": "text", "text": "Yes!", "state": "sent", "error": "", "sent_by": "amy",
            "window": "standard",
        }
        assert message["attachments"] == [{"type": "image", "url": "https://example.com/a.png"}]
        assert message["created_at"]

    @pytest.mark.parametrize("before", ["999999", "abc", "0"])
    def test_an_unknown_or_bad_before_is_a_400(self, agent_api, messenger_channel, make_conversation, before):
        conversation = make_conversation(messenger_channel, "Mei")
        assert agent_api.get(f"{messages_url(conversation)}?before={before}").status_code == 400

    def test_a_message_of_another_conversation_is_not_a_pivot(self, agent_api, messenger_channel, make_conversation, make_message):
        mine, other = make_conversation(messenger_channel, "Mei"), make_conversation(messenger_channel, "Bob")
        elsewhere = make_message(other)
        response = agent_api.get(f"{messages_url(mine)}?before={elsewhere.pk}")
        assert response.status_code == 400
        assert response.json() == {"detail": "unknown message"}

    def test_an_unknown_conversation_is_a_404(self, agent_api, messenger_channel):
        assert agent_api.get("/api/v1/conversations/999999/messages/").status_code == 404


class MessengerSendTests:
    def test_within_24_hours_a_standard_response(self, agent_api, messenger_channel, make_conversation, agent):
        conversation = make_conversation(messenger_channel, "Mei", last_inbound_at=hours_ago(2))
        response = agent_api.post(messages_url(conversation), {"text": "  We have it!  "}, format="json")

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["direction"], body["source"], body["text"], body["state"]) == ("outbound", "staff", "We have it!", "queued")
        assert body["sent_by"] == "amy" and body["window"] == "standard"
        message = Message.objects.get(pk=body["id"])
        assert (message.decision["messaging_type"], message.decision["tag"]) == ("RESPONSE", "")
        assert message.sent_by == agent
        assert InboxEvent.objects.filter(payload__type="message", payload__op="add").exists()

    def test_after_30_hours_a_person_replies_as_human_agent(self, agent_api, messenger_channel, make_conversation):
        conversation = make_conversation(messenger_channel, "Mei", last_inbound_at=hours_ago(30))
        response = agent_api.post(messages_url(conversation), {"text": "Sorry for the wait"}, format="json")

        assert response.status_code == 201, response.content
        assert response.json()["window"] == "human_agent"
        decision = Message.objects.get(pk=response.json()["id"]).decision
        assert (decision["window"], decision["messaging_type"], decision["tag"]) == ("human_agent", "MESSAGE_TAG", "HUMAN_AGENT")
        conversation.refresh_from_db()
        assert conversation.last_reply_at is not None  # a person answered: no longer "needs reply"

    def test_after_8_days_nothing_may_be_sent(self, agent_api, messenger_channel, make_conversation):
        conversation = make_conversation(messenger_channel, "Mei", last_inbound_at=hours_ago(24 * 8))
        response = agent_api.post(messages_url(conversation), {"text": "Still there?"}, format="json")

        assert response.status_code == 409
        body = response.json()
        assert body["window"]["window"] == "closed" and body["window"]["allowed"] is False
        assert body["detail"] == body["window"]["reason"]
        assert "7 days" in body["detail"]
        assert body["needs_confirmation"] is False
        assert not Message.objects.exists()

    def test_a_message_needs_text_or_an_image(self, agent_api, messenger_channel, make_conversation):
        conversation = make_conversation(messenger_channel, "Mei", last_inbound_at=hours_ago(1))
        response = agent_api.post(messages_url(conversation), {"text": "   "}, format="json")
        assert response.status_code == 400  # bad input, not a platform rule
        assert response.json()["detail"]
        assert not Message.objects.exists()

    def test_bad_input_is_a_400(self, agent_api, messenger_channel, make_conversation):
        conversation = make_conversation(messenger_channel, "Mei", last_inbound_at=hours_ago(1))
        response = agent_api.post(messages_url(conversation), {"text": "hi", "confirm_paid": "perhaps"}, format="json")
        assert response.status_code == 400
        assert "confirm_paid" in response.json()

    def test_an_unknown_conversation_is_a_404(self, agent_api, messenger_channel):
        assert agent_api.post("/api/v1/conversations/999999/messages/", {"text": "hi"}, format="json").status_code == 404


class LineSendTests:
    def test_a_paid_push_is_confirmed_once(self, agent_api, line_channel, make_conversation):
        conversation = make_conversation(line_channel, "Mei", last_inbound_at=hours_ago(3))

        refused = agent_api.post(messages_url(conversation), {"text": "Your order shipped"}, format="json")
        assert refused.status_code == 409
        assert refused.json()["needs_confirmation"] is True
        assert refused.json()["window"]["window"] == "line_push" and refused.json()["window"]["billed"] is True
        assert not Message.objects.exists()

        confirmed = agent_api.post(messages_url(conversation), {"text": "Your order shipped", "confirm_paid": True}, format="json")
        assert confirmed.status_code == 201, confirmed.content
        assert confirmed.json()["window"] == "line_push" and confirmed.json()["billed"] is True
        message = Message.objects.get(pk=confirmed.json()["id"])
        assert message.decision["billed"] is True and message.retry_key is not None
        conversation.refresh_from_db()
        assert conversation.paid_push_confirmed_at is not None

        # Asked once per conversation.
        assert agent_api.post(messages_url(conversation), {"text": "Tracking: 123"}, format="json").status_code == 201

    def test_a_fresh_reply_token_is_a_free_reply(self, agent_api, line_channel, make_conversation):
        now = timezone.now()
        conversation = make_conversation(line_channel, "Mei", last_inbound_at=now, reply_token="rt-fresh", reply_token_at=now)
        response = agent_api.post(messages_url(conversation), {"text": "Thanks!"}, format="json")

        assert response.status_code == 201, response.content
        assert response.json()["window"] == "line_reply"
        message = Message.objects.get(pk=response.json()["id"])
        assert message.reply_token == "rt-fresh" and message.billed is False

    def test_a_customer_who_blocked_the_account_gets_nothing(self, agent_api, line_channel, make_conversation):
        conversation = make_conversation(line_channel, "Mei", last_inbound_at=hours_ago(1))
        conversation.contact.is_following = False
        conversation.contact.save()
        response = agent_api.post(messages_url(conversation), {"text": "hi", "confirm_paid": True}, format="json")
        assert response.status_code == 409
        assert response.json()["window"]["window"] == "closed"


class ImageSendTests:
    def test_a_png_is_stored_and_sent_by_its_public_url(self, agent_api, messenger_channel, make_conversation):
        conversation = make_conversation(messenger_channel, "Mei", last_inbound_at=hours_ago(1))
        response = agent_api.post(messages_url(conversation), {"image": png()}, format="multipart")

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["kind"] == "image" and body["text"] == ""
        (attachment,) = body["attachments"]
        prefix = f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}"
        assert attachment["type"] == "image" and attachment["url"].startswith(prefix)
        assert attachment["url"].endswith(".png")
        assert default_storage.exists(attachment["url"].removeprefix(prefix))

    def test_text_and_image_together(self, agent_api, messenger_channel, make_conversation):
        conversation = make_conversation(messenger_channel, "Mei", last_inbound_at=hours_ago(1))
        response = agent_api.post(messages_url(conversation), {"image": png(), "text": "This one?"}, format="multipart")
        assert response.status_code == 201, response.content
        assert response.json()["text"] == "This one?" and len(response.json()["attachments"]) == 1

    def test_a_text_file_named_png_is_a_400(self, agent_api, messenger_channel, make_conversation):
        conversation = make_conversation(messenger_channel, "Mei", last_inbound_at=hours_ago(1))
        fake = SimpleUploadedFile("invoice.png", b"this is not an image\n" * 10, content_type="image/png")
        response = agent_api.post(messages_url(conversation), {"image": fake}, format="multipart")

        assert response.status_code == 400
        assert response.json() == {"detail": "This file is not a JPEG or PNG image."}
        assert not Message.objects.exists()

    def test_an_image_is_not_stored_when_the_window_is_closed(self, agent_api, messenger_channel, make_conversation):
        conversation = make_conversation(messenger_channel, "Mei", last_inbound_at=hours_ago(24 * 8))
        response = agent_api.post(messages_url(conversation), {"image": png()}, format="multipart")
        assert response.status_code == 409
        assert not default_storage.exists("outbound") or not default_storage.listdir("outbound")[1]


class RetryTests:
    @pytest.fixture
    def failed(self, messenger_channel, make_conversation, make_message, agent):
        def make(last_inbound_at):
            conversation = make_conversation(messenger_channel, "Mei", last_inbound_at=last_inbound_at)
            return make_message(
                conversation, direction=Message.Direction.OUTBOUND, state=Message.State.FAILED, error="timeout",
                sent_by=agent, text="Your order",
            )

        return make

    def test_a_failed_message_is_queued_again(self, agent_api, failed):
        message = failed(hours_ago(1))
        response = agent_api.post(f"/api/v1/messages/{message.pk}/retry/", {}, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["id"] == message.pk
        assert (response.json()["state"], response.json()["error"]) == ("queued", "")
        message.refresh_from_db()
        assert message.decision["window"] == "standard"
        assert InboxEvent.objects.filter(payload__type="message", payload__op="update").exists()

    def test_a_retry_under_a_closed_window_is_a_409(self, agent_api, failed):
        message = failed(hours_ago(24 * 8))
        response = agent_api.post(f"/api/v1/messages/{message.pk}/retry/", {}, format="json")
        assert response.status_code == 409
        assert response.json()["window"]["window"] == "closed"
        message.refresh_from_db()
        assert message.state == Message.State.FAILED

    def test_only_a_failed_message_can_be_retried(self, agent_api, messenger_channel, make_conversation, make_message):
        conversation = make_conversation(messenger_channel, "Mei", last_inbound_at=hours_ago(1))
        sent = make_message(conversation, direction=Message.Direction.OUTBOUND, state=Message.State.SENT)
        response = agent_api.post(f"/api/v1/messages/{sent.pk}/retry/", {}, format="json")
        assert response.status_code == 409
        assert response.json()["needs_confirmation"] is False

    def test_a_line_push_retry_needs_the_confirmation_too(self, agent_api, line_channel, make_conversation, make_message, agent):
        conversation = make_conversation(line_channel, "Mei", last_inbound_at=hours_ago(1))
        message = make_message(conversation, direction=Message.Direction.OUTBOUND, state=Message.State.FAILED, sent_by=agent)
        url = f"/api/v1/messages/{message.pk}/retry/"
        assert agent_api.post(url, {}, format="json").json()["needs_confirmation"] is True
        assert agent_api.post(url, {"confirm_paid": True}, format="json").status_code == 200
        assert Conversation.objects.get(pk=conversation.pk).paid_push_confirmed_at is not None

    def test_an_unknown_message_is_a_404(self, agent_api, messenger_channel):
        assert agent_api.post("/api/v1/messages/999999/retry/", {}, format="json").status_code == 404
