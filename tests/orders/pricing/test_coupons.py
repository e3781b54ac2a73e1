"""Coupons: every failing condition says which, percentages round down, one coupon per order."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from orders.pricing import Cart, CartLine, Context, Coupon, CouponKind, PricingError, Target, coupon_options, quote

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


def codes(result):
    return [n.code for n in result.reasons]


class CouponConditionTests:
    def test_unknown_code(self, worked_cart, worked_context):
        q = quote(worked_cart, replace(worked_context, coupon=None, coupon_code=" nope "))
        assert q.coupon.code == "NOPE" and not q.coupon.applied
        assert [(n.code, str(n.message)) for n in q.coupon.reasons] == [("coupon.unknown", "There is no coupon with the code NOPE.")]
        assert q.coupon.reasons[0] in q.notices

    def test_below_its_minimum_on_the_amount_after_promotions(self, worked_cart, worked_context):
        coupon = replace(worked_context.coupon, minimum_amount=2100)  # 2470 before, 2080 after the promotion
        q = quote(worked_cart, replace(worked_context, coupon=coupon))
        assert codes(q.coupon) == ["coupon.below_minimum"]
        assert str(q.coupon.reasons[0].message) == "Coupon SAVE100 needs an order of at least NT$2,100 (this one is NT$2,080)."
        assert q.after_coupon == q.after_order_promotions

    def test_usage_limits(self, worked_cart, worked_context):
        coupon = replace(worked_context.coupon, usage_limit=10, usage_count=10, per_customer_limit=1, customer_uses=1)
        q = quote(worked_cart, replace(worked_context, coupon=coupon))
        assert codes(q.coupon) == ["coupon.used_up", "coupon.customer_used_up"]

    def test_validity_window_and_active_flag(self, worked_cart, worked_context):
        later = replace(worked_context.coupon, starts_at=NOW + dt.timedelta(days=1))
        over = replace(worked_context.coupon, ends_at=NOW, is_active=False)
        assert codes(quote(worked_cart, replace(worked_context, coupon=later, now=NOW)).coupon) == ["coupon.not_started"]
        assert codes(quote(worked_cart, replace(worked_context, coupon=over, now=NOW)).coupon) == ["coupon.inactive", "coupon.expired"]

    def test_no_eligible_item(self, worked_cart, worked_context):
        coupon = replace(worked_context.coupon, target=Target(tags={"nothing-has-this"}))
        q = quote(worked_cart, replace(worked_context, coupon=coupon))
        assert codes(q.coupon) == ["coupon.no_eligible_items"]

    def test_gifts_alone_are_not_eligible(self, worked_context):
        cart = Cart(lines=(CartLine(key="g", name="g", unit_price=0, quantity=1, is_gift=True),))
        q = quote(cart, replace(worked_context, coupon=replace(worked_context.coupon, minimum_amount=0)))
        assert codes(q.coupon) == ["coupon.no_eligible_items"]


class CouponBenefitTests:
    def test_percentages_round_down(self):
        cart = Cart(lines=(CartLine(key="a", name="a", unit_price=999, quantity=1),))
        coupon = Coupon(id=1, code="P15", kind=CouponKind.PERCENT, percent_off=Decimal(15))
        assert quote(cart, Context(coupon=coupon)).coupon.discount == 149  # 149.85

    def test_a_targeted_percentage_takes_only_its_items(self, worked_cart, worked_context):
        coupon = Coupon(id=2, code="C10", kind="percent", percent_off=Decimal(10), target=Target(product_ids={3}))
        q = quote(worked_cart, replace(worked_context, coupon=coupon))
        assert q.coupon.discount == 50
        (adjustment,) = [a for a in q.adjustments if a.step == "coupon"]
        assert [(t.line_key, t.amount) for t in adjustment.touches] == [("C", 50)]

    def test_a_percentage_cap(self, worked_cart):
        coupon = Coupon(id=2, code="C50", kind="percent", percent_off=Decimal(50), max_discount=300)
        assert quote(worked_cart, Context(coupon=coupon)).coupon.discount == 300

    def test_an_amount_never_exceeds_the_items(self):
        cart = Cart(lines=(CartLine(key="a", name="a", unit_price=80, quantity=1),))
        q = quote(cart, Context(coupon=Coupon(id=1, code="BIG", amount_off=500)))
        assert q.coupon.discount == 80 and q.total == 0

    def test_codes_are_matched_without_case(self):
        assert Coupon(id=1, code=" save100 ", amount_off=1).code == "SAVE100"

    @pytest.mark.parametrize(
        "kwargs", [{"amount_off": 0}, {"kind": "percent", "percent_off": Decimal(0)}, {"kind": "percent", "percent_off": Decimal(101)}]
    )
    def test_a_coupon_that_gives_nothing_is_refused(self, kwargs):
        with pytest.raises(PricingError):
            Coupon(id=1, code="X", **kwargs)


class CouponListTests:
    def test_the_list_says_which_are_usable_and_why_not(self, worked_cart, worked_context):
        coupons = [
            Coupon(id=1, code="OK", amount_off=100, minimum_amount=1500),
            Coupon(id=2, code="FULL", amount_off=100, usage_limit=3, usage_count=3),
            Coupon(id=3, code="BIG", amount_off=300, minimum_amount=5000),
            Coupon(id=4, code="BAGS", amount_off=50, target=Target(tags={"bags"})),
        ]
        options = coupon_options(worked_cart, worked_context, coupons)
        assert [(o.coupon.code, o.usable, o.discount, [n.code for n in o.reasons]) for o in options] == [
            ("OK", True, 100, []),
            ("FULL", False, 0, ["coupon.used_up"]),
            ("BIG", False, 0, ["coupon.below_minimum"]),
            ("BAGS", False, 0, ["coupon.no_eligible_items"]),
        ]
