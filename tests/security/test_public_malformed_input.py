"""Malformed input on the customer's order page with a *valid* token: test_malformed_input.py tries every route,
but under /o/ a made-up token is a 404 before the input is read. Here each /o/ route (from the resolver) gets
junk queries, broken and wrongly typed JSON, junk forms and broken multipart bodies behind a real token:
never a 500, a refused upload is a 400 that keeps nothing, and the order changes only the way its page can
change it (confirming takes no input, so a junk confirmation still just confirms).
"""
from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from orders import confirmation
from orders.models import OrderStatus, PaymentProof
from tests import factories
from tests.orders.public.factories import make_order
from tests.security.routes import all_routes
from tests.security.test_malformed_input import BODIES, JUNK_QUERIES

pytestmark = pytest.mark.django_db

BOUNDARY = "xYzZy"
MULTIPART_JUNK = {
    "unterminated": b"--xYzZy\r\nContent-Disposition: form-data; name=\"proof\"; filename=\"a.png\"\r\n\r\n\x89PNG",
    "no-disposition": b"--xYzZy\r\n\r\nhello\r\n--xYzZy--\r\n",
    "proof-as-text": b"--xYzZy\r\nContent-Disposition: form-data; name=\"proof\"\r\n\r\nnot a file\r\n--xYzZy--\r\n",
    "nul-and-traversal-name": (
        b"--xYzZy\r\nContent-Disposition: form-data; name=\"proof\"; filename=\"../../etc/\x00passwd.png\"\r\n"
        b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n--xYzZy--\r\n"
    ),
    "empty-file": b"--xYzZy\r\nContent-Disposition: form-data; name=\"proof\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\r\n--xYzZy--\r\n",
    "many-fields": b"".join(b"--xYzZy\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nx\r\n" % n for n in range(1500)) + b"--xYzZy--\r\n",
    "bad-charset": b"--xYzZy\r\nContent-Disposition: form-data; name=\"proof\"; filename*=UTF-8''%ff%fe.png\r\n\r\n\xff\r\n--xYzZy--\r\n",
}


def public_order_routes():
    return [r for r in all_routes() if r.pattern.startswith("o/") and "token" in r.arguments]


@pytest.fixture
def order(messenger_channel, settings, tmp_path, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(PaymentProof._meta.get_field("file"), "storage", FileSystemStorage(location=tmp_path / "private"))
    return make_order(conversation=factories.conversation(messenger_channel, name="Mei"))


def test_the_order_routes_are_found():
    assert {r.pattern for r in public_order_routes()} >= {"o/<str:token>/", "o/<str:token>/confirm/", "o/<str:token>/proofs/", "o/<str:token>/state/"}


@pytest.mark.parametrize("route", public_order_routes(), ids=lambda r: r.pattern)
def test_junk_behind_a_valid_token_is_never_a_server_error(order, route):
    path = route.path({"token": confirmation.order_token(order)})
    client = Client(raise_request_exception=False)
    failures = []

    def check(what: str, response) -> None:
        cache.clear()  # the page's rate limit would answer 429 before the input is read
        if response.status_code >= 500:
            failures.append(f"{what} -> {response.status_code}")

    for query in JUNK_QUERIES + ["done=%00", "done=confirmed&done=uploaded", "token=x"]:
        check(f"GET ?{query}", client.get(f"{path}?{query}"))
    for name, body in BODIES.items():
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            check(f"{method} {name}", client.generic(method, path, data=body, content_type="application/json"))
    check("form junk", client.generic("POST", path, data=b"a=%00&b[]=1&&=&proof=x", content_type="application/x-www-form-urlencoded"))
    for name, body in MULTIPART_JUNK.items():
        check(f"multipart {name}", client.generic("POST", path, data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"))
    check("multipart without boundary", client.generic("POST", path, data=MULTIPART_JUNK["proof-as-text"], content_type="multipart/form-data"))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", list(MULTIPART_JUNK))
def test_a_junk_upload_is_a_400_and_keeps_nothing(order, name):
    cache.clear()
    response = Client(raise_request_exception=False).generic(
        "POST", f"/o/{confirmation.order_token(order)}/proofs/", data=MULTIPART_JUNK[name], content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert response.status_code == 400, (name, response.status_code)
    order.refresh_from_db()
    assert not order.proofs.exists() and order.payment_status == "unpaid"


@pytest.mark.parametrize("name", list(BODIES))
def test_a_junk_body_to_confirm_only_confirms(order, name):
    cache.clear()
    response = Client(raise_request_exception=False).generic(
        "POST", f"/o/{confirmation.order_token(order)}/confirm/", data=BODIES[name], content_type="application/json"
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED and order.total == 560 and not order.proofs.exists()
