"""What is being priced: the cart's lines, and the targets promotions and coupons pick lines by.

Lines are built once by `orders.selectors` from the catalog (or from a custom product typed in the order)
and are immutable. A line's `key` identifies it in the quote (adjustments and notices point at it); keys
are unique within a cart and also order the lines wherever two of them would otherwise tie, so the same
cart prices the same whatever order its lines come in.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from orders.pricing.adjustments import message

MAX_LINES = 100
MAX_QUANTITY = 999
MAX_UNIT_PRICE = 10_000_000


class PricingError(ValueError):
    """Input the engine refuses (it never guesses): `code` for programs, `message` for people."""

    def __init__(self, code: str, msg) -> None:
        super().__init__(str(msg))
        self.code = code
        self.message = msg


def check_money(value: object, what: str, *, maximum: int | None = None) -> int:
    """A non-negative integer amount of TWD (bools and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PricingError("money.not_integer", message(_("{what} must be a whole number of dollars."), what=what))
    if value < 0:
        raise PricingError("money.negative", message(_("{what} can't be negative."), what=what))
    if maximum is not None and value > maximum:
        raise PricingError("money.too_large", message(_("{what} can't be more than {maximum}."), what=what, maximum=maximum))
    return value


def _frozen(values: Iterable) -> frozenset:
    if isinstance(values, (str, bytes)):
        raise TypeError("give a collection of values, not a string")
    return frozenset(values)


@dataclass(frozen=True)
class CartLine:
    """One line: a catalog variant, a gift (priced 0, consumes gift stock) or a custom product.

    `tags` are the product's tag names (promotion and coupon targeting); `taxable` marks a product that
    carries the extra consumption tax in the per-product tax mode; `available` is the stock left (a warning
    when the quantity is above it; `place_order` enforces stock), None when not tracked."""

    key: str
    name: str
    unit_price: int
    quantity: int
    product_id: int | None = None
    variant_id: int | None = None
    gift_id: int | None = None
    sku: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)
    is_gift: bool = False
    is_custom: bool = False
    taxable: bool = False
    available: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _frozen(self.tags))
        if not isinstance(self.key, str) or not self.key:
            raise PricingError("line.key", _("Every line needs a key."))
        check_money(self.unit_price, _("A unit price"), maximum=MAX_UNIT_PRICE)
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or not 1 <= self.quantity <= MAX_QUANTITY:
            raise PricingError(
                "line.quantity", message(_("A quantity is a whole number from 1 to {maximum}."), maximum=MAX_QUANTITY)
            )
        if self.is_gift and self.unit_price != 0:
            raise PricingError("line.gift_price", _("A gift is priced 0."))
        if self.is_gift and self.is_custom:
            raise PricingError("line.kind", _("A line is a gift or a custom product, not both."))

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity

    @property
    def is_catalog(self) -> bool:
        """A product from the catalog: the only lines promotions and coupons can target."""
        return not (self.is_gift or self.is_custom)


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", tuple(self.lines))
        if len(self.lines) > MAX_LINES:
            raise PricingError("cart.too_many_lines", message(_("A cart holds at most {maximum} lines."), maximum=MAX_LINES))
        keys = [line.key for line in self.lines]
        if len(set(keys)) != len(keys):
            raise PricingError("cart.duplicate_key", _("Two lines of the cart have the same key."))


@dataclass(frozen=True)
class Target:
    """Which catalog lines a promotion or coupon applies to: any of the products, variants or tags.

    Empty means every catalog product. Gifts and custom products are never targeted."""

    product_ids: frozenset[int] = field(default_factory=frozenset)
    variant_ids: frozenset[int] = field(default_factory=frozenset)
    tags: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "product_ids", _frozen(self.product_ids))
        object.__setattr__(self, "variant_ids", _frozen(self.variant_ids))
        object.__setattr__(self, "tags", _frozen(self.tags))

    @property
    def is_everything(self) -> bool:
        return not (self.product_ids or self.variant_ids or self.tags)

    def matches(self, line: CartLine) -> bool:
        if not line.is_catalog:
            return False
        if self.is_everything:
            return True
        return (
            (line.product_id is not None and line.product_id in self.product_ids)
            or (line.variant_id is not None and line.variant_id in self.variant_ids)
            or bool(self.tags & line.tags)
        )


EVERYTHING = Target()
