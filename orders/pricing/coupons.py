"""Coupons (step 4): at most one per order, typed by code or picked from the customer's usable list.

Conditions, checked on the subtotal after the automatic promotions (steps 2-3), every failing one
reported: active, inside its validity window, under its total usage limit and the customer's own limit,
at least its minimum amount, and at least one eligible item in the order.

The benefit: an amount off, or a percentage off rounded down to the dollar (optionally capped). A coupon
aimed at some products or tags takes its percentage of those lines (after item promotions) only; an
amount off comes off the order. Either way it never exceeds the subtotal it applies to.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from orders.pricing.adjustments import Notice, Source, message, twd
from orders.pricing.cart import CartLine, PricingError, Target, check_money
from orders.pricing.rounding import as_percent, percent_of


class CouponKind(StrEnum):
    AMOUNT = "amount"
    PERCENT = "percent"


def normalize_code(code: str) -> str:
    """Codes are matched without case or surrounding spaces."""
    return (code or "").strip().upper()


@dataclass(frozen=True)
class Coupon:
    """A coupon as the selector found it by its code, with the counts its limits are checked against."""

    id: int
    code: str
    name: str = ""
    kind: CouponKind = CouponKind.AMOUNT
    amount_off: int = 0
    percent_off: Decimal = Decimal(0)
    max_discount: int | None = None
    minimum_amount: int = 0
    target: Target = field(default_factory=Target)
    usage_limit: int | None = None
    usage_count: int = 0
    per_customer_limit: int | None = None
    customer_uses: int = 0
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    is_active: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", normalize_code(self.code))
        object.__setattr__(self, "kind", CouponKind(self.kind))
        object.__setattr__(self, "percent_off", as_percent(self.percent_off))
        check_money(self.amount_off, _("The amount off"))
        check_money(self.minimum_amount, _("The minimum amount"))
        if self.max_discount is not None:
            check_money(self.max_discount, _("The maximum discount"))
        if self.kind is CouponKind.PERCENT and not 0 < self.percent_off <= 100:
            raise PricingError("coupon.percent", _("A percentage coupon takes more than 0 and at most 100 percent off."))
        if self.kind is CouponKind.AMOUNT and self.amount_off <= 0:
            raise PricingError("coupon.amount", _("An amount coupon takes more than NT$0 off."))

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}".strip() if self.name and self.name != self.code else self.code


def _notice(coupon: Coupon | None, code: str, text) -> Notice:
    return Notice(code=code, message=text, source=Source.COUPON, source_id=coupon.id if coupon else None)


def unknown_code(code: str) -> Notice:
    return _notice(None, "coupon.unknown", message(_("There is no coupon with the code {code}."), code=normalize_code(code)))


def _eligible(coupon: Coupon, line: CartLine) -> bool:
    """A coupon for the whole store counts any sold line (custom products too); a targeted one, its items."""
    if coupon.target.is_everything:
        return not line.is_gift
    return coupon.target.matches(line)


def check_coupon(coupon: Coupon, *, lines: Sequence[CartLine], base: int, now: dt.datetime | None) -> tuple[Notice, ...]:
    """Every condition the coupon fails for this order (empty: it applies). `base` is after steps 2-3."""
    failures = []
    if not coupon.is_active:
        failures.append(_notice(coupon, "coupon.inactive", message(_("Coupon {code} is not active."), code=coupon.code)))
    if now is not None and coupon.starts_at is not None and now < coupon.starts_at:
        failures.append(_notice(coupon, "coupon.not_started", message(_("Coupon {code} can't be used yet."), code=coupon.code)))
    if now is not None and coupon.ends_at is not None and now >= coupon.ends_at:
        failures.append(_notice(coupon, "coupon.expired", message(_("Coupon {code} has expired."), code=coupon.code)))
    if coupon.usage_limit is not None and coupon.usage_count >= coupon.usage_limit:
        failures.append(
            _notice(coupon, "coupon.used_up", message(_("Coupon {code} has reached its usage limit."), code=coupon.code))
        )
    if coupon.per_customer_limit is not None and coupon.customer_uses >= coupon.per_customer_limit:
        failures.append(
            _notice(
                coupon,
                "coupon.customer_used_up",
                message(_("This customer has already used coupon {code} as often as allowed."), code=coupon.code),
            )
        )
    if base < coupon.minimum_amount:
        failures.append(
            _notice(
                coupon,
                "coupon.below_minimum",
                message(
                    _("Coupon {code} needs an order of at least {minimum} (this one is {amount})."),
                    code=coupon.code,
                    minimum=twd(coupon.minimum_amount),
                    amount=twd(base),
                ),
            )
        )
    if not any(_eligible(coupon, line) for line in lines):
        failures.append(
            _notice(
                coupon,
                "coupon.no_eligible_items",
                message(_("No item in this order is eligible for coupon {code}."), code=coupon.code),
            )
        )
    return tuple(failures)


def coupon_discount(coupon: Coupon, *, lines: Sequence[CartLine], line_amounts: Mapping[str, int], base: int) -> int:
    """The coupon's discount for an order that meets its conditions (see the module docstring)."""
    if coupon.kind is CouponKind.AMOUNT:
        discount = coupon.amount_off
    else:
        if coupon.target.is_everything:
            applies_to = base
        else:
            applies_to = min(base, sum(line_amounts.get(line.key, 0) for line in lines if coupon.target.matches(line)))
        discount = percent_of(applies_to, coupon.percent_off, down=True)
        if coupon.max_discount is not None:
            discount = min(discount, coupon.max_discount)
    return max(0, min(discount, base))
