"""The customer's order link /o/<token>/ against guessing and tampering (tests/orders/public/test_public.py
has the hand-picked manglings): any string is a plain 404 on every route under /o/, never a 500 and never
another order; one order's token never opens another; the secret is long and random; the page can't be
framed, cached or leak its URL to other sites through the Referer header.
"""
from __future__ import annotations

import string

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from orders import confirmation
from orders.models import Order
from tests import factories
from tests.orders.public.factories import make_order

pytestmark = pytest.mark.django_db

SUFFIXES = ["", "confirm/", "proofs/", "state/"]
URL_SAFE = string.ascii_letters + string.digits + "-_:.~"


@pytest.fixture
def two_orders(messenger_channel):
    cache.clear()  # the pages' rate-limit counters
    a = make_order(conversation=factories.conversation(messenger_channel, name="A"))
    b = make_order(conversation=factories.conversation(messenger_channel, name="B"))
    return a, b


def fetch(client: Client, token: str, suffix: str):
    path = f"/o/{token}/{suffix}"
    return client.post(path) if suffix in ("confirm/", "proofs/") else client.get(path)


def mutate(token: str, position: int, char: str) -> str:
    position %= len(token)
    return token[:position] + char + token[position + 1:]


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(guess=st.text(alphabet=URL_SAFE, min_size=1, max_size=120), suffix=st.sampled_from(SUFFIXES))
def test_any_guess_is_a_plain_404(two_orders, guess, suffix):
    cache.clear()
    a, b = two_orders
    response = fetch(Client(), guess, suffix)
    if guess in (".", ".."):  # the URL resolver normalises these away; they are not tokens
        assert response.status_code in (404, 405)
        return
    assert response.status_code == 404, (guess, suffix)
    assert a.number.encode() not in response.content and b.number.encode() not in response.content


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(position=st.integers(min_value=0, max_value=10_000), char=st.sampled_from(URL_SAFE), suffix=st.sampled_from(SUFFIXES))
def test_a_token_changed_anywhere_opens_nothing(two_orders, position, char, suffix):
    cache.clear()
    a, b = two_orders
    token = confirmation.order_token(a)
    changed = mutate(token, position, char)
    if changed == token:
        return
    response = fetch(Client(), changed, suffix)
    # Every change is refused: the signature covers the key and the timestamp, and is itself compared whole.
    assert response.status_code == 404, (token, changed, suffix)
    a.refresh_from_db()
    assert a.confirmed_at is None and not a.proofs.exists()


def test_one_orders_token_never_opens_another(client, two_orders):
    a, b = two_orders
    body = client.get(f"/o/{confirmation.order_token(a)}/").content
    assert a.number.encode() in body and b.number.encode() not in body
    # A's signature on B's key, B's key with A's signature, the key or number alone, the id signed.
    token_a, token_b = confirmation.order_token(a), confirmation.order_token(b)
    key_b, signature_a = token_b.split(":", 1)[0], token_a.split(":", 1)[1]
    signer = signing.TimestampSigner(salt=confirmation.LINK_SALT)
    for guess in (f"{key_b}:{signature_a}", key_b, b.number, str(b.pk), signer.sign(str(b.pk)), signer.sign(b.number)):
        assert client.get(f"/o/{guess}/").status_code == 404, guess


def test_the_secret_is_long_random_and_unique():
    keys = {confirmation.new_access_key() for _ in range(2000)}
    assert len(keys) == 2000
    assert all(len(k) >= 43 for k in keys)  # 32 random bytes, url-safe base64: 256 bits to guess
    assert len({k[:8] for k in keys}) > 1990  # no shared prefix or counter


def test_the_keys_stored_are_the_orders_own(two_orders):
    a, b = two_orders
    assert a.access_key != b.access_key
    assert Order.objects.filter(access_key=a.access_key).count() == 1


def test_the_page_cant_be_framed_cached_or_leak_its_url(client, two_orders, settings):
    a, _ = two_orders
    response = client.get(f"/o/{confirmation.order_token(a)}/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    csp = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
    assert csp["frame-ancestors"] == "'none'" and "'unsafe-inline'" not in csp.get("script-src", "")
    assert response["Cache-Control"] == "no-store"
    # The token is in the URL: links to other sites must not carry it in their Referer.
    assert response["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    # A new client: SecurityMiddleware reads its settings when the handler is built.
    behind_tls = Client().get(f"/o/{confirmation.order_token(a)}/", headers={"X-Forwarded-Proto": "https"})
    assert behind_tls["Strict-Transport-Security"].startswith("max-age=31536000")
