"""commerce-rules.md §2, the worked example, to the dollar, and the shape of a quote."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from orders.pricing import (
    Cart,
    CartLine,
    Context,
    CustomDiscount,
    PricingError,
    Source,
    Step,
    TaxMode,
    TaxPolicy,
    quote,
)


class WorkedExampleTests:
    """Each row of the reference's table."""

    def test_lines(self, worked_cart, worked_context):
        q = quote(worked_cart, worked_context)
        assert [line.amount for line in q.lines] == [1380, 590, 500]
        assert q.subtotal == 2470

    def test_pick_any_groups_the_two_dearest_units(self, worked_cart, worked_context):
        q = quote(worked_cart, worked_context)
        assert q.item_discount == 390
        assert q.after_item_promotions == 2080
        line_a, line_b, _ = q.lines
        assert [(p.promotion_id, p.units, p.discount) for p in line_a.promotions] == [(1, 2, 390)]
        assert line_b.promotions == ()  # B alone at 590
        assert str(line_a.promotions[0].kind_label) == "Pick any"

    def test_coupon(self, worked_cart, worked_context):
        q = quote(worked_cart, worked_context)
        assert q.coupon.applied and q.coupon.discount == 100
        assert q.after_coupon == 1980

    def test_custom_discount(self, worked_cart, worked_context):
        q = quote(worked_cart, worked_context)
        assert [(d.label, d.applied) for d in q.custom_discounts] == [("老客戶", 30)]
        assert q.merchandise == 1950

    def test_shipping_is_charged_below_the_threshold(self, worked_cart, worked_context):
        q = quote(worked_cart, worked_context)
        assert q.shipping.amount == 60 and not q.shipping.free
        assert q.shipping.short_of_free == 50

    def test_credit_at_its_cap(self, worked_cart, worked_context):
        q = quote(worked_cart, worked_context)
        assert q.credit.offered and q.credit.eligible and not q.credit.editable
        assert q.credit.max_allowed == q.credit.applied == 50
        assert q.after_credit == 1900

    def test_total_when_prices_include_tax(self, worked_cart, worked_context):
        q = quote(worked_cart, worked_context)
        assert q.total == 1960
        assert q.tax.amount == 93 and not q.tax.added
        assert q.tax.formula == "round(1960 × 5% / (1 + 5%)) = 93"

    def test_total_when_all_products_are_taxed(self, worked_cart, worked_context):
        q = quote(worked_cart, replace(worked_context, tax=TaxPolicy(mode=TaxMode.ALL, rate=Decimal(5))))
        assert q.tax.amount == 98 and q.tax.added
        assert q.tax.formula == "round((1900 + 60) × 5%) = 98"
        assert q.total == 2058

    def test_every_adjustment_names_its_source_and_they_add_up(self, worked_cart, worked_context):
        q = quote(worked_cart, worked_context)
        rows = [(a.step, a.source, a.source_id, str(a.label), a.amount, a.code) for a in q.adjustments]
        assert rows == [
            (Step.ITEM_PROMOTION, Source.PROMOTION, 1, "任選 2 件 $990", -390, ""),
            (Step.COUPON, Source.COUPON, 7, "SAVE100", -100, "SAVE100"),
            (Step.CUSTOM_DISCOUNT, Source.CUSTOM, 1, "老客戶", -30, ""),
            (Step.CREDIT, Source.CREDIT, None, "Store credit", -50, ""),
            (Step.SHIPPING, Source.SHIPPING, 3, "7-11 pickup", 60, "711_c2c"),
        ]
        assert q.subtotal + sum(a.amount for a in q.adjustments) == q.total
        promo = q.adjustments[0]
        assert [(t.line_key, t.units, t.amount) for t in promo.touches] == [("A", 2, 390)]
        assert promo.kind == "pick_any"

    def test_order_level_discounts_are_spread_over_the_lines(self, worked_cart, worked_context):
        q = quote(worked_cart, worked_context)
        # 100 + 30 + 50 = 180 over 990 / 590 / 500: 85.67, 51.06, 43.27 -> 86, 51, 43 (largest remainder).
        assert [line.order_discount_share for line in q.lines] == [86, 51, 43]
        assert sum(line.net for line in q.lines) == q.after_credit

    def test_its_only_notice_is_the_free_shipping_the_discounts_cost(self, worked_cart, worked_context):
        """2,080 after the 任選 would ship free (from 2,000); the coupon and 老客戶 take it to 1,950."""
        assert [n.code for n in quote(worked_cart, worked_context).notices] == ["shipping.free_lost_to_discounts"]

    def test_a_clean_quote_has_no_notices(self, worked_cart, worked_context):
        context = replace(worked_context, shipping=replace(worked_context.shipping, free_threshold=None))
        assert quote(worked_cart, context).notices == ()


class PerProductTaxTests:
    def test_taxable_lines_carry_tax_on_their_share_after_discounts(self, worked_cart, worked_context):
        lines = list(worked_cart.lines)
        lines[2] = replace(lines[2], taxable=True)  # C: 500, share 43 -> 457 -> round(22.85) = 23
        q = quote(Cart(lines=tuple(lines)), replace(worked_context, tax=TaxPolicy(mode=TaxMode.PER_PRODUCT, rate=Decimal(5))))
        assert [(t.line_key, t.base, t.amount) for t in q.tax.lines] == [("C", 457, 23)]
        assert q.lines[2].tax == 23 and q.lines[0].tax == 0
        assert q.tax.added and q.tax.amount == 23
        assert q.total == 1900 + 60 + 23
        assert q.tax.formula == "round(457 × 5%) = 23"

    def test_no_taxable_line_means_no_tax(self, worked_cart, worked_context):
        q = quote(worked_cart, replace(worked_context, tax=TaxPolicy(mode=TaxMode.PER_PRODUCT, rate=Decimal(5))))
        assert q.tax.amount == 0 and q.total == 1960

    def test_no_tax_mode(self, worked_cart, worked_context):
        q = quote(worked_cart, replace(worked_context, tax=TaxPolicy(mode=TaxMode.NONE)))
        assert q.tax.amount == 0 and q.total == 1960


class CustomDiscountTests:
    def test_up_to_five_are_taken_in_order(self, worked_cart):
        discounts = tuple(CustomDiscount(label=f"d{i}", amount=10 * i) for i in range(1, 6))
        q = quote(worked_cart, Context(custom_discounts=discounts))
        assert [d.applied for d in q.custom_discounts] == [10, 20, 30, 40, 50]
        assert q.merchandise == 2470 - 150

    def test_the_sixth_is_refused_with_a_clear_error(self):
        discounts = tuple(CustomDiscount(label="", amount=1) for _ in range(6))
        with pytest.raises(PricingError) as refused:
            Context(custom_discounts=discounts)
        assert refused.value.code == "custom_discounts.too_many"
        assert str(refused.value.message) == "An order can have at most 5 custom discounts."

    def test_they_cannot_push_the_items_below_zero(self, worked_cart):
        q = quote(worked_cart, Context(custom_discounts=(CustomDiscount("big", 2000), CustomDiscount("more", 1000))))
        assert [d.applied for d in q.custom_discounts] == [2000, 470]
        assert q.merchandise == 0 and q.total == 0
        assert [n.code for n in q.notices] == ["custom_discount.capped"]

    def test_a_blank_label_gets_the_default_name(self, worked_cart):
        q = quote(worked_cart, Context(custom_discounts=(CustomDiscount("  ", 5),)))
        assert str(q.custom_discounts[0].label) == "Custom discount"

    def test_negative_amounts_are_refused(self):
        with pytest.raises(PricingError):
            CustomDiscount("x", -1)


class LineTests:
    def test_gifts_are_priced_zero_and_take_no_promotion(self, worked_context):
        cart = Cart(
            lines=(
                CartLine(key="A", name="A", unit_price=690, quantity=2, product_id=1, tags={"X"}),
                CartLine(key="g1", name="Sticker", unit_price=0, quantity=1, gift_id=1, is_gift=True, available=0),
            )
        )
        q = quote(cart, replace(worked_context, coupon=None, coupon_code=""))
        assert q.lines[1].amount == 0 and q.lines[1].promotions == ()
        stock = [n for n in q.notices if n.code == "line.short_of_stock"]
        assert [(n.line_key, str(n.message)) for n in stock] == [("g1", "Sticker: only 0 left.")]

    def test_a_gift_with_a_price_is_refused(self):
        with pytest.raises(PricingError):
            CartLine(key="g", name="g", unit_price=10, quantity=1, is_gift=True)

    def test_custom_products_count_in_the_subtotal_but_take_no_item_promotion(self, worked_context):
        cart = Cart(lines=(CartLine(key="c1", name="Custom", unit_price=800, quantity=2, is_custom=True, tags={"X"}),))
        q = quote(cart, worked_context)
        assert q.subtotal == 1600 and q.item_discount == 0
        assert q.coupon.applied  # a store-wide coupon counts custom products

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"unit_price": -1},
            {"unit_price": 1.5},
            {"unit_price": True},
            {"quantity": 0},
            {"quantity": 1000},
            {"key": ""},
        ],
    )
    def test_bad_lines_are_refused(self, kwargs):
        fields = {"key": "a", "name": "a", "unit_price": 10, "quantity": 1, **kwargs}
        with pytest.raises(PricingError):
            CartLine(**fields)

    def test_duplicate_keys_are_refused(self):
        line = CartLine(key="a", name="a", unit_price=1, quantity=1)
        with pytest.raises(PricingError):
            Cart(lines=(line, line))

    def test_an_empty_cart_costs_nothing_but_shipping(self, worked_context):
        q = quote(Cart(), worked_context)
        assert q.subtotal == 0 and q.total == 60
        assert not q.coupon.applied
