"""The quick order's API (orders.api) answers what its OpenAPI schema declares, for every kind of answer it gives.

Schemathesis (tests/security/test_api_schema.py) fuzzes every operation, but random ids rarely reach an order,
a draft or a bound chat, and random carts rarely clash; here each operation is called on purpose for each of
its answers (200/201/204; the 400s in each of their shapes: DRF's field errors, a refusal's {"detail",
"errors"}, the engine's {"detail", "code"}, a body that isn't JSON; 401, 403, 404; 409 with its reasons or the
current draft; 415) through the real WSGI handler, and every answer is checked against the schema: its status
code documented for that operation, its content type declared, its body valid for that status.
"""
from __future__ import annotations

import io

import pytest
import schemathesis
from PIL import Image
from rest_framework.authtoken.models import Token
from werkzeug.test import Client

from orders.models import Gift, OrderTag, Variant
from tests import factories
from tests.db import wsgi_application

pytestmark = pytest.mark.django_db

HUGE = 2**70  # beyond the database's integer range


@pytest.fixture
def wsgi():
    with wsgi_application() as app:
        yield app


class Api:
    """Calls the app in-process and checks each answer against the operation the schema declares for it."""

    def __init__(self, app, tokens: dict[str, str]):
        self.client = Client(app)
        self.schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
        self.tokens = tokens

    def call(self, method: str, template: str, *, expect: int, as_: str | None = "agent", json_body=None, query=None,
             data=None, content_type: str | None = None, **path_parameters):
        headers = {"Authorization": f"Token {self.tokens[as_]}"} if as_ else {}
        kwargs: dict = {"method": method, "headers": headers, "query_string": query}
        if json_body is not None:
            kwargs["json"] = json_body
        if data is not None:
            kwargs["data"] = data
        if content_type is not None:
            kwargs["content_type"] = content_type
        response = self.client.open(template.format(**path_parameters), **kwargs)
        assert response.status_code == expect, (method, template, response.status_code, response.get_data(as_text=True))
        self.check(method, template, response)
        return response

    def check(self, method: str, template: str, response) -> None:
        operation = self.schema[template][method]
        documented = operation.definition.raw["responses"]
        assert str(response.status_code) in documented, (method, template, response.status_code, sorted(documented))
        declared = documented[str(response.status_code)].get("content")
        if declared is None:
            assert not response.get_data(), (method, template, response.status_code)
        else:
            assert response.mimetype in declared, (method, template, response.mimetype, sorted(declared))
        operation.validate_response(response)  # the body against the status code's schema; raises with every violation


@pytest.fixture
def api(wsgi, agent, shop_admin, outsider) -> Api:
    tokens = {name: Token.objects.create(user=user).key for name, user in (("agent", agent), ("admin", shop_admin), ("outsider", outsider))}
    tokens["bob"] = Token.objects.create(user=factories.staff_user("bob")).key
    tokens["forged"] = "0" * 40
    return Api(wsgi, tokens)


def picture(image_format: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 90)).save(out, image_format)
    return out.getvalue()


QUOTES = "/api/v1/quotes/"
PRODUCTS = "/api/v1/products/"
GIFTS = "/api/v1/gifts/"
DELIVERY = "/api/v1/delivery-methods/"
PAYMENT = "/api/v1/payment-methods/"
STORES = "/api/v1/stores/"
INVOICE = "/api/v1/invoice/validate/"
ORDERS = "/api/v1/orders/"
ORDER = "/api/v1/orders/{order_id}/"
DRAFT = "/api/v1/conversations/{conversation_id}/order-draft/"
EDITING = "/api/v1/conversations/{conversation_id}/order-draft/editing/"
COUPONS = "/api/v1/customers/{customer_id}/coupons/"
IMAGES = "/api/v1/custom-product-images/"
TAGS = "/api/v1/order-tags/"
TAG = "/api/v1/order-tags/{tag_id}/"


class QuoteAndCatalogAnswersTests:
    def test_quote(self, api, worked_catalog, worked_request):
        assert api.call("POST", QUOTES, expect=200, json_body=worked_request).json["total"] == 1960
        assert set(api.call("POST", QUOTES, expect=400, json_body={}).json) == {"lines"}
        nested = api.call("POST", QUOTES, expect=400, json_body={"lines": [{"variant_id": worked_catalog.a.pk, "quantity": 0}]}).json
        assert nested == {"lines": {"0": {"quantity": ["Ensure this value is greater than or equal to 1."]}}}
        assert "non_field_errors" in api.call("POST", QUOTES, expect=400, json_body={"lines": "x"}).json["lines"]
        unknown = api.call("POST", QUOTES, expect=400, json_body={"lines": [{"variant_id": 987654, "quantity": 1}]}).json
        assert unknown["errors"] == {"variant:987654": "This product is no longer available."}
        # Two lines of one variant are one line to the engine: 2 x 999 is more than it takes.
        engine = api.call("POST", QUOTES, expect=400, json_body={"lines": [{"variant_id": worked_catalog.a.pk, "quantity": 999}] * 2}).json
        assert set(engine) == {"detail", "code"} and engine["code"] == "line.quantity"
        member = api.call("POST", QUOTES, expect=400, json_body={**worked_request, "customer_id": 999999}).json
        assert list(member) == ["customer_id"]
        assert "detail" in api.call("POST", QUOTES, expect=400, data="{not json", content_type="application/json").json
        assert api.call("POST", QUOTES, expect=415, data="lines", content_type="text/plain").json["detail"]
        assert api.call("POST", QUOTES, expect=401, as_=None, json_body=worked_request).json["detail"]
        api.call("POST", QUOTES, expect=401, as_="forged", json_body=worked_request)
        api.call("POST", QUOTES, expect=403, as_="outsider", json_body=worked_request)

    def test_catalog_lists(self, api, worked_catalog):
        Gift.objects.create(name="Tote", sku="G-1", stock=3)
        assert [p["name"] for p in api.call("GET", PRODUCTS, expect=200, query={"q": "A"}).json] == ["A"]
        assert list(api.call("GET", PRODUCTS, expect=400, query={"limit": "0"}).json) == ["limit"]
        api.call("GET", PRODUCTS, expect=401, as_=None)
        api.call("GET", PRODUCTS, expect=403, as_="outsider")
        assert [g["name"] for g in api.call("GET", GIFTS, expect=200).json] == ["Tote"]
        assert list(api.call("GET", GIFTS, expect=400, query={"limit": "many"}).json) == ["limit"]
        api.call("GET", GIFTS, expect=403, as_="outsider")
        assert len(api.call("GET", DELIVERY, expect=200).json) == 2  # never the hidden one
        api.call("GET", DELIVERY, expect=401, as_=None)
        api.call("GET", DELIVERY, expect=403, as_="outsider")

    def test_payment_methods_and_stores(self, api, worked_catalog):
        assert len(api.call("GET", PAYMENT, expect=200).json) == 4
        assert api.call("GET", PAYMENT, expect=200, query={"delivery": worked_catalog.seven.pk}).json
        assert list(api.call("GET", PAYMENT, expect=400, query={"delivery": worked_catalog.hidden.pk}).json) == ["delivery"]
        assert list(api.call("GET", PAYMENT, expect=400, query={"delivery": "x"}).json) == ["delivery"]
        api.call("GET", PAYMENT, expect=403, as_="outsider")
        assert api.call("GET", STORES, expect=200, query={"chain": "711", "q": "991001"}).json[0]["id"] == "991001"
        assert list(api.call("GET", STORES, expect=400).json) == ["chain"]
        assert list(api.call("GET", STORES, expect=400, query={"chain": "711", "limit": "51"}).json) == ["limit"]
        api.call("GET", STORES, expect=401, as_=None, query={"chain": "711"})
        api.call("GET", STORES, expect=403, as_="outsider", query={"chain": "711"})

    def test_invoice(self, api, db):
        assert api.call("POST", INVOICE, expect=200, json_body={"type": "personal"}).json["summary"]
        refused = api.call("POST", INVOICE, expect=400, json_body={"type": "company", "business_number": "12345678"}).json
        assert all(isinstance(messages, list) for messages in refused.values()) and "business_number" in refused
        assert list(api.call("POST", INVOICE, expect=400, json_body={"type": "receipt"}).json) == ["type"]
        assert "detail" in api.call("POST", INVOICE, expect=400, data="[", content_type="application/json").json
        api.call("POST", INVOICE, expect=415, data="type=personal", content_type="text/csv")
        api.call("POST", INVOICE, expect=403, as_="outsider", json_body={"type": "personal"})


class OrderAndDraftAnswersTests:
    def test_create_and_read_orders(self, api, bound, worked_catalog, worked_draft, django_user_model):
        chat = bound.conversation.pk
        created = api.call("POST", ORDERS, expect=201, json_body={"conversation_id": chat, "draft": worked_draft}).json
        assert created["total"] == 1960
        assert api.call("GET", ORDER, expect=200, order_id=created["id"]).json["number"] == created["number"]
        api.call("GET", ORDER, expect=404, order_id=999999)
        api.call("GET", ORDER, expect=404, order_id=HUGE)
        api.call("GET", ORDER, expect=401, as_=None, order_id=created["id"])
        api.call("GET", ORDER, expect=403, as_="outsider", order_id=created["id"])

        assert set(api.call("POST", ORDERS, expect=400, json_body={}).json) == {"conversation_id", "draft"}
        assert list(api.call("POST", ORDERS, expect=400, json_body={"conversation_id": chat, "draft": []}).json) == ["draft"]
        long_note = {**worked_draft, "note": "x" * 201}
        invalid = api.call("POST", ORDERS, expect=400, json_body={"conversation_id": chat, "draft": long_note}).json
        assert set(invalid) == {"detail", "errors"} and "note" in invalid["errors"]
        engine = {**worked_draft, "lines": [{"variant_id": worked_catalog.c.pk, "quantity": 999}] * 2}
        refused = api.call("POST", ORDERS, expect=400, json_body={"conversation_id": chat, "draft": engine}).json
        assert set(refused) == {"detail", "code"} and refused["code"] == "line.quantity"
        assert "detail" in api.call("POST", ORDERS, expect=400, data="{", content_type="application/json").json
        api.call("POST", ORDERS, expect=404, json_body={"conversation_id": 999999, "draft": worked_draft})

        Variant.objects.filter(pk=worked_catalog.c.pk).update(stock=0)
        conflict = api.call("POST", ORDERS, expect=409, json_body={"conversation_id": chat, "draft": worked_draft}).json
        assert [r["code"] for r in conflict["reasons"]] == ["stock"]
        assert conflict["errors"] == {f"variant:{worked_catalog.c.pk}": conflict["reasons"][0]["message"]}

        api.call("POST", ORDERS, expect=415, data="x", content_type="text/plain")
        api.call("POST", ORDERS, expect=401, as_=None, json_body={"conversation_id": chat, "draft": worked_draft})
        api.call("POST", ORDERS, expect=403, as_="outsider", json_body={"conversation_id": chat, "draft": worked_draft})
        bound.conversation.assignee = django_user_model.objects.get(username="bob")
        bound.conversation.save()
        assigned = api.call("POST", ORDERS, expect=403, json_body={"conversation_id": chat, "draft": worked_draft}).json
        assert "assigned to bob" in assigned["detail"]

    def test_draft(self, api, bound, django_user_model):
        chat = bound.conversation.pk
        assert api.call("GET", DRAFT, expect=200, conversation_id=chat).json["version"] == 0
        saved = api.call("PUT", DRAFT, expect=200, conversation_id=chat, json_body={"data": {"note": "a"}, "version": 0}).json
        assert saved["version"] == 1 and saved["editing_by"]["name"] == "amy"
        stale = api.call("PUT", DRAFT, expect=409, conversation_id=chat, json_body={"data": {"note": "b"}, "version": 0}).json
        assert stale["draft"]["data"] == {"note": "a"}
        other = api.call("PUT", DRAFT, expect=409, as_="bob", conversation_id=chat, json_body={"data": {}, "version": 1}).json
        assert other["detail"] == "amy is editing this order." and other["draft"]["editing_by"]["name"] == "amy"
        assert api.call("GET", DRAFT, expect=200, as_="bob", conversation_id=chat).json["editable"] is False

        unparsed = api.call("PUT", DRAFT, expect=400, conversation_id=chat, json_body={"data": "x", "version": -1}).json
        assert set(unparsed) == {"data", "version"}
        eleven_tags = {"tags": [f"t{n}" for n in range(11)]}
        tags = api.call("PUT", DRAFT, expect=400, conversation_id=chat, json_body={"data": eleven_tags, "version": 1}).json
        assert set(tags) == {"detail", "errors"} and "tags" in tags["errors"]
        discounts = {"custom_discounts": [{"label": "d", "amount": 1}] * 6}
        engine = api.call("PUT", DRAFT, expect=400, conversation_id=chat, json_body={"data": discounts, "version": 1}).json
        assert engine["code"] == "custom_discounts.too_many"
        api.call("PUT", DRAFT, expect=400, conversation_id=chat, data="{", content_type="application/json")
        api.call("PUT", DRAFT, expect=415, conversation_id=chat, data="x", content_type="text/plain")

        api.call("GET", DRAFT, expect=404, conversation_id=999999)
        api.call("GET", DRAFT, expect=404, conversation_id=HUGE)
        api.call("PUT", DRAFT, expect=404, conversation_id=999999, json_body={"data": {}, "version": 0})
        api.call("GET", DRAFT, expect=401, as_=None, conversation_id=chat)
        api.call("GET", DRAFT, expect=403, as_="outsider", conversation_id=chat)
        api.call("PUT", DRAFT, expect=401, as_=None, conversation_id=chat, json_body={"data": {}, "version": 1})
        api.call("PUT", DRAFT, expect=403, as_="outsider", conversation_id=chat, json_body={"data": {}, "version": 1})
        bound.conversation.assignee = django_user_model.objects.get(username="bob")
        bound.conversation.save()
        assigned = api.call("PUT", DRAFT, expect=403, conversation_id=chat, json_body={"data": {}, "version": 1}).json
        assert "assigned to bob" in assigned["detail"]

    def test_draft_editing(self, api, bound, django_user_model):
        chat = bound.conversation.pk
        assert api.call("POST", EDITING, expect=200, conversation_id=chat, json_body={"editing": True}).json["editing_by"]["name"] == "amy"
        held = api.call("POST", EDITING, expect=409, as_="bob", conversation_id=chat, json_body={"editing": True}).json
        assert held["detail"] == "amy is editing this order." and held["draft"]["editable"] is False
        assert api.call("POST", EDITING, expect=200, conversation_id=chat, json_body={"editing": False}).json["editing_by"] is None
        assert list(api.call("POST", EDITING, expect=400, conversation_id=chat, json_body={"editing": "maybe"}).json) == ["editing"]
        assert list(api.call("POST", EDITING, expect=400, conversation_id=chat, json_body={}).json) == ["editing"]
        api.call("POST", EDITING, expect=400, conversation_id=chat, data="nope", content_type="application/json")
        api.call("POST", EDITING, expect=415, conversation_id=chat, data="editing", content_type="text/plain")
        api.call("POST", EDITING, expect=404, conversation_id=999999, json_body={"editing": True})
        api.call("POST", EDITING, expect=401, as_=None, conversation_id=chat, json_body={"editing": True})
        api.call("POST", EDITING, expect=403, as_="outsider", conversation_id=chat, json_body={"editing": True})
        bound.conversation.assignee = django_user_model.objects.get(username="bob")
        bound.conversation.save()
        api.call("POST", EDITING, expect=403, conversation_id=chat, json_body={"editing": True})

    def test_member_coupons(self, api, bound, worked_catalog, worked_draft):
        member, chat = bound.customer.pk, bound.conversation.pk
        api.call("PUT", DRAFT, expect=200, conversation_id=chat, json_body={"data": worked_draft, "version": 0})
        usable = api.call("GET", COUPONS, expect=200, customer_id=member, query={"conversation": chat}).json
        assert [c["code"] for c in usable] == ["SAVE100"] and usable[0]["usable"]
        everything = api.call("GET", COUPONS, expect=200, customer_id=member, query={"all": "true"}).json
        assert everything[0]["reasons"]  # the empty cart is under SAVE100's minimum
        assert list(api.call("GET", COUPONS, expect=400, customer_id=member, query={"conversation": "x"}).json) == ["conversation"]
        api.call("GET", COUPONS, expect=404, customer_id=999999)
        api.call("GET", COUPONS, expect=404, customer_id=HUGE)
        api.call("GET", COUPONS, expect=404, customer_id=member, query={"conversation": 999999})
        api.call("GET", COUPONS, expect=401, as_=None, customer_id=member)
        api.call("GET", COUPONS, expect=403, as_="outsider", customer_id=member)


class PictureAndTagAnswersTests:
    def test_custom_product_picture(self, api, tmp_path, settings):
        settings.MEDIA_ROOT = tmp_path / "media"
        form = "multipart/form-data"
        stored = api.call("POST", IMAGES, expect=201, data={"image": (io.BytesIO(picture()), "a.png", "image/png")}, content_type=form).json
        assert (stored["content_type"], stored["width"], stored["height"]) == ("image/png", 40, 30)
        assert list(api.call("POST", IMAGES, expect=400, data={"other": "x"}, content_type=form).json) == ["image"]
        text = api.call("POST", IMAGES, expect=400, data={"image": (io.BytesIO(b"hello"), "a.png", "image/png")}, content_type=form).json
        assert set(text) == {"detail"} and "not an image we accept" in text["detail"]
        api.call("POST", IMAGES, expect=400, data={"image": (io.BytesIO(b""), "a.png", "image/png")}, content_type=form)
        assert api.call("POST", IMAGES, expect=415, json_body={"image": "x"}).json["detail"]
        image = {"image": (io.BytesIO(picture()), "a.png", "image/png")}
        api.call("POST", IMAGES, expect=401, as_=None, data=image, content_type=form)
        image = {"image": (io.BytesIO(picture()), "a.png", "image/png")}
        api.call("POST", IMAGES, expect=403, as_="outsider", data=image, content_type=form)

    def test_saved_order_tags(self, api, db):
        created = api.call("POST", TAGS, expect=201, json_body={"name": "  VIP  "}).json
        assert created["name"] == "VIP"
        assert api.call("POST", TAGS, expect=201, json_body={"name": "vip"}).json["id"] == created["id"]
        assert [t["name"] for t in api.call("GET", TAGS, expect=200).json] == ["VIP"]
        assert list(api.call("POST", TAGS, expect=400, json_body={}).json) == ["name"]
        too_long = api.call("POST", TAGS, expect=400, json_body={"name": "x" * 31}).json
        assert set(too_long) == {"detail", "errors"} and list(too_long["errors"]) == ["name"]
        api.call("POST", TAGS, expect=400, data="{", content_type="application/json")
        api.call("POST", TAGS, expect=415, data="name", content_type="text/plain")
        api.call("GET", TAGS, expect=401, as_=None)
        api.call("GET", TAGS, expect=403, as_="outsider")
        api.call("POST", TAGS, expect=403, as_="outsider", json_body={"name": "x"})

        tag = created["id"]
        assert api.call("GET", TAG, expect=200, tag_id=tag).json == created
        api.call("GET", TAG, expect=404, tag_id=999999)
        api.call("GET", TAG, expect=404, tag_id=HUGE)
        api.call("GET", TAG, expect=403, as_="outsider", tag_id=tag)
        api.call("DELETE", TAG, expect=403, tag_id=tag)  # agents read, administrators delete
        api.call("DELETE", TAG, expect=401, as_=None, tag_id=tag)
        api.call("DELETE", TAG, expect=204, as_="admin", tag_id=tag)
        assert not OrderTag.objects.exists()
        api.call("DELETE", TAG, expect=404, as_="admin", tag_id=tag)


class CheckCanFailTests:
    def test_an_answer_the_schema_does_not_declare_is_refused(self, api, bound):
        """The checks above fail on a body of the wrong shape and on an undocumented status code."""
        draft = api.call("GET", DRAFT, expect=200, conversation_id=bound.conversation.pk)
        with pytest.raises(Exception, match="required"):
            api.schema[QUOTES]["POST"].validate_response(draft)  # a draft is not a quote
        missing = api.client.open(ORDER.format(order_id=999999), headers={"Authorization": f"Token {api.tokens['agent']}"})
        assert missing.status_code == 404
        api.check("GET", ORDER, missing)
        with pytest.raises(AssertionError):
            api.check("GET", DELIVERY, missing)  # the delivery list never answers 404
