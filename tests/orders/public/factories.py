"""Orders built straight with the ORM (not through place_order): what the confirmation tests need."""
from __future__ import annotations

import itertools

from orders.confirmation import new_access_key
from orders.logistics import PaymentType
from orders.models import Order, OrderAdjustment, OrderLine, OrderStatus, PaymentStatus

_seq = itertools.count(1)


def make_order(
    *,
    conversation=None,
    customer=None,
    payment_type: str = PaymentType.BANK_TRANSFER,
    payment_name: str = "轉帳",
    lines=(),
    credit_used: int = 0,
    status: str = OrderStatus.AWAITING_CONFIRMATION,
    **fields,
) -> Order:
    """An order with `lines` given as dicts of OrderLine fields (name, unit_price, quantity, kind, variant, gift)."""
    n = next(_seq)
    subtotal = sum(line.get("unit_price", 100) * line.get("quantity", 1) for line in lines) or 500
    defaults = dict(
        number=f"T{n:06d}{new_access_key()[:4]}",
        status=status,
        payment_status=PaymentStatus.UNPAID,
        conversation=conversation,
        customer=customer,
        delivery_name="7-11 取貨",
        delivery_type="seven_c2c",
        pickup_store={"chain": "711", "id": "123456", "name": "鑫新門市", "address": "台北市信義區松仁路 1 號"},
        recipient={"name": "王小明", "phone": "0912345678"},
        payment_name=payment_name,
        payment_type=payment_type,
        invoice={"type": "personal", "carrier": "member"},
        note="請小心包裝",
        subtotal=subtotal,
        discount_total=0,
        credit_used=credit_used,
        shipping_fee=60,
        tax=0,
        total=subtotal + 60 - credit_used,
        access_key=new_access_key(),
    )
    defaults.update(fields)
    order = Order.objects.create(**defaults)
    for position, line in enumerate(lines or [{"name": "碎花洋裝", "options": "紅 / M", "unit_price": 500, "quantity": 1}]):
        data = {"kind": OrderLine.Kind.CUSTOM, "unit_price": 100, "quantity": 1, **line}
        data.setdefault("line_total", data["unit_price"] * data["quantity"])
        OrderLine.objects.create(order=order, position=position, **data)
    if credit_used:
        OrderAdjustment.objects.create(order=order, kind="credit", label="購物金", amount=-credit_used, position=9)
    return order
