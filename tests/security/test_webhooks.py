"""The webhooks are the only endpoints the internet can reach without signing in. An attacker may forge
or omit signatures, replay a captured delivery, send huge bodies or malformed and wrongly typed JSON:
every such request is refused (403/400/413) or absorbed (a replay is stored once), never a 500, and
nothing forged reaches the inbox."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from inbox.models import Message
from integrations import services as channel_services
from integrations.line import signature as line_signature
from integrations.messenger import signature as messenger_signature
from integrations.models import WebhookReceipt
from tests.webhooks import line_body, line_text, messenger_body, messenger_text

pytestmark = pytest.mark.django_db

APP_SECRET = "test-app-secret"
LINE_SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"
PSID = "6000000000000123"
LINE_USER = "U" + "1" * 32


@pytest.fixture(autouse=True)
def _run_on_commit(django_capture_on_commit_callbacks, monkeypatch):
    """Each request's on-commit work (queueing the processing, eager here) runs as it would after a real
    commit; much faster than a transactional test per case."""
    global _capture
    _capture = django_capture_on_commit_callbacks


_capture = None


def post(client, path: str, body: bytes, headers: dict | None = None, content_type: str = "application/json", **extra):
    with _capture(execute=True):
        return client.generic("POST", path, data=body, content_type=content_type, headers=headers or {}, **extra)


def messenger_ok_body(channel, mid: str = "m_sec_1", text: str = "hi") -> bytes:
    return messenger_body(channel.external_id, messenger_text(PSID, channel.external_id, mid, text))


def line_ok_body(channel, event_id: str = "01SECURITYEVENT00000000001", text: str = "hi") -> bytes:
    return line_body(channel.line_destination, line_text(LINE_USER, event_id, text))


def hex_sig(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def nothing_stored() -> bool:
    return not WebhookReceipt.objects.exists() and not Message.objects.exists()


class ForgedSignatureTests:
    @pytest.mark.parametrize(
        "header",
        [
            None,  # missing
            "",
            "sha256=",
            "sha256=" + "0" * 64,
            "sha1=" + hashlib.sha1(b"x").hexdigest(),  # the old, weaker scheme
            "SIGNATURE",
            "sha256=" + "g" * 64,
            "sha256=" + "ä" * 64,
        ],
    )
    def test_messenger_refuses_missing_or_forged_signatures(self, client, messenger_channel, header):
        body = messenger_ok_body(messenger_channel)
        headers = {} if header is None else {"X-Hub-Signature-256": header}
        response = post(client, "/webhooks/messenger/", body, headers)
        assert response.status_code == 403
        assert nothing_stored()

    def test_messenger_refuses_a_signature_made_with_another_secret(self, client, messenger_channel):
        body = messenger_ok_body(messenger_channel)
        response = post(client, "/webhooks/messenger/", body, {"X-Hub-Signature-256": "sha256=" + hex_sig(body, "guessed-secret")})
        assert response.status_code == 403 and nothing_stored()

    def test_messenger_refuses_a_truncated_signature(self, client, messenger_channel):
        body = messenger_ok_body(messenger_channel)
        response = post(client, "/webhooks/messenger/", body, {"X-Hub-Signature-256": "sha256=" + hex_sig(body, APP_SECRET)[:32]})
        assert response.status_code == 403 and nothing_stored()

    def test_another_apps_page_cannot_inject_events_for_ours(self, client, messenger_channel):
        """A second connected app's secret signs a body that names our page: the event is not routed to it."""
        channel_services.messenger_channel_add(
            name="Other", page_id="104000000000999", app_secret="other-app-secret", verify_token="x", access_token="T", app_id="9",
            secondary=True,
        )
        body = messenger_ok_body(messenger_channel, mid="m_cross_app")
        response = post(client, "/webhooks/messenger/", body, {"X-Hub-Signature-256": messenger_signature.sign(body, "other-app-secret")})
        assert response.status_code == 200
        assert not Message.objects.exists()
        assert WebhookReceipt.objects.get().status == WebhookReceipt.Status.IGNORED

    @pytest.mark.parametrize(
        "header",
        [None, "", "=", "not base64!", base64.b64encode(b"\x00" * 32).decode(), "A" * 10_000],
    )
    def test_line_refuses_missing_or_forged_signatures(self, client, line_channel, header):
        body = line_ok_body(line_channel)
        headers = {} if header is None else {"X-Line-Signature": header}
        response = post(client, f"/webhooks/line/{line_channel.pk}/", body, headers)
        assert response.status_code == 403 and nothing_stored()

    def test_line_refuses_another_channels_signature(self, client, line_channel):
        other = channel_services.line_channel_add(
            name="Other LINE", channel_id="2000000002", channel_secret="other-line-secret", access_token="T", destination="U" + "9" * 32
        )
        body = line_ok_body(line_channel)
        # Signed correctly for the other channel, posted to ours (and the other way round).
        assert post(client, f"/webhooks/line/{line_channel.pk}/", body, {"X-Line-Signature": line_signature.sign(body, "other-line-secret")}).status_code == 403
        assert post(client, f"/webhooks/line/{other.pk}/", body, {"X-Line-Signature": line_signature.sign(body, LINE_SECRET)}).status_code == 403
        assert nothing_stored()


class ReplayTests:
    def test_a_replayed_messenger_delivery_is_stored_and_shown_once(self, client, messenger_channel):
        body = messenger_ok_body(messenger_channel, mid="m_replayed", text="pay now")
        headers = {"X-Hub-Signature-256": messenger_signature.sign(body, APP_SECRET)}
        for _ in range(5):
            assert post(client, "/webhooks/messenger/", body, headers).status_code == 200
        assert WebhookReceipt.objects.count() == 1
        assert Message.objects.filter(platform_message_id="m_replayed").count() == 1

    def test_a_replayed_line_delivery_is_stored_and_shown_once(self, client, line_channel):
        body = line_ok_body(line_channel, event_id="01SECURITYREPLAY0000000001")
        headers = {"X-Line-Signature": line_signature.sign(body, LINE_SECRET)}
        for _ in range(5):
            assert post(client, f"/webhooks/line/{line_channel.pk}/", body, headers).status_code == 200
        assert WebhookReceipt.objects.count() == 1 and Message.objects.count() == 1

    def test_a_captured_signature_does_not_cover_a_changed_body(self, client, messenger_channel, line_channel):
        body = messenger_ok_body(messenger_channel, text="hi")
        signature = messenger_signature.sign(body, APP_SECRET)
        tampered = body.replace(b'"hi"', b'"send refund to attacker"')
        assert post(client, "/webhooks/messenger/", tampered, {"X-Hub-Signature-256": signature}).status_code == 403
        body = line_ok_body(line_channel)
        signature = line_signature.sign(body, LINE_SECRET)
        assert post(client, f"/webhooks/line/{line_channel.pk}/", body + b" ", {"X-Line-Signature": signature}).status_code == 403
        assert nothing_stored()


class BodySizeTests:
    def big_body(self, channel) -> bytes:
        return messenger_ok_body(channel, text="x" * (1024 * 1024 + 10))

    def test_messenger_body_over_one_megabyte_is_413_even_when_signed(self, client, messenger_channel):
        body = self.big_body(messenger_channel)
        response = post(client, "/webhooks/messenger/", body, {"X-Hub-Signature-256": messenger_signature.sign(body, APP_SECRET)})
        assert response.status_code == 413 and nothing_stored()

    def test_line_body_over_one_megabyte_is_413_even_when_signed(self, client, line_channel):
        body = line_ok_body(line_channel, text="x" * (1024 * 1024 + 10))
        response = post(client, f"/webhooks/line/{line_channel.pk}/", body, {"X-Line-Signature": line_signature.sign(body, LINE_SECRET)})
        assert response.status_code == 413 and nothing_stored()

    def test_a_lying_content_length_does_not_let_a_big_body_through(self, client, messenger_channel):
        body = self.big_body(messenger_channel)
        response = post(
            client, "/webhooks/messenger/", body, {"X-Hub-Signature-256": messenger_signature.sign(body, APP_SECRET)}, CONTENT_LENGTH="100"
        )
        assert response.status_code in (403, 413) and nothing_stored()

    def test_a_body_of_exactly_one_megabyte_is_read(self, client, messenger_channel):
        body = messenger_ok_body(messenger_channel, text="")
        body = body.replace(b'"text": ""', b'"text": "' + b"y" * (1024 * 1024 - len(body)) + b'"')
        assert len(body) == 1024 * 1024
        response = post(client, "/webhooks/messenger/", body, {"X-Hub-Signature-256": messenger_signature.sign(body, APP_SECRET)})
        assert response.status_code == 200


# Signed correctly, but not what the platform sends: broken JSON, and JSON of the wrong types.
MALFORMED = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"text"',
    b"\xff\xfe\x00",
    b'{"a": NaN}',
    b"[" * 5000 + b"]" * 5000,
    b'{"object": "page", "entry": 5}',
    b'{"object": "page", "entry": [5, "x", null]}',
    b'{"object": "page", "entry": [{"id": {"x": 1}, "messaging": "x"}]}',
    b'{"object": "page", "entry": [{"id": "104000000000001", "messaging": [{"sender": 5, "recipient": [], "timestamp": "soon"}]}]}',
    b'{"object": "page", "entry": [{"id": "104000000000001", "messaging": [{"sender": {"id": 5}, "recipient": {"id": "104000000000001"}, "timestamp": 1e400, "message": {"mid": 7, "text": ["x"]}}]}]}',
    b'{"object": "page", "entry": [{"id": "104000000000001", "messaging": [{"sender": {"id": "1"}, "recipient": {"id": "104000000000001"}, "timestamp": -1, "delivery": {"watermark": "x", "mids": 5}}]}]}',
    b'{"object": "page", "entry": [{"id": "104000000000001", "messaging": [{"sender": {"id": "1"}, "recipient": {"id": "104000000000001"}, "timestamp": 1, "message": {"mid": "m", "attachments": [{"type": 5, "payload": "x"}]}}]}]}',
    b'{"events": 5}',
    b'{"destination": 5, "events": [5, null, "x"]}',
    b'{"events": [{"type": "message", "timestamp": "soon", "source": "x", "message": 5}]}',
    b'{"events": [{"type": "message", "webhookEventId": 5, "timestamp": 1, "source": {"type": "user", "userId": 5}, "message": {"type": "text", "id": 5, "text": {"a": 1}}}]}',
    b'{"events": [{"type": "message", "webhookEventId": "e", "timestamp": 99999999999999999999, "source": {"type": "user", "userId": "U1"}, "message": {"type": "image", "id": "1", "contentProvider": 5}}]}',
    b'{"events": [{"type": ["follow"], "webhookEventId": "e2", "timestamp": 1, "source": {"type": "group"}}]}',
    b'{"events": [{"type": "unsend", "webhookEventId": "e3", "timestamp": 1, "source": {"type": "user", "userId": "U1"}, "unsend": "x"}]}',
]


# A Page webhook body whose events have wrongly typed fields is still a Page webhook body: Messenger's parser keeps
# each event it can't read as an OTHER event (a message with an attachment of an unknown type is still a message) and
# the delivery is answered 200: Meta unsubscribes a Page whose webhook keeps failing (integrations/messenger/parse.py).
# Every other malformed body is refused with a 400 and kept. By index in MALFORMED: the kind each is kept as.
MESSENGER_KEPT = {11: "other", 12: "other", 13: "other", 14: "message"}


class MalformedBodyTests:
    @pytest.mark.parametrize("index", range(len(MALFORMED)))
    def test_messenger_refuses_with_400_what_is_not_a_page_webhook_and_keeps_it(self, client, messenger_channel, index):
        body = MALFORMED[index]
        response = post(client, "/webhooks/messenger/", body, {"X-Hub-Signature-256": messenger_signature.sign(body, APP_SECRET)})
        receipts = list(WebhookReceipt.objects.values_list("status", "event_type"))
        if index in MESSENGER_KEPT:
            assert response.status_code == 200, response.content
            assert receipts and {event_type for _, event_type in receipts} == {MESSENGER_KEPT[index]}
            assert {status for status, _ in receipts} <= {WebhookReceipt.Status.PROCESSED, WebhookReceipt.Status.IGNORED}
        else:
            assert response.status_code == 400, response.content
            assert "error" in response.json()
            assert receipts == [(WebhookReceipt.Status.REJECTED, "")]  # the raw body, kept for a person

    @pytest.mark.parametrize("index", range(len(MALFORMED)))
    def test_line_refuses_every_malformed_body_with_400_and_keeps_it(self, client, line_channel, index):
        body = MALFORMED[index]
        response = post(client, f"/webhooks/line/{line_channel.pk}/", body, {"X-Line-Signature": line_signature.sign(body, LINE_SECRET)})
        assert response.status_code == 400, response.content
        assert "error" in response.json()
        assert list(WebhookReceipt.objects.values_list("status", flat=True)) == [WebhookReceipt.Status.REJECTED]

    @pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""])
    def test_other_content_types_are_judged_by_the_bytes(self, client, messenger_channel, content_type):
        body = messenger_ok_body(messenger_channel, mid="m_ctype")
        response = post(
            client, "/webhooks/messenger/", body, {"X-Hub-Signature-256": messenger_signature.sign(body, APP_SECRET)}, content_type=content_type
        )
        assert response.status_code == 200

    def test_the_handshake_with_junk_parameters_is_403(self, client, messenger_channel):
        for query in ("?hub.mode=subscribe", "?hub.verify_token=%00&hub.mode=subscribe&hub.challenge=1", "?hub.mode[]=x"):
            assert client.get("/webhooks/messenger/" + query).status_code == 403
