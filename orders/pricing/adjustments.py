"""The vocabulary every pricing step answers in: adjustments (what changed the amount, and why) and
notices (why something did not apply, or what staff should know).

Not in the layout's list of modules: the steps (promotions, coupons, credit, ...) all produce these, and
`quote` collects them, so they live apart from any one step to keep the imports one-way.

Messages are lazy translations (`format_lazy`): building a quote touches no translation catalog, and the
text appears in the reader's language when it is shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class Step(StrEnum):
    """The steps of a quote, in the order the commerce rules apply them."""

    ITEM_PROMOTION = "item_promotion"
    ORDER_PROMOTION = "order_promotion"
    COUPON = "coupon"
    CUSTOM_DISCOUNT = "custom_discount"
    CREDIT = "credit"
    SHIPPING = "shipping"
    TAX = "tax"


class Source(StrEnum):
    """What an adjustment or a notice comes from (with `source_id` naming which one)."""

    PROMOTION = "promotion"
    COUPON = "coupon"
    CUSTOM = "custom"
    CREDIT = "credit"
    SHIPPING = "shipping"
    TAX = "tax"
    LINE = "line"


def twd(amount: int) -> str:
    """NT$1,234 (the currency as Taiwanese shops write it)."""
    return f"NT${amount:,}"


def message(template, **params):
    """A lazily translated message: `template` is a `gettext_lazy` string with {named} fields."""
    return format_lazy(template, **params)


@dataclass(frozen=True)
class Touch:
    """What one adjustment did to one line: the units it took and the dollars it took off that line.

    `reward_units` are the units given free or at a reduced price by a buy-X-get-Y promotion (the other
    units it took are the ones bought to earn them)."""

    line_key: str
    units: int
    amount: int
    reward_units: int = 0


@dataclass(frozen=True)
class Adjustment:
    """One change to the amount: negative for discounts and credit, positive for shipping and added tax.

    `source_id` is the promotion or coupon id, or the custom discount's position (1-5); `code` is the
    coupon's code. Item promotions list the lines and units they touched."""

    step: Step
    source: Source
    source_id: int | None
    label: str
    amount: int
    kind: str = ""
    kind_label: str = ""
    code: str = ""
    touches: tuple[Touch, ...] = ()


@dataclass(frozen=True)
class Notice:
    """Why something did not apply (a coupon condition, a promotion left out, a credit rule), or a warning
    (stock). `code` is stable for programs; `message` is for people."""

    code: str
    message: str
    source: Source
    source_id: int | None = None
    line_key: str = ""


__all__ = ["Adjustment", "Notice", "Source", "Step", "Touch", "message", "twd"]
