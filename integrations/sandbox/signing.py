"""How each platform serializes and signs a webhook body. The signature covers the exact bytes sent."""
import base64
import hashlib
import hmac
import json
from typing import Any


def messenger_body(payload: dict[str, Any]) -> bytes:
    """Meta sends compact JSON with non-ASCII escaped as \\uXXXX and signs that escaped text."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def messenger_signature(body: bytes, app_secret: str) -> str:
    """`X-Hub-Signature-256`: "sha256=" + lowercase hex HMAC-SHA256 keyed with the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def line_body(payload: dict[str, Any]) -> bytes:
    """LINE sends UTF-8 JSON, non-ASCII characters unescaped."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def line_signature(body: bytes, channel_secret: str) -> str:
    """`X-Line-Signature`: Base64 of the HMAC-SHA256 digest keyed with the channel secret, no prefix."""
    return base64.b64encode(hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()).decode("ascii")
