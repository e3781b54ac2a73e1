"""Every write operation of /api/schema/ answers a body it can't read with a status the schema documents for
that operation, in the declared content type: a body of another type, none at all, broken JSON, multipart
without its boundary. Real rows behind every path parameter (tests/security/rows.py), so the body is read
before any 404.

Random generation (test_api_schema.py) reaches these only by chance: a run with more checks found
`/payment/reject/`, `/status/` and `/attach-to-order/` answering an undocumented 415.
"""
from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from tests import factories
from tests.security.rows import make_rows

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")
BODIES = {
    "text/plain": (b"hello", "text/plain"),
    "xml": (b"<order><status>paid</status></order>", "application/xml"),
    "no content type": (b'{"a": 1}', ""),
    "broken json": (b'{"status": "pai', "application/json"),
    "multipart without boundary": (b"--x\r\n\r\n--x--", "multipart/form-data"),
}


def schema_document() -> dict:
    # Read at collection too, before pytest-django's test settings: a host the settings always allow.
    response = Client(HTTP_HOST="localhost").get("/api/schema/?format=json")
    assert response.status_code == 200, response.content[:200]
    return json.loads(response.content)


def write_operations() -> list[tuple[str, str]]:
    return sorted((path, method) for path, item in schema_document()["paths"].items() for method in item if method in WRITE_METHODS)


@pytest.fixture
def world(messenger_channel, line_channel, tmp_path, monkeypatch):
    admin = factories.staff_user("boss", admin=True)
    samples = make_rows(messenger_channel=messenger_channel, line_channel=line_channel, actor=admin, tmp_path=tmp_path, monkeypatch=monkeypatch)
    return Token.objects.create(user=admin).key, samples, schema_document()


def test_there_are_write_operations_to_check():
    assert len(write_operations()) >= 20


@pytest.mark.parametrize(("template", "method"), write_operations(), ids=lambda v: v)
def test_unreadable_bodies_get_a_documented_answer(world, template, method):
    token, samples, schema = world
    responses = schema["paths"][template][method]["responses"]
    path = template.format(**samples)
    client = Client(raise_request_exception=False)
    problems = []
    for name, (body, content_type) in BODIES.items():
        response = client.generic(method.upper(), path, data=body, content_type=content_type, headers={"Authorization": f"Token {token}"})
        documented = responses.get(str(response.status_code)) or responses.get("default")
        if response.status_code >= 500 or documented is None:
            problems.append(f"{name}: {response.status_code} not documented ({sorted(responses)}): {response.content[:120]!r}")
            continue
        declared = set(documented.get("content", {}))
        received = response.get("Content-Type", "").split(";")[0]
        if declared and received not in declared:
            problems.append(f"{name}: {response.status_code} answered {received!r}, the schema declares {sorted(declared)}")
    assert not problems, f"{method.upper()} {path}\n" + "\n".join(problems)
