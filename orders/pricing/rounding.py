"""The one place where money meets rates.

Money is an `int` of TWD everywhere in the engine. A rate (a percentage off, a tax rate) is a `Decimal`
percentage (`Decimal("5")` is 5 %), and every product of money and a rate goes through one function here
and is rounded exactly once, at the step the commerce rules name:

- half up unless the rule says otherwise (order promotions, buy-X-get-Y rewards, tax);
- down for percentage coupons ("round down to the dollar").

`allocate` spreads an amount over weights in whole dollars (largest remainder method), used for a
group's saving over its lines and for order-level discounts over the lines (per-product tax).
"""
from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

HUNDRED = Decimal(100)
_ONE = Decimal(1)


def as_percent(value: Decimal | int | str) -> Decimal:
    """A percentage as a Decimal; floats are refused (they can't say 5 % exactly)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError("percentages are Decimal, int or str, never float")
    try:
        percent = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a percentage: {value!r}") from exc
    if not percent.is_finite():
        raise ValueError(f"not a percentage: {value!r}")
    return percent


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP))


def round_down(value: Decimal) -> int:
    """Towards zero (for the non-negative amounts it is used on: down to the dollar)."""
    return int(value.quantize(_ONE, rounding=ROUND_DOWN))


def percent_of(amount: int, percent: Decimal, *, down: bool = False) -> int:
    """`percent` % of `amount`, rounded once: half up, or down when `down`."""
    exact = Decimal(amount) * percent / HUNDRED
    return round_down(exact) if down else round_half_up(exact)


def tax_added(amount: int, rate: Decimal) -> int:
    """Tax added on top of `amount`: round_half_up(amount × r)."""
    return percent_of(amount, rate)


def tax_included(amount: int, rate: Decimal) -> int:
    """The tax inside a tax-inclusive `amount`: round_half_up(amount × r / (1 + r))."""
    if rate <= 0:
        return 0
    return round_half_up(Decimal(amount) * rate / (HUNDRED + rate))


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` dollars in proportion to `weights`, in whole dollars that add up to `total`.

    Each part gets the floor of its exact share; the dollars left over go one each to the parts with the
    largest remainders, ties to the larger weight, then to the earlier part. No part exceeds its weight
    when `total` <= sum(weights) (each part is at most the ceiling of its exact share).
    """
    if total < 0:
        raise ValueError("allocate() spreads a non-negative amount")
    if weights and min(weights) < 0:
        raise ValueError("weights are non-negative")
    whole = sum(weights)
    if total == 0:
        return [0] * len(weights)
    if whole == 0:
        raise ValueError("cannot spread an amount over zero weights")
    parts = [total * w // whole for w in weights]
    left = total - sum(parts)
    if left:
        # (It runs for every group a 任選 forms across lines: sorting plain tuples, no key function.)
        ranked = sorted([(-(total * w % whole), -w, i) for i, w in enumerate(weights)])
        for _, _, i in ranked[:left]:
            parts[i] += 1
    return parts
