"""The back office's order list (/orders/) and the API's (GET /api/v1/orders/): newest first, found by number,
name or phone, filtered by status and payment, 50 a page, staff only, a constant number of queries."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from orders.models import Order, OrderStatus, PaymentStatus
from tests import factories
from tests.orders.public.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(messenger_channel):
    """Three orders, placed an hour apart (the newest last): 陳小美's (a member, E.164 phone), 王大明's and 林小玲's."""
    conversation = factories.conversation(messenger_channel, name="Mei")
    mei = Customer.objects.create(name="陳小美", phone="+886912345678")
    made = [
        make_order(conversation=conversation, customer=mei, recipient={"name": "陳小美", "phone": "0912345678"}),
        make_order(conversation=conversation, recipient={"name": "王大明", "phone": "0987654321"}, status=OrderStatus.CONFIRMED,
                   payment_status=PaymentStatus.PROOF_SUBMITTED),
        make_order(conversation=conversation, recipient={"name": "林小玲", "phone": "0922333444"}, status=OrderStatus.SHIPPED,
                   payment_status=PaymentStatus.PAID),
    ]
    now = timezone.now()
    for hours_ago, order in zip((3, 2, 1), made):
        Order.objects.filter(pk=order.pk).update(created_at=now - dt.timedelta(hours=hours_ago))
    return made


def numbers(response) -> list[str]:
    return [row["number"] for row in response.json()["results"]]


class OrderListApiTests:
    def test_newest_first_with_what_a_row_needs(self, agent_api, orders):
        response = agent_api.get("/api/v1/orders/")
        assert response.status_code == 200
        body = response.json()
        assert numbers(response) == [o.number for o in reversed(orders)]
        assert (body["count"], body["page"], body["pages"]) == (3, 1, 1)
        row = body["results"][0]
        assert row["recipient"]["name"] == "林小玲" and row["status"] == "shipped" and row["payment_status_label"] == "paid"

    @pytest.mark.parametrize(
        "q,expected",
        [("王大明", [1]), ("小", [2, 0]), ("0912-345-678", [0]), ("+886 912 345 678", [0]), ("987654", [1]),
         ("+886 987 654 321", [1]), ("nobody", [])],  # 王大明's order has no member: found by the recipient's phone
    )
    def test_search_by_name_phone_any_way_written(self, agent_api, orders, q, expected):
        assert numbers(agent_api.get("/api/v1/orders/", {"q": q})) == [orders[i].number for i in expected]

    def test_search_by_number(self, agent_api, orders):
        assert numbers(agent_api.get("/api/v1/orders/", {"q": orders[1].number.lower()})) == [orders[1].number]

    def test_filters(self, agent_api, orders):
        assert numbers(agent_api.get("/api/v1/orders/", {"status": "confirmed"})) == [orders[1].number]
        assert numbers(agent_api.get("/api/v1/orders/", {"payment_status": "paid"})) == [orders[2].number]
        assert numbers(agent_api.get("/api/v1/orders/", {"status": "confirmed", "payment_status": "paid"})) == []

    @pytest.mark.parametrize("params", [{"status": "lost"}, {"payment_status": 5}, {"page": 0}, {"page": "x"}, {"q": "x" * 101}])
    def test_bad_parameters_are_a_400(self, agent_api, orders, params):
        response = agent_api.get("/api/v1/orders/", params)
        assert response.status_code == 400 and set(response.json()) == set(params)

    def test_pages_of_fifty(self, agent_api, messenger_channel):
        conversation = factories.conversation(messenger_channel)
        for _ in range(51):
            make_order(conversation=conversation)
        first, second = agent_api.get("/api/v1/orders/").json(), agent_api.get("/api/v1/orders/", {"page": 2}).json()
        assert (len(first["results"]), first["pages"], len(second["results"]), second["page"]) == (50, 2, 1, 2)
        assert agent_api.get("/api/v1/orders/", {"page": 99}).json()["page"] == 2  # past the end: the last page

    def test_staff_only(self, client, outsider_api, orders):
        assert client.get("/api/v1/orders/").status_code in (401, 403)
        assert outsider_api.get("/api/v1/orders/").status_code == 403


class OrderListPageTests:
    def test_page_lists_searches_and_filters(self, agent_api, orders):
        page = agent_api.get("/orders/").content.decode()
        assert page.index(orders[2].number) < page.index(orders[1].number) < page.index(orders[0].number)
        assert f"/orders/{orders[0].pk}/" in page and f"/customers/{orders[0].customer_id}/" in page
        found = agent_api.get("/orders/", {"q": "0912 345 678"}).content.decode()
        assert orders[0].number in found and orders[1].number not in found
        shipped = agent_api.get("/orders/", {"status": "shipped"}).content.decode()
        assert orders[2].number in shipped and orders[0].number not in shipped
        assert 'data-testid="order-none"' in agent_api.get("/orders/", {"status": "lost"}).content.decode()

    def test_queries_do_not_grow_with_the_orders(self, agent_api, orders, messenger_channel):
        with CaptureQueriesContext(connection) as few:
            assert agent_api.get("/orders/").status_code == 200
        for n in range(10):  # members of their own, and chats of their own without one (the row shows the contact)
            conversation = factories.conversation(messenger_channel, name=f"More {n}")
            make_order(conversation=conversation, customer=Customer.objects.create(name=f"Member {n}") if n % 2 else None)
        with CaptureQueriesContext(connection) as many:
            assert agent_api.get("/orders/").status_code == 200
        assert len(many) == len(few)

    def test_staff_only(self, client, outsider_api, orders):
        assert client.get("/orders/").status_code == 302
        assert outsider_api.get("/orders/").status_code == 403

    def test_the_top_bar_links_to_it(self, agent_api, orders):
        assert 'href="/orders/"' in agent_api.get("/inbox/").content.decode()
