"""Store credit: master switch, minimum order, per-order maximum, balance, amount due, editability."""
from __future__ import annotations

from dataclasses import replace

import pytest

from orders.pricing import CreditPolicy, PricingError, quote
from orders.pricing.credit import redeem_credit

POLICY = CreditPolicy(enabled=True, minimum_order=1000, max_per_order=50)


class CreditTests:
    def test_switch_off_means_no_credit_field(self):
        result = redeem_credit(policy=replace(POLICY, enabled=False), balance=200, requested=None, amount_due=5000)
        assert not result.offered and result.applied == 0 and result.notices == ()

    def test_no_balance_means_no_credit_field(self):
        result = redeem_credit(policy=POLICY, balance=0, requested=None, amount_due=5000)
        assert not result.offered and result.applied == 0

    def test_below_the_minimum_it_says_so(self):
        result = redeem_credit(policy=POLICY, balance=200, requested=None, amount_due=999)
        assert result.offered and not result.eligible and result.applied == 0
        assert [(n.code, str(n.message)) for n in result.notices] == [
            ("credit.below_minimum", "Store credit can be used on orders of NT$1,000 or more (this order: NT$999).")
        ]

    def test_at_the_minimum_it_applies(self):
        assert redeem_credit(policy=POLICY, balance=200, requested=None, amount_due=1000).applied == 50

    def test_the_maximum_is_applied_when_customers_may_not_choose(self):
        result = redeem_credit(policy=POLICY, balance=200, requested=10, amount_due=5000)
        assert result.applied == 50 and not result.editable
        assert [n.code for n in result.notices] == ["credit.not_editable"]

    def test_staff_may_enter_an_amount_within_the_bounds_when_allowed(self):
        policy = replace(POLICY, customer_may_choose=True)
        chosen = redeem_credit(policy=policy, balance=200, requested=20, amount_due=5000)
        assert chosen.editable and chosen.applied == 20 and chosen.notices == ()
        default = redeem_credit(policy=policy, balance=200, requested=None, amount_due=5000)
        assert default.applied == 50

    @pytest.mark.parametrize(
        ("max_per_order", "balance", "due", "applied", "text"),
        [
            (50, 200, 5000, 50, "At most NT$50 of store credit can be used per order."),
            (500, 30, 5000, 30, "The customer has NT$30 of store credit."),
            (None, 9000, 1200, 1200, "Store credit can't be more than the amount due (NT$1,200)."),
        ],
    )
    def test_over_the_maximum_it_says_which_bound(self, max_per_order, balance, due, applied, text):
        policy = replace(POLICY, max_per_order=max_per_order, customer_may_choose=True)
        result = redeem_credit(policy=policy, balance=balance, requested=10_000, amount_due=due)
        assert result.applied == applied == result.max_allowed
        assert [(n.code, str(n.message)) for n in result.notices] == [("credit.over_maximum", text)]

    def test_negative_amounts_are_refused(self):
        with pytest.raises(PricingError):
            redeem_credit(policy=POLICY, balance=200, requested=-5, amount_due=5000)

    def test_credit_never_pays_shipping(self, worked_cart, worked_context):
        policy = CreditPolicy(enabled=True, minimum_order=0, max_per_order=None)
        q = quote(worked_cart, replace(worked_context, credit=policy, credit_balance=100_000))
        assert q.credit.applied == q.merchandise == 1950
        assert q.total == 60  # shipping is still paid
