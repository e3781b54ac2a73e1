import threading

import pytest
from django.db import connection
from django.test import Client

from inbox.models import Conversation, Message
from integrations.models import WebhookReceipt
from tests.webhooks import messenger_body, messenger_text, post_messenger

# Real commits: processing is queued with transaction.on_commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

PSID = "6000000000000001"


class HandshakeTests:
    def test_matching_token_echoes_challenge(self, client, messenger_channel):
        r = client.get("/webhooks/messenger/", {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"})
        assert r.status_code == 200
        assert r.content == b"1158201444"

    @pytest.mark.parametrize(
        "params",
        [
            {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
            {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"},
            {"hub.challenge": "1"},
        ],
    )
    def test_anything_else_is_forbidden(self, client, messenger_channel, params):
        r = client.get("/webhooks/messenger/", params)
        assert r.status_code == 403
        assert b"1" not in r.content


class SignatureTests:
    def test_valid_signature_stores_and_processes(self, client, messenger_channel):
        body = messenger_body(messenger_channel.external_id, messenger_text(PSID, messenger_channel.external_id, "m_1", "在嗎？"))
        r = post_messenger(client, body, "test-app-secret")
        assert r.status_code == 200
        message = Message.objects.get()
        assert message.text == "在嗎？"
        assert message.direction == Message.Direction.INBOUND
        assert WebhookReceipt.objects.get().status == WebhookReceipt.Status.PROCESSED

    @pytest.mark.parametrize("secret", ["wrong-secret", None])
    def test_wrong_or_missing_signature_is_403_and_stores_nothing(self, client, messenger_channel, secret):
        body = messenger_body(messenger_channel.external_id, messenger_text(PSID, messenger_channel.external_id, "m_1", "hi"))
        r = post_messenger(client, body, secret)
        assert r.status_code == 403
        assert not WebhookReceipt.objects.exists()
        assert not Message.objects.exists()

    def test_signature_over_other_bytes_fails(self, client, messenger_channel):
        body = messenger_body(messenger_channel.external_id, messenger_text(PSID, messenger_channel.external_id, "m_1", "hi"))
        from integrations.messenger.signature import sign

        r = client.post(
            "/webhooks/messenger/", data=body + b" ", content_type="application/json", headers={"X-Hub-Signature-256": sign(body, "test-app-secret")}
        )
        assert r.status_code == 403

    def test_unicode_escaped_body_is_hashed_as_received(self, client, messenger_channel):
        # Meta escapes non-ASCII as \\uXXXX and signs those bytes; re-serializing would break the check.
        raw = (
            '{"object":"page","entry":[{"id":"%s","time":1,"messaging":[{"sender":{"id":"%s"},"recipient":{"id":"%s"},'
            '"timestamp":1700000000000,"message":{"mid":"m_u","text":"\\u00e4\\u00f6\\u00e5 \\u4f60\\u597d"}}]}]}'
            % (messenger_channel.external_id, PSID, messenger_channel.external_id)
        ).encode()
        assert post_messenger(client, raw, "test-app-secret").status_code == 200
        assert Message.objects.get().text == "äöå 你好"


class BadInputTests:
    def test_malformed_json_is_400_and_kept(self, client, messenger_channel):
        body = b'{"object": "page", "entry": [}'
        r = post_messenger(client, body, "test-app-secret")
        assert r.status_code == 400
        receipt = WebhookReceipt.objects.get()
        assert receipt.status == WebhookReceipt.Status.REJECTED
        assert receipt.body == body.decode()

    def test_unknown_shape_is_400_and_kept(self, client, messenger_channel):
        body = b'{"object": "instagram", "entry": 5}'
        r = post_messenger(client, body, "test-app-secret")
        assert r.status_code == 400
        assert WebhookReceipt.objects.get().status == WebhookReceipt.Status.REJECTED

    def test_body_over_one_megabyte_is_refused(self, client, messenger_channel):
        body = b'{"x":"' + b"a" * (1024 * 1024) + b'"}'
        assert post_messenger(client, body, "test-app-secret").status_code == 413
        assert not WebhookReceipt.objects.exists()

    def test_event_for_unknown_page_is_kept_as_ignored(self, client, messenger_channel):
        body = messenger_body("999", messenger_text(PSID, "999", "m_x", "hi"))
        assert post_messenger(client, body, "test-app-secret").status_code == 200
        assert WebhookReceipt.objects.get().status == WebhookReceipt.Status.IGNORED
        assert not Message.objects.exists()

    def test_get_with_other_methods_not_allowed(self, client, messenger_channel):
        assert client.put("/webhooks/messenger/").status_code == 405


class DuplicateTests:
    def test_same_delivery_three_times_is_one_message(self, client, messenger_channel):
        body = messenger_body(messenger_channel.external_id, messenger_text(PSID, messenger_channel.external_id, "m_dup", "hi"))
        for _ in range(3):
            assert post_messenger(client, body, "test-app-secret").status_code == 200
        assert Message.objects.count() == 1
        assert WebhookReceipt.objects.count() == 1
        assert Conversation.objects.get().unread_count == 1

    def test_batched_entries_each_stored(self, client, messenger_channel):
        page = messenger_channel.external_id
        body = messenger_body(page, messenger_text(PSID, page, "m_a", "one"), messenger_text("6000000000000002", page, "m_b", "two"))
        assert post_messenger(client, body, "test-app-secret").status_code == 200
        assert set(Message.objects.values_list("text", flat=True)) == {"one", "two"}
        assert Conversation.objects.count() == 2


def test_concurrent_duplicates_yield_one_message(messenger_channel):
    """Two deliveries of the same event at the same moment (separate connections): one message."""
    page = messenger_channel.external_id
    body = messenger_body(page, messenger_text(PSID, page, "m_race", "hi"))
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def deliver():
        try:
            barrier.wait()
            statuses.append(post_messenger(Client(), body, "test-app-secret").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200, 200, 200, 200]
    assert Message.objects.filter(platform_message_id="m_race").count() == 1
    assert Conversation.objects.get().unread_count == 1
