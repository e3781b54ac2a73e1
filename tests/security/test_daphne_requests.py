"""Daphne serves the app without Twisted parsing form bodies first (config/daphne_requests.py): a multipart POST
reaches the application as sent, and the application answers it, not Twisted."""
from __future__ import annotations

import http.client
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from asgiref.sync import SyncToAsync
from channels.layers import channel_layers
from channels.testing.live import make_application
from daphne import http_protocol
from daphne.testing import DaphneProcess

from config import daphne_requests

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def daphne_port():
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)  # as tests/browser.py's app fixture
    channel_layers.backends.clear()
    server = DaphneProcess("127.0.0.1", partial(make_application, static_wrapper=None))
    server.start()
    try:
        if not server.ready.wait(timeout=30):
            raise RuntimeError("Daphne did not start")
        yield server.port.value
    finally:
        server.terminate()
        server.join(10)


def post(port: int, path: str, body: bytes, content_type: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type, "Host": "127.0.0.1"})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_daphne_builds_requests_that_skip_form_parsing():
    import config.asgi  # noqa: F401 (what Daphne imports before it listens)

    assert http_protocol.WebRequest is daphne_requests.WebRequest


def test_a_malformed_multipart_body_is_answered_by_the_app(daphne_port):
    """Twisted parsing it first answered its own bare 400 and closed the connection; the app answers 403 here
    (an unsigned webhook), with its security headers."""
    status, headers, body = post(
        daphne_port, "/webhooks/messenger/", b"--not-a-part\r\nnonsense", "multipart/form-data; boundary=zz"
    )
    assert status == 403, (status, body[:200])
    assert headers.get("x-frame-options") == "DENY"
    assert b"invalid signature" in body

