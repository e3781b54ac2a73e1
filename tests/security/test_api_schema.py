"""Schemathesis against /api/schema/, in-process (WSGI), as a signed-in admin by token: for every operation
the schema describes (any app's), generated valid and invalid requests never get a 500, and every answer
matches the schema (status code documented, body and content type as declared).

Bounded: a few examples per operation (SCHEMATHESIS_MAX_EXAMPLES, default 5), so this stays around two
minutes of the suite; raise it locally to dig deeper.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis.generation import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

from tests import factories
from tests.db import wsgi_application

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5"))
# Every check for every app's operations. Random ids rarely reach real rows, so tests/orders/api/ and
# tests/customers/api/test_schema_answers.py and tests/security/test_confirmation_api_schema.py also call
# each operation on purpose for each of its answers.
# Also: input the schema calls invalid is refused (negative_data_rejection: wrong types are a 4xx, never
# accepted), the token is really required (ignored_auth), undeclared methods are 405 (unsupported_method), and
# the stateful checks. Not positive_data_acceptance: the API has rules a schema can't state (one of email or
# phone, ids that must exist, stock, windows), so a schema-valid request may rightly be a 400.
CHECKS = [
    not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, response_headers_conformance,
    negative_data_rejection, ignored_auth, unsupported_method, missing_required_header, use_after_free, ensure_resource_availability,
]


@pytest.fixture
def wsgi_app():
    with wsgi_application() as app:
        yield app


@pytest.fixture
def api_schema(db, wsgi_app, messenger_channel, line_channel):
    # Something real to find: conversations with messages on both platforms (ids 1.. are likely guesses).
    for channel in (messenger_channel, line_channel):
        for n in range(3):
            factories.conversation(channel, name=f"Buyer {n}")
    return schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)


@pytest.fixture
def token(db):
    return Token.objects.create(user=factories.staff_user("schema-admin", admin=True)).key


def operations():
    """Every operation of the schema, read once at collection (the schema view touches no database).
    Schemathesis's own pytest integration (`from_fixture`) doesn't run on pytest 9, so the test drives
    Hypothesis itself, one test per operation."""
    with wsgi_application() as app:
        loaded = schemathesis.openapi.from_wsgi("/api/schema/", app)
    return sorted(result.ok().label for result in loaded.get_all_operations())


@pytest.mark.parametrize("label", operations())
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_api_matches_its_schema_and_never_fails(api_schema, token, label, mode):
    operation = next(r.ok() for r in api_schema.get_all_operations() if r.ok().label == label)

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,  # the same cases every run: a CI failure reproduces
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case):
        case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # Nothing can be made invalid for an operation without parameters or body (e.g. a plain list).
        assert mode is GenerationMode.NEGATIVE, label
        pytest.skip("no invalid request can be generated for this operation")
