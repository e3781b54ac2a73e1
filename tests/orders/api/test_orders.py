"""POST /api/v1/orders/, GET /api/v1/orders/<id>/, the draft endpoints and the member's coupon list."""
from __future__ import annotations

import pytest

from orders.models import Coupon, Order, Variant

pytestmark = pytest.mark.django_db


class OrderApiTests:
    def test_create_then_read(self, agent_api, bound, worked_draft):
        response = agent_api.post("/api/v1/orders/", {"conversation_id": bound.conversation.pk, "draft": worked_draft}, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["total"] == 1960 and body["number"] and "access_key" not in body
        detail = agent_api.get(f"/api/v1/orders/{body['id']}/").json()
        assert detail["number"] == body["number"] and [l["name"] for l in detail["lines"]] == ["A", "B", "C"]

    def test_conflict_is_409_with_reasons(self, agent_api, bound, worked_catalog, worked_draft):
        Variant.objects.filter(pk=worked_catalog.c.pk).update(stock=0)
        response = agent_api.post("/api/v1/orders/", {"conversation_id": bound.conversation.pk, "draft": worked_draft}, format="json")
        assert response.status_code == 409
        assert response.json()["reasons"][0]["code"] == "stock"
        assert not Order.objects.exists()

    def test_invalid_is_400_and_assigned_elsewhere_403(self, agent_api, bound, worked_draft, django_user_model):
        worked_draft["note"] = "x" * 201
        response = agent_api.post("/api/v1/orders/", {"conversation_id": bound.conversation.pk, "draft": worked_draft}, format="json")
        assert response.status_code == 400 and "note" in response.json()["errors"]
        bound.conversation.assignee = django_user_model.objects.create_user(username="bob")
        bound.conversation.save()
        response = agent_api.post("/api/v1/orders/", {"conversation_id": bound.conversation.pk, "draft": worked_draft}, format="json")
        assert response.status_code == 403 and "assigned to bob" in response.json()["detail"]

    @pytest.mark.parametrize("body", [{}, {"conversation_id": "x"}, {"conversation_id": 2**70, "draft": {}}, {"conversation_id": 1, "draft": []}])
    def test_bad_input_is_never_500(self, agent_api, bound, body):
        assert agent_api.post("/api/v1/orders/", body, format="json").status_code in (400, 404)

    def test_unknowns_are_404(self, agent_api, bound):
        assert agent_api.get("/api/v1/orders/999999/").status_code == 404
        assert agent_api.post("/api/v1/orders/", {"conversation_id": 999999, "draft": {}}, format="json").status_code == 404

    def test_staff_only(self, outsider_api, bound):
        assert outsider_api.get(f"/api/v1/conversations/{bound.conversation.pk}/order-draft/").status_code == 403


class DraftApiTests:
    def test_get_put_and_conflict(self, agent_api, bound):
        url = f"/api/v1/conversations/{bound.conversation.pk}/order-draft/"
        assert agent_api.get(url).json()["version"] == 0
        saved = agent_api.put(url, {"data": {"note": "a"}, "version": 0}, format="json")
        assert saved.status_code == 200 and saved.json()["version"] == 1
        stale = agent_api.put(url, {"data": {"note": "b"}, "version": 0}, format="json")
        assert stale.status_code == 409 and stale.json()["draft"]["data"] == {"note": "a"}
        assert agent_api.put(url, {"data": "x", "version": -1}, format="json").status_code == 400

    def test_editing_claim(self, agent_api, bound, django_user_model):
        from rest_framework.test import APIClient

        from tests import factories

        url = f"/api/v1/conversations/{bound.conversation.pk}/order-draft/"
        assert agent_api.post(url + "editing/", {"editing": True}, format="json").json()["editing_by"]["name"] == "amy"
        bob = APIClient()
        bob.force_login(factories.staff_user("bob"))
        assert bob.get(url).json()["reason"] == "amy is editing this order."
        assert bob.put(url, {"data": {}, "version": 0}, format="json").status_code == 409
        agent_api.post(url + "editing/", {"editing": False}, format="json")
        assert bob.get(url).json()["editable"]


class CustomerCouponApiTests:
    def test_usable_list_and_reasons(self, agent_api, bound, worked_catalog, worked_draft):
        Coupon.objects.create(code="USEDUP", amount_off=10, usage_limit=1, usage_count=1)
        Coupon.objects.create(code="BIG", amount_off=10, minimum_amount=100_000)
        only_c = Coupon.objects.create(code="ONLYC", amount_off=10)
        only_c.products.set([worked_catalog.c.product])
        url = f"/api/v1/customers/{bound.customer.pk}/coupons/?conversation={bound.conversation.pk}"
        agent_api.put(f"/api/v1/conversations/{bound.conversation.pk}/order-draft/", {"data": worked_draft, "version": 0}, format="json")
        assert [c["code"] for c in agent_api.get(url).json()] == ["SAVE100", "ONLYC"]
        worked_draft["lines"] = worked_draft["lines"][:2]  # no C any more
        agent_api.put(f"/api/v1/conversations/{bound.conversation.pk}/order-draft/", {"data": worked_draft, "version": 1}, format="json")
        everything = {c["code"]: c for c in agent_api.get(url + "&all=1").json()}
        assert [c for c in everything if everything[c]["usable"]] == ["SAVE100"]
        for code in ("USEDUP", "BIG", "ONLYC"):
            assert everything[code]["reasons"], code

    def test_unknown_customer(self, agent_api, bound):
        assert agent_api.get("/api/v1/customers/999999/coupons/").status_code == 404
        assert agent_api.get(f"/api/v1/customers/{bound.customer.pk}/coupons/?conversation=x").status_code == 400

    def test_quote_reads_credit_from_the_ledger(self, agent_api, bound, worked_request):
        worked_request.update(credit_balance=0, customer_id=bound.customer.pk)
        assert agent_api.post("/api/v1/quotes/", worked_request, format="json").json()["total"] == 1960
