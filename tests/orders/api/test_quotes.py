"""POST /api/v1/quotes/: the worked example to the dollar, no side effects, bad input never a 500."""
from __future__ import annotations

import pytest

from orders.models import Coupon, Gift, Variant

pytestmark = pytest.mark.django_db
URL = "/api/v1/quotes/"


class QuoteApiTests:
    def test_the_worked_example(self, agent_api, worked_request, worked_catalog):
        response = agent_api.post(URL, worked_request, format="json")
        assert response.status_code == 200, response.content
        q = response.json()
        assert [line["amount"] for line in q["lines"]] == [1380, 590, 500]
        assert (q["subtotal"], q["after_item_promotions"], q["after_coupon"], q["merchandise"], q["after_credit"]) == (
            2470, 2080, 1980, 1950, 1900,
        )
        assert q["shipping"]["amount"] == 60 and q["total"] == 1960
        assert q["tax"] == {"mode": "included", "rate": "5.00", "base": 1960, "amount": 93, "added": False,
                            "formula": "round(1960 × 5% / (1 + 5%)) = 93", "lines": []}
        assert q["credit"]["applied"] == 50 and q["credit"]["editable"] is False
        assert q["coupon"]["applied"] and q["coupon"]["code"] == "SAVE100"
        assert q["custom_discounts_left"] == 4
        line_a = q["lines"][0]
        assert [(p["promotion_id"], p["kind"], p["kind_label"], p["discount"]) for p in line_a["promotions"]] == [
            (worked_catalog.pick_any.pk, "pick_any", "Pick any", 390)
        ]
        assert [(a["step"], a["amount"]) for a in q["adjustments"]] == [
            ("item_promotion", -390), ("coupon", -100), ("custom_discount", -30), ("credit", -50), ("shipping", 60)
        ]
        # SAVE100 and the custom discount take 2,080 under the 2,000 free-shipping threshold: staff are told.
        assert [n["code"] for n in q["notices"]] == ["shipping.free_lost_to_discounts"]

    def test_type_labels_in_the_shops_language(self, agent_api, worked_request):
        response = agent_api.post(URL, worked_request, format="json", HTTP_ACCEPT_LANGUAGE="zh-hant")
        assert response.json()["lines"][0]["promotions"][0]["kind_label"] == "任選"

    def test_all_products_taxed(self, agent_api, worked_request):
        from orders.models import CommerceSettings

        settings = CommerceSettings.load()
        settings.tax_mode = CommerceSettings.TaxMode.ALL
        settings.save()
        q = agent_api.post(URL, worked_request, format="json").json()
        assert (q["tax"]["amount"], q["total"]) == (98, 2058)

    def test_no_side_effects(self, agent_api, worked_request, worked_catalog):
        stock = list(Variant.objects.order_by("pk").values_list("stock", flat=True))
        agent_api.post(URL, worked_request, format="json")
        assert list(Variant.objects.order_by("pk").values_list("stock", flat=True)) == stock
        assert Coupon.objects.get().usage_count == 0

    def test_reasons_come_back_when_things_do_not_apply(self, agent_api, worked_request):
        worked_request.update(coupon_code="NOPE", credit_amount=20)
        q = agent_api.post(URL, worked_request, format="json").json()
        assert {n["code"] for n in q["notices"]} == {"coupon.unknown", "credit.not_editable"}
        assert q["coupon"]["applied"] is False and q["coupon"]["reasons"][0]["message"] == "There is no coupon with the code NOPE."

    def test_gifts_and_custom_products(self, agent_api, worked_catalog):
        gift = Gift.objects.create(name="Sticker", sku="G-1", stock=5)
        body = {"lines": [{"gift_id": gift.pk, "quantity": 1}, {"custom": {"name": "刻字", "unit_price": 150}, "quantity": 2}]}
        q = agent_api.post(URL, body, format="json").json()
        assert [(l["key"], l["amount"], l["is_gift"], l["is_custom"]) for l in q["lines"]] == [
            (f"g{gift.pk}", 0, True, False), ("c1", 300, False, True)
        ]

    def test_the_sixth_custom_discount_is_refused_clearly(self, agent_api, worked_request):
        worked_request["custom_discounts"] = [{"label": f"d{i}", "amount": 1} for i in range(6)]
        response = agent_api.post(URL, worked_request, format="json")
        assert response.status_code == 400
        assert response.json() == {"custom_discounts": ["An order can have at most 5 custom discounts."]}

    def test_five_custom_discounts_grey_the_button(self, agent_api, worked_request):
        worked_request["custom_discounts"] = [{"label": "", "amount": 1} for _ in range(5)]
        q = agent_api.post(URL, worked_request, format="json").json()
        assert q["custom_discounts_left"] == 0
        assert [d["label"] for d in q["custom_discounts"]] == ["Custom discount"] * 5

    def test_unavailable_items_are_named(self, agent_api, worked_catalog):
        response = agent_api.post(URL, {"lines": [{"variant_id": 987654, "quantity": 1}]}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "detail": "Some items can't be ordered.",
            "errors": {"variant:987654": "This product is no longer available."},
        }

    def test_hidden_delivery_method(self, agent_api, worked_request, worked_catalog):
        worked_request["delivery_method_id"] = worked_catalog.hidden.pk
        assert agent_api.post(URL, worked_request, format="json").status_code == 400

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"lines": "nope"},
            {"lines": [{"quantity": 1}]},
            {"lines": [{"variant_id": 1, "gift_id": 1, "quantity": 1}]},
            {"lines": [{"variant_id": 1, "quantity": 0}]},
            {"lines": [{"variant_id": 1, "quantity": 1000}]},
            {"lines": [{"variant_id": "x", "quantity": 1}]},
            {"lines": [{"variant_id": 1.5, "quantity": 1}]},
            {"lines": [{"custom": {"name": "x", "unit_price": -1}, "quantity": 1}]},
            {"lines": [{"custom": {"name": "", "unit_price": 1}, "quantity": 1}]},
            {"lines": [{"custom": "x", "quantity": 1}]},
            {"lines": [], "custom_discounts": [{"label": "x", "amount": -1}]},
            {"lines": [], "custom_discounts": "x"},
            {"lines": [], "credit_balance": -1},
            {"lines": [], "credit_amount": 10**12},
            {"lines": [], "delivery_method_id": 0},
            {"lines": [], "coupon_code": "x" * 33},
            {"lines": [{"variant_id": 10**30, "quantity": 1}]},
            {"lines": [None]},
            {"lines": [{"variant_id": 1, "quantity": 1}] * 101},
        ],
    )
    def test_bad_input_is_a_400(self, agent_api, worked_catalog, body):
        assert agent_api.post(URL, body, format="json").status_code == 400

    def test_malformed_json_is_a_400(self, agent_api):
        assert agent_api.post(URL, "{not json", content_type="application/json").status_code == 400

    def test_staff_only(self, client, outsider_api, worked_request):
        assert client.post(URL, worked_request, content_type="application/json").status_code in (401, 403)
        assert outsider_api.post(URL, worked_request, format="json").status_code == 403
