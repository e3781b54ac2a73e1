"""The webhooks through the handler that serves them in production (config.asgi's WebhookHandler, its own
middleware chain), not the test client's: the security headers on every kind of answer, and a body over
1 MB refused (test_webhooks.py checks the views themselves through the test client)."""
from __future__ import annotations

import pytest
from channels.testing import HttpCommunicator

from config.asgi import application
from inbox.models import Message
from integrations.messenger import signature as messenger_signature
from integrations.models import WebhookReceipt
from tests.webhooks import messenger_body, messenger_text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("handler")]

HOST = [(b"host", b"127.0.0.1:8000")]


@pytest.fixture
def handler(settings, monkeypatch):
    """A handler of the test's own (one thread), whose kept database connection is closed afterwards."""
    import config.asgi
    from django.db import connection

    settings.WEBHOOK_THREADS = 1
    handler = config.asgi.WebhookHandler()
    monkeypatch.setattr(config.asgi, "webhook_asgi_app", handler)
    yield handler
    handler.executor.submit(lambda: connection.close()).result()
    handler.executor.shutdown()


async def call(method: str, path: str, body: bytes = b"", headers: list | None = None) -> tuple[int, dict[str, str]]:
    communicator = HttpCommunicator(application, method, path, body=body, headers=HOST + (headers or []))
    response = await communicator.get_response(timeout=20)
    return response["status"], {k.decode().lower(): v.decode() for k, v in response["headers"]}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/webhooks/messenger/", b'{"object": "page", "entry": []}'),  # unsigned: 403
        ("GET", "/webhooks/messenger/?hub.mode=subscribe", b""),  # no verify token: 403
        ("POST", "/webhooks/line/999999/", b"{}"),  # no such channel
        ("PUT", "/webhooks/messenger/", b""),  # 405
        ("POST", "/webhooks/nowhere/", b""),  # 404
    ],
)
async def test_every_answer_carries_the_security_headers(method, path, body):
    status, headers = await call(method, path, body)
    assert 400 <= status < 500, (path, status)
    assert headers.get("x-frame-options") == "DENY" and headers.get("x-content-type-options") == "nosniff", headers
    assert headers.get("referrer-policy") == "same-origin", headers
    assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), headers


async def test_a_signed_body_over_one_megabyte_is_413_and_nothing_is_stored(messenger_channel):
    from asgiref.sync import sync_to_async

    page = messenger_channel.external_id
    body = messenger_body(page, messenger_text("6000000000000888", page, "m_big", "x" * (1024 * 1024 + 10)))
    signature = messenger_signature.sign(body, "test-app-secret")
    status, headers = await call("POST", "/webhooks/messenger/", body, [(b"x-hub-signature-256", signature.encode()), (b"content-type", b"application/json")])
    assert status == 413 and headers.get("x-frame-options") == "DENY"
    # A Content-Length under the limit on the same body changes nothing.
    status, _ = await call(
        "POST", "/webhooks/messenger/", body,
        [(b"x-hub-signature-256", signature.encode()), (b"content-type", b"application/json"), (b"content-length", b"100")],
    )
    assert status in (403, 413)
    assert await sync_to_async(lambda: WebhookReceipt.objects.exists() or Message.objects.exists())() is False


async def test_the_handler_keeps_at_most_the_limit_and_a_byte_of_a_long_body(handler, settings):
    """A body sent in many pieces past the limit: the handler keeps the limit and one byte (enough for the view's
    413) in memory and drops the rest as it arrives."""
    from django.core.exceptions import RequestAborted

    chunk, pieces = b"x" * 65536, 48  # 3 MB
    messages = [{"type": "http.request", "body": chunk, "more_body": n < pieces - 1} for n in range(pieces)]

    async def receive():
        return messages.pop(0)

    body = await handler.read_body(receive)
    assert len(body.getvalue()) == settings.WEBHOOK_MAX_BODY_BYTES + 1 and not messages  # all received, the rest dropped

    small = [{"type": "http.request", "body": b'{"a":', "more_body": True}, {"type": "http.request", "body": b" 1}"}]

    async def receive_small():
        return small.pop(0)

    assert (await handler.read_body(receive_small)).getvalue() == b'{"a": 1}'

    async def gone():
        return {"type": "http.disconnect"}

    with pytest.raises(RequestAborted):
        await handler.read_body(gone)
