"""Twenty staff members place orders at once for the last unit, the last coupon use and the last credit:
the row locks in `orders.lock_objects` must let exactly as many through as there is to spend.

Needs PostgreSQL (real row locks and concurrent transactions); SQLite serialises writers with a file
lock and can't run twenty writing threads, so it is skipped there."""
from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from customers import services as customer_services
from customers.models import CreditEntry, Customer
from orders import services
from orders.errors import OrderConflict
from orders.models import CommerceSettings, Coupon, Order, Variant
from tests import factories

THREADS = 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks; SQLite can't run concurrent writers"),
]


def race(bound_conversations, agent, draft_for):
    barrier = threading.Barrier(len(bound_conversations))
    results: list = []

    def buy(conversation, index):
        try:
            barrier.wait(timeout=10)
            results.append(services.place_order(conversation=conversation, actor=agent, draft=draft_for(index)).pk)
        except OrderConflict as exc:
            results.append(exc.reasons[0]["code"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buy, args=(c, i)) for i, c in enumerate(bound_conversations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.fixture
def chats(bound, messenger_channel, agent):
    """Twenty chats of the same member (so they also compete for the member's credit)."""
    conversations = [bound.conversation]
    for _ in range(THREADS - 1):
        conversation = factories.conversation(messenger_channel)
        customer_services.bind_contact(contact=conversation.contact, customer=bound.customer, actor=agent)
        conversations.append(conversation)
    return conversations


def _base(worked_catalog, worked_draft, **changes):
    draft = {**worked_draft, "coupon_code": "", "custom_discounts": [], "expected_total": None, **changes}
    return draft


class ConcurrentPlaceOrderTests:
    def test_the_last_unit_is_sold_once(self, chats, agent, worked_catalog, worked_draft):
        Variant.objects.filter(pk=worked_catalog.c.pk).update(stock=1)
        draft = _base(worked_catalog, worked_draft, lines=[{"variant_id": worked_catalog.c.pk, "quantity": 1}])
        results = race(chats, agent, lambda i: draft)
        assert len([r for r in results if isinstance(r, int)]) == 1
        assert results.count("stock") == THREADS - 1
        assert Variant.objects.get(pk=worked_catalog.c.pk).stock == 0

    def test_the_last_coupon_use_is_spent_once(self, chats, agent, worked_catalog, worked_draft):
        Coupon.objects.filter(pk=worked_catalog.coupon.pk).update(usage_limit=1)
        draft = _base(worked_catalog, worked_draft, coupon_code="SAVE100")
        results = race(chats, agent, lambda i: draft)
        assert len([r for r in results if isinstance(r, int)]) == 1 and results.count("coupon") == THREADS - 1
        assert Coupon.objects.get(pk=worked_catalog.coupon.pk).usage_count == 1

    def test_credit_is_never_over_spent(self, chats, bound, agent, worked_catalog, worked_draft):
        settings = CommerceSettings.load()
        settings.credit_customer_may_choose = True
        settings.save()
        # Balance 200, 50 per order: four orders get their credit, the other sixteen are refused.
        draft = _base(worked_catalog, worked_draft, credit_amount=50)
        results = race(chats, agent, lambda i: draft)
        assert len([r for r in results if isinstance(r, int)]) == 4 and results.count("credit") == THREADS - 4
        assert Customer.objects.get(pk=bound.customer.pk).credit_balance == 0
        spent = sum(CreditEntry.objects.filter(customer=bound.customer, kind="spend").values_list("amount", flat=True))
        assert spent == -200 and sum(Order.objects.values_list("credit_used", flat=True)) == 200
