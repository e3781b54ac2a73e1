"""The agent's and the admin's columns of the permission matrix: every route the URL resolver knows (outside
the public ones and the Django admin, which test_permissions.py covers), every method, on real rows.

test_permissions.py refuses anonymous and non-staff users everything, and checks agents only on the inbox's
own routes and on views using IsInboxAdminOrReadOnly. Here every other app's routes get the same treatment,
with a real row behind each path argument (tests/security/rows.py): a 404 for a made-up id can't stand in
for an answer, and an admin-only check written inside a view (not as a permission class) is found too.

- ADMIN_ONLY lists what agents may not change, each with why. An agent's write there is refused (403; a
  405 only for a method the route doesn't take at all). Everywhere else an agent is never refused: a route
  that starts refusing agents, or a new admin-only route, fails here until it is listed.
- An admin is refused nothing.
- Every GET finds its row (no 404), and nothing is ever a 500.
"""
from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tests.security.routes import Route, all_routes
from tests.security.rows import make_rows, missing_arguments
from tests.security.test_permissions import is_admin_site, is_public, route_id

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")
ADMIN_ONLY = {
    "api/v1/saved-replies/<int:reply_id>/": "a saved reply is changed and deleted by its author or an administrator (this one has no author)",
    "api/v1/customers/<int:customer_id>/credit/": "store credit is granted and taken by administrators",
    "customers/<int:customer_id>/credit/": "store credit is granted and taken by administrators (the page's form)",
    "api/v1/order-tags/<int:tag_id>/": "saved order tags are renamed and deleted by administrators (agents save new ones)",
}


def staff_routes() -> list[Route]:
    return [r for r in all_routes() if not is_public(r) and not is_admin_site(r)]


@pytest.fixture
def world(messenger_channel, line_channel, tmp_path, monkeypatch):
    agent = factories.staff_user("agent")
    admin = factories.staff_user("boss", admin=True)
    samples = make_rows(messenger_channel=messenger_channel, line_channel=line_channel, actor=admin, tmp_path=tmp_path, monkeypatch=monkeypatch)
    return {"agent": agent, "admin": admin}, samples


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def call(client: Client, method: str, path: str):
    if method == "get":
        return client.get(path)
    return client.generic(method.upper(), path, data="{}", content_type="application/json")


def test_every_staff_route_has_real_rows_for_its_arguments(world):
    _, samples = world
    assert missing_arguments(staff_routes(), samples) == {}


def test_every_admin_only_entry_is_a_route():
    patterns = {r.pattern for r in staff_routes()}
    assert set(ADMIN_ONLY) <= patterns, set(ADMIN_ONLY) - patterns


def answers_of(world, role: str, route) -> tuple[str, dict[str, int]]:
    """The route's path with real rows, and the status of GET and each write for `role`: never a 500, and the
    page itself (GET) is theirs to see."""
    users, samples = world
    path = route.path(samples)
    client = signed_in(users[role])
    answers = {method: call(client, method, path).status_code for method in ("get", *WRITE_METHODS)}
    assert all(status < 500 for status in answers.values()), (path, answers)
    assert answers["get"] not in (401, 403, 404), (path, answers)
    return path, answers


@pytest.mark.parametrize("route", staff_routes(), ids=route_id)
def test_agents_are_refused_exactly_the_admin_only_writes(world, route):
    path, answers = answers_of(world, "agent", route)
    if route.pattern in ADMIN_ONLY:
        writes = [answers[m] for m in WRITE_METHODS]
        assert set(writes) <= {403, 405} and 403 in writes, (path, answers)
    else:
        refused = {m: s for m, s in answers.items() if s in (401, 403)}
        assert not refused, f"{path}: agents refused {refused}; list it in ADMIN_ONLY if that is intended"


@pytest.mark.parametrize("route", staff_routes(), ids=route_id)
def test_admins_are_refused_nothing(world, route):
    path, answers = answers_of(world, "admin", route)
    assert not [s for s in answers.values() if s in (401, 403)], (path, answers)
