"""The one rounding helper: half up, down, tax in and on, and whole-dollar allocation."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.pricing.rounding import allocate, as_percent, percent_of, round_half_up, tax_added, tax_included
from orders.pricing.shipping import ShippingOption, shipping_charge


class RoundingTests:
    def test_half_up_and_down(self):
        assert round_half_up(Decimal("2.5")) == 3
        assert round_half_up(Decimal("2.4999")) == 2
        assert percent_of(2085, Decimal(10)) == 209
        assert percent_of(999, Decimal(15), down=True) == 149

    def test_tax(self):
        assert tax_included(1960, Decimal(5)) == 93
        assert tax_added(1960, Decimal(5)) == 98
        assert tax_included(1000, Decimal(0)) == 0

    def test_floats_are_refused(self):
        with pytest.raises(TypeError):
            as_percent(0.05)

    def test_allocation_by_largest_remainder(self):
        assert allocate(180, [990, 590, 500]) == [86, 51, 43]
        assert allocate(2, [1, 1, 1]) == [1, 1, 0]
        assert allocate(0, [0, 0]) == [0, 0]

    @given(st.lists(st.integers(0, 10_000), min_size=1, max_size=12), st.data())
    def test_allocation_adds_up_and_no_part_exceeds_its_weight(self, weights, data):
        if sum(weights) == 0:
            return
        total = data.draw(st.integers(0, sum(weights)))
        parts = allocate(total, weights)
        assert sum(parts) == total
        assert all(0 <= part <= weight for part, weight in zip(parts, weights))


class ShippingTests:
    def test_free_from_the_threshold(self):
        option = ShippingOption(method_id=1, name="7-11", fee=60, free_threshold=2000)
        assert shipping_charge(option, merchandise=1999).amount == 60
        at = shipping_charge(option, merchandise=2000)
        assert at.amount == 0 and at.free and at.short_of_free is None

    def test_never_free_without_a_threshold(self):
        option = ShippingOption(method_id=1, name="Black Cat", fee=130)
        result = shipping_charge(option, merchandise=10**6)
        assert result.amount == 130 and result.short_of_free is None

    def test_no_method_chosen(self):
        assert shipping_charge(None, merchandise=100) is None
