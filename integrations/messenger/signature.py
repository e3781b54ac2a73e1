"""Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`."""
import hashlib
import hmac
from collections.abc import Iterable

PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def matching_secret(body: bytes, header: str | None, secrets: Iterable[str]) -> str | None:
    """The app secret whose signature equals `header`, compared in constant time; None if none does.

    Meta signs the raw bytes it sends (already unicode-escaped), so the body is hashed exactly as received.
    Every secret is checked, so the time taken doesn't reveal which one (or whether any) matched.
    """
    if not header or not header.startswith(PREFIX):
        return None
    given = header.strip().lower().encode()
    found = None
    for secret in secrets:
        if secret and hmac.compare_digest(sign(body, secret).encode(), given):
            found = secret
    return found
