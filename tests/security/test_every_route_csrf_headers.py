"""CSRF and the security headers on every route the URL resolver knows, not a sample of them.

test_csrf_headers_login.py checks CSRF on the API's writes and three forms, and the headers on five pages.
Here, from the resolver (a new route is covered by itself):
- a signed-in session's POST without the CSRF token is refused on every route outside the API (pages,
  fragments, the customer's order page, the Django admin, the sandbox's own pages), except CSRF_EXEMPT;
- every answer carries the headers, whatever its status (pages, JSON, files, 302/403/404/405 answers),
  (the webhooks' answers through the ASGI handler that serves them in production: test_webhooks_asgi.py);
- HSTS is sent behind TLS only: with HSTS configured, a plain-HTTP request gets none, a request that came
  through the TLS proxy gets it, on every route.
"""
from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tests.security.routes import Route, all_routes
from tests.security.rows import make_rows

pytestmark = pytest.mark.django_db

# Routes a browser's session may post to without a CSRF token, each with why.
CSRF_EXEMPT = {
    "webhooks/": "the platforms' deliveries: each request's HMAC signature is checked instead",
    "sandbox/^graph/": "the sandbox's imitation of Meta's Graph API, called by our own client with a page token",
    "sandbox/line/": "the sandbox's imitation of LINE's Messaging API, called by our own client with a bearer token",
    "sandbox/line-data/": "the sandbox's imitation of LINE's content API (GET only)",
}
HSTS = 31536000


def csrf_exempt(route: Route) -> bool:
    return route.pattern.startswith(tuple(CSRF_EXEMPT))


def page_routes() -> list[Route]:
    """Everything outside the API (whose writes test_csrf_headers_login.py covers, DRF's way)."""
    return [r for r in all_routes() if not r.pattern.startswith("api/")]


@pytest.fixture
def world(messenger_channel, line_channel, tmp_path, monkeypatch):
    admin = factories.staff_user("boss", admin=True)
    samples = make_rows(messenger_channel=messenger_channel, line_channel=line_channel, actor=admin, tmp_path=tmp_path, monkeypatch=monkeypatch)
    samples.update({"version": "v25.0", "node": messenger_channel.external_id, "object_id": "1"})
    return admin, samples


def test_every_exempt_entry_is_a_route():
    patterns = [r.pattern for r in all_routes()]
    for prefix in CSRF_EXEMPT:
        assert any(p.startswith(prefix) for p in patterns), prefix


@pytest.mark.parametrize("route", [r for r in page_routes() if not csrf_exempt(r)], ids=lambda r: r.pattern or "/")
def test_a_session_post_without_the_token_is_refused(world, route):
    admin, samples = world
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(admin)
    response = client.post(route.path(samples), {"note": "x", "amount": "100", "reason": "x", "language": "en"})
    assert response.status_code == 403 and b"CSRF" in response.content, (route.pattern, response.status_code)


def assert_headers(response, where: str) -> None:
    assert response["X-Frame-Options"] == "DENY", where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "same-origin", where
    csp = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if " " in part.strip())
    assert csp.get("frame-ancestors") == "'none'" or csp.get("default-src") == "'none'", (where, csp)
    assert "'unsafe-inline'" not in csp.get("script-src", "") and "'unsafe-eval'" not in csp.get("script-src", ""), (where, csp)


@pytest.mark.parametrize("route", all_routes(), ids=lambda r: r.pattern or "/")
def test_every_answer_carries_the_headers_and_hsts_only_behind_tls(world, route, settings):
    admin, samples = world
    path = route.path(samples)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = HSTS
    # New clients: SecurityMiddleware reads its settings when the handler is built.
    signed_in, anonymous = Client(raise_request_exception=False), Client(raise_request_exception=False)
    signed_in.force_login(admin)
    for who, client in (("admin", signed_in), ("anonymous", anonymous)):
        for method in ("get", "post"):
            plain = getattr(client, method)(path)
            where = f"{who} {method.upper()} {path} -> {plain.status_code}"
            assert plain.status_code < 500, where
            assert_headers(plain, where)
            assert "Strict-Transport-Security" not in plain, where + ": HSTS over plain HTTP"
            tls = getattr(client, method)(path, headers={"X-Forwarded-Proto": "https"})
            assert_headers(tls, where + " (TLS)")
            assert tls["Strict-Transport-Security"].startswith(f"max-age={HSTS}"), where + " (TLS)"
