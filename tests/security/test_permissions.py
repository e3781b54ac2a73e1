"""The permission matrix for every route the URL resolver knows, and every websocket route.

Roles: anonymous, a signed-in user who is not shop staff ("plain"), an agent, an admin (superuser).
- Every route outside PUBLIC refuses anonymous and plain users (sign-in redirect, 401, 403 or 405), for
  every method. A new route of any app is covered by itself; one that is meant to be public must be added
  to PUBLIC below, with the reason.
- The Django admin admits admins only (agents are not `is_staff`).
- Agents and admins get every inbox page and API read; API views that are admin-only for writes refuse an
  agent's writes (found from the view's permission classes, so new such views are covered too).
- Admins are never refused, and nobody ever gets a 500 (GET with real ids).
"""
from __future__ import annotations

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from config.asgi import application
from inbox.models import Message, SavedReply
from inbox.permissions import IsInboxAdminOrReadOnly
from tests import factories
from tests.security.routes import Route, all_routes

pytestmark = pytest.mark.django_db

# Intentionally public, by route-pattern prefix, each with why.
PUBLIC = {
    "": "redirects to /inbox/ (which asks to sign in)",
    "accounts/login/": "sign-in form (throttled by django-axes)",
    "accounts/logout/": "sign-out (POST only)",
    "accounts/password_reset/": "password reset request (Django's)",
    "accounts/reset/": "password reset confirmation (signed token)",
    "i18n/": "language switch (a cookie)",
    "webhooks/": "platform webhooks: every request's HMAC signature is checked",
    "api/schema/": "the OpenAPI description of the API (no data)",
    "api/docs/": "Swagger UI over that description (no data)",
    "admin/login/": "the admin's sign-in form",
    "admin/logout/": "the admin's sign-out (POST only)",
    "^media/": "images the shop sends customers (unguessable names); served by the proxy in production",
    "o/": "the customer's order page: only behind an unguessable signed, expiring token (tests/orders/public)",
    "sandbox/": "the platform sandbox, a test double only mounted when SANDBOX_ENABLED (never in production)",
}
# Open to anyone signed in, staff or not: their own account.
SIGNED_IN = {"accounts/password_change/": "a signed-in person changes their own password"}
ROLES = ("anonymous", "plain", "agent", "admin")
WRITE_METHODS = ("post", "put", "patch", "delete")


def is_public(route: Route) -> bool:
    return any(route.pattern == prefix or (prefix and route.pattern.startswith(prefix)) for prefix in PUBLIC)


def is_admin_site(route: Route) -> bool:
    return route.pattern.startswith("admin/") and not is_public(route)


def protected_routes() -> list[Route]:
    return [r for r in all_routes() if not is_public(r)]


def route_id(route: Route) -> str:
    return route.pattern or "/"


@pytest.fixture
def world(messenger_channel, line_channel):
    conversation = factories.conversation(messenger_channel, name="Mei")
    message = Message.objects.filter(conversation=conversation).first()
    reply = SavedReply.objects.create(shortcut="hi", text="Hello!")
    users = {
        "plain": User.objects.create_user("plain", password="pw-Str0ng-enough"),
        "agent": factories.staff_user("agent"),
        "admin": factories.staff_user("boss", admin=True),
    }
    samples = {
        "conversation_id": str(conversation.pk),
        "message_id": str(message.pk),
        "reply_id": str(reply.pk),
        "channel_id": str(line_channel.pk),
        "object_id": "1",
        "version": "v25.0",
    }
    return users, samples


def client_for(role: str, users) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(users[role])
    return client


def refused(response, *, login_url: str = settings.LOGIN_URL) -> bool:
    if response.status_code in (401, 403, 405):
        return True
    return response.status_code == 302 and response["Location"].split("?")[0] in (login_url, "/admin/login/")


class PublicListTests:
    def test_every_public_entry_still_matches_a_route(self):
        patterns = [r.pattern for r in all_routes()]
        for prefix in PUBLIC:
            if prefix == "sandbox/" and not settings.SANDBOX_ENABLED:
                continue
            assert any(p == prefix or (prefix and p.startswith(prefix)) for p in patterns), prefix


class RouteMatrixTests:
    @pytest.mark.parametrize("role", ["anonymous", "plain"])
    @pytest.mark.parametrize("route", protected_routes(), ids=route_id)
    def test_anonymous_and_plain_users_are_refused_everything(self, world, route, role):
        users, samples = world
        if role == "plain" and route.pattern.startswith(tuple(SIGNED_IN)):
            pytest.skip("open to anyone signed in (SIGNED_IN)")
        client = client_for(role, users)
        path = route.path(samples)
        # The Django admin's ~130 routes share one wrapper (admin_view): GET and POST are enough there.
        methods = ("get", "post") if route.pattern.startswith("admin/") else ("get", *WRITE_METHODS)
        for method in methods:
            response = getattr(client, method)(path, data="{}", content_type="application/json") if method != "get" else client.get(path)
            assert refused(response), f"{role} {method.upper()} {path} -> {response.status_code}: add it to PUBLIC if it is meant to be public"

    @pytest.mark.parametrize("route", [r for r in all_routes() if is_admin_site(r)], ids=route_id)
    def test_the_django_admin_is_for_admins_only(self, world, route):
        users, samples = world
        path = route.path(samples)
        response = client_for("agent", users).get(path)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), (path, response.status_code)
        response = client_for("admin", users).get(path)
        # A 403 here is the ModelAdmin saying "no adding/deleting these" (e.g. axes logs), not a sign-in wall.
        assert response.status_code < 500 and not refused(response, login_url="/admin/login/") or response.status_code == 403, (
            path, response.status_code
        )

    @pytest.mark.parametrize("route", [r for r in protected_routes() if not is_admin_site(r)], ids=route_id)
    def test_admins_are_never_refused_and_nothing_fails(self, world, route):
        users, samples = world
        path = route.path(samples)
        response = client_for("admin", users).get(path)
        assert response.status_code not in (401, 403) and response.status_code < 500, (path, response.status_code)

    @pytest.mark.parametrize(
        "route", [r for r in protected_routes() if r.pattern.startswith(("inbox/", "api/v1/")) and r.name.startswith("inbox")], ids=route_id
    )
    def test_agents_read_every_inbox_page_and_api(self, world, route):
        users, samples = world
        path = route.path(samples)
        response = client_for("agent", users).get(path + ("?since=0" if route.name == "inbox-api:event-list" else ""))
        if getattr(getattr(route.callback, "cls", None), "get", None) is None and hasattr(route.callback, "cls"):
            assert response.status_code == 405
        else:
            assert response.status_code == 200, (path, response.status_code)

    @pytest.mark.parametrize(
        "route",
        [r for r in protected_routes() if IsInboxAdminOrReadOnly in getattr(getattr(r.callback, "cls", None), "permission_classes", [])],
        ids=route_id,
    )
    def test_admin_only_writes_refuse_agents(self, world, route):
        users, samples = world
        client = client_for("agent", users)
        view = route.callback.cls
        for method in WRITE_METHODS:
            if hasattr(view, method):
                response = getattr(client, method)(route.path(samples), data='{"shortcut": "x", "text": "y"}', content_type="application/json")
                assert response.status_code == 403, (method, route.pattern, response.status_code)


def websocket_routes():
    """The websocket URL patterns, dug out of the ASGI application (Origin check -> auth -> URLRouter)."""
    app = application.application_mapping["websocket"]
    while not isinstance(app, URLRouter):
        app = getattr(app, "application", None) or app.inner
    return app.routes


@pytest.mark.django_db(transaction=True)
class WebsocketMatrixTests:
    @pytest.mark.parametrize("role", ROLES)
    @pytest.mark.parametrize("route", websocket_routes(), ids=lambda r: str(r.pattern))
    async def test_only_staff_connect(self, route, role):
        from channels.db import database_sync_to_async

        @database_sync_to_async
        def cookie():
            users = {
                "plain": User.objects.create_user("plain"),
                "agent": factories.staff_user("agent"),
                "admin": factories.staff_user("boss", admin=True),
            }
            client = client_for(role, users)
            return client.cookies[settings.SESSION_COOKIE_NAME].value if role != "anonymous" else ""

        session = await cookie()
        path = "/" + str(route.pattern).lstrip("^").rstrip("$")
        headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
        if session:
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()))
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await communicator.connect()
        try:
            assert connected == (role in ("agent", "admin")), (path, role, code)
        finally:
            await communicator.disconnect()

    async def test_another_sites_page_cannot_open_the_socket(self):
        from channels.db import database_sync_to_async

        @database_sync_to_async
        def cookie():
            client = client_for("agent", {"agent": factories.staff_user("agent")})
            return client.cookies[settings.SESSION_COOKIE_NAME].value

        session = await cookie()
        headers = [(b"origin", b"https://evil.example"), (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())]
        communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
        connected, _ = await communicator.connect()
        assert not connected
        await communicator.disconnect()
