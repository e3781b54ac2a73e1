"""Staff API clients and the reference's worked example as catalog rows, for the orders tests."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from inbox.permissions import AGENTS
from orders.logistics import DeliveryType, PaymentType
from orders.models import CommerceSettings, Coupon, DeliveryMethod, PaymentMethod, Product, ProductTag, Promotion, Variant


@pytest.fixture
def agent(django_user_model):
    user = django_user_model.objects.create_user(username="amy")
    user.groups.add(Group.objects.get_or_create(name=AGENTS)[0])
    return user


@pytest.fixture
def agent_api(agent) -> APIClient:
    client = APIClient()
    client.force_login(agent)
    return client


@pytest.fixture
def outsider_api(django_user_model) -> APIClient:
    client = APIClient()
    client.force_login(django_user_model.objects.create_user(username="visitor"))
    return client


@dataclass
class WorkedCatalog:
    a: Variant
    b: Variant
    c: Variant
    pick_any: Promotion
    coupon: Coupon
    seven: DeliveryMethod
    hidden: DeliveryMethod
    home: DeliveryMethod


def make_product(name: str, sku: str, price: int, *, tags=(), stock: int = 10, options=None, **fields) -> Variant:
    fields.setdefault("option_names", list(options or {}))
    product = Product.objects.create(name=name, **fields)
    product.tags.set(tags)
    return Variant.objects.create(product=product, sku=sku, price=price, stock=stock, options=options or {})


@pytest.fixture
def worked_catalog(db) -> WorkedCatalog:
    """commerce-rules.md §2 as rows: A 690 and B 590 tagged X, C 250; 任選 2 件 $990 on X; SAVE100;
    credit on (min 1,000, cap 50, not chosen by customers); 7-11 pickup 60, free from 2,000; 5 % included."""
    x = ProductTag.objects.create(name="X")
    a = make_product("A", "A-1", 690, tags=[x])
    b = make_product("B", "B-1", 590, tags=[x])
    c = make_product("C", "C-1", 250)
    pick_any = Promotion.objects.create(name="任選 2 件 $990", kind=Promotion.Kind.PICK_ANY, group_size=2, group_price=990)
    pick_any.tags.set([x])
    coupon = Coupon.objects.create(code="SAVE100", kind=Coupon.Kind.AMOUNT, amount_off=100, minimum_amount=1500)
    settings = CommerceSettings.load()
    settings.tax_mode, settings.tax_rate = CommerceSettings.TaxMode.INCLUDED, Decimal(5)
    settings.credit_enabled, settings.credit_min_order, settings.credit_max_per_order = True, 1000, 50
    settings.credit_customer_may_choose = False
    settings.save()
    for position, (kind, name) in enumerate(
        [(PaymentType.PICKUP_711, "7-11 取貨付款"), (PaymentType.CARD, "信用卡"), (PaymentType.COD, "貨到付款"), (PaymentType.BANK_TRANSFER, "轉帳")]
    ):
        PaymentMethod.objects.create(type=kind, name=name, position=position)
    PaymentMethod.objects.create(type=PaymentType.CUSTOM, name="隱藏的付款", is_hidden=True)
    seven = DeliveryMethod.objects.create(type=DeliveryType.SEVEN_C2C, name="7-11 取貨", fee=60, free_threshold=2000, position=1)
    hidden = DeliveryMethod.objects.create(type=DeliveryType.FAMI_C2C, name="全家 (隱藏)", fee=60, is_hidden=True, position=2)
    home = DeliveryMethod.objects.create(type=DeliveryType.HCT, name="新竹物流", fee=120, free_threshold=3000, position=3)
    return WorkedCatalog(a, b, c, pick_any, coupon, seven, hidden, home)


@pytest.fixture
def worked_request(worked_catalog) -> dict:
    """The worked example as a quote request."""
    return {
        "lines": [
            {"variant_id": worked_catalog.a.pk, "quantity": 2},
            {"variant_id": worked_catalog.b.pk, "quantity": 1},
            {"variant_id": worked_catalog.c.pk, "quantity": 2},
        ],
        "coupon_code": "save100",
        "custom_discounts": [{"label": "老客戶", "amount": 30}],
        "delivery_method_id": worked_catalog.seven.pk,
        "credit_balance": 200,
    }


# --- Quick orders: a chat bound to a member, and a draft of the worked example --------------------------


@dataclass
class Bound:
    conversation: object
    customer: object


@pytest.fixture
def bound(db, messenger_channel, agent) -> Bound:
    """A chat bound to member 陳小美 with NT$200 of store credit."""
    from customers import services as customer_services
    from tests import factories

    conversation = factories.conversation(messenger_channel, name="Mei")
    customer = customer_services.create_customer(name="陳小美", phone="0912345678", actor=agent)
    customer_services.bind_contact(contact=conversation.contact, customer=customer, actor=agent)
    customer_services.adjust_credit(customer=customer, amount=200, reason="welcome", actor=agent)
    customer.refresh_from_db()
    return Bound(conversation, customer)


@pytest.fixture
def worked_draft(worked_catalog) -> dict:
    """The worked example as a quick-order draft: 7-11 pickup at a demo store, pay at pickup."""
    pay = PaymentMethod.objects.get(type=PaymentType.PICKUP_711)
    return {
        "lines": [
            {"variant_id": worked_catalog.a.pk, "quantity": 2},
            {"variant_id": worked_catalog.b.pk, "quantity": 1},
            {"variant_id": worked_catalog.c.pk, "quantity": 2},
        ],
        "coupon_code": "save100",
        "custom_discounts": [{"label": "老客戶", "amount": 30}],
        "delivery_method_id": worked_catalog.seven.pk,
        "payment_method_id": pay.pk,
        "store": {"id": "991001"},
        "recipient": {"name": "陳小美", "phone": "0912345678"},
        "tags": ["VIP"],
        "note": "請小心包裝",
        "expected_total": 1960,
    }
