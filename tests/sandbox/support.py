"""Shared by the sandbox tests: the registered credentials and a webhook capture server."""
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE_ID = "104857600123456"
APP_ID = "1517776481860111"
APP_SECRET = "messenger-app-secret"
PAGE_TOKEN = "EAAGpagetoken"
BOT_DESTINATION = "U8e742f61d673b39c7fff3cecb7536ef0"
CHANNEL_SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"
BOT_TOKEN = "line-channel-access-token"
PSID = "6543210987654321"
LINE_USER = "U0123456789abcdef0123456789abcdef"


@dataclass
class CapturedRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> str:
        """Case-insensitive, like a webhook receiver must be."""
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), "")


@dataclass
class CaptureServer:
    """A stand-in for the app's webhook endpoint: keeps every POST and answers with `statuses` in turn."""

    url: str = ""
    requests: list[CapturedRequest] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # consumed one per request; 200 once empty

    def wait_for(self, count: int, timeout: float = 5.0) -> list[CapturedRequest]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests


@contextmanager
def running_capture_server() -> Iterator[CaptureServer]:
    capture = CaptureServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            capture.requests.append(CapturedRequest(self.path, dict(self.headers.items()), body))
            self.send_response(capture.statuses.pop(0) if capture.statuses else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    capture.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield capture
    finally:
        server.shutdown()
        server.server_close()


def messenger_signature_ok(request: CapturedRequest, app_secret: str = APP_SECRET) -> bool:
    """Verified independently of the sandbox's signing module: hex HMAC-SHA256 over the raw bytes."""
    expected = "sha256=" + hmac.new(app_secret.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.header("X-Hub-Signature-256"), expected)


def line_signature_ok(request: CapturedRequest, channel_secret: str = CHANNEL_SECRET) -> bool:
    digest = hmac.new(channel_secret.encode(), request.body, hashlib.sha256).digest()
    return hmac.compare_digest(request.header("X-Line-Signature"), base64.b64encode(digest).decode())
