"""LINE's webhook signature: `X-Line-Signature: base64(HMAC-SHA256(channel secret, raw body))`."""
import base64
import hashlib
import hmac


def sign(body: bytes, channel_secret: str) -> str:
    return base64.b64encode(hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()).decode()


def is_valid(body: bytes, header: str | None, channel_secret: str) -> bool:
    """True when `header` is the signature of the exact raw body, compared in constant time."""
    if not header or not channel_secret:
        return False
    return hmac.compare_digest(sign(body, channel_secret).encode(), header.strip().encode())
