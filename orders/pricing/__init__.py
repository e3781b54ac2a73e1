"""The pricing engine: pure functions over frozen dataclasses (no database, no I/O, no settings).

    from orders.pricing import Cart, CartLine, Context, quote
    q = quote(Cart(lines=(...)), Context(promotions=(...), coupon=..., ...))

`orders.selectors.pricing_inputs` builds the Cart and Context from the database once; the quote API and
`place_order` both price through `quote`. Module by step: cart (lines, targets), promotions (steps 2-3),
coupons (4), quote (5 custom discounts, and the whole), credit (6), shipping (7), tax (8); rounding is the
one place money meets rates; adjustments holds the vocabulary every step answers in.
"""
from orders.pricing.adjustments import Adjustment, Notice, Source, Step, Touch
from orders.pricing.cart import MAX_LINES, MAX_QUANTITY, MAX_UNIT_PRICE, Cart, CartLine, PricingError, Target
from orders.pricing.coupons import Coupon, CouponKind, normalize_code
from orders.pricing.credit import CreditPolicy, CreditResult
from orders.pricing.promotions import Bundle, BuyXGetY, OrderDiscount, PickAny, PromotionKind
from orders.pricing.quote import (
    MAX_CUSTOM_DISCOUNTS,
    MAX_LABEL_LENGTH as MAX_DISCOUNT_LABEL,
    Context,
    CouponOption,
    CustomDiscount,
    Quote,
    QuoteLine,
    coupon_options,
    quote,
    too_many_custom_discounts,
)
from orders.pricing.shipping import ShippingOption, ShippingResult
from orders.pricing.tax import TaxMode, TaxPolicy, TaxResult

__all__ = [
    "MAX_CUSTOM_DISCOUNTS",
    "MAX_DISCOUNT_LABEL",
    "MAX_LINES",
    "MAX_QUANTITY",
    "MAX_UNIT_PRICE",
    "Adjustment",
    "Bundle",
    "BuyXGetY",
    "Cart",
    "CartLine",
    "Context",
    "Coupon",
    "CouponKind",
    "CouponOption",
    "CreditPolicy",
    "CreditResult",
    "CustomDiscount",
    "Notice",
    "OrderDiscount",
    "PickAny",
    "PricingError",
    "PromotionKind",
    "Quote",
    "QuoteLine",
    "ShippingOption",
    "ShippingResult",
    "Source",
    "Step",
    "Target",
    "TaxMode",
    "TaxPolicy",
    "TaxResult",
    "Touch",
    "coupon_options",
    "normalize_code",
    "quote",
    "too_many_custom_discounts",
]
