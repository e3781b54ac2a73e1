"""Row locks for placing an order: the one place that takes them, always in the same order.

Tables in a fixed order (customers, coupons, variants, gifts) and rows by primary key within each, so two
orders (or an order and a customers service, which locks members by pk too) never wait on each other in
opposite orders. Must run inside `transaction.atomic()`; on SQLite `select_for_update` is a no-op (the
database serialises writers itself).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from customers.models import Customer
from orders.models import Coupon, Gift, Variant


@dataclass(frozen=True)
class LockedRows:
    customers: dict[int, Customer]
    coupons: dict[int, Coupon]
    variants: dict[int, Variant]
    gifts: dict[int, Gift]


def _lock(model, ids: Iterable[int]) -> dict:
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {row.pk: row for row in model.objects.filter(pk__in=ids).order_by("pk").select_for_update(of=("self",))}


def lock_order_rows(
    *, customer_ids: Iterable[int] = (), coupon_ids: Iterable[int] = (), variant_ids: Iterable[int] = (), gift_ids: Iterable[int] = ()
) -> LockedRows:
    """Lock what an order spends: the customer's credit, the coupon's uses, variant and gift stock."""
    return LockedRows(
        customers=_lock(Customer, customer_ids),
        coupons=_lock(Coupon, coupon_ids),
        variants=_lock(Variant, variant_ids),
        gifts=_lock(Gift, gift_ids),
    )
