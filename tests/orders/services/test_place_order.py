"""`orders.services.place_order`: the worked example to the dollar, the snapshots it writes, what it spends
(stock, coupon use, credit), and the conflicts and rule breaks it refuses."""
from __future__ import annotations

import pytest

from customers.models import CreditEntry
from orders import services
from orders.errors import OrderConflict, OrderInvalid, QuickOrderUnavailable
from orders.models import Coupon, Gift, Order, OrderDraft, OrderEvent, Product, Variant

pytestmark = pytest.mark.django_db


class PlaceOrderTests:
    def test_worked_example_to_the_dollar(self, bound, agent, worked_catalog, worked_draft):
        order = services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert (order.subtotal, order.credit_used, order.shipping_fee, order.total, order.tax) == (2470, 50, 60, 1960, 93)
        assert order.tax_included and order.customer == bound.customer and order.conversation == bound.conversation
        assert len(order.number) == 14 and order.number.isdigit() and len(order.access_key) >= 40
        assert [(l.name, l.quantity, l.unit_price, l.line_total) for l in order.lines.all()] == [
            ("A", 2, 690, 990), ("B", 1, 590, 590), ("C", 2, 250, 500)
        ]
        adjustments = [(a.kind, a.label, a.amount) for a in order.adjustments.all()]
        assert adjustments == [
            ("item_promotion", "任選 2 件 $990", -390), ("coupon", "SAVE100", -100), ("custom_discount", "老客戶", -30),
            ("credit", "Store credit", -50), ("shipping", "7-11 取貨", 60),
        ]
        assert order.subtotal + sum(a for _, _, a in adjustments) == order.total
        assert order.pickup_store["id"] == "991001" and order.tags == ["VIP"] and order.note == "請小心包裝"
        # What it spent.
        assert Variant.objects.get(pk=worked_catalog.a.pk).stock == 8
        assert Coupon.objects.get(pk=worked_catalog.coupon.pk).usage_count == 1
        bound.customer.refresh_from_db()
        assert bound.customer.credit_balance == 150
        spend = CreditEntry.objects.get(customer=bound.customer, kind=CreditEntry.Kind.SPEND)
        assert (spend.amount, spend.order_id) == (-50, order.pk)
        assert OrderEvent.objects.get(order=order).type == OrderEvent.Type.PLACED

    def test_a_tampered_total_is_refused_never_charged(self, bound, agent, worked_draft):
        worked_draft["expected_total"] = 1
        with pytest.raises(OrderConflict) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert [r["code"] for r in caught.value.reasons] == ["total"]
        assert not Order.objects.exists()

    def test_no_expected_total_charges_the_server_price(self, bound, agent, worked_draft):
        del worked_draft["expected_total"]
        assert services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft).total == 1960

    def test_stock_gone_meanwhile(self, bound, agent, worked_catalog, worked_draft):
        Variant.objects.filter(pk=worked_catalog.a.pk).update(stock=1)
        with pytest.raises(OrderConflict) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert caught.value.reasons[0]["code"] == "stock" and caught.value.reasons[0]["field"] == f"variant:{worked_catalog.a.pk}"
        assert Variant.objects.get(pk=worked_catalog.b.pk).stock == 10  # nothing spent

    def test_coupon_used_up_meanwhile(self, bound, agent, worked_catalog, worked_draft):
        Coupon.objects.filter(pk=worked_catalog.coupon.pk).update(usage_limit=3, usage_count=3)
        with pytest.raises(OrderConflict) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert {r["code"] for r in caught.value.reasons} >= {"coupon"}

    def test_credit_spent_meanwhile(self, bound, agent, worked_draft):
        from customers import services as customer_services

        customer_services.adjust_credit(customer=bound.customer, amount=-180, reason="used elsewhere", actor=agent)
        with pytest.raises(OrderConflict) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert [r["code"] for r in caught.value.reasons] == ["total"]  # 20 of credit now, not 50

    def test_expired_credit_is_not_usable(self, bound, agent, worked_draft):
        from django.utils import timezone

        CreditEntry.objects.filter(customer=bound.customer).update(expires_at=timezone.now())
        worked_draft["expected_total"] = 2010
        order = services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert order.credit_used == 0

    def test_gift_and_custom_product(self, bound, agent, worked_catalog, worked_draft):
        gift = Gift.objects.create(name="貼紙", sku="G-1", stock=2)
        worked_draft["lines"] += [{"gift_id": gift.pk, "quantity": 2}, {"custom": {"name": "刻字服務", "unit_price": 100}, "quantity": 1}]
        worked_draft["expected_total"] = 2000  # 2050 reaches free shipping; credit 50
        order = services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        kinds = [(l.kind, l.name, l.line_total) for l in order.lines.all()]
        assert ("gift", "貼紙", 0) in kinds and ("custom", "刻字服務", 100) in kinds
        assert Gift.objects.get(pk=gift.pk).stock == 0
        custom = Product.objects.get(name="刻字服務")
        assert custom.is_custom and custom.visibility == Product.Visibility.HIDDEN

    def test_draft_is_cleared(self, bound, agent, worked_draft):
        services.save_draft(conversation=bound.conversation, actor=agent, data=worked_draft, version=0)
        services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert OrderDraft.objects.get(conversation=bound.conversation).data == {}

    def test_needs_a_bound_member(self, messenger_channel, agent, worked_draft):
        from tests import factories

        with pytest.raises(OrderInvalid) as caught:
            services.place_order(conversation=factories.conversation(messenger_channel), actor=agent, draft=worked_draft)
        assert "customer" in caught.value.errors


class QuickOrderLimitTests:
    """Section 四's limits, enforced by the service whatever the panel does."""

    def test_assigned_to_someone_else(self, bound, agent, worked_draft, django_user_model):
        other = django_user_model.objects.create_user(username="bob")
        bound.conversation.assignee = other
        bound.conversation.save()
        with pytest.raises(QuickOrderUnavailable, match="assigned to bob"):
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        with pytest.raises(QuickOrderUnavailable):
            services.save_draft(conversation=bound.conversation, actor=agent, data={}, version=0)
        assert services.place_order(conversation=bound.conversation, actor=other, draft=worked_draft).total == 1960

    def test_assigned_to_me_or_nobody_is_fine(self, bound, agent, worked_draft):
        bound.conversation.assignee = agent
        bound.conversation.save()
        assert services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)

    def test_ten_tags_at_most(self, bound, agent, worked_draft):
        worked_draft["tags"] = [f"t{i}" for i in range(11)]
        with pytest.raises(OrderInvalid) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert "tags" in caught.value.errors
        worked_draft["tags"] = [f"t{i}" for i in range(10)] + ["t0", " t1 "]  # duplicates count once
        assert len(services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft).tags) == 10

    def test_note_of_200_characters_at_most(self, bound, agent, worked_draft):
        worked_draft["note"] = "字" * 201
        with pytest.raises(OrderInvalid) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert "note" in caught.value.errors
        worked_draft["note"] = "字" * 200
        assert services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft).note == "字" * 200

    def test_five_custom_discounts_at_most(self, bound, agent, worked_draft):
        worked_draft["custom_discounts"] = [{"label": f"d{i}", "amount": 1} for i in range(6)]
        with pytest.raises(OrderInvalid) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert "custom_discounts" in caught.value.errors
        worked_draft["custom_discounts"] = [{"label": f"d{i}", "amount": 6} for i in range(5)]
        assert services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft).total == 1960

    def test_hidden_delivery_and_payment_methods_are_refused(self, bound, agent, worked_catalog, worked_draft):
        from orders.models import PaymentMethod

        worked_draft["delivery_method_id"] = worked_catalog.hidden.pk
        with pytest.raises(OrderInvalid) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert "delivery_method_id" in caught.value.errors
        worked_draft["delivery_method_id"] = worked_catalog.seven.pk
        worked_draft["payment_method_id"] = PaymentMethod.objects.get(is_hidden=True).pk
        with pytest.raises(OrderInvalid) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert "payment_method_id" in caught.value.errors

    def test_invalid_pair_is_refused(self, bound, agent, worked_draft):
        from orders.models import PaymentMethod

        worked_draft["payment_method_id"] = PaymentMethod.objects.get(type="cod").pk  # COD with 7-11 pickup
        with pytest.raises(OrderInvalid):
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)

    def test_store_pickup_needs_a_store(self, bound, agent, worked_draft):
        worked_draft["store"] = {}
        with pytest.raises(OrderInvalid) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert "store" in caught.value.errors

    def test_english_recipient_for_cross_border_outside_hk_mo_sg_my(self, bound, agent, worked_draft):
        from orders.logistics import DeliveryType
        from orders.models import DeliveryMethod, PaymentMethod

        xb = DeliveryMethod.objects.create(type=DeliveryType.SEVEN_XB_HOME, name="7-11 跨境宅配", fee=300)
        worked_draft.update(
            delivery_method_id=xb.pk,
            payment_method_id=PaymentMethod.objects.get(type="card").pk,
            store={},
            recipient={"name": "陳小美", "phone": "+15551234567", "address": "東京都新宿区", "country": "JP"},
            expected_total=None,
        )
        with pytest.raises(OrderInvalid) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert {"name", "address"} <= set(caught.value.errors)
        worked_draft["recipient"] = {"name": "Mei Chen", "phone": "+81312345678", "address": "1-1 Shinjuku, Tokyo", "country": "JP"}
        assert services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft).recipient["name"] == "Mei Chen"

    def test_chinese_recipient_fine_for_hong_kong(self, bound, agent, worked_draft):
        from orders.logistics import DeliveryType
        from orders.models import DeliveryMethod, PaymentMethod

        xb = DeliveryMethod.objects.create(type=DeliveryType.SEVEN_XB_HOME, name="7-11 跨境宅配", fee=300)
        worked_draft.update(
            delivery_method_id=xb.pk, payment_method_id=PaymentMethod.objects.get(type="card").pk, store={}, expected_total=None,
            recipient={"name": "陳小美", "phone": "+85291234567", "address": "香港銅鑼灣軒尼詩道 1 號", "country": "HK"},
        )
        assert services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)

    def test_saved_address_fills_the_recipient(self, bound, agent, worked_catalog, worked_draft):
        from customers import services as customer_services
        from orders.models import PaymentMethod

        address = customer_services.add_address(
            customer=bound.customer, actor=agent, recipient_name="陳小美", recipient_phone="0912345678", city="台北市", street="信義路 1 號"
        )
        worked_draft.update(
            delivery_method_id=worked_catalog.home.pk, payment_method_id=PaymentMethod.objects.get(type="cod").pk,
            store={}, recipient={}, address_id=address.pk, expected_total=2020,
        )
        order = services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert order.recipient["address"].endswith("台北市信義路 1 號") and order.recipient["name"] == "陳小美"

    def test_company_invoice_is_validated(self, bound, agent, worked_draft):
        worked_draft.update(issue_invoice=True, invoice={"type": "company", "business_number": "12345678", "company_title": "好物"})
        with pytest.raises(OrderInvalid) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert "invoice.business_number" in caught.value.errors
        worked_draft["invoice"]["business_number"] = "22099131"
        order = services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert order.invoice["business_number"] == "22099131" and "22099131" in order.invoice["summary"]

    @pytest.mark.parametrize(
        "draft",
        [None, [], {"lines": "x"}, {"lines": [{"variant_id": "1", "quantity": 1}]}, {"lines": [{"quantity": True}]},
         {"lines": [{"custom": {"name": "", "unit_price": -1}, "quantity": 1}]}, {"lines": [{"variant_id": 1, "quantity": 1}], "tags": "a"},
         {"lines": [{"variant_id": 1, "quantity": 1}], "recipient": []}, {"lines": [{"variant_id": 1, "quantity": 1}], "store": "x"}],
    )
    def test_malformed_drafts_are_invalid_not_crashes(self, bound, agent, draft):
        with pytest.raises(OrderInvalid):
            services.place_order(conversation=bound.conversation, actor=agent, draft=draft)
