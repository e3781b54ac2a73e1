"""The customer's page /o/<token>/ and the staff views around it."""
from __future__ import annotations

import time

import pytest
from django.core import signing
from django.test import Client

from inbox.models import Message
from orders import confirmation
from orders.logistics import PaymentType
from orders.models import Order, OrderAdjustment, OrderEvent, OrderStatus, PaymentProof, PaymentStatus
from tests import factories
from tests.orders.public.conftest import image_bytes, upload
from tests.orders.public.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(messenger_convo):
    o = make_order(conversation=messenger_convo, credit_used=20)
    OrderAdjustment.objects.create(order=o, kind="promotion", label="任選 2 件 $990", amount=-290, position=1)
    return o


def path(order) -> str:
    return f"/o/{confirmation.order_token(order)}/"


class TokenTests:
    def test_page_shows_the_order_and_records_the_first_opening(self, client, order):
        response = client.get(path(order))
        assert response.status_code == 200
        body = response.content.decode()
        for text in (order.number, "碎花洋裝", "紅 / M", "任選 2 件 $990", "鑫新門市", "轉帳", "請小心包裝", "Confirm order", "Upload transfer proof", "Privacy policy"):
            assert text in body
        assert response["Cache-Control"] == "no-store"
        order.refresh_from_db()
        assert order.link_opened_at is not None
        client.get(path(order))
        assert OrderEvent.objects.filter(order=order, type=OrderEvent.Type.OPENED).count() == 1

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
            lambda t: "x" + t,  # key changed
            lambda t: t.split(":")[0],  # unsigned key alone
            lambda t: "nothing",
            lambda t: "%00%ff",
            lambda t: "a" * 500,
        ],
    )
    def test_tampered_tokens_are_a_plain_404(self, client, order, mangle):
        for suffix in ("", "confirm/", "state/"):
            method = client.post if suffix == "confirm/" else client.get
            response = method(f"/o/{mangle(confirmation.order_token(order))}/{suffix}")
            assert response.status_code == 404
            assert response["Content-Type"].startswith("text/plain")
            assert order.number.encode() not in response.content and b"orders/" not in response.content

    def test_unknown_key_is_404(self, client, order):
        token = signing.TimestampSigner(salt=confirmation.LINK_SALT).sign("no-such-key")
        assert client.get(f"/o/{token}/").status_code == 404

    def test_token_for_another_purpose_is_404(self, client, order):
        token = signing.TimestampSigner(salt="something-else").sign(order.access_key)
        assert client.get(f"/o/{token}/").status_code == 404

    @pytest.mark.parametrize("status,opens", [
        (OrderStatus.AWAITING_CONFIRMATION, True), (OrderStatus.SHIPPED, True), (OrderStatus.COMPLETED, False), (OrderStatus.CANCELLED, False),
    ])
    def test_an_old_link_opens_its_order_while_in_progress_only(self, client, order, status, opens):
        class Old(signing.TimestampSigner):
            def timestamp(self):
                return signing.b62_encode(int(time.time()) - confirmation.LINK_MAX_AGE - 60)

        Order.objects.filter(pk=order.pk).update(status=status)
        old = Old(salt=confirmation.LINK_SALT).sign(order.access_key)
        assert client.get(f"/o/{old}/").status_code == (200 if opens else 404)
        assert client.get(path(order)).status_code == 200  # a recent link opens it whatever its status

    def test_a_link_older_than_the_in_progress_limit_opens_nothing(self, client, order):
        class Ancient(signing.TimestampSigner):
            def timestamp(self):
                return signing.b62_encode(int(time.time()) - confirmation.LINK_MAX_AGE_IN_PROGRESS - 60)

        assert order.status == OrderStatus.AWAITING_CONFIRMATION
        assert client.get(f"/o/{Ancient(salt=confirmation.LINK_SALT).sign(order.access_key)}/").status_code == 404

    def test_an_old_tampered_link_is_404(self, client, order):
        class Old(signing.TimestampSigner):
            def timestamp(self):
                return signing.b62_encode(int(time.time()) - confirmation.LINK_MAX_AGE - 60)

        old = Old(salt=confirmation.LINK_SALT).sign(order.access_key)
        assert client.get(f"/o/{old[:-2]}xx/").status_code == 404
        assert client.get(f"/o/{Old(salt='another').sign(order.access_key)}/").status_code == 404

    def test_rate_limited(self, client, order, monkeypatch):
        from orders import public

        monkeypatch.setattr(public, "PAGE_LIMIT", (3, 60))
        codes = [client.get("/o/guess/").status_code for _ in range(5)]
        assert codes[:3] == [404, 404, 404] and codes[3:] == [429, 429]


class CustomerActionTests:
    def test_confirm_needs_csrf_and_is_idempotent(self, order):
        strict = Client(enforce_csrf_checks=True)
        assert strict.post(path(order) + "confirm/").status_code == 403
        page = strict.get(path(order))
        token = page.cookies["csrftoken"].value
        response = strict.post(path(order) + "confirm/", {"csrfmiddlewaretoken": token}, REMOTE_ADDR="203.0.113.7")
        assert response.status_code == 302
        again = strict.post(path(order) + "confirm/", {"csrfmiddlewaretoken": token}, REMOTE_ADDR="198.51.100.2")
        assert again.status_code == 302
        order.refresh_from_db()
        assert order.status == OrderStatus.CONFIRMED and order.confirmed_ip == "203.0.113.7"
        assert OrderEvent.objects.filter(order=order, type=OrderEvent.Type.CONFIRMED).count() == 1
        assert "Confirmed" in strict.get(path(order)).content.decode()

    def test_confirmation_records_an_ipv4_client_behind_an_ipv6_listener_by_its_ipv4_address(self, order):
        Client(REMOTE_ADDR="::ffff:203.0.113.9").post(path(order) + "confirm/")
        order.refresh_from_db()
        assert order.status == OrderStatus.CONFIRMED and order.confirmed_ip == "203.0.113.9"

    def test_confirmation_without_a_client_address_records_none(self, order):
        Client(REMOTE_ADDR="").post(path(order) + "confirm/")
        order.refresh_from_db()
        assert order.status == OrderStatus.CONFIRMED and order.confirmed_ip is None

    def test_upload_then_awaiting_verification(self, client, order):
        response = client.post(path(order) + "proofs/", {"proof": upload(image_bytes())})
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert "Awaiting verification by the shop" in page
        assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.PROOF_SUBMITTED

    @pytest.mark.parametrize("data,name", [(b"#!/bin/sh\nrm -rf /", "proof.jpg"), (b"GIF89a", "a.gif")])
    def test_bad_upload_is_400_with_a_message(self, client, order, data, name):
        response = client.post(path(order) + "proofs/", {"proof": upload(data, name)})
        assert response.status_code == 400
        assert "JPEG, PNG, WebP or HEIC" in response.content.decode()
        assert not PaymentProof.objects.exists()

    def test_no_file_is_400(self, client, order):
        assert client.post(path(order) + "proofs/", {}).status_code == 400

    def test_cash_on_pickup_page_has_no_payment_form(self, client, messenger_convo):
        order = make_order(conversation=messenger_convo, payment_type=PaymentType.PICKUP_711, payment_name="7-11 取貨付款")
        body = client.get(path(order)).content.decode()
        assert "Confirm order" in body and "Upload transfer proof" not in body

    def test_state_changes_when_the_order_does(self, client, order, messenger_convo):
        before = client.get(path(order) + "state/").json()["v"]
        confirmation.attach_proof(order=order, upload=upload(image_bytes()))
        assert client.get(path(order) + "state/").json()["v"] != before


class StaffTests:
    @pytest.fixture
    def staff_client(self, staff):
        c = Client()
        c.force_login(staff)
        return c

    def test_order_page_and_proofs_are_staff_only(self, client, staff_client, order, django_user_model):
        proof = confirmation.attach_proof(order=order, upload=upload(image_bytes()))
        url = f"/orders/{order.pk}/proofs/{proof.pk}/"
        assert client.get(url).status_code == 302  # to sign in
        outsider = Client()
        outsider.force_login(django_user_model.objects.create_user("visitor"))
        assert outsider.get(url).status_code == 403
        assert outsider.get(f"/orders/{order.pk}/").status_code == 403
        response = staff_client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
        assert staff_client.get(f"/orders/{order.pk}/proofs/{proof.pk + 99}/").status_code == 404
        page = staff_client.get(f"/orders/{order.pk}/").content.decode()
        assert order.number in page and "Approve payment" in page

    def test_order_page_says_where_and_to_whom_to_ship_and_the_invoice(self, staff_client, messenger_convo):
        from customers.models import Customer

        member = Customer.objects.create(name="陳小美", phone="+886912345678")
        home = make_order(
            conversation=messenger_convo, customer=member, delivery_name="新竹物流宅配", delivery_type="hct", pickup_store={},
            recipient={"name": "王小明", "phone": "0912345678", "address": "台北市信義區松仁路 100 號 5 樓", "country": "TW"},
            invoice={"type": "company", "business_number": "22099131", "company_title": "好物有限公司", "summary": "Company · 22099131 · 好物有限公司"},
        )
        page = staff_client.get(f"/orders/{home.pk}/").content.decode()
        for text in ("新竹物流宅配", "王小明", "0912345678", "台北市信義區松仁路 100 號 5 樓", "22099131 · 好物有限公司", f"/customers/{member.pk}/"):
            assert text in page, text
        pickup = make_order(conversation=messenger_convo)  # 7-11 pickup at 鑫新門市
        page = staff_client.get(f"/orders/{pickup.pk}/").content.decode()
        assert "鑫新門市 (123456) · 台北市信義區松仁路 1 號" in page and 'data-testid="admin-address"' not in page

    def test_api_approve_reject_status_and_activity(self, staff_client, order, messenger_convo):
        confirmation.attach_proof(order=order, upload=upload(image_bytes()))
        r = staff_client.post(f"/api/v1/orders/{order.pk}/payment/reject/", {"reason": ""}, content_type="application/json")
        assert r.status_code == 400
        r = staff_client.post(f"/api/v1/orders/{order.pk}/payment/reject/", {"reason": "Wrong amount"}, content_type="application/json")
        assert r.status_code == 200 and r.json()["order"]["payment_status"] == "rejected"
        r = staff_client.post(f"/api/v1/orders/{order.pk}/status/", {"status": "shipped"}, content_type="application/json")
        assert r.status_code == 400 and "detail" in r.json()
        r = staff_client.post(f"/api/v1/orders/{order.pk}/status/", {"status": "nonsense"}, content_type="application/json")
        assert r.status_code == 400
        r = staff_client.post(f"/api/v1/orders/{order.pk}/payment/approve/", content_type="application/json")
        assert r.status_code == 200 and r.json()["order"]["payment_status"] == "paid"
        assert staff_client.post("/api/v1/orders/999999/payment/approve/").status_code == 404
        lines = staff_client.get(f"/orders/activity/{messenger_convo.pk}/").content.decode()
        assert "transfer proof uploaded" in lines and "payment rejected" in lines and "Wrong amount" in lines

    def test_api_link_refused_then_resend(self, staff_client, messenger_channel):
        import datetime as dt

        convo = factories.conversation(messenger_channel, last_inbound_ago=dt.timedelta(hours=26))
        order = make_order(conversation=convo)
        r = staff_client.get(f"/api/v1/orders/{order.pk}/link/")
        assert r.json()["window"]["allowed"] is False
        r = staff_client.post(f"/api/v1/orders/{order.pk}/link/")
        assert r.status_code == 409 and "24 hours" in r.json()["reason"]
        lines = staff_client.get(f"/orders/activity/{convo.pk}/").content.decode()
        assert "resend-link" in lines

    def test_attach_chat_image(self, staff_client, order, messenger_convo, settings):
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage
        from django.utils import timezone

        name = default_storage.save("inbound/x.png", ContentFile(image_bytes()))
        message = Message.objects.create(
            conversation=messenger_convo, channel=messenger_convo.channel, direction="inbound", source="customer", kind="image",
            attachments=[{"type": "image", "url": f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}{name}"}],
            platform_message_id="img-9", state="received", platform_timestamp=timezone.now(),
        )
        page = staff_client.get(f"/inbox/c/{messenger_convo.pk}/").content.decode()
        assert f'data-attach-proof="{message.pk}"' in page and "orders/activity.js" in page
        r = staff_client.post(f"/api/v1/messages/{message.pk}/attach-to-order/", {}, content_type="application/json")
        assert r.status_code == 201, r.content
        assert PaymentProof.objects.get().source == PaymentProof.Source.CHAT
        r = staff_client.post(f"/api/v1/messages/{message.pk}/attach-to-order/", {}, content_type="application/json")
        assert r.status_code == 400


def test_huge_ids_are_404_not_500(staff):
    c = Client()
    c.force_login(staff)
    big = "9" * 25
    for url in (f"/orders/{big}/", f"/orders/1/proofs/{big}/", f"/orders/activity/{big}/"):
        assert c.get(url).status_code == 404
    assert c.post(f"/api/v1/orders/{big}/payment/approve/").status_code == 404
    assert c.post(f"/api/v1/messages/{big}/attach-to-order/").status_code == 404
