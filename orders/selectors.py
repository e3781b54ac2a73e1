"""Reads for the quick order: the catalog listing, and the pricing engine's inputs built from the
database once per quote (`pricing_inputs`), so `orders.pricing.quote` never touches the ORM.

`place_order` (later) calls `pricing_inputs` on rows it has locked and prices with the same engine.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils.translation import gettext_lazy as _

from orders import pricing
from orders.errors import CartInputError
from orders.logistics import DELIVERY_RULES, DeliveryType
from orders.models import (
    CommerceSettings, Coupon, DeliveryMethod, Gift, Order, OrderStatus, PaymentMethod, PaymentStatus, Product, ProductTag, Promotion, Variant,
)
from orders.pricing import normalize_code

logger = logging.getLogger(__name__)

# --- Catalog --------------------------------------------------------------------------------------------


def product_list(*, q: str = "", limit: int = 50) -> QuerySet[Product]:
    """Products staff can add to an order (not archived; custom ones only once published), matching `q`
    in the name, a variant's SKU or a tag; with their active variants and tags in two more queries."""
    products = Product.objects.filter(is_archived=False).exclude(is_custom=True, visibility=Product.Visibility.HIDDEN)
    for word in (q or "").split():
        products = products.filter(
            Q(name__icontains=word) | Q(variants__sku__icontains=word) | Q(tags__name__icontains=word)
        )
    ids = products.order_by().values("id").distinct()
    return (
        Product.objects.filter(id__in=ids)
        .prefetch_related(
            Prefetch("variants", queryset=Variant.objects.filter(is_active=True).order_by("position", "id")),
            "tags",
        )
        .order_by("name", "id")[:limit]
    )


def gift_list(*, q: str = "") -> QuerySet[Gift]:
    gifts = Gift.objects.filter(is_active=True)
    for word in (q or "").split():
        gifts = gifts.filter(Q(name__icontains=word) | Q(sku__icontains=word))
    return gifts.order_by("name", "id")


def delivery_method_list() -> QuerySet[DeliveryMethod]:
    """What the quick order offers: never a hidden method."""
    return DeliveryMethod.objects.filter(is_hidden=False).order_by("position", "id")


def payment_method_list(*, delivery: DeliveryMethod | None = None) -> list[PaymentMethod]:
    """Visible payment methods; for a delivery method, only those the one table allows for its type and,
    when the shop narrowed the method's payments, only those."""
    methods = list(PaymentMethod.objects.filter(is_hidden=False).order_by("position", "id"))
    if delivery is None:
        return methods
    allowed = DELIVERY_RULES[DeliveryType(delivery.type)].payments
    narrowed = set(delivery.payment_methods.values_list("id", flat=True))
    return [m for m in methods if m.type in allowed and (not narrowed or m.pk in narrowed)]


# --- Pricing inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantLine:
    variant_id: int
    quantity: int


@dataclass(frozen=True)
class GiftLine:
    gift_id: int
    quantity: int


@dataclass(frozen=True)
class CustomLine:
    """A custom product typed in the order (name, price, quantity); saved as a product by `place_order`."""

    name: str
    unit_price: int
    quantity: int
    taxable: bool = False


LineRequest = VariantLine | GiftLine | CustomLine


def _target(products, tags) -> pricing.Target:
    return pricing.Target(product_ids=frozenset(p.pk for p in products), tags=frozenset(t.name for t in tags))


def promotion_to_pricing(promotion: Promotion) -> pricing.PickAny | pricing.Bundle | pricing.BuyXGetY | pricing.OrderDiscount:
    """The engine's dataclass for a promotion row (its M2M relations prefetched)."""
    kind = Promotion.Kind
    target = _target(promotion.products.all(), promotion.tags.all())
    if promotion.kind == kind.PICK_ANY:
        return pricing.PickAny(
            id=promotion.pk, name=promotion.name, size=promotion.group_size, price=promotion.group_price, target=target
        )
    if promotion.kind == kind.BUNDLE:
        return pricing.Bundle(
            id=promotion.pk,
            name=promotion.name,
            a=target,
            b=_target(promotion.b_products.all(), promotion.b_tags.all()),
            price=promotion.bundle_price,
            discount=promotion.bundle_discount,
        )
    if promotion.kind == kind.BUY_X_GET_Y:
        return pricing.BuyXGetY(
            id=promotion.pk,
            name=promotion.name,
            buy=promotion.buy_quantity,
            get=promotion.get_quantity,
            percent_off=promotion.get_percent_off,
            repeat=promotion.repeat,
            target=target,
        )
    return pricing.OrderDiscount(
        id=promotion.pk,
        name=promotion.name,
        min_spend=promotion.min_spend,
        amount_off=promotion.amount_off,
        percent_off=promotion.percent_off,
        stackable=promotion.stackable,
    )


def coupon_to_pricing(coupon: Coupon, *, customer_uses: int = 0) -> pricing.Coupon:
    return pricing.Coupon(
        id=coupon.pk,
        code=coupon.code,
        name=coupon.name,
        kind=pricing.CouponKind(coupon.kind),
        amount_off=coupon.amount_off,
        percent_off=coupon.percent_off,
        max_discount=coupon.max_discount,
        minimum_amount=coupon.minimum_amount,
        target=_target(coupon.products.all(), coupon.tags.all()),
        usage_limit=coupon.usage_limit,
        usage_count=coupon.usage_count,
        per_customer_limit=coupon.per_customer_limit,
        customer_uses=customer_uses,
        starts_at=coupon.starts_at,
        ends_at=coupon.ends_at,
        is_active=coupon.is_active,
    )


def _usable_promotions(rows: Sequence[Promotion]):
    """The engine's promotions; a row the admin's checks were bypassed for (e.g. a pick-any without its
    price) is left out and logged rather than making every quote fail."""
    for row in rows:
        try:
            yield promotion_to_pricing(row)
        except (pricing.PricingError, TypeError, ValueError):
            logger.warning("promotion %s is incomplete and was left out of pricing", row.pk)


def active_promotions(*, now: dt.datetime) -> list[Promotion]:
    return list(
        Promotion.objects.active_at(now)
        .prefetch_related(
            Prefetch("products", queryset=Product.objects.only("id")),
            Prefetch("tags", queryset=ProductTag.objects.only("id", "name")),
            Prefetch("b_products", queryset=Product.objects.only("id")),
            Prefetch("b_tags", queryset=ProductTag.objects.only("id", "name")),
        )
        .order_by("id")
    )


def coupon_by_code(code: str) -> Coupon | None:
    code = normalize_code(code)
    if not code:
        return None
    return Coupon.objects.prefetch_related("products", "tags").filter(code__iexact=code).first()


def tax_policy(settings: CommerceSettings) -> pricing.TaxPolicy:
    return pricing.TaxPolicy(mode=pricing.TaxMode(settings.tax_mode), rate=settings.tax_rate)


def credit_policy(settings: CommerceSettings) -> pricing.CreditPolicy:
    return pricing.CreditPolicy(
        enabled=settings.credit_enabled,
        minimum_order=settings.credit_min_order,
        max_per_order=settings.credit_max_per_order,
        customer_may_choose=settings.credit_customer_may_choose,
    )


def _cart(lines: Sequence[LineRequest]) -> pricing.Cart:
    variant_qty: dict[int, int] = {}
    gift_qty: dict[int, int] = {}
    for line in lines:  # the same variant or gift twice is one line
        if isinstance(line, VariantLine):
            variant_qty[line.variant_id] = variant_qty.get(line.variant_id, 0) + line.quantity
        elif isinstance(line, GiftLine):
            gift_qty[line.gift_id] = gift_qty.get(line.gift_id, 0) + line.quantity
    variants = {
        v.pk: v
        for v in Variant.objects.filter(pk__in=variant_qty, is_active=True, product__is_archived=False)
        .select_related("product")
        .prefetch_related(Prefetch("product__tags", queryset=ProductTag.objects.only("id", "name")))
    }
    gifts = {g.pk: g for g in Gift.objects.filter(pk__in=gift_qty, is_active=True)}
    errors = {}
    for variant_id in variant_qty:
        if variant_id not in variants:
            errors[f"variant:{variant_id}"] = _("This product is no longer available.")
    for gift_id in gift_qty:
        if gift_id not in gifts:
            errors[f"gift:{gift_id}"] = _("This gift is no longer available.")
    if errors:
        raise CartInputError(_("Some items can't be ordered."), errors=errors)

    cart_lines, seen, customs = [], set(), 0
    for line in lines:
        if isinstance(line, VariantLine):
            if line.variant_id in seen:
                continue
            seen.add(line.variant_id)
            v = variants[line.variant_id]
            cart_lines.append(
                pricing.CartLine(
                    key=f"v{v.pk}",
                    name=f"{v.product.name} {v.label}".strip(),
                    unit_price=v.price,
                    quantity=variant_qty[v.pk],
                    product_id=v.product_id,
                    variant_id=v.pk,
                    sku=v.sku,
                    tags=frozenset(t.name for t in v.product.tags.all()),
                    taxable=v.product.taxable,
                    available=v.stock,
                )
            )
        elif isinstance(line, GiftLine):
            if ("gift", line.gift_id) in seen:
                continue
            seen.add(("gift", line.gift_id))
            g = gifts[line.gift_id]
            cart_lines.append(
                pricing.CartLine(
                    key=f"g{g.pk}",
                    name=g.name,
                    unit_price=0,
                    quantity=gift_qty[g.pk],
                    gift_id=g.pk,
                    sku=g.sku,
                    is_gift=True,
                    available=g.stock,
                )
            )
        else:
            customs += 1
            cart_lines.append(
                pricing.CartLine(
                    key=f"c{customs}",
                    name=line.name,
                    unit_price=line.unit_price,
                    quantity=line.quantity,
                    is_custom=True,
                    taxable=line.taxable,
                )
            )
    return pricing.Cart(lines=tuple(cart_lines))


def pricing_inputs(
    *,
    lines: Sequence[LineRequest],
    now: dt.datetime,
    coupon_code: str = "",
    custom_discounts: Sequence[pricing.CustomDiscount] = (),
    delivery_method_id: int | None = None,
    credit_balance: int = 0,
    credit_requested: int | None = None,
    coupon_customer_uses: int = 0,
) -> tuple[pricing.Cart, pricing.Context]:
    """The engine's Cart and Context for a quick order, read from the database once (a fixed number of
    queries whatever the cart's size). `credit_balance` is the customer's usable balance (from the
    customer's ledger once that is linked). Unknown or unavailable items and hidden delivery methods
    raise `CartInputError`; the engine's own refusals raise `pricing.PricingError`."""
    if len(custom_discounts) > pricing.MAX_CUSTOM_DISCOUNTS:
        raise pricing.too_many_custom_discounts()
    cart = _cart(lines)
    settings = CommerceSettings.load()
    shipping = None
    if delivery_method_id is not None:
        method = DeliveryMethod.objects.filter(pk=delivery_method_id, is_hidden=False).first()
        if method is None:
            raise CartInputError(_("This delivery method is not available."), errors={"delivery_method_id": _("Not available.")})
        shipping = pricing.ShippingOption(
            method_id=method.pk, name=method.name, fee=method.fee, free_threshold=method.free_threshold, code=method.type
        )
    coupon = coupon_by_code(coupon_code)
    context = pricing.Context(
        promotions=tuple(_usable_promotions(active_promotions(now=now))),
        coupon_code=normalize_code(coupon_code),
        coupon=coupon_to_pricing(coupon, customer_uses=coupon_customer_uses) if coupon else None,
        custom_discounts=tuple(custom_discounts),
        credit=credit_policy(settings),
        credit_balance=credit_balance,
        credit_requested=credit_requested,
        shipping=shipping,
        tax=tax_policy(settings),
        now=now,
    )
    return cart, context


# --- Orders ---------------------------------------------------------------------------------------------


def order_get(order_id: int):
    from orders.models import Order

    return Order.objects.prefetch_related("lines", "adjustments").filter(pk=order_id).first()


def order_tag_list() -> QuerySet:
    """The shop's saved order tags, by name."""
    from orders.models import OrderTag

    return OrderTag.objects.order_by("name", "id")


def saved_order_tags() -> list[str]:
    """The saved tags' names, for the quick-order panel to offer ("typed or picked from the shop's saved tags")."""
    return list(order_tag_list().values_list("name", flat=True))


# --- Orders (the back office's list) --------------------------------------------------------------------


def order_list(*, q: str = "", status: str = "", payment_status: str = "") -> QuerySet[Order]:
    """Orders, newest first, for the back office's list and the API: `q` matches the order number, the
    recipient's or the member's name, or a phone number (at least 6 digits, the recipient's or the member's); `status` and
    `payment_status` filter (an unknown value matches nothing)."""
    from customers.selectors import clean_query

    rows = Order.objects.select_related("customer", "conversation__contact", "conversation__channel").order_by("-created_at", "-pk")
    q = clean_query(q)
    if q:
        match = Q(number__icontains=q) | Q(recipient__name__icontains=q) | Q(customer__name__icontains=q)
        digits = "".join(ch for ch in q if ch.isdigit())
        if len(digits) >= 6:
            # The national number without its 0: "0912…" and "+886 912…" typed alike find members (stored in E.164,
            # "+886912…") and recipients (stored as typed for Taiwan, "0912…").
            tail = digits[3:] if digits.startswith("886") else digits[1:] if digits.startswith("0") else digits
            rows = rows.annotate(recipient_phone=KT("recipient__phone"))  # as text: `contains` on JSON means containment
            match |= Q(recipient_phone__contains=tail) | Q(customer__phone__contains=tail)
        rows = rows.filter(match)
    if status:
        rows = rows.filter(status=status) if status in OrderStatus.values else rows.none()
    if payment_status:
        rows = rows.filter(payment_status=payment_status) if payment_status in PaymentStatus.values else rows.none()
    return rows
