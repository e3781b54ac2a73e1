"""The engine's inputs built from the database once, and the catalog reads."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders import pricing, selectors
from orders.errors import CartInputError
from orders.models import Gift, Promotion
from orders.selectors import CustomLine, GiftLine, VariantLine

pytestmark = pytest.mark.django_db


def worked_lines(catalog):
    return [VariantLine(catalog.a.pk, 2), VariantLine(catalog.b.pk, 1), VariantLine(catalog.c.pk, 2)]


class PricingInputsTests:
    def test_the_worked_example_from_the_database(self, worked_catalog):
        cart, context = selectors.pricing_inputs(
            lines=worked_lines(worked_catalog),
            now=timezone.now(),
            coupon_code="save100",
            custom_discounts=[pricing.CustomDiscount("老客戶", 30)],
            delivery_method_id=worked_catalog.seven.pk,
            credit_balance=200,
        )
        q = pricing.quote(cart, context)
        assert (q.subtotal, q.after_item_promotions, q.after_coupon, q.merchandise, q.after_credit) == (2470, 2080, 1980, 1950, 1900)
        assert (q.shipping.amount, q.total, q.tax.amount) == (60, 1960, 93)
        assert [line.key for line in cart.lines] == [f"v{worked_catalog.a.pk}", f"v{worked_catalog.b.pk}", f"v{worked_catalog.c.pk}"]
        assert cart.lines[0].tags == frozenset({"X"}) and cart.lines[0].sku == "A-1" and cart.lines[0].available == 10

    def test_a_fixed_number_of_queries_whatever_the_cart(self, worked_catalog):
        def count(lines):
            with CaptureQueriesContext(connection) as queries:
                selectors.pricing_inputs(lines=lines, now=timezone.now(), coupon_code="SAVE100", delivery_method_id=worked_catalog.seven.pk)
            return len(queries)

        assert count(worked_lines(worked_catalog)[:1]) == count(worked_lines(worked_catalog))

    def test_the_same_variant_twice_is_one_line(self, worked_catalog):
        twice = [VariantLine(worked_catalog.a.pk, 1), VariantLine(worked_catalog.a.pk, 2)]
        cart, _ = selectors.pricing_inputs(lines=twice, now=timezone.now())
        assert [(line.key, line.quantity) for line in cart.lines] == [(f"v{worked_catalog.a.pk}", 3)]

    def test_gifts_and_custom_products(self, worked_catalog):
        gift = Gift.objects.create(name="Sticker", sku="G-1", stock=3)
        cart, _ = selectors.pricing_inputs(
            lines=[GiftLine(gift.pk, 1), CustomLine("客製名牌", 300, 2, taxable=True), CustomLine("刻字", 50, 1)], now=timezone.now()
        )
        assert [(l.key, l.unit_price, l.is_gift, l.is_custom, l.taxable) for l in cart.lines] == [
            (f"g{gift.pk}", 0, True, False, False),
            ("c1", 300, False, True, True),
            ("c2", 50, False, True, False),
        ]

    def test_unavailable_items_are_named(self, worked_catalog):
        worked_catalog.b.is_active = False
        worked_catalog.b.save()
        with pytest.raises(CartInputError) as refused:
            lines = [VariantLine(worked_catalog.b.pk, 1), VariantLine(999999, 1), GiftLine(5, 1)]
            selectors.pricing_inputs(lines=lines, now=timezone.now())
        assert set(refused.value.errors) == {f"variant:{worked_catalog.b.pk}", "variant:999999", "gift:5"}

    def test_archived_products_cannot_be_ordered(self, worked_catalog):
        worked_catalog.a.product.is_archived = True
        worked_catalog.a.product.save()
        with pytest.raises(CartInputError):
            selectors.pricing_inputs(lines=[VariantLine(worked_catalog.a.pk, 1)], now=timezone.now())

    def test_hidden_delivery_methods_are_refused(self, worked_catalog):
        with pytest.raises(CartInputError):
            selectors.pricing_inputs(lines=[], now=timezone.now(), delivery_method_id=worked_catalog.hidden.pk)

    def test_only_promotions_active_now(self, worked_catalog):
        now = timezone.now()
        Promotion.objects.filter(pk=worked_catalog.pick_any.pk).update(ends_at=now - dt.timedelta(seconds=1))
        _, context = selectors.pricing_inputs(lines=[], now=now)
        assert context.promotions == ()
        Promotion.objects.filter(pk=worked_catalog.pick_any.pk).update(ends_at=None, starts_at=now + dt.timedelta(hours=1))
        assert selectors.pricing_inputs(lines=[], now=now)[1].promotions == ()
        Promotion.objects.filter(pk=worked_catalog.pick_any.pk).update(starts_at=None)
        assert [p.id for p in selectors.pricing_inputs(lines=[], now=now)[1].promotions] == [worked_catalog.pick_any.pk]

    def test_an_incomplete_promotion_is_left_out_not_fatal(self, worked_catalog):
        Promotion.objects.create(name="broken", kind=Promotion.Kind.PICK_ANY)  # no size or price: bypassed the admin's checks
        _, context = selectors.pricing_inputs(lines=[], now=timezone.now())
        assert [p.id for p in context.promotions] == [worked_catalog.pick_any.pk]

    def test_every_promotion_kind_converts(self, worked_catalog):
        bundle = Promotion.objects.create(name="A+C", kind=Promotion.Kind.BUNDLE, bundle_price=800)
        bundle.products.set([worked_catalog.a.product])
        bundle.b_products.set([worked_catalog.c.product])
        Promotion.objects.create(name="2+1", kind=Promotion.Kind.BUY_X_GET_Y, buy_quantity=2, get_quantity=1)
        Promotion.objects.create(name="3000-200", kind=Promotion.Kind.ORDER_DISCOUNT, min_spend=3000, amount_off=200)
        _, context = selectors.pricing_inputs(lines=[], now=timezone.now())
        kinds = [type(p).__name__ for p in context.promotions]
        assert kinds == ["PickAny", "Bundle", "BuyXGetY", "OrderDiscount"]
        assert context.promotions[1].a.product_ids == frozenset({worked_catalog.a.product_id})

    def test_an_unknown_coupon_code_is_kept_for_its_reason(self, worked_catalog):
        _, context = selectors.pricing_inputs(lines=[], now=timezone.now(), coupon_code=" nope ")
        assert context.coupon is None and context.coupon_code == "NOPE"

    def test_more_than_five_custom_discounts_are_refused(self, worked_catalog):
        with pytest.raises(pricing.PricingError):
            selectors.pricing_inputs(lines=[], now=timezone.now(), custom_discounts=[pricing.CustomDiscount("", 1)] * 6)


class CatalogReadTests:
    def test_search_by_name_sku_or_tag(self, worked_catalog):
        assert [p.name for p in selectors.product_list(q="a")] == ["A"]
        assert [p.name for p in selectors.product_list(q="c-1")] == ["C"]
        assert [p.name for p in selectors.product_list(q="x")] == ["A", "B"]
        assert [p.name for p in selectors.product_list()] == ["A", "B", "C"]

    def test_custom_products_are_listed_once_published(self, worked_catalog):
        from orders.models import Product

        Product.objects.create(name="custom hidden", is_custom=True, visibility=Product.Visibility.HIDDEN)
        Product.objects.create(name="custom shown", is_custom=True)
        assert "custom hidden" not in [p.name for p in selectors.product_list()]
        assert "custom shown" in [p.name for p in selectors.product_list()]
