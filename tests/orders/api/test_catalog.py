"""Catalog, delivery and payment listings, the store picker, invoice validation, and the schema."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import DeliveryMethod, Gift, PaymentMethod, ProductTag
from tests.orders.conftest import make_product

pytestmark = pytest.mark.django_db


class ProductListApiTests:
    def test_search_with_variants_and_option_names(self, agent_api, worked_catalog):
        make_product("經典棉 T", "TEE-W-M", 690, options={"顏色": "白", "尺寸": "M"})
        response = agent_api.get("/api/v1/products/", {"q": "棉"})
        assert response.status_code == 200
        (product,) = response.json()
        assert product["name"] == "經典棉 T" and product["option_names"] == ["顏色", "尺寸"]
        assert product["variants"][0] | {"id": 0} == {
            "id": 0, "sku": "TEE-W-M", "options": {"顏色": "白", "尺寸": "M"}, "label": "白 / M", "price": 690, "stock": 10, "weight_grams": 0,
        }

    def test_by_sku_or_tag(self, agent_api, worked_catalog):
        assert [p["name"] for p in agent_api.get("/api/v1/products/", {"q": "b-1"}).json()] == ["B"]
        assert [p["name"] for p in agent_api.get("/api/v1/products/", {"q": "X"}).json()] == ["A", "B"]

    def test_queries_do_not_grow_with_the_catalog(self, agent_api, worked_catalog):
        with CaptureQueriesContext(connection) as few:
            agent_api.get("/api/v1/products/")
        tag = ProductTag.objects.create(name="more")
        for i in range(10):
            make_product(f"P{i}", f"P-{i}", 100, tags=[tag])
        with CaptureQueriesContext(connection) as many:
            assert len(agent_api.get("/api/v1/products/").json()) == 13
        assert len(many) == len(few)

    def test_bad_parameters(self, agent_api):
        assert agent_api.get("/api/v1/products/", {"limit": "x"}).status_code == 400
        assert agent_api.get("/api/v1/products/", {"q": "x" * 101}).status_code == 400

    def test_gifts(self, agent_api, db):
        Gift.objects.create(name="貼紙", sku="G-1", stock=3)
        Gift.objects.create(name="舊贈品", sku="G-2", is_active=False)
        assert [g["name"] for g in agent_api.get("/api/v1/gifts/").json()] == ["貼紙"]


class DeliveryAndPaymentApiTests:
    def test_hidden_delivery_methods_are_never_listed(self, agent_api, worked_catalog):
        methods = agent_api.get("/api/v1/delivery-methods/").json()
        assert [m["name"] for m in methods] == ["7-11 取貨", "新竹物流"]
        assert methods[0] | {"id": 0} == {
            "id": 0, "type": "711_c2c", "name": "7-11 取貨", "fee": 60, "free_threshold": 2000,
            "store_chain": "711", "home_delivery": False, "cross_border": False,
        }

    def test_payment_methods_for_a_delivery_method(self, agent_api, worked_catalog):
        def names(**params):
            return [m["name"] for m in agent_api.get("/api/v1/payment-methods/", params).json()]

        assert names() == ["7-11 取貨付款", "信用卡", "貨到付款", "轉帳"]  # never the hidden one
        assert names(delivery=worked_catalog.seven.pk) == ["7-11 取貨付款", "信用卡", "轉帳"]
        assert names(delivery=worked_catalog.home.pk) == ["信用卡", "貨到付款", "轉帳"]

    def test_a_shop_may_narrow_a_methods_payments(self, agent_api, worked_catalog):
        worked_catalog.seven.payment_methods.set(PaymentMethod.objects.filter(name__in=["信用卡", "貨到付款"]))
        payments = agent_api.get("/api/v1/payment-methods/", {"delivery": worked_catalog.seven.pk}).json()
        assert [m["name"] for m in payments] == ["信用卡"]  # COD is not allowed for 7-11, whatever the shop says

    def test_hidden_or_unknown_delivery(self, agent_api, worked_catalog):
        assert agent_api.get("/api/v1/payment-methods/", {"delivery": worked_catalog.hidden.pk}).status_code == 400
        assert agent_api.get("/api/v1/payment-methods/", {"delivery": 999999}).status_code == 400
        assert agent_api.get("/api/v1/payment-methods/", {"delivery": "x"}).status_code == 400

    def test_pay_at_pickup_is_flagged(self, agent_api, worked_catalog):
        flags = {m["name"]: m["pay_at_pickup"] for m in agent_api.get("/api/v1/payment-methods/").json()}
        assert flags["7-11 取貨付款"] is True and flags["信用卡"] is False

    def test_staff_only(self, client, outsider_api):
        assert client.get("/api/v1/delivery-methods/").status_code in (401, 403)
        assert outsider_api.get("/api/v1/payment-methods/").status_code == 403


class StoreApiTests:
    def test_search_a_chain(self, agent_api):
        stores = agent_api.get("/api/v1/stores/", {"chain": "711", "q": "松仁"}).json()
        assert stores[0] == {"id": "991001", "chain": "711", "name": "7-ELEVEN 松仁門市", "address": "台北市信義區松仁路10號",
                             "district": "台北市信義區", "country": "TW"}
        assert all(s["chain"] == "fami" for s in agent_api.get("/api/v1/stores/", {"chain": "fami"}).json())

    def test_bad_parameters(self, agent_api):
        assert agent_api.get("/api/v1/stores/").status_code == 400
        assert agent_api.get("/api/v1/stores/", {"chain": "ok-mart"}).status_code == 400
        assert agent_api.get("/api/v1/stores/", {"chain": "711", "limit": 0}).status_code == 400


class InvoiceApiTests:
    URL = "/api/v1/invoice/validate/"

    def test_a_company_invoice(self, agent_api, db):
        response = agent_api.post(self.URL, {"type": "company", "business_number": "22099131", "company_title": "好物有限公司"}, format="json")
        assert response.status_code == 200
        assert response.json()["summary"] == "Company (B2B, with business number) · 22099131 · 好物有限公司"

    def test_field_errors(self, agent_api, db):
        response = agent_api.post(self.URL, {"type": "company", "business_number": "12345678"}, format="json")
        assert response.status_code == 400
        assert set(response.json()) == {"business_number", "company_title"}
        bad_barcode = {"type": "personal", "carrier_type": "mobile", "carrier_number": "/abc"}
        assert agent_api.post(self.URL, bad_barcode, format="json").status_code == 400

    def test_bad_input(self, agent_api, db):
        assert agent_api.post(self.URL, {"type": "gift"}, format="json").status_code == 400
        assert agent_api.post(self.URL, {"type": "personal", "carrier_number": ["x"]}, format="json").status_code == 400

    def test_only_for_twd_stores(self, agent_api, db):
        from orders.models import CommerceSettings

        settings = CommerceSettings.load()
        settings.currency = "USD"
        settings.save()
        assert agent_api.post(self.URL, {"type": "personal"}, format="json").status_code == 400


class SchemaTests:
    def test_the_schema_lists_the_quick_order_endpoints(self, client, db):
        schema = client.get("/api/schema/", {"format": "json"}).json()
        for path in ["/api/v1/quotes/", "/api/v1/products/", "/api/v1/gifts/", "/api/v1/delivery-methods/",
                     "/api/v1/payment-methods/", "/api/v1/stores/", "/api/v1/invoice/validate/"]:
            assert path in schema["paths"], path
        quote = schema["components"]["schemas"]["Quote"]["properties"]
        assert {"lines", "adjustments", "notices", "credit", "shipping", "tax", "total", "custom_discounts_left"} <= set(quote)
        assert DeliveryMethod  # the model module imports cleanly alongside the schema
