"""Tax (step 8), one of the shop's modes:

- `included` (prices include tax, common in Taiwan): the total is unchanged; the quote shows the tax it
  contains, round_half_up(total × r / (1 + r)).
- `all` (all products taxed): round_half_up((merchandise after credit + shipping) × r), added.
- `per_product` (extra consumption tax on some products): for each taxable line,
  round_half_up(the line's amount after its share of the order-level discounts × r), added; shipping is
  not taxed. The shares are computed by `quote` (`rounding.allocate`).
- `none`: no tax shown.

`formula` spells the calculation out for the quote's tax block.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from orders.pricing.cart import PricingError
from orders.pricing.rounding import as_percent, tax_added, tax_included


class TaxMode(StrEnum):
    NONE = "none"
    INCLUDED = "included"
    ALL = "all"
    PER_PRODUCT = "per_product"


@dataclass(frozen=True)
class TaxPolicy:
    mode: TaxMode = TaxMode.NONE
    rate: Decimal = Decimal(5)  # percent

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", TaxMode(self.mode))
        rate = as_percent(self.rate)
        if not 0 <= rate <= 100:
            raise PricingError("tax.rate", _("A tax rate is between 0 and 100 percent."))
        object.__setattr__(self, "rate", rate)


@dataclass(frozen=True)
class TaxableLine:
    line_key: str
    base: int
    taxable: bool


@dataclass(frozen=True)
class LineTax:
    line_key: str
    base: int
    amount: int


@dataclass(frozen=True)
class TaxResult:
    """`added`: the amount is added to the total (modes all and per_product); otherwise it is only shown."""

    mode: TaxMode
    rate: Decimal
    base: int
    amount: int
    added: bool
    formula: str
    lines: tuple[LineTax, ...] = ()


def _pct(rate: Decimal) -> str:
    return f"{rate.normalize():f}%"


def compute_tax(
    policy: TaxPolicy, *, merchandise: int, shipping: int, lines: Sequence[TaxableLine]
) -> TaxResult:
    """`merchandise` is after store credit; `lines` carry each line's amount after its share of discounts."""
    rate = policy.rate
    if policy.mode is TaxMode.INCLUDED:
        total = merchandise + shipping
        amount = tax_included(total, rate)
        formula = f"round({total} × {_pct(rate)} / (1 + {_pct(rate)})) = {amount}"
        return TaxResult(policy.mode, rate, total, amount, False, formula)
    if policy.mode is TaxMode.ALL:
        base = merchandise + shipping
        amount = tax_added(base, rate)
        formula = f"round(({merchandise} + {shipping}) × {_pct(rate)}) = {amount}"
        return TaxResult(policy.mode, rate, base, amount, True, formula)
    if policy.mode is TaxMode.PER_PRODUCT:
        taxed = tuple(LineTax(line.line_key, line.base, tax_added(line.base, rate)) for line in lines if line.taxable)
        amount = sum(line.amount for line in taxed)
        pct = _pct(rate)
        parts = " + ".join(f"round({line.base} × {pct})" for line in taxed) or "0"
        formula = f"{parts} = {amount}"
        return TaxResult(policy.mode, rate, sum(line.base for line in taxed), amount, True, formula, taxed)
    return TaxResult(policy.mode, rate, 0, 0, False, "")
