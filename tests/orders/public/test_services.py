"""orders.confirmation: the link and the windows, consent, proofs, verification and cancelling."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from PIL import Image

from customers.models import CreditEntry, Customer
from inbox.models import Conversation, InboxEvent, Message
from orders import confirmation
from orders.confirmation import ConfirmationError
from orders.logistics import PaymentType
from orders.models import (
    Coupon, Gift, Order, OrderAdjustment, OrderEvent, OrderLine, OrderStatus, PaymentProof, PaymentStatus, Product, Variant,
)
from tests import factories
from tests.orders.public.conftest import image_bytes, png_header_only, upload
from tests.orders.public.factories import make_order

pytestmark = pytest.mark.django_db


def event_types(order) -> list[str]:
    return list(OrderEvent.objects.filter(order=order).values_list("type", flat=True))


class SendLinkTests:
    def test_messenger_inside_24h_posts_a_button_message(self, messenger_convo, staff):
        order = make_order(conversation=messenger_convo)
        result = confirmation.send_order_link(order=order, actor=staff)
        assert result.sent and result.reason == ""
        message = result.message
        assert message.source == Message.Source.AUTOMATED and message.kind == "template"
        titles = [a["title"] for a in message.attachments if a["type"] == "button"]
        assert titles == ["View order details", "Pay now"]
        assert all(a["url"].startswith("https://shop.example/o/") for a in message.attachments)
        order.refresh_from_db()
        assert order.link_message == message and order.link_sent_at and order.link_error == ""
        assert event_types(order) == [OrderEvent.Type.LINK_SENT]
        assert InboxEvent.objects.filter(payload__type="order", payload__order_id=order.pk).exists()

    def test_cash_on_pickup_has_no_pay_button(self, messenger_convo, staff):
        order = make_order(conversation=messenger_convo, payment_type=PaymentType.PICKUP_711)
        result = confirmation.send_order_link(order=order, actor=staff)
        assert [a["title"] for a in result.message.attachments] == ["View order details"]

    def test_messenger_after_24h_marks_link_not_sent_and_resend_works_after_the_customer_writes(self, messenger_channel, staff):
        convo = factories.conversation(messenger_channel, last_inbound_ago=dt.timedelta(hours=25))
        order = make_order(conversation=convo)
        result = confirmation.send_order_link(order=order, actor=staff)
        assert not result.sent
        assert "24 hours" in result.reason
        order.refresh_from_db()
        assert order.link_error == result.reason and order.link_message is None and order.link_sent_at is None
        assert Order.objects.filter(pk=order.pk).exists()  # the order stays
        assert not Message.objects.filter(conversation=convo, direction="outbound").exists()
        assert event_types(order) == [OrderEvent.Type.LINK_FAILED]

        now = timezone.now()  # the customer writes again: the 24-hour window reopens
        Message.objects.create(conversation=convo, channel=messenger_channel, direction="inbound", source="customer",
                               text="still there?", platform_message_id="in-again", state="received", platform_timestamp=now)
        Conversation.objects.filter(pk=convo.pk).update(last_inbound_at=now)
        again = confirmation.send_order_link(order=Order.objects.get(pk=order.pk), actor=staff)
        assert again.sent
        order.refresh_from_db()
        assert order.link_error == "" and order.link_message_id == again.message.pk
        assert event_types(order) == [OrderEvent.Type.LINK_FAILED, OrderEvent.Type.LINK_SENT]

    def test_line_push_when_no_reply_token(self, line_convo, staff):
        order = make_order(conversation=line_convo)
        assert confirmation.link_decision(order=order)["billed"] is True
        result = confirmation.send_order_link(order=order, actor=staff)
        assert result.sent and result.message.billed is True

    def test_cancelled_order_refused(self, messenger_convo, staff):
        order = make_order(conversation=messenger_convo, status=OrderStatus.CANCELLED)
        with pytest.raises(ConfirmationError):
            confirmation.send_order_link(order=order, actor=staff)


class ConfirmTests:
    def test_records_time_and_ip_once(self, messenger_convo):
        order = make_order(conversation=messenger_convo)
        first = confirmation.confirm_order(order=order, ip="203.0.113.9")
        assert first.status == OrderStatus.CONFIRMED and first.confirmed_ip == "203.0.113.9"
        at = first.confirmed_at
        second = confirmation.confirm_order(order=Order.objects.get(pk=order.pk), ip="198.51.100.1")
        assert second.confirmed_at == at and second.confirmed_ip == "203.0.113.9"
        assert event_types(order) == [OrderEvent.Type.CONFIRMED]

    def test_pay_on_pickup_becomes_on_pickup(self, messenger_convo):
        order = make_order(conversation=messenger_convo, payment_type=PaymentType.COD)
        assert confirmation.confirm_order(order=order, ip=None).payment_status == PaymentStatus.ON_PICKUP

    def test_cancelled_order_cant_be_confirmed(self, messenger_convo):
        order = make_order(conversation=messenger_convo, status=OrderStatus.CANCELLED)
        with pytest.raises(ConfirmationError):
            confirmation.confirm_order(order=order, ip=None)


class ProofTests:
    def test_png_is_stored_privately_under_a_random_name_and_the_customer_is_told(self, messenger_convo, settings):
        order = make_order(conversation=messenger_convo)
        proof = confirmation.attach_proof(order=order, upload=upload(image_bytes(), name="my bank.png"))
        assert proof.content_type == "image/png" and proof.status == PaymentProof.Status.PENDING
        assert "my bank" not in proof.file.name and proof.file.name.startswith("proofs/")
        assert str(settings.PRIVATE_MEDIA_ROOT) in proof.file.path
        order.refresh_from_db()
        assert order.payment_status == PaymentStatus.PROOF_SUBMITTED
        notice = Message.objects.filter(conversation=messenger_convo, direction="outbound").latest("pk")
        assert "Awaiting verification" in notice.text
        assert [a["title"] for a in notice.attachments] == ["View order details"]
        event = OrderEvent.objects.get(order=order, type=OrderEvent.Type.PROOF_UPLOADED)
        assert event.parameters["notified"] is True and event.parameters["proof_id"] == proof.pk

    def test_several_proofs_allowed(self, messenger_convo):
        order = make_order(conversation=messenger_convo)
        confirmation.attach_proof(order=order, upload=upload(image_bytes()))
        confirmation.attach_proof(order=order, upload=upload(image_bytes("JPEG"), "a.jpg", "image/jpeg"))
        confirmation.attach_proof(order=order, upload=upload(image_bytes("WEBP"), "a.webp", "image/webp"))
        assert sorted(order.proofs.values_list("content_type", flat=True)) == ["image/jpeg", "image/png", "image/webp"]

    def test_png_with_a_script_appended_is_stored_reencoded_without_it(self, messenger_convo):
        order = make_order(conversation=messenger_convo)
        polyglot = image_bytes() + b"<script>alert(document.cookie)</script>"
        proof = confirmation.attach_proof(order=order, upload=upload(polyglot))
        with proof.file.open("rb") as f:
            stored = f.read()
        assert stored.startswith(b"\x89PNG") and b"<script>" not in stored
        assert Image.open(io.BytesIO(stored)).size == (40, 30)

    def test_metadata_is_stripped(self, messenger_convo):
        exif = Image.Exif()
        exif[0x010F] = "SecretCam"  # Make
        data = image_bytes("JPEG", exif=exif.tobytes())
        assert b"SecretCam" in data
        proof = confirmation.attach_proof(order=make_order(conversation=messenger_convo), upload=upload(data, "p.jpg", "image/jpeg"))
        with proof.file.open("rb") as f:
            assert b"SecretCam" not in f.read()

    @pytest.mark.parametrize(
        "data,name",
        [
            (b"<script>alert(1)</script>", "proof.png"),  # a script named .png
            (b"%PDF-1.4 fake", "proof.pdf"),
            (b"", "empty.png"),
            (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "broken.png"),
        ],
    )
    def test_wrong_file_types_refused(self, messenger_convo, data, name):
        order = make_order(conversation=messenger_convo)
        with pytest.raises(ConfirmationError):
            confirmation.attach_proof(order=order, upload=upload(data, name))
        assert not PaymentProof.objects.exists()

    def test_gif_refused_even_named_png(self, messenger_convo):
        out = io.BytesIO()
        Image.new("P", (10, 10)).save(out, format="GIF")
        with pytest.raises(ConfirmationError, match="JPEG, PNG, WebP or HEIC"):
            confirmation.attach_proof(order=make_order(conversation=messenger_convo), upload=upload(out.getvalue(), "x.png"))

    def test_oversize_refused(self, messenger_convo):
        data = image_bytes() + b"\x00" * (10 * 1024 * 1024)
        with pytest.raises(ConfirmationError, match="10 MB"):
            confirmation.attach_proof(order=make_order(conversation=messenger_convo), upload=upload(data))

    @pytest.mark.parametrize("size", [(30000, 30000), (10000, 5000)])
    def test_decompression_bomb_refused(self, messenger_convo, size):
        with pytest.raises(ConfirmationError, match="too many pixels"):
            confirmation.attach_proof(order=make_order(conversation=messenger_convo), upload=upload(png_header_only(*size)))

    def test_pay_on_pickup_takes_no_proof(self, messenger_convo):
        order = make_order(conversation=messenger_convo, payment_type=PaymentType.PICKUP_711)
        with pytest.raises(ConfirmationError):
            confirmation.attach_proof(order=order, upload=upload(image_bytes()))

    def test_notice_outside_the_window_is_recorded_not_fatal(self, messenger_channel):
        convo = factories.conversation(messenger_channel, last_inbound_ago=dt.timedelta(hours=30))
        order = make_order(conversation=convo)
        confirmation.attach_proof(order=order, upload=upload(image_bytes()))
        event = OrderEvent.objects.get(order=order, type=OrderEvent.Type.PROOF_UPLOADED)
        assert event.parameters["notified"] is False and "24 hours" in event.parameters["notice_error"]

    def test_chat_image_attached(self, messenger_convo, staff, settings):
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage

        name = default_storage.save("inbound/m1.png", ContentFile(image_bytes()))
        message = Message.objects.create(
            conversation=messenger_convo, channel=messenger_convo.channel, direction="inbound", source="customer", kind="image",
            attachments=[{"type": "image", "url": f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}{name}"}],
            platform_message_id="img-1", state="received", platform_timestamp=timezone.now(),
        )
        order = make_order(conversation=messenger_convo)
        proof = confirmation.attach_message_image(order=order, message=message, actor=staff)
        assert proof.source == PaymentProof.Source.CHAT and proof.message == message
        with pytest.raises(ConfirmationError):
            confirmation.attach_message_image(order=order, message=message, actor=staff)


class VerifyTests:
    def test_approve(self, messenger_convo, staff):
        order = make_order(conversation=messenger_convo)
        confirmation.confirm_order(order=order, ip="203.0.113.9")
        confirmation.attach_proof(order=order, upload=upload(image_bytes()))
        order = confirmation.approve_payment(order=order, actor=staff)
        assert order.status == OrderStatus.PAID and order.payment_status == PaymentStatus.PAID
        assert order.proofs.get().status == PaymentProof.Status.APPROVED
        assert "confirmed" in Message.objects.filter(conversation=messenger_convo).latest("pk").text

    def test_reject_then_upload_again(self, messenger_convo, staff):
        order = make_order(conversation=messenger_convo)
        confirmation.attach_proof(order=order, upload=upload(image_bytes()))
        with pytest.raises(ConfirmationError):
            confirmation.reject_payment(order=order, actor=staff, reason="  ")
        order = confirmation.reject_payment(order=order, actor=staff, reason="Amount doesn't match")
        assert order.payment_status == PaymentStatus.REJECTED
        assert order.proofs.get().reason == "Amount doesn't match"
        told = Message.objects.filter(conversation=messenger_convo).latest("pk")
        assert "Amount doesn't match" in told.text and told.attachments[0]["url"].endswith("#pay")
        confirmation.attach_proof(order=order, upload=upload(image_bytes()))
        assert Order.objects.get(pk=order.pk).payment_status == PaymentStatus.PROOF_SUBMITTED


class StatusTests:
    def test_cancel_returns_stock_and_credit(self, messenger_convo, staff):
        product = Product.objects.create(name="洋裝")
        variant = Variant.objects.create(product=product, sku="D-1", price=500, stock=3)
        gift = Gift.objects.create(name="小禮物", sku="G-1", stock=1)
        customer = Customer.objects.create(name="Mei")
        order = make_order(
            conversation=messenger_convo,
            customer=customer,
            credit_used=50,
            lines=[
                {"kind": OrderLine.Kind.VARIANT, "variant": variant, "name": "洋裝", "unit_price": 500, "quantity": 2},
                {"kind": OrderLine.Kind.GIFT, "gift": gift, "name": "小禮物", "unit_price": 0, "quantity": 1},
                {"kind": OrderLine.Kind.CUSTOM, "name": "客製", "unit_price": 100, "quantity": 1},
            ],
        )
        confirmation.change_status(order=order, actor=staff, status=OrderStatus.CANCELLED)
        variant.refresh_from_db(), gift.refresh_from_db(), customer.refresh_from_db()
        assert (variant.stock, gift.stock, customer.credit_balance) == (5, 2, 50)
        entry = CreditEntry.objects.get(customer=customer)
        assert entry.amount == 50 and entry.order_id == order.pk
        event = OrderEvent.objects.get(order=order, type=OrderEvent.Type.CANCELLED)
        assert event.parameters["credit_returned"] == 50 and event.parameters["stock_returned"] == 3
        with pytest.raises(ConfirmationError):  # never twice
            confirmation.change_status(order=order, actor=staff, status=OrderStatus.CANCELLED)
        variant.refresh_from_db()
        assert variant.stock == 5

    def test_cancel_gives_the_coupon_use_back_to_its_shop_wide_limit(self, messenger_convo, staff):
        coupon = Coupon.objects.create(code="LAST1", amount_off=100, usage_limit=1, usage_count=1)
        other = Coupon.objects.create(code="OTHER", amount_off=50, usage_limit=5, usage_count=3)
        order = make_order(conversation=messenger_convo)
        OrderAdjustment.objects.create(order=order, kind="coupon", source_id=coupon.pk, label="LAST1", amount=-100, position=0)
        confirmation.change_status(order=order, actor=staff, status=OrderStatus.CANCELLED)
        coupon.refresh_from_db(), other.refresh_from_db()
        assert (coupon.usage_count, other.usage_count) == (0, 3)  # the last use is free again; no other coupon touched
        event = OrderEvent.objects.get(order=order, type=OrderEvent.Type.CANCELLED)
        assert event.parameters["coupon_uses_returned"] == 1

    def test_cancel_of_an_order_whose_coupon_is_gone_or_at_zero_changes_no_count(self, messenger_convo, staff):
        coupon = Coupon.objects.create(code="ZERO", amount_off=100, usage_count=0)
        order = make_order(conversation=messenger_convo)
        OrderAdjustment.objects.create(order=order, kind="coupon", source_id=coupon.pk, label="ZERO", amount=-100, position=0)
        OrderAdjustment.objects.create(order=order, kind="coupon", source_id=10**9, label="deleted", amount=-10, position=1)
        confirmation.change_status(order=order, actor=staff, status=OrderStatus.CANCELLED)
        coupon.refresh_from_db()
        assert coupon.usage_count == 0
        assert OrderEvent.objects.get(order=order, type=OrderEvent.Type.CANCELLED).parameters["coupon_uses_returned"] == 0

    def test_illegal_and_unknown(self, messenger_convo, staff):
        order = make_order(conversation=messenger_convo)
        with pytest.raises(ConfirmationError):
            confirmation.change_status(order=order, actor=staff, status=OrderStatus.SHIPPED)
        with pytest.raises(ConfirmationError):
            confirmation.change_status(order=order, actor=staff, status="lost")

    def test_pipeline(self, messenger_convo, staff):
        order = make_order(conversation=messenger_convo, payment_type=PaymentType.COD)
        confirmation.confirm_order(order=order, ip=None)
        confirmation.change_status(order=order, actor=staff, status=OrderStatus.SHIPPED)
        confirmation.change_status(order=order, actor=staff, status=OrderStatus.COMPLETED)
        assert event_types(order) == ["confirmed", "shipped", "status_changed"]
