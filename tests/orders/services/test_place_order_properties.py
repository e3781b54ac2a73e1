"""Properties of placed orders (Hypothesis): whatever the cart, the order charges what the quote says,
its snapshot rows add up to the total, and it never spends more than there is."""
from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders import services
from orders.errors import OrderConflict
from orders.models import Variant

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


class PlacedOrderPropertyTests:
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        quantities=st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(0, 12)).filter(any),
        discounts=st.lists(st.integers(0, 3000), max_size=5),
        coupon=st.booleans(),
    )
    def test_order_adds_up_and_never_overspends(self, bound, agent, worked_catalog, worked_draft, quantities, discounts, coupon):
        variants = (worked_catalog.a, worked_catalog.b, worked_catalog.c)
        draft = {
            **worked_draft,
            "lines": [{"variant_id": v.pk, "quantity": q} for v, q in zip(variants, quantities) if q],
            "custom_discounts": [{"label": f"d{i}", "amount": a} for i, a in enumerate(discounts)],
            "coupon_code": "SAVE100" if coupon else "",
            "expected_total": None,
        }
        try:
            with transaction.atomic():
                try:
                    order = services.place_order(conversation=bound.conversation, actor=agent, draft=draft)
                except OrderConflict as exc:
                    codes = {r["code"] for r in exc.reasons}
                    assert codes <= {"stock", "coupon"}
                    assert "stock" not in codes or any(q > 10 for q in quantities)
                    raise Rollback from None
                assert order.total >= 0 and 0 <= order.credit_used <= 50
                assert order.subtotal + sum(order.adjustments.values_list("amount", flat=True)) == order.total
                assert all(Variant.objects.get(pk=v.pk).stock >= 0 for v in variants)
                bound.customer.refresh_from_db()
                assert bound.customer.credit_balance == 200 - order.credit_used
                raise Rollback
        except Rollback:
            pass
