"""Shipping (step 7): the delivery method's fee, free once the merchandise amount after step 5 (before
store credit) reaches the method's free-shipping threshold."""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from orders.pricing.cart import check_money


@dataclass(frozen=True)
class ShippingOption:
    method_id: int | None
    name: str
    fee: int
    free_threshold: int | None = None
    code: str = ""

    def __post_init__(self) -> None:
        check_money(self.fee, _("The shipping fee"))
        if self.free_threshold is not None:
            check_money(self.free_threshold, _("The free-shipping threshold"))


@dataclass(frozen=True)
class ShippingResult:
    """`short_of_free`: how much more merchandise would make it free (None when it can't be, or is)."""

    method_id: int | None
    name: str
    code: str
    fee: int
    free_threshold: int | None
    amount: int
    free: bool
    short_of_free: int | None


def shipping_charge(option: ShippingOption | None, *, merchandise: int) -> ShippingResult | None:
    if option is None:
        return None
    free = option.free_threshold is not None and merchandise >= option.free_threshold
    short = None
    if option.free_threshold is not None and not free and option.fee:
        short = option.free_threshold - merchandise
    return ShippingResult(
        method_id=option.method_id,
        name=option.name,
        code=option.code,
        fee=option.fee,
        free_threshold=option.free_threshold,
        amount=0 if free else option.fee,
        free=free or option.fee == 0,
        short_of_free=short,
    )
