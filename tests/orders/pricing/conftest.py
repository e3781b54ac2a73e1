"""The reference's worked example (commerce-rules.md §2) as engine inputs, shared by the pricing tests."""
from __future__ import annotations

from decimal import Decimal

import pytest

from orders.pricing import (
    Cart,
    CartLine,
    Context,
    Coupon,
    CreditPolicy,
    CustomDiscount,
    PickAny,
    ShippingOption,
    Target,
    TaxMode,
    TaxPolicy,
)


@pytest.fixture
def worked_cart() -> Cart:
    return Cart(
        lines=(
            CartLine(key="A", name="A", unit_price=690, quantity=2, product_id=1, variant_id=11, tags={"X"}),
            CartLine(key="B", name="B", unit_price=590, quantity=1, product_id=2, variant_id=21, tags={"X"}),
            CartLine(key="C", name="C", unit_price=250, quantity=2, product_id=3, variant_id=31),
        )
    )


@pytest.fixture
def worked_context() -> Context:
    return Context(
        promotions=(PickAny(id=1, name="任選 2 件 $990", size=2, price=990, target=Target(tags={"X"})),),
        coupon_code="SAVE100",
        coupon=Coupon(id=7, code="SAVE100", amount_off=100, minimum_amount=1500),
        custom_discounts=(CustomDiscount(label="老客戶", amount=30),),
        credit=CreditPolicy(enabled=True, minimum_order=1000, max_per_order=50, customer_may_choose=False),
        credit_balance=200,
        shipping=ShippingOption(method_id=3, name="7-11 pickup", fee=60, free_threshold=2000, code="711_c2c"),
        tax=TaxPolicy(mode=TaxMode.INCLUDED, rate=Decimal(5)),
    )
