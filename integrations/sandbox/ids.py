"""Identifiers shaped like the real platforms' ones, so parsers and column sizes meet realistic values."""
import secrets
import string
import uuid

from django.utils import timezone

CROCKFORD_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ALPHANUMERIC = string.ascii_letters + string.digits


def random_digits(length: int) -> str:
    """Digits without a leading zero: platform ids are numbers in disguise."""
    return secrets.choice("123456789") + "".join(secrets.choice(string.digits) for _ in range(length - 1))


def messenger_mid() -> str:
    return "m_" + secrets.token_urlsafe(48)


def messenger_psid() -> str:
    return random_digits(16)


def fbtrace_id() -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(27))


def line_user_id() -> str:
    return "U" + uuid.uuid4().hex


def line_message_id() -> str:
    """LINE message ids are 18-digit numbers sent as strings."""
    return random_digits(18)


def line_reply_token() -> str:
    return uuid.uuid4().hex


def line_quote_token() -> str:
    return secrets.token_urlsafe(64)


def line_request_id() -> str:
    return str(uuid.uuid4())


def ulid() -> str:
    """A ULID (webhookEventId): 48-bit millisecond time + 80 random bits, Crockford base32, 26 characters."""
    value = (int(timezone.now().timestamp() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, index = divmod(value, 32)
        chars.append(CROCKFORD_BASE32[index])
    return "".join(reversed(chars))
