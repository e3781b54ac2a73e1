"""Members, chats and staff for the customers tests, built through the models and services the app uses."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest

from customers import services
from customers.models import MemberTier
from inbox.models import Contact, Conversation

_numbers = itertools.count(1)


@pytest.fixture
def make_conversation(messenger_channel):
    """make("Display name", channel=...) -> a conversation with its contact."""

    def make(name: str = "", *, channel=None) -> Conversation:
        n = next(_numbers)
        channel = channel or messenger_channel
        contact = Contact.objects.create(channel=channel, platform_user_id=f"cust-{channel.pk}-{n}", display_name=name or f"Fan {n}")
        return Conversation.objects.create(channel=channel, contact=contact)

    return make


@pytest.fixture
def make_customer(db):
    """make(name=..., email=..., phone=...) through the create service (a phone by default)."""

    def make(name: str = "", *, email: str = "", phone: str | None = None, **fields):
        n = next(_numbers)
        if phone is None and not email:
            phone = "0912" + f"{n:06d}"
        return services.create_customer(name=name or f"Member {n}", email=email, phone=phone or "", **fields)

    return make


@pytest.fixture
def tiers(db):
    return {
        "basic": MemberTier.objects.create(name="Basic", rank=0),
        "gold": MemberTier.objects.create(name="Gold", rank=2),
    }


@pytest.fixture
def place_order(db):
    """place(conversation, amount=..., recipient=..., days_ago=...) -> an order placed through
    `orders.services.place_order` (the quick order's own path: the chat must be bound to a member then):
    one custom item of `amount` TWD, 7-11 pickup (free here) at a demo store, paid at pickup.
    `days_ago` back-dates it (created_at is set on insert), for the past year's window."""
    from django.utils import timezone

    from orders import services as order_services
    from orders.logistics import DeliveryType, PaymentType
    from orders.models import DeliveryMethod, Order, PaymentMethod

    pay = PaymentMethod.objects.create(type=PaymentType.PICKUP_711, name="7-11 取貨付款")
    seven = DeliveryMethod.objects.create(type=DeliveryType.SEVEN_C2C, name="7-11 取貨", fee=0)

    def place(conversation, *, amount: int = 500, recipient: dict | None = None, days_ago: float = 0, actor=None) -> Order:
        draft = {
            "lines": [{"custom": {"name": f"Item {next(_numbers)}", "unit_price": amount}, "quantity": 1}],
            "delivery_method_id": seven.pk,
            "payment_method_id": pay.pk,
            "store": {"id": "991001"},
            "recipient": recipient or {"name": "陳小美", "phone": "0912345678"},
        }
        order = order_services.place_order(conversation=conversation, actor=actor, draft=draft)
        if days_ago:
            Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))
            order.refresh_from_db()
        return order

    return place
