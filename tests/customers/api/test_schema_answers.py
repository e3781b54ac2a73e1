"""The customers API answers what its OpenAPI schema declares, for every kind of answer it gives.

Schemathesis (tests/security/test_api_schema.py) fuzzes every operation, but random ids rarely reach a
member and random bodies rarely clash; here each operation is called on purpose for each of its answers
(200/201/204, a refused change's {"detail"}, DRF's field errors, 404, 409 with the matches) and every answer
is checked against the schema: status code documented, content type and body as declared.
"""
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from customers import services
from tests import factories
from tests.orders.public.factories import make_order

pytestmark = pytest.mark.django_db

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
HUGE = 2**70


@pytest.fixture
def api(db):
    """The schema, served in-process; Django's per-request connection closing is off (it would end the test's
    transaction), as Django's own test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def world(make_customer, make_conversation, shop_admin):
    mei = make_customer("陳小美", email="mei@example.com", phone="0912345678", tags=["VIP"])
    other = make_customer("王小明", email="ming@example.com", phone="0987654321")
    address = services.add_address(customer=mei, actor=None, recipient_name="陳小美", street="忠孝東路 1 號")
    services.adjust_credit(customer=mei, amount=300, reason="gift", actor=None)
    bound = make_conversation("Mei FB")
    services.bind_contact(contact=bound.contact, customer=mei, actor=None)
    make_order(conversation=bound, customer=mei)
    live = make_conversation("Live buyer")
    make_order(conversation=live, recipient={"name": "小明", "phone": "0987-654-321"})
    make_order(conversation=live, recipient={"name": "小華", "phone": "0955-000-111"})
    free = make_conversation("New fan")
    token = Token.objects.create(user=shop_admin).key
    return {"mei": mei.pk, "other": other.pk, "address": address.pk, "bound": bound.pk, "live": live.pk, "free": free.pk, "token": token}


def call(api, world, method: str, path: str, *, expect: int, body=None, query=None, **path_parameters):
    operation = api[path][method]
    kwargs = {"path_parameters": path_parameters, "query": query or {}}
    if body is not None:
        kwargs.update(body=body, media_type="application/json")
    case = operation.Case(**kwargs)
    response = case.call_and_validate(headers={"Authorization": f"Token {world['token']}"}, checks=CHECKS)
    assert response.status_code == expect, (method, path, response.status_code, response.text)
    return response


class SchemaAnswersTests:
    def test_members(self, api, world):
        m = world["mei"]
        call(api, world, "GET", "/api/v1/customers/", expect=200, query={"q": "0912-345-678"})
        call(api, world, "GET", "/api/v1/customers/", expect=400, query={"limit": "0"})
        call(api, world, "POST", "/api/v1/customers/", expect=201, body={"phone": "0911 222 333", "tags": ["VIP"]})
        call(api, world, "POST", "/api/v1/customers/", expect=409, body={"phone": "+886912345678"})
        call(api, world, "POST", "/api/v1/customers/", expect=409, body={"email": "mei@example.com", "phone": "0987654321"})
        call(api, world, "POST", "/api/v1/customers/", expect=400, body={})
        call(api, world, "POST", "/api/v1/customers/", expect=400, body={"email": ["x"], "tags": "VIP"})
        call(api, world, "GET", "/api/v1/customers/{customer_id}/", expect=200, customer_id=m)
        call(api, world, "GET", "/api/v1/customers/{customer_id}/", expect=404, customer_id=999999)
        call(api, world, "GET", "/api/v1/customers/{customer_id}/", expect=404, customer_id=HUGE)
        call(api, world, "PATCH", "/api/v1/customers/{customer_id}/", expect=200, customer_id=m, body={"notes": "n", "tier": None})
        call(api, world, "PATCH", "/api/v1/customers/{customer_id}/", expect=409, customer_id=m, body={"phone": "0987654321"})
        call(api, world, "PATCH", "/api/v1/customers/{customer_id}/", expect=400, customer_id=m, body={"email": "nope"})
        call(api, world, "PATCH", "/api/v1/customers/{customer_id}/", expect=400, customer_id=m, body={"tier": 999999})
        call(api, world, "PATCH", "/api/v1/customers/{customer_id}/", expect=404, customer_id=999999, body={"notes": "n"})

    def test_merge(self, api, world, make_customer):
        m = world["mei"]
        path = "/api/v1/customers/{customer_id}/merge/"
        call(api, world, "POST", path, expect=400, customer_id=m, body={"source": m})
        call(api, world, "POST", path, expect=400, customer_id=m, body={"source": "x"})
        call(api, world, "POST", path, expect=404, customer_id=999999, body={"source": m})
        make_customer("Third", email="third@x.tw")
        call(api, world, "POST", path, expect=409, customer_id=m, body={"source": world["other"], "email": "third@x.tw"})
        call(api, world, "POST", path, expect=200, customer_id=m, body={"source": world["other"]})

    def test_chats(self, api, world):
        bind = "/api/v1/conversations/{conversation_id}/bind/"
        call(api, world, "POST", bind, expect=201, conversation_id=world["free"], body={"email": "fan@x.tw"})
        call(api, world, "POST", bind, expect=409, conversation_id=world["live"], body={"phone": "0912 345 678"})
        call(api, world, "POST", bind, expect=400, conversation_id=world["bound"], body={"customer": world["other"]})
        call(api, world, "POST", bind, expect=400, conversation_id=world["live"], body={"customer": "x"})
        call(api, world, "POST", bind, expect=404, conversation_id=999999, body={"customer": world["mei"]})
        call(api, world, "POST", bind, expect=200, conversation_id=world["live"], body={"customer": world["mei"]})
        unbind = "/api/v1/conversations/{conversation_id}/unbind/"
        call(api, world, "POST", unbind, expect=200, conversation_id=world["live"])
        call(api, world, "POST", unbind, expect=400, conversation_id=world["live"])
        call(api, world, "POST", unbind, expect=404, conversation_id=HUGE)

    def test_flow_c(self, api, world):
        path = "/api/v1/conversations/{conversation_id}/order-customers/"
        listed = call(api, world, "GET", path, expect=200, conversation_id=world["live"]).json()
        assert [m["customer"] and m["customer"]["id"] for m in listed] == [None, world["other"]]
        call(api, world, "GET", path, expect=404, conversation_id=999999)
        call(api, world, "POST", path, expect=400, conversation_id=world["live"], body={"customer": world["mei"]})
        call(api, world, "POST", path, expect=400, conversation_id=world["live"], body={})
        call(api, world, "POST", path, expect=404, conversation_id=999999, body={"customer": world["other"]})
        call(api, world, "POST", path, expect=200, conversation_id=world["live"], body={"customer": world["other"]})

    def test_addresses_and_credit(self, api, world):
        m, a = world["mei"], world["address"]
        addresses = "/api/v1/customers/{customer_id}/addresses/"
        call(api, world, "GET", addresses, expect=200, customer_id=m)
        call(api, world, "GET", addresses, expect=404, customer_id=999999)
        call(api, world, "POST", addresses, expect=201, customer_id=m, body={"recipient_name": "R", "street": "S"})
        call(api, world, "POST", addresses, expect=400, customer_id=m, body={"recipient_name": "", "street": "S"})
        call(api, world, "POST", addresses, expect=400, customer_id=m, body={"street": 5})
        call(api, world, "POST", addresses, expect=404, customer_id=999999, body={"recipient_name": "R", "street": "S"})
        one = "/api/v1/customers/{customer_id}/addresses/{address_id}/"
        call(api, world, "PATCH", one, expect=200, customer_id=m, address_id=a, body={"city": "台北市", "is_default": True})
        call(api, world, "PATCH", one, expect=400, customer_id=m, address_id=a, body={"postal_code": "1"})
        call(api, world, "PATCH", one, expect=404, customer_id=world["other"], address_id=a, body={"city": "x"})
        call(api, world, "DELETE", one, expect=204, customer_id=m, address_id=a)
        call(api, world, "DELETE", one, expect=404, customer_id=m, address_id=a)
        credit = "/api/v1/customers/{customer_id}/credit/"
        call(api, world, "GET", credit, expect=200, customer_id=m)
        call(api, world, "GET", credit, expect=404, customer_id=999999)
        call(api, world, "POST", credit, expect=201, customer_id=m, body={"amount": -100, "reason": "used"})
        call(api, world, "POST", credit, expect=400, customer_id=m, body={"amount": -1000, "reason": "too much"})
        call(api, world, "POST", credit, expect=400, customer_id=m, body={"amount": "x"})
        call(api, world, "POST", credit, expect=404, customer_id=999999, body={"amount": 1, "reason": "x"})
