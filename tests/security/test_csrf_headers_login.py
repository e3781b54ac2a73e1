"""CSRF on session-authenticated writes, sign-in throttling, and the security headers on every response."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token

from inbox.models import Message, SavedReply
from tests import factories
from tests.security.routes import all_routes

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-Str0ng-enough"


@pytest.fixture
def world(messenger_channel):
    conversation = factories.conversation(messenger_channel, name="Mei")
    message = Message.objects.filter(conversation=conversation).first()
    reply = SavedReply.objects.create(shortcut="hi", text="Hello!")
    admin = factories.staff_user("boss", admin=True)
    samples = {"conversation_id": str(conversation.pk), "message_id": str(message.pk), "reply_id": str(reply.pk), "customer_id": "1"}
    return admin, samples


def api_write_routes():
    """Every API route whose view accepts a write, from the resolver (other apps' API views included)."""
    found = []
    for route in all_routes():
        view = getattr(route.callback, "cls", None)
        if route.pattern.startswith("api/v1/") and view is not None:
            for method in ("post", "put", "patch", "delete"):
                if hasattr(view, method):
                    found.append((route, method))
    return found


class CsrfTests:
    @pytest.mark.parametrize(("route", "method"), api_write_routes(), ids=lambda v: v if isinstance(v, str) else v.pattern)
    def test_session_writes_without_the_csrf_token_are_refused(self, world, route, method):
        admin, samples = world
        client = Client(enforce_csrf_checks=True)
        client.force_login(admin)
        response = client.generic(method.upper(), route.path(samples), data="{}", content_type="application/json")
        assert response.status_code == 403, (method, route.pattern, response.status_code)
        assert "CSRF" in response.json()["detail"]

    def test_with_the_token_the_same_write_goes_through(self, world):
        admin, samples = world
        client = Client(enforce_csrf_checks=True)
        client.force_login(admin)
        client.get("/inbox/")  # the page sets the csrftoken cookie its scripts send back
        token = client.cookies[settings.CSRF_COOKIE_NAME].value
        response = client.post(
            f"/api/v1/conversations/{samples['conversation_id']}/note/", {"note": "VIP"}, content_type="application/json",
            headers={"X-CSRFToken": token},
        )
        assert response.status_code == 200

    def test_token_authenticated_clients_need_no_csrf_token(self, world):
        admin, samples = world
        token = Token.objects.create(user=admin)
        client = Client(enforce_csrf_checks=True)
        response = client.post(
            f"/api/v1/conversations/{samples['conversation_id']}/note/", {"note": "VIP"}, content_type="application/json",
            headers={"Authorization": f"Token {token.key}"},
        )
        assert response.status_code == 200

    @pytest.mark.parametrize("path", ["/accounts/logout/", "/i18n/setlang/", "/accounts/login/"])
    def test_html_forms_need_the_token_too(self, world, path):
        admin, _ = world
        client = Client(enforce_csrf_checks=True)
        client.force_login(admin)
        assert client.post(path, {"language": "en", "username": "boss", "password": "x"}).status_code == 403


def fresh_network() -> str:
    """A /64 of the documentation prefix no earlier run used: the per-address counts outlive a test (Redis)."""
    return "2001:db8:" + ":".join(secrets.token_hex(2) for _ in range(2))


class LoginThrottlingTests:
    def test_five_failures_lock_the_username_even_with_the_right_password(self, client, db):
        factories.staff_user("agent", password=PASSWORD)
        statuses = [client.post("/accounts/login/", {"username": "agent", "password": "guess"}).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
        assert statuses[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)  # the form again, then locked at the limit
        locked = client.post("/accounts/login/", {"username": "agent", "password": PASSWORD})
        assert locked.status_code == 429
        assert "_auth_user_id" not in client.session

    def test_the_admin_sign_in_shares_the_lock(self, client, db):
        factories.staff_user("boss", admin=True, password=PASSWORD)
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post("/admin/login/", {"username": "boss", "password": "guess"})
        assert client.post("/admin/login/", {"username": "boss", "password": PASSWORD}).status_code == 429
        assert client.post("/accounts/login/", {"username": "boss", "password": PASSWORD}).status_code == 429

    def test_the_lock_is_per_username_so_others_still_sign_in(self, client, db):
        factories.staff_user("agent", password=PASSWORD)
        factories.staff_user("other", password=PASSWORD)
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post("/accounts/login/", {"username": "agent", "password": "guess"})
        response = client.post("/accounts/login/", {"username": "other", "password": PASSWORD})
        assert response.status_code == 302 and response["Location"] == "/inbox/"

    def test_spraying_many_usernames_from_one_address_pauses_its_sign_ins(self, db, settings):
        """Axes locks a username; one address guessing a little at many usernames is slowed by the address."""
        settings.SIGNIN_FAILURES_PER_ADDRESS = "6/15m"
        factories.staff_user("agent", password=PASSWORD)
        network = fresh_network()
        sprayer = Client(REMOTE_ADDR=f"{network}::9")
        for n in range(6):  # two guesses each at three usernames: under axes's per-username limit
            assert sprayer.post("/accounts/login/", {"username": f"user{n % 3}", "password": "guess"}).status_code == 200
        refused = sprayer.post("/accounts/login/", {"username": "agent", "password": PASSWORD})
        assert refused.status_code == 429 and "_auth_user_id" not in sprayer.session
        assert "your network" in refused.content.decode()
        assert sprayer.post("/admin/login/", {"username": "agent", "password": PASSWORD}).status_code == 429
        # Another address is not affected, and neither is reading the form.
        office = Client(REMOTE_ADDR=f"{fresh_network()}::20")
        assert office.post("/accounts/login/", {"username": "agent", "password": PASSWORD}).status_code == 302
        assert sprayer.get("/accounts/login/").status_code == 200

    def test_successful_sign_ins_from_one_office_address_are_not_counted(self, db, settings):
        settings.SIGNIN_FAILURES_PER_ADDRESS = "2/15m"
        address = f"{fresh_network()}::20"
        for n in range(4):
            factories.staff_user(f"staff{n}", password=PASSWORD)
            office = Client(REMOTE_ADDR=address)
            response = office.post("/accounts/login/", {"username": f"staff{n}", "password": PASSWORD})
            assert response.status_code == 302 and response["Location"] == "/inbox/"

    def test_an_ipv6_sprayer_counts_as_its_whole_64(self, db, settings):
        settings.SIGNIN_FAILURES_PER_ADDRESS = "2/15m"
        factories.staff_user("agent", password=PASSWORD)
        network, neighbour = fresh_network(), fresh_network()
        for host in ("1", "2", "3"):
            Client(REMOTE_ADDR=f"{network}::{host}").post("/accounts/login/", {"username": f"u{host}", "password": "guess"})
        assert Client(REMOTE_ADDR=f"{network}::99").post("/accounts/login/", {"username": "agent", "password": PASSWORD}).status_code == 429
        assert Client(REMOTE_ADDR=f"{neighbour}::1").post("/accounts/login/", {"username": "agent", "password": PASSWORD}).status_code == 302

    def test_ipv4_clients_of_a_server_listening_on_ipv6_are_told_apart(self, db, settings):
        """Behind `daphne -b ::` IPv4 clients arrive as ::ffff:a.b.c.d: counted by their IPv4 address, not in the
        one IPv6 /64 they would all share."""
        settings.SIGNIN_FAILURES_PER_ADDRESS = "2/15m"
        factories.staff_user("agent", password=PASSWORD)
        sprayer, office = (f"::ffff:10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{n}" for n in (1, 2))
        for _ in range(2):
            Client(REMOTE_ADDR=sprayer).post("/accounts/login/", {"username": "nobody", "password": "guess"})
        assert Client(REMOTE_ADDR=sprayer).post("/accounts/login/", {"username": "agent", "password": PASSWORD}).status_code == 429
        assert Client(REMOTE_ADDR=office).post("/accounts/login/", {"username": "agent", "password": PASSWORD}).status_code == 302

    def test_with_the_cache_down_sign_ins_still_work_and_axes_still_locks(self, db, settings):
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0",
                                       "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}
        settings.SIGNIN_FAILURES_PER_ADDRESS = "1/15m"
        factories.staff_user("agent", password=PASSWORD)
        factories.staff_user("other", password=PASSWORD)
        client = Client(REMOTE_ADDR=f"{fresh_network()}::1")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            assert client.post("/accounts/login/", {"username": "agent", "password": "guess"}).status_code in (200, 429)
        assert client.post("/accounts/login/", {"username": "agent", "password": PASSWORD}).status_code == 429  # axes
        assert client.post("/accounts/login/", {"username": "other", "password": PASSWORD}).status_code == 302

    def test_api_token_endpoint_is_not_a_way_around_it(self, db):
        """There is no password-for-token endpoint: tokens are issued by admins only."""
        # The customer's order page takes an order-link token (not a login token) in its path.
        assert not [r for r in all_routes() if "token" in r.pattern and not r.pattern.startswith(("admin/", "accounts/reset/", "o/"))]


class SecurityHeaderTests:
    @pytest.mark.parametrize("path", ["/accounts/login/", "/inbox/", "/api/v1/conversations/", "/api/docs/", "/webhooks/messenger/"])
    def test_every_response_carries_the_headers(self, client, db, path):
        factories.staff_user("agent")
        client.force_login(User.objects.get(username="agent"))
        response = client.get(path)
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] in ("same-origin", "unsafe-none")  # Swagger UI asks for unsafe-none
        csp = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())
        assert csp["default-src"] == "'self'"
        assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'self'"
        assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
        assert "Strict-Transport-Security" not in response  # plain HTTP (tests): no HSTS

    def test_behind_tls_hsts_and_secure_cookies(self, client, db, settings):
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        settings.SECURE_HSTS_SECONDS = 31536000
        settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
        factories.staff_user("agent", password=PASSWORD)
        response = client.post("/accounts/login/", {"username": "agent", "password": PASSWORD}, headers={"X-Forwarded-Proto": "https"})
        assert response["Strict-Transport-Security"] == "max-age=31536000"
        assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"]
        assert response.cookies[settings.SESSION_COOKIE_NAME]["httponly"]

    def test_secure_ssl_env_turns_them_on(self):
        """SECURE_SSL=1 (the deployment behind TLS) sets HSTS, the proxy header and secure cookies."""
        code = (
            "import config.settings as s; print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SECURE_PROXY_SSL_HEADER)"
        )
        env = {k: v for k, v in os.environ.items() if k not in ("SECURE_SSL",)}
        on = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "SECURE_SSL": "1", "SECRET_KEY": "x"}, capture_output=True, text=True)
        assert on.stdout.split()[:3] == ["31536000", "True", "True"], on.stderr
        assert "HTTP_X_FORWARDED_PROTO" in on.stdout
        off = subprocess.run([sys.executable, "-c", "import config.settings as s; print(getattr(s, 'SECURE_HSTS_SECONDS', 0))"],
                             cwd=ROOT, env={**env, "SECRET_KEY": "x"}, capture_output=True, text=True)
        assert off.stdout.strip() == "0", off.stderr
