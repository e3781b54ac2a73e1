"""The customers API and orders: a member's order history, and flow (C) (the members a chat's orders point
at, and confirming one: bind, or merge the chat's member into it)."""
import pytest
from rest_framework.test import APIClient

from customers import services
from customers.models import ContactBinding, Customer
from orders.models import Order
from tests.orders.public.factories import make_order

pytestmark = pytest.mark.django_db


class OrderHistoryApiTests:
    def test_the_member_detail_lists_the_past_years_orders(self, make_conversation, make_customer, place_order, agent_api):
        member = make_customer("Mei", phone="0912345678")
        chat = make_conversation("Mei FB")
        services.bind_contact(contact=chat.contact, customer=member, actor=None)
        older = place_order(chat, amount=450, days_ago=40)
        newer = place_order(chat, amount=1200)
        place_order(chat, amount=10, days_ago=400)

        orders = agent_api.get(f"/api/v1/customers/{member.pk}/").json()["orders"]

        assert [o["number"] for o in orders] == [newer.number, older.number]
        first = orders[0]
        assert set(first) == {"id", "number", "date", "created_at", "total", "status", "status_label", "url"}
        assert (first["id"], first["total"], first["status"], first["url"]) == (newer.pk, 1200, "awaiting_confirmation", f"/orders/{newer.pk}/")
        assert first["created_at"].endswith("+08:00") and first["date"] == first["created_at"][:10]

    def test_the_has_orders_filter(self, make_conversation, make_customer, place_order, agent_api):
        buyer, browser = make_customer("Buyer"), make_customer("Browser")
        chat = make_conversation()
        services.bind_contact(contact=chat.contact, customer=buyer, actor=None)
        place_order(chat)
        assert [r["id"] for r in agent_api.get("/api/v1/customers/", {"has_orders": "true"}).json()["results"]] == [buyer.pk]
        assert [r["id"] for r in agent_api.get("/api/v1/customers/", {"has_orders": "false"}).json()["results"]] == [browser.pk]


@pytest.fixture
def live(make_conversation, make_customer):
    """An unbound chat with a live-stream order (no member) whose phone is member Mei's."""
    mei = make_customer("陳小美", phone="0912345678")
    chat = make_conversation("Live buyer")
    order = make_order(conversation=chat, recipient={"name": "小美", "phone": "0912-345-678"})
    return {"mei": mei, "chat": chat, "order": order, "url": f"/api/v1/conversations/{chat.pk}/order-customers/"}


class OrderCustomersApiTests:
    def test_list_the_members_the_chats_orders_point_at(self, live, agent_api):
        make_order(conversation=live["chat"], recipient={"name": "王小明", "phone": "0987000111"})
        data = agent_api.get(live["url"]).json()
        assert [(m["customer"] and m["customer"]["id"], m["via"], m["phone"]) for m in data] == [
            (None, "", "+886987000111"),
            (live["mei"].pk, "phone", "+886912345678"),
        ]
        assert data[1]["order_number"] == live["order"].number and data[1]["order_url"] == f"/orders/{live['order'].pk}/"

    def test_confirm_binds_an_unbound_chat(self, live, agent_api):
        response = agent_api.post(live["url"], {"customer": live["mei"].pk}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["outcome"] == "bound" and response.json()["customer"]["id"] == live["mei"].pk
        assert ContactBinding.objects.get(contact=live["chat"].contact).customer_id == live["mei"].pk
        assert agent_api.get(live["url"]).json() == []  # the bound member isn't offered again
        again = agent_api.post(live["url"], {"customer": live["mei"].pk}, format="json")
        assert again.status_code == 200 and again.json()["outcome"] == "unchanged"

    def test_confirm_merges_the_member_the_agent_bound_into_the_orders_member(self, live, agent_api):
        created = agent_api.post(f"/api/v1/conversations/{live['chat'].pk}/bind/", {"email": "mei@example.com"}, format="json")
        assert created.status_code == 201
        fresh = created.json()["id"]
        listed = agent_api.get(live["url"]).json()
        assert [m["customer"]["id"] for m in listed] == [live["mei"].pk]

        response = agent_api.post(live["url"], {"customer": live["mei"].pk}, format="json")

        assert response.status_code == 200 and response.json()["outcome"] == "merged"
        data = response.json()["customer"]
        assert (data["id"], data["email"], data["phone"]) == (live["mei"].pk, "mei@example.com", "+886912345678")
        assert [c["conversation_id"] for c in data["contacts"]] == [live["chat"].pk]
        assert not Customer.objects.filter(pk=fresh).exists()

    def test_refusals(self, live, agent_api, make_customer, make_conversation):
        stranger = make_customer("Stranger", phone="0987654321")
        refused = agent_api.post(live["url"], {"customer": stranger.pk}, format="json")
        assert refused.status_code == 400 and refused.json() == {"detail": "This chat's orders don't point at that member."}
        gone = agent_api.post(live["url"], {"customer": 999999}, format="json")
        assert gone.status_code == 400 and "no longer exists" in gone.json()["detail"]
        for body in ({}, {"customer": "x"}, {"customer": 0}, {"customer": 2**70}, [], "nonsense"):
            response = agent_api.post(live["url"], body, format="json")
            assert response.status_code == 400 and isinstance(response.json(), dict), body
        assert agent_api.get("/api/v1/conversations/999999/order-customers/").status_code == 404
        assert agent_api.post(f"/api/v1/conversations/{2**70}/order-customers/", {"customer": 1}, format="json").status_code == 404
        assert agent_api.get(f"/api/v1/conversations/{make_conversation().pk}/order-customers/").json() == []
        assert not ContactBinding.objects.exists() and Order.objects.get(pk=live["order"].pk).customer_id is None

    def test_staff_only(self, live, outsider_api):
        assert APIClient().get(live["url"]).status_code in (401, 403)
        assert outsider_api.get(live["url"]).status_code == 403
        assert outsider_api.post(live["url"], {"customer": live["mei"].pk}, format="json").status_code == 403
