"""Malformed JSON, wrong types and junk query strings on every route (from the URL resolver, so new routes
are covered by themselves): a 4xx, never a 500. Public routes are tried anonymously, the others as an
admin (who passes every permission check, so the input is really parsed). The Django admin is left out:
it is Django's own code, reachable by admins only.
"""
from __future__ import annotations

import json

import pytest
from django.test import Client

from inbox.models import Conversation, Message, SavedReply
from tests import factories
from tests.security.routes import Route, all_routes
from tests.security.test_permissions import is_admin_site, is_public, route_id

pytestmark = pytest.mark.django_db

BROKEN = b'{"text": "unterminated'
WRONG_TYPES = (
    b'{"text": {"a": [1]}, "note": 5, "starred": "maybe", "read": [], "assignee": [1], "due_at": 12, '
    b'"confirm_paid": "yes", "shortcut": null, "since": -1, "before": "x", "lines": "x", "quantity": "many", '
    b'"customer": {"id": "x"}, "name": 5, "email": [], "phone": {}, "amount": "1e309", "id": 1.5}'
)
BODIES = {
    "broken": BROKEN,
    "wrong-types": WRONG_TYPES,
    "array": b"[1, 2, 3]",
    "deep": b"[" * 3000 + b"]" * 3000,
    "binary": b"\xff\xfe\x00\x00junk",
    # Over DATA_UPLOAD_MAX_MEMORY_SIZE (2 MB; the webhooks refuse anything over 1 MB, test_webhooks.py).
    "too-large": b'{"text": "' + b"x" * (3 * 1024 * 1024) + b'"}',
}
# Each junk query parameter is tried alone, so one refused early can't hide another one.
JUNK_QUERIES = [
    "cursor=%00%ff", "limit=abc", "since=-1", "before=x", "view=%3Cscript%3E", "q=%00", "channel=1e309",
    "assignee=%00", "sort=zzz", "page=-1",
]
# Known bugs in apps still being written elsewhere, reported to their authors; each entry goes when fixed.
KNOWN_FAILURES: dict[str, str] = {}


def routes_to_try() -> list[Route]:
    return [r for r in all_routes() if not is_admin_site(r)]


@pytest.fixture
def world(messenger_channel, line_channel):
    conversation = factories.conversation(messenger_channel, name="Mei")
    message = Message.objects.filter(conversation=conversation).first()
    reply = SavedReply.objects.create(shortcut="hi", text="Hello!")
    admin = factories.staff_user("boss", admin=True)
    samples = {
        "conversation_id": str(conversation.pk),
        "message_id": str(message.pk),
        "reply_id": str(reply.pk),
        "channel_id": str(line_channel.pk),
        "version": "v25.0",
        "node": messenger_channel.external_id,
    }
    return admin, samples


@pytest.mark.parametrize(
    "route",
    [
        pytest.param(r, marks=pytest.mark.xfail(reason=KNOWN_FAILURES[r.pattern])) if r.pattern in KNOWN_FAILURES else r
        for r in routes_to_try()
    ],
    ids=route_id,
)
def test_malformed_input_is_never_a_server_error(world, route, django_capture_on_commit_callbacks):
    admin, samples = world
    client = Client(raise_request_exception=False)
    if not is_public(route):
        client.force_login(admin)
    path = route.path(samples)
    failures = []

    def check(method: str, response, what: str) -> None:
        if response.status_code >= 500:
            failures.append(f"{method} {path} [{what}] -> {response.status_code}")

    with django_capture_on_commit_callbacks(execute=True):
        for query in JUNK_QUERIES:
            check("GET", client.get(f"{path}?{query}"), query)
        for name, body in BODIES.items():
            check("POST", client.generic("POST", path, data=body, content_type="application/json"), name)
        check("POST", client.generic("POST", path, data=b"a=%00&b[]=1&&=", content_type="application/x-www-form-urlencoded"), "form junk")
        check("POST", client.generic("POST", path, data=b"--x\r\nbroken", content_type="multipart/form-data; boundary=x"), "multipart junk")
        for method in ("PUT", "PATCH", "DELETE"):
            for name in ("broken", "wrong-types"):
                check(method, client.generic(method, path, data=BODIES[name], content_type="application/json"), name)
    assert not failures, "\n".join(failures)


# A JSON number, boolean, list or object where the schema says string: DRF's CharField would have taken 5 as "5".
NOT_STRINGS = [5, 1.5, True, ["x"], {"x": 1}]


@pytest.mark.parametrize("value", NOT_STRINGS, ids=lambda v: type(v).__name__)
def test_a_value_that_is_not_a_string_where_the_schema_says_string_is_a_400_and_changes_nothing(world, value):
    from orders.models import OrderTag

    admin, samples = world
    client = Client()
    client.force_login(admin)
    conversation_id = samples["conversation_id"]
    writes = [
        (f"/api/v1/conversations/{conversation_id}/note/", {"note": value}, "note"),
        ("/api/v1/order-tags/", {"name": value}, "name"),
        ("/api/v1/saved-replies/", {"shortcut": value, "text": "Hello"}, "shortcut"),
        (f"/api/v1/saved-replies/{samples['reply_id']}/", {"text": value}, "text"),
    ]
    for path, body, field in writes:
        method = "PATCH" if path.endswith(f"/{samples['reply_id']}/") else "POST"
        response = client.generic(method, path, data=json.dumps(body), content_type="application/json")
        assert response.status_code == 400, (path, response.status_code, response.content)
        assert field in response.content.decode(), (path, response.content)
    assert not OrderTag.objects.exists()
    assert list(SavedReply.objects.values_list("shortcut", "text")) == [("hi", "Hello!")]
    assert not Conversation.objects.get(pk=conversation_id).note
