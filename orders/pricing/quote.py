"""`quote(cart, context)`: the price of a cart, step by step, as `commerce-rules.md` §1 orders them.

1. lines (gifts at 0)              2. item promotions            3. order promotions
4. coupon                          5. custom discounts (≤ 5)      6. store credit
7. shipping (threshold on 5)       8. tax                         9. total = 6 + shipping (+ added tax)

Pure: frozen dataclasses in, a frozen `Quote` out; no database, no settings, no clock (the context
carries `now` for coupon windows). The quick-order panel calls it on every change through the quote
API, and `place_order` calls it again, on rows it has locked, to charge exactly what it shows.

Every adjustment names its source (promotion id, coupon code, custom label, credit, shipping method) and
`subtotal + sum(adjustment amounts) == total` (included tax is shown, not added, so it is not an
adjustment). Everything that did not apply says why in `notices`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.utils.translation import gettext_lazy as _

from orders.pricing.adjustments import Adjustment, Notice, Source, Step, Touch, message, twd
from orders.pricing.cart import Cart, PricingError, check_money
from orders.pricing.coupons import Coupon, check_coupon, coupon_discount, normalize_code, unknown_code
from orders.pricing.credit import CreditPolicy, CreditResult, redeem_credit
from orders.pricing.promotions import (
    Bundle,
    BuyXGetY,
    OrderDiscount,
    PickAny,
    Promotion,
    PromotionKind,
    apply_item_promotions,
    apply_order_promotions,
)
from orders.pricing.rounding import allocate
from orders.pricing.shipping import ShippingOption, ShippingResult, shipping_charge
from orders.pricing.tax import TaxableLine, TaxPolicy, TaxResult, compute_tax

MAX_CUSTOM_DISCOUNTS = 5
MAX_LABEL_LENGTH = 50
DEFAULT_CUSTOM_LABEL = _("Custom discount")


@dataclass(frozen=True)
class CustomDiscount:
    """A manual discount staff add in the order (unrelated to the shop's promotions)."""

    label: str
    amount: int

    def __post_init__(self) -> None:
        check_money(self.amount, _("A custom discount"))
        label = (self.label or "").strip()
        if len(label) > MAX_LABEL_LENGTH:
            raise PricingError(
                "custom_discount.label", message(_("A discount's name has at most {maximum} characters."), maximum=MAX_LABEL_LENGTH)
            )
        object.__setattr__(self, "label", label)


def too_many_custom_discounts() -> PricingError:
    return PricingError(
        "custom_discounts.too_many",
        message(_("An order can have at most {maximum} custom discounts."), maximum=MAX_CUSTOM_DISCOUNTS),
    )


@dataclass(frozen=True)
class Context:
    """Everything besides the cart that decides the price, as the selector read it once.

    `coupon_code` is what staff typed; `coupon` is the coupon found for it (None: no such code).
    `credit_balance` is the customer's usable (unexpired) balance; `credit_requested` the amount staff
    entered, None for "as much as allowed"."""

    promotions: tuple[Promotion, ...] = ()
    coupon_code: str = ""
    coupon: Coupon | None = None
    custom_discounts: tuple[CustomDiscount, ...] = ()
    credit: CreditPolicy = field(default_factory=CreditPolicy)
    credit_balance: int = 0
    credit_requested: int | None = None
    shipping: ShippingOption | None = None
    tax: TaxPolicy = field(default_factory=TaxPolicy)
    now: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "promotions", tuple(self.promotions))
        object.__setattr__(self, "custom_discounts", tuple(self.custom_discounts))
        if len(self.custom_discounts) > MAX_CUSTOM_DISCOUNTS:
            raise too_many_custom_discounts()
        if self.coupon is not None and not self.coupon_code:
            object.__setattr__(self, "coupon_code", self.coupon.code)


@dataclass(frozen=True)
class LinePromotion:
    """A promotion shown on the line it touched, with its type label (任選, A+B, 買X享Y)."""

    promotion_id: int
    name: str
    kind: PromotionKind
    kind_label: str
    units: int
    reward_units: int
    discount: int


@dataclass(frozen=True)
class QuoteLine:
    """`discount`: item promotions; `order_discount_share`: the line's share of the order-level discounts
    (steps 3-6, spread in proportion to `amount_after_promotions`); `net`: what the line finally costs
    before shipping and tax."""

    key: str
    name: str
    sku: str
    product_id: int | None
    variant_id: int | None
    gift_id: int | None
    unit_price: int
    quantity: int
    amount: int
    discount: int
    amount_after_promotions: int
    order_discount_share: int
    net: int
    is_gift: bool
    is_custom: bool
    taxable: bool
    tax: int
    promotions: tuple[LinePromotion, ...] = ()


@dataclass(frozen=True)
class CouponResult:
    code: str
    coupon_id: int | None
    label: str
    applied: bool
    discount: int
    reasons: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class CustomDiscountResult:
    position: int
    label: str
    requested: int
    applied: int


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    subtotal: int  # step 1
    item_discount: int
    after_item_promotions: int  # step 2
    order_discount: int
    after_order_promotions: int  # step 3
    coupon: CouponResult | None
    after_coupon: int  # step 4
    custom_discounts: tuple[CustomDiscountResult, ...]
    merchandise: int  # step 5: what credit and free shipping are judged on
    credit: CreditResult
    after_credit: int  # step 6
    shipping: ShippingResult | None
    tax: TaxResult
    total: int
    adjustments: tuple[Adjustment, ...]
    notices: tuple[Notice, ...]

    @property
    def shipping_amount(self) -> int:
        return self.shipping.amount if self.shipping else 0


def _custom_label(discount: CustomDiscount):
    return discount.label or DEFAULT_CUSTOM_LABEL


def _coupon_touches(coupon: Coupon, lines, after_items: dict[str, int], discount: int) -> tuple[Touch, ...]:
    """A coupon aimed at some items names them, its discount spread over them; a store-wide one, none."""
    if coupon.target.is_everything:
        return ()
    eligible = sorted(
        (line for line in lines if coupon.target.matches(line) and after_items[line.key] > 0), key=lambda line: line.key
    )
    if not eligible:
        return ()
    weights = [after_items[line.key] for line in eligible]
    shares = allocate(min(discount, sum(weights)), weights)
    return tuple(Touch(line.key, line.quantity, share) for line, share in zip(eligible, shares))


def _thresholds_lost(context, coupon_result, custom_results, shipping, credit, merchandise: int, before_discounts: int):
    """Notices for staff when the coupon or custom discounts take the order below a threshold that it
    reaches without them (free shipping, or the minimum to use store credit).

    The reference judges both thresholds on the amount after steps 4-5 (§1 steps 6-7), so a small
    discount can cost the customer more than it saves; the quote keeps that order and says so."""
    coupon = bool(coupon_result and coupon_result.discount)
    custom = any(result.applied for result in custom_results)
    if merchandise >= before_discounts or not (coupon or custom):
        return []
    what = (
        _("the coupon and the custom discounts") if coupon and custom else _("the coupon") if coupon else _("the custom discounts")
    )
    notices = []
    threshold = shipping.free_threshold if shipping else None
    if shipping is not None and shipping.amount and threshold is not None and before_discounts >= threshold:
        notices.append(
            Notice(
                code="shipping.free_lost_to_discounts",
                message=message(
                    _(
                        "After {what}, the items come to {amount}, under the free-shipping threshold of {threshold}: "
                        "shipping ({fee}) is charged, which it would not be without them."
                    ),
                    what=what,
                    amount=twd(merchandise),
                    threshold=twd(threshold),
                    fee=twd(shipping.amount),
                ),
                source=Source.SHIPPING,
                source_id=shipping.method_id,
            )
        )
    minimum = context.credit.minimum_order
    if credit.offered and not credit.eligible and before_discounts >= minimum and before_discounts > 0:
        notices.append(
            Notice(
                code="credit.minimum_lost_to_discounts",
                message=message(
                    _(
                        "After {what}, the items come to {amount}, under the {minimum} needed to use store credit, "
                        "which they would reach without them."
                    ),
                    what=what,
                    amount=twd(merchandise),
                    minimum=twd(minimum),
                ),
                source=Source.CREDIT,
            )
        )
    return notices


def quote(cart: Cart, context: Context) -> Quote:
    lines = cart.lines
    notices: list[Notice] = []
    adjustments: list[Adjustment] = []

    # 1. Lines.
    subtotal = sum(line.amount for line in lines)
    for line in lines:
        if line.available is not None and line.quantity > line.available:
            notices.append(
                Notice(
                    code="line.short_of_stock",
                    message=message(_("{name}: only {available} left."), name=line.name, available=line.available),
                    source=Source.LINE,
                    line_key=line.key,
                )
            )

    # 2. Item promotions.
    item_promotions = [p for p in context.promotions if isinstance(p, (PickAny, Bundle, BuyXGetY))]
    order_promotions = [p for p in context.promotions if isinstance(p, OrderDiscount)]
    items = apply_item_promotions(lines, item_promotions)
    notices.extend(items.notices)
    line_promotions: dict[str, list[LinePromotion]] = {line.key: [] for line in lines}
    # Each application's saving, the item discount and the discount per line, in one pass over the touches.
    line_discount: dict[str, int] = {}
    item_discount = 0
    for application in items.applications:
        promo = application.promotion
        kind, kind_label = promo.kind, promo.kind.label
        saving = 0
        for touch in application.touches:
            saving += touch.amount
            line_discount[touch.line_key] = line_discount.get(touch.line_key, 0) + touch.amount
            line_promotions[touch.line_key].append(
                LinePromotion(promo.id, promo.name, kind, kind_label, touch.units, touch.reward_units, touch.amount)
            )
        item_discount += saving
        adjustments.append(
            Adjustment(
                step=Step.ITEM_PROMOTION,
                source=Source.PROMOTION,
                source_id=promo.id,
                label=promo.name,
                amount=-saving,
                kind=kind.value,
                kind_label=kind_label,
                touches=application.touches,
            )
        )
    after_items = {line.key: line.amount - line_discount.get(line.key, 0) for line in lines}
    after_item_promotions = subtotal - item_discount

    # 3. Order promotions.
    orders = apply_order_promotions(after_item_promotions, order_promotions)
    notices.extend(orders.notices)
    for application in orders.applications:
        promo = application.promotion
        adjustments.append(
            Adjustment(
                step=Step.ORDER_PROMOTION,
                source=Source.PROMOTION,
                source_id=promo.id,
                label=promo.name,
                amount=-application.discount,
                kind=promo.kind.value,
                kind_label=promo.kind.label,
            )
        )
    after_order_promotions = after_item_promotions - orders.discount

    # 4. Coupon.
    coupon_result = None
    after_coupon = after_order_promotions
    if context.coupon_code or context.coupon is not None:
        coupon = context.coupon
        if coupon is None:
            reasons = (unknown_code(context.coupon_code),)
            code = normalize_code(context.coupon_code)
            coupon_result = CouponResult(code, None, code, False, 0, reasons)
        else:
            reasons = check_coupon(coupon, lines=lines, base=after_order_promotions, now=context.now)
            discount = 0
            if not reasons:
                discount = coupon_discount(coupon, lines=lines, line_amounts=after_items, base=after_order_promotions)
            coupon_result = CouponResult(coupon.code, coupon.id, coupon.label, not reasons, discount, reasons)
            if discount:
                adjustments.append(
                    Adjustment(
                        step=Step.COUPON,
                        source=Source.COUPON,
                        source_id=coupon.id,
                        label=coupon.label,
                        amount=-discount,
                        code=coupon.code,
                        touches=_coupon_touches(coupon, lines, after_items, discount),
                    )
                )
            after_coupon -= discount
        notices.extend(coupon_result.reasons)

    # 5. Custom discounts: never below 0.
    merchandise = after_coupon
    custom_results = []
    for position, custom in enumerate(context.custom_discounts, start=1):
        applied = min(custom.amount, merchandise)
        merchandise -= applied
        label = _custom_label(custom)
        custom_results.append(CustomDiscountResult(position, label, custom.amount, applied))
        if applied < custom.amount:
            notices.append(
                Notice(
                    code="custom_discount.capped",
                    message=message(
                        _("{label}: only {applied} could be taken off (the items can't cost less than NT$0)."),
                        label=label,
                        applied=twd(applied),
                    ),
                    source=Source.CUSTOM,
                    source_id=position,
                )
            )
        if applied:
            adjustments.append(
                Adjustment(step=Step.CUSTOM_DISCOUNT, source=Source.CUSTOM, source_id=position, label=label, amount=-applied)
            )

    # 6. Store credit, 7. shipping (judged on the merchandise before credit).
    credit = redeem_credit(
        policy=context.credit, balance=context.credit_balance, requested=context.credit_requested, amount_due=merchandise
    )
    notices.extend(credit.notices)
    after_credit = merchandise - credit.applied
    if credit.applied:
        adjustments.append(
            Adjustment(step=Step.CREDIT, source=Source.CREDIT, source_id=None, label=_("Store credit"), amount=-credit.applied)
        )
    shipping = shipping_charge(context.shipping, merchandise=merchandise)
    shipping_amount = shipping.amount if shipping else 0
    if shipping is not None:
        adjustments.append(
            Adjustment(
                step=Step.SHIPPING,
                source=Source.SHIPPING,
                source_id=shipping.method_id,
                label=shipping.name,
                amount=shipping_amount,
                code=shipping.code,
            )
        )

    notices.extend(
        _thresholds_lost(context, coupon_result, custom_results, shipping, credit, merchandise, after_order_promotions)
    )

    # Order-level discounts (steps 3-6) spread over the lines, for per-product tax and the order's rows.
    # Lines in key order, so that ties in the spread don't depend on the order the lines came in.
    by_key = sorted(lines, key=lambda line: line.key)
    order_level = after_item_promotions - after_credit
    shares = allocate(order_level, [after_items[line.key] for line in by_key]) if order_level else [0] * len(by_key)
    share_of = {line.key: share for line, share in zip(by_key, shares)}

    # 8. Tax, 9. total.
    tax = compute_tax(
        context.tax,
        merchandise=after_credit,
        shipping=shipping_amount,
        lines=[TaxableLine(line.key, after_items[line.key] - share_of[line.key], line.taxable) for line in lines],
    )
    if tax.added and tax.amount:
        adjustments.append(
            Adjustment(step=Step.TAX, source=Source.TAX, source_id=None, label=_("Tax"), amount=tax.amount)
        )
    total = after_credit + shipping_amount + (tax.amount if tax.added else 0)
    tax_of = {line.line_key: line.amount for line in tax.lines}

    quote_lines = tuple(
        QuoteLine(
            key=line.key,
            name=line.name,
            sku=line.sku,
            product_id=line.product_id,
            variant_id=line.variant_id,
            gift_id=line.gift_id,
            unit_price=line.unit_price,
            quantity=line.quantity,
            amount=line.amount,
            discount=line_discount.get(line.key, 0),
            amount_after_promotions=after_items[line.key],
            order_discount_share=share_of[line.key],
            net=after_items[line.key] - share_of[line.key],
            is_gift=line.is_gift,
            is_custom=line.is_custom,
            taxable=line.taxable,
            tax=tax_of.get(line.key, 0),
            promotions=tuple(line_promotions[line.key]),
        )
        for line in lines
    )
    return Quote(
        lines=quote_lines,
        subtotal=subtotal,
        item_discount=item_discount,
        after_item_promotions=after_item_promotions,
        order_discount=orders.discount,
        after_order_promotions=after_order_promotions,
        coupon=coupon_result,
        after_coupon=after_coupon,
        custom_discounts=tuple(custom_results),
        merchandise=merchandise,
        credit=credit,
        after_credit=after_credit,
        shipping=shipping,
        tax=tax,
        total=total,
        adjustments=tuple(adjustments),
        notices=tuple(notices),
    )


@dataclass(frozen=True)
class CouponOption:
    """A coupon in the customer's list: usable or not, why not, and what it would take off this order."""

    coupon: Coupon
    usable: bool
    discount: int
    reasons: tuple[Notice, ...]


def coupon_options(cart: Cart, context: Context, coupons: Sequence[Coupon]) -> tuple[CouponOption, ...]:
    """Each of `coupons` judged against this cart (the list shows the usable ones; a typed one says why)."""
    base_context = replace(context, coupon=None, coupon_code="")
    options = []
    for coupon in coupons:
        result = quote(cart, replace(base_context, coupon=coupon, coupon_code=coupon.code)).coupon
        options.append(CouponOption(coupon, result.applied, result.discount, result.reasons))
    return tuple(options)
