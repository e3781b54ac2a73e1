"""The order-confirmation API (orders.confirmation_api) answers what /api/schema/ says, in every case it
has, including the ones random generation rarely reaches: sent (200), refused by the platform's rules (409),
refused by the order's state (400 {"detail"}), bad input (400 {"field": [...]}), unknown ids (404), not staff
(403), not signed in (401). Real HTTP to a live server with the platform sandbox; every answer is validated
by schemathesis against the operation the schema declares for it.
"""
from __future__ import annotations

import io

import pytest
import requests
import schemathesis
from django.core.files.storage import FileSystemStorage
from django.contrib.auth.models import User
from PIL import Image
from rest_framework.authtoken.models import Token

from inbox.models import Conversation, Message
from integrations.sandbox import services as sandbox
from orders.logistics import PaymentType
from orders.models import OrderStatus, PaymentProof
from tests import factories
from tests.live import LINE_DEST, platforms  # noqa: F401 (fixture)
from tests.orders.public.factories import make_order

LINE_USER = "U" + "e" * 32


@pytest.fixture
def api(platforms, tmp_path, monkeypatch, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(PaymentProof._meta.get_field("file"), "storage", FileSystemStorage(location=tmp_path / "private"))
    schema = schemathesis.openapi.from_url(f"{platforms.url}/api/schema/")
    staff = Token.objects.create(user=factories.staff_user("checker")).key
    outsider = Token.objects.create(user=User.objects.create_user("outsider", password="pw-Str0ng-enough")).key
    return Api(platforms.url, schema, staff, outsider)


class Api:
    def __init__(self, base: str, schema, staff_token: str, outsider_token: str):
        self.base, self.schema, self.staff, self.outsider = base, schema, staff_token, outsider_token

    def call(self, method: str, path: str, template: str, *, body=None, token: str | None = "staff") -> requests.Response:
        """Call `path`, then validate the answer against the operation `method template` of the schema."""
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Token {self.staff if token == 'staff' else self.outsider}"
        response = requests.request(method, self.base + path, json=body, headers=headers, timeout=30)
        operation = self.schema[template][method]
        operation.validate_response(response)  # raises with every violation listed
        return response


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 200, 90)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def line_chat(platforms) -> Conversation:
    sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="想買")
    return Conversation.objects.get(channel=platforms.line)


LINK = "/api/v1/orders/{order_id}/link/"
APPROVE = "/api/v1/orders/{order_id}/payment/approve/"
REJECT = "/api/v1/orders/{order_id}/payment/reject/"
STATUS = "/api/v1/orders/{order_id}/status/"
ATTACH = "/api/v1/messages/{message_id}/attach-to-order/"


class ConfirmationApiSchemaTests:
    def test_link_decision_and_send_every_answer_matches_the_schema(self, api, line_chat):
        order = make_order(conversation=line_chat)
        path = f"/api/v1/orders/{order.pk}/link/"
        decided = api.call("GET", path, LINK)
        assert decided.status_code == 200 and decided.json()["window"]["window"] == "line_reply"
        assert api.call("GET", path, LINK, token=None).status_code == 401
        assert api.call("GET", path, LINK, token="outsider").status_code == 403
        assert api.call("GET", "/api/v1/orders/999999/link/", LINK).status_code == 404

        sent = api.call("POST", path, LINK)
        assert sent.status_code == 200 and sent.json()["sent"] is True

        no_chat = make_order(conversation=None)
        refused = api.call("POST", f"/api/v1/orders/{no_chat.pk}/link/", LINK)
        assert refused.status_code == 409 and refused.json()["sent"] is False and refused.json()["reason"]
        decided = api.call("GET", f"/api/v1/orders/{no_chat.pk}/link/", LINK)
        assert decided.status_code == 200 and decided.json()["window"] is None

        cancelled = make_order(conversation=line_chat, status=OrderStatus.CANCELLED)
        gone = api.call("POST", f"/api/v1/orders/{cancelled.pk}/link/", LINK)
        assert gone.status_code == 400 and set(gone.json()) == {"detail"}
        assert api.call("POST", "/api/v1/orders/999999/link/", LINK).status_code == 404
        assert api.call("POST", path, LINK, token="outsider").status_code == 403

    def test_verification_and_status_every_answer_matches_the_schema(self, api, line_chat):
        order = make_order(conversation=line_chat)
        approve, reject, change = (f"/api/v1/orders/{order.pk}/payment/approve/", f"/api/v1/orders/{order.pk}/payment/reject/",
                                   f"/api/v1/orders/{order.pk}/status/")
        missing = api.call("POST", reject, REJECT, body={})
        assert missing.status_code == 400 and "reason" in missing.json()
        blank = api.call("POST", reject, REJECT, body={"reason": "   "})
        assert blank.status_code == 400 and set(blank.json()) == {"detail"}
        assert api.call("POST", reject, REJECT, body={"reason": 5 * "太長" * 100}).status_code == 400
        rejected = api.call("POST", reject, REJECT, body={"reason": "金額不符"})
        assert rejected.status_code == 200 and rejected.json()["order"]["payment_status"] == "rejected"
        assert api.call("POST", approve, APPROVE).status_code == 200
        again = api.call("POST", approve, APPROVE)
        assert again.status_code == 400 and set(again.json()) == {"detail"}
        assert api.call("POST", "/api/v1/orders/999999/payment/approve/", APPROVE).status_code == 404
        assert api.call("POST", approve, APPROVE, token="outsider").status_code == 403

        assert api.call("POST", change, STATUS, body={"status": "nonsense"}).status_code == 400
        assert api.call("POST", change, STATUS, body={"status": ["shipped"]}).status_code == 400
        illegal = api.call("POST", change, STATUS, body={"status": OrderStatus.COMPLETED})
        assert illegal.status_code == 400 and set(illegal.json()) == {"detail"}
        cancelled = api.call("POST", change, STATUS, body={"status": OrderStatus.CANCELLED})
        assert cancelled.status_code == 200 and cancelled.json()["order"]["status"] == "cancelled"
        assert api.call("POST", "/api/v1/orders/999999/status/", STATUS, body={"status": "paid"}).status_code == 404

    def test_attach_chat_image_every_answer_matches_the_schema(self, api, line_chat, platforms):
        sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, image=png())
        image = Message.objects.get(conversation=line_chat, kind="image")
        assert image.attachments[0].get("url"), image.attachments  # fetched from LINE's content API into our storage
        path = f"/api/v1/messages/{image.pk}/attach-to-order/"

        none_waiting = api.call("POST", path, ATTACH, body={})
        assert none_waiting.status_code == 400 and set(none_waiting.json()) == {"detail"}
        order = make_order(conversation=line_chat)
        assert api.call("POST", path, ATTACH, body={"order_id": "x"}).status_code == 400
        assert api.call("POST", path, ATTACH, body={"order_id": 999999}).status_code == 404
        assert api.call("POST", "/api/v1/messages/999999/attach-to-order/", ATTACH, body={}).status_code == 404
        attached = api.call("POST", path, ATTACH, body={"order_id": order.pk})
        assert attached.status_code == 201 and attached.json()["order"]["payment_status"] == "proof_submitted"
        assert PaymentProof.objects.get(pk=attached.json()["proof_id"]).order_id == order.pk
        twice = api.call("POST", path, ATTACH, body={"order_id": order.pk})
        assert twice.status_code == 400 and set(twice.json()) == {"detail"}
        assert api.call("POST", path, ATTACH, body={}, token="outsider").status_code == 403

    def test_the_check_can_fail(self, api, line_chat):
        """A real 200 validated against an operation whose 200 is a different shape is refused: the checks
        above compare bodies, not only status codes."""
        order = make_order(conversation=line_chat, payment_type=PaymentType.BANK_TRANSFER)
        response = requests.post(
            f"{api.base}/api/v1/orders/{order.pk}/payment/approve/", headers={"Authorization": f"Token {api.staff}"}, timeout=30
        )
        assert response.status_code == 200
        api.schema[APPROVE]["POST"].validate_response(response)
        with pytest.raises(Exception, match="sent|required"):
            api.schema[LINK]["POST"].validate_response(response)
