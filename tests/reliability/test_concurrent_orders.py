"""Twenty orders placed at once never spend more than there is (issue 7, reliability), beyond the single-resource
races of tests/orders/services/test_place_order_concurrency.py: a coupon's per-customer limit, gift stock,
several units per order, every resource at once (stock, gift, coupon, credit: locked in one fixed order, so
no deadlock), and cancellations giving stock back while others buy.

Real PostgreSQL row locks and twenty threads with their own connections; skipped on SQLite (one writer at
a time). CI sets DATABASE_URL.
"""
from __future__ import annotations

import random
import threading

import pytest
from django.db import connection, connections

from customers import services as customer_services
from customers.models import CreditEntry, Customer
from orders import confirmation, services
from orders.errors import OrderConflict
from orders.logistics import DeliveryType, PaymentType
from orders.models import CommerceSettings, Coupon, DeliveryMethod, Gift, Order, OrderStatus, PaymentMethod, Product, Variant
from tests import factories

THREADS = 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks; SQLite can't run concurrent writers"),
]


def race(jobs) -> list:
    """Run the callables at the same instant, one thread and database connection each; each result is an
    order id, or the first conflict code."""
    barrier = threading.Barrier(len(jobs))
    results: list = []
    lock = threading.Lock()

    def run(job):
        try:
            barrier.wait(timeout=10)
            try:
                outcome = job()
            except OrderConflict as exc:
                outcome = exc.reasons[0]["code"]
            with lock:
                results.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "a buyer is stuck (deadlock?)"
    assert len(results) == len(jobs)
    return results


def placed(results) -> list[int]:
    return [r for r in results if isinstance(r, int)]


@pytest.fixture
def agent(transactional_db):
    return factories.staff_user("agent")


@pytest.fixture
def shop(transactional_db):
    """A 1,000 dress, a gift, a 100-off coupon from 500, 7-11 pickup (pay at pickup), credit up to 50 per order."""
    product = Product.objects.create(name="洋裝")
    variant = Variant.objects.create(product=product, sku="D-1", price=1000, stock=100)
    gift = Gift.objects.create(name="髮圈", sku="G-1", stock=100)
    coupon = Coupon.objects.create(code="RUSH100", kind=Coupon.Kind.AMOUNT, amount_off=100, minimum_amount=500)
    settings = CommerceSettings.load()
    settings.credit_enabled, settings.credit_min_order, settings.credit_max_per_order = True, 0, 50
    settings.credit_customer_may_choose = True
    settings.save()
    pay = PaymentMethod.objects.create(type=PaymentType.PICKUP_711, name="7-11 取貨付款")
    seven = DeliveryMethod.objects.create(type=DeliveryType.SEVEN_C2C, name="7-11 取貨", fee=60)
    return {"variant": variant, "gift": gift, "coupon": coupon, "pay": pay, "seven": seven}


def draft(shop, *, quantity=1, gift=False, coupon=False, credit=0) -> dict:
    lines = [{"variant_id": shop["variant"].pk, "quantity": quantity}]
    if gift:
        lines.append({"gift_id": shop["gift"].pk, "quantity": 1})
    return {
        "lines": lines,
        "coupon_code": "RUSH100" if coupon else "",
        "custom_discounts": [],
        "delivery_method_id": shop["seven"].pk,
        "payment_method_id": shop["pay"].pk,
        "store": {"id": "991001"},
        "recipient": {"name": "陳小美", "phone": "0912345678"},
        "credit_amount": credit,
        "expected_total": None,
    }


def member_chats(messenger_channel, agent, *, members: int, chats: int, credit: int = 0) -> list:
    """`chats` conversations spread over `members` members (chat i belongs to member i % members)."""
    customers = []
    for n in range(members):
        customer = customer_services.create_customer(name=f"會員{n}", phone=f"09{n:08d}", actor=agent)
        if credit:
            customer_services.adjust_credit(customer=customer, amount=credit, reason="welcome", actor=agent)
        customers.append(customer)
    conversations = []
    for i in range(chats):
        conversation = factories.conversation(messenger_channel)
        customer_services.bind_contact(contact=conversation.contact, customer=customers[i % members], actor=agent)
        conversations.append(conversation)
    return conversations


def with_coupon(shop, orders):
    """The orders the coupon was applied to (its adjustment line, as the customer saw it)."""
    return orders.filter(adjustments__kind="coupon", adjustments__source_id=shop["coupon"].pk).distinct()


def buy(conversation, agent, request):
    return lambda: services.place_order(conversation=conversation, actor=agent, draft=request).pk


class ConcurrentOrderLimitsTests:
    def test_a_coupons_per_customer_limit_holds_for_one_member_across_twenty_chats(self, shop, agent, messenger_channel):
        Coupon.objects.filter(pk=shop["coupon"].pk).update(per_customer_limit=2)
        chats = member_chats(messenger_channel, agent, members=1, chats=THREADS)
        results = race([buy(c, agent, draft(shop, coupon=True)) for c in chats])
        assert len(placed(results)) == 2 and results.count("coupon") == THREADS - 2
        assert Coupon.objects.get(pk=shop["coupon"].pk).usage_count == 2
        assert with_coupon(shop, Order.objects.all()).count() == 2

    def test_per_customer_limit_and_usage_limit_together_across_members(self, shop, agent, messenger_channel):
        # Five members, four chats each; one use per member and seven in all: five orders (one per member).
        Coupon.objects.filter(pk=shop["coupon"].pk).update(per_customer_limit=1, usage_limit=7)
        chats = member_chats(messenger_channel, agent, members=5, chats=THREADS)
        results = race([buy(c, agent, draft(shop, coupon=True)) for c in chats])
        orders = Order.objects.filter(pk__in=placed(results))
        assert orders.count() == 5 and results.count("coupon") == THREADS - 5
        assert sorted(orders.values_list("customer_id", flat=True)) == sorted(Customer.objects.values_list("pk", flat=True))
        assert Coupon.objects.get(pk=shop["coupon"].pk).usage_count == 5

    def test_gift_stock_is_never_over_given(self, shop, agent, messenger_channel):
        Gift.objects.filter(pk=shop["gift"].pk).update(stock=3)
        chats = member_chats(messenger_channel, agent, members=THREADS, chats=THREADS)
        results = race([buy(c, agent, draft(shop, gift=True)) for c in chats])
        assert len(placed(results)) == 3 and results.count("stock") == THREADS - 3
        assert Gift.objects.get(pk=shop["gift"].pk).stock == 0
        assert Variant.objects.get(pk=shop["variant"].pk).stock == 100 - 3  # the refused took nothing either

    def test_several_units_per_order_never_oversell(self, shop, agent, messenger_channel):
        # Stock 10; twenty buyers want 1, 2 or 3 each (fixed seed): whatever order they win in, the units sold
        # never exceed 10 and the stock left is exactly what was not sold.
        Variant.objects.filter(pk=shop["variant"].pk).update(stock=10)
        quantities = [random.Random(n).choice([1, 2, 3]) for n in range(THREADS)]
        chats = member_chats(messenger_channel, agent, members=THREADS, chats=THREADS)
        results = race([buy(c, agent, draft(shop, quantity=q)) for c, q in zip(chats, quantities)])
        sold = sum(o.lines.get(kind="variant").quantity for o in Order.objects.filter(pk__in=placed(results)))
        left = Variant.objects.get(pk=shop["variant"].pk).stock
        assert sold + left == 10 and 0 <= left < 3 and sold <= 10
        assert set(r for r in results if not isinstance(r, int)) <= {"stock"}

    def test_every_resource_at_once_no_deadlock_and_nothing_over_spent(self, shop, agent, messenger_channel):
        # 2 members with NT$120 credit each (50 per order at most); 6 dresses, 4 gifts, 5 coupon uses.
        Variant.objects.filter(pk=shop["variant"].pk).update(stock=6)
        Gift.objects.filter(pk=shop["gift"].pk).update(stock=4)
        Coupon.objects.filter(pk=shop["coupon"].pk).update(usage_limit=5)
        chats = member_chats(messenger_channel, agent, members=2, chats=THREADS, credit=120)
        jobs = []
        for i, chat in enumerate(chats):
            request = draft(shop, gift=i % 2 == 0, coupon=i % 3 != 2, credit=50 if i % 4 < 2 else 0)
            jobs.append(buy(chat, agent, request))
        results = race(jobs)
        orders = Order.objects.filter(pk__in=placed(results))
        assert set(r for r in results if not isinstance(r, int)) <= {"stock", "coupon", "credit"}
        variant, gift, coupon = (Variant.objects.get(pk=shop["variant"].pk), Gift.objects.get(pk=shop["gift"].pk),
                                 Coupon.objects.get(pk=shop["coupon"].pk))
        assert 0 < orders.count() <= 6 and variant.stock == 6 - orders.count()
        assert gift.stock == 4 - sum(1 for o in orders if o.lines.filter(kind="gift").exists()) >= 0
        assert coupon.usage_count == with_coupon(shop, orders).count() <= 5
        for customer in Customer.objects.all():
            used = sum(orders.filter(customer=customer).values_list("credit_used", flat=True))
            assert 0 <= customer.credit_balance == 120 - used
            spent = -sum(CreditEntry.objects.filter(customer=customer, kind="spend").values_list("amount", flat=True))
            assert spent == used <= 120

    def test_cancellations_give_stock_back_while_others_buy(self, shop, agent, messenger_channel):
        # Stock 5, all sold to five members; then five of those orders are cancelled while fifteen new buyers
        # race for the returned units: never more than 5 units out at once, and the count adds up.
        Variant.objects.filter(pk=shop["variant"].pk).update(stock=5)
        chats = member_chats(messenger_channel, agent, members=THREADS, chats=THREADS)
        first = [services.place_order(conversation=c, actor=agent, draft=draft(shop)) for c in chats[:5]]
        assert Variant.objects.get(pk=shop["variant"].pk).stock == 0

        def cancel(order):
            return lambda: confirmation.change_status(order=order, actor=agent, status=OrderStatus.CANCELLED) and "cancelled"

        jobs = [cancel(o) for o in first] + [buy(c, agent, draft(shop)) for c in chats[5:]]
        results = race(jobs)
        assert results.count("cancelled") == 5
        new_orders = placed(results)
        left = Variant.objects.get(pk=shop["variant"].pk).stock
        assert len(new_orders) + left == 5 and left >= 0
        live = Order.objects.exclude(status=OrderStatus.CANCELLED)
        assert sum(o.lines.get(kind="variant").quantity for o in live) == 5 - left
