import json

import pytest

from inbox.models import Contact, Conversation, Message
from integrations.line.signature import sign
from integrations.models import Channel, WebhookReceipt
from tests.webhooks import line_body, line_text, post_line

pytestmark = pytest.mark.django_db(transaction=True)

DEST = "U8e742f61d673b39c7fff3cecb7536ef0"
USER = "U4af4980629a1b2c3d4e5f60718293a4b"
SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"


class SignatureTests:
    def test_documented_test_vector(self):
        body = b'{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}'
        assert sign(body, SECRET) == "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs="

    def test_verify_button_empty_events_is_200(self, client, line_channel):
        body = b'{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}'
        r = client.post(
            f"/webhooks/line/{line_channel.pk}/", data=body, content_type="application/json",
            headers={"X-Line-Signature": "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs="},
        )
        assert r.status_code == 200
        assert not WebhookReceipt.objects.exists()

    def test_header_name_is_case_insensitive(self, client, line_channel):
        body = line_body(DEST, line_text(USER, "01HZX0000000000000000000A1", "hi"))
        r = client.post(
            f"/webhooks/line/{line_channel.pk}/", data=body, content_type="application/json",
            headers={"x-line-signature": sign(body, SECRET)},
        )
        assert r.status_code == 200

    @pytest.mark.parametrize("secret", ["0" * 32, None])
    def test_wrong_or_missing_signature_is_403_and_stores_nothing(self, client, line_channel, secret):
        body = line_body(DEST, line_text(USER, "01HZX0000000000000000000A1", "hi"))
        assert post_line(client, line_channel, body, secret).status_code == 403
        assert not WebhookReceipt.objects.exists()

    def test_unknown_channel_is_404(self, client, line_channel):
        body = line_body(DEST, line_text(USER, "01HZX0000000000000000000A1", "hi"))
        r = client.post("/webhooks/line/9999/", data=body, content_type="application/json", headers={"X-Line-Signature": sign(body, SECRET)})
        assert r.status_code == 404

    @pytest.mark.parametrize("channel_id", [2**31, 2**63, 10**30])
    def test_a_channel_id_past_any_key_is_404_not_a_database_error(self, client, line_channel, channel_id):
        body = line_body(DEST, line_text(USER, "01HZX0000000000000000000A1", "hi"))
        headers = {"X-Line-Signature": sign(body, SECRET)}
        r = client.post(f"/webhooks/line/{channel_id}/", data=body, content_type="application/json", headers=headers)
        assert r.status_code == 404
        assert not WebhookReceipt.objects.exists()


class EventTests:
    def test_text_message_creates_contact_conversation_and_message(self, client, line_channel):
        body = line_body(DEST, line_text(USER, "01HZX0000000000000000000A1", "請問有貨嗎", reply_token="rt-abc", message_id="468789577898262530"))
        assert post_line(client, line_channel, body, SECRET).status_code == 200
        message = Message.objects.get()
        assert (message.text, message.kind, message.platform_message_id) == ("請問有貨嗎", "text", "468789577898262530")
        conversation = Conversation.objects.get()
        assert conversation.reply_token == "rt-abc"
        assert conversation.unread_count == 1
        assert conversation.last_message_id == message.pk
        assert Contact.objects.get().platform_user_id == USER

    def test_redelivery_is_stored_once(self, client, line_channel):
        event = line_text(USER, "01HZX0000000000000000000A2", "hi")
        assert post_line(client, line_channel, line_body(DEST, event), SECRET).status_code == 200
        event["deliveryContext"]["isRedelivery"] = True
        assert post_line(client, line_channel, line_body(DEST, event), SECRET).status_code == 200
        assert Message.objects.count() == 1
        assert WebhookReceipt.objects.count() == 1

    def test_unfollow_then_follow(self, client, line_channel):
        base = {"mode": "active", "timestamp": 1700000000000, "source": {"type": "user", "userId": USER}, "deliveryContext": {"isRedelivery": False}}
        unfollow = {**base, "type": "unfollow", "webhookEventId": "01HZX0000000000000000000B1"}
        assert post_line(client, line_channel, line_body(DEST, unfollow), SECRET).status_code == 200
        assert Contact.objects.get().is_following is False
        follow = {**base, "type": "follow", "webhookEventId": "01HZX0000000000000000000B2", "replyToken": "rt-f", "follow": {"isUnblocked": True}}
        assert post_line(client, line_channel, line_body(DEST, follow), SECRET).status_code == 200
        assert Contact.objects.get().is_following is True

    def test_unknown_event_type_is_kept_not_processed(self, client, line_channel):
        event = {"type": "undefined", "timestamp": 1, "mode": "active", "webhookEventId": "01HZX0000000000000000000C1", "source": {"type": "user", "userId": USER}}
        assert post_line(client, line_channel, line_body(DEST, event), SECRET).status_code == 200
        receipt = WebhookReceipt.objects.get()
        assert receipt.status == WebhookReceipt.Status.PROCESSED
        assert json.loads(receipt.body)["events"][0]["type"] == "undefined"
        assert not Message.objects.exists()

    def test_learns_destination_from_first_webhook(self, client, db):
        from integrations.services import line_channel_add

        channel = line_channel_add(name="L", channel_id="1", channel_secret=SECRET, access_token="t")
        body = line_body(DEST, line_text(USER, "01HZX0000000000000000000D1", "hi"))
        assert post_line(client, channel, body, SECRET).status_code == 200
        assert Channel.objects.get(pk=channel.pk).line_destination == DEST


class BadInputTests:
    def test_malformed_json_is_400_and_kept(self, client, line_channel):
        body = b'{"destination": "x", "events": ['
        assert post_line(client, line_channel, body, SECRET).status_code == 400
        receipt = WebhookReceipt.objects.get()
        assert receipt.status == WebhookReceipt.Status.REJECTED
        assert receipt.channel_id == line_channel.pk

    def test_wrong_shape_is_400_and_kept(self, client, line_channel):
        body = b'{"destination": "x", "events": {"type": "message"}}'
        assert post_line(client, line_channel, body, SECRET).status_code == 400
        assert WebhookReceipt.objects.get().status == WebhookReceipt.Status.REJECTED

    def test_processing_failure_is_kept_and_replayable(self, client, line_channel):
        """A receipt whose processing fails stays FAILED with the error, and a replay processes it."""
        from integrations.tasks import webhook_receipt_process

        body = line_body(DEST, line_text(USER, "01HZX0000000000000000000E1", "hi"))
        assert post_line(client, line_channel, body, SECRET).status_code == 200
        receipt = WebhookReceipt.objects.get()
        good_body = receipt.body
        WebhookReceipt.objects.filter(pk=receipt.pk).update(status=WebhookReceipt.Status.RECEIVED, body='{"events": 1}')
        assert webhook_receipt_process(receipt.pk) == "failed"
        receipt.refresh_from_db()
        assert receipt.status == WebhookReceipt.Status.FAILED
        assert "MalformedPayload" in receipt.error
        WebhookReceipt.objects.filter(pk=receipt.pk).update(body=good_body)
        assert webhook_receipt_process(receipt.pk) == "processed"
        assert Message.objects.count() == 1
