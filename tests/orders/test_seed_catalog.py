"""`manage.py seed_catalog` gives the demo a store to take orders in, and running it twice changes nothing."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders import pricing, selectors
from orders.models import Coupon, DeliveryMethod, Gift, OrderTag, PaymentMethod, Product, Promotion, Variant

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Product, Variant, Gift, Promotion, Coupon, DeliveryMethod, PaymentMethod, OrderTag)]


class SeedCatalogTests:
    def test_idempotent(self, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        call_command("seed_catalog", stdout=io.StringIO())
        first = counts()
        assert all(first)
        call_command("seed_catalog", stdout=io.StringIO())
        assert counts() == first

    def test_the_demo_prices_a_pick_any_a_bundle_and_a_coupon(self):
        call_command("seed_catalog", "--no-images", stdout=io.StringIO())
        tee, shirt, tote = (Variant.objects.get(sku=s) for s in ("TEE-WHT-M", "SHIRT-BEI-M", "TOTE-NAT"))
        seven = DeliveryMethod.objects.get(type="711_c2c")
        cart, context = selectors.pricing_inputs(
            lines=[selectors.VariantLine(tee.pk, 1), selectors.VariantLine(shirt.pk, 2), selectors.VariantLine(tote.pk, 1)],
            now=timezone.now(),
            coupon_code="SAVE100",
            delivery_method_id=seven.pk,
            credit_balance=500,
        )
        q = pricing.quote(cart, context)
        kinds = {p.kind for line in q.lines for p in line.promotions}
        assert kinds == {"pick_any", "bundle"}
        assert q.coupon.applied and q.credit.applied == 50
        assert q.subtotal + sum(a.amount for a in q.adjustments) == q.total

    def test_one_delivery_method_is_hidden_and_not_offered(self):
        call_command("seed_catalog", "--no-images", stdout=io.StringIO())
        assert DeliveryMethod.objects.filter(is_hidden=True).count() == 1
        assert not selectors.delivery_method_list().filter(is_hidden=True).exists()

    def test_a_meet_up_is_paid_in_cash_there_or_in_advance_with_a_proof(self):
        """The demo's custom delivery (a meet-up) takes cash at the meet-up (nothing to upload), a custom method
        (JKO Pay, paid first with a screenshot) and bank transfer."""
        from orders.logistics import PREPAID

        call_command("seed_catalog", "--no-images", stdout=io.StringIO())
        meet_up = DeliveryMethod.objects.get(name="面交 (台北捷運站)")
        offered = {p.name: p.type for p in selectors.payment_method_list(delivery=meet_up)}
        assert offered == {"面交付現": "cod", "街口支付": "custom", "銀行轉帳": "bank_transfer"}
        assert "cod" not in PREPAID and {"custom", "bank_transfer"} <= PREPAID
        # The home courier collects its own cash on delivery, not the meet-up's.
        courier = DeliveryMethod.objects.get(type="hct")
        assert {p.name for p in selectors.payment_method_list(delivery=courier)} == {"貨到付款", "銀行轉帳"}
        # No card gateway is connected: the card method is kept hidden, offered nowhere.
        assert PaymentMethod.objects.get(type="card").is_hidden
        assert not any(p.type == "card" for p in selectors.payment_method_list())
