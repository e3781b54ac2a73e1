"""What the Messenger and LINE webhook parsers share: their one error and the pure helpers both need.

A webhook body is untrusted JSON. Every accessor here takes any JSON value and answers a safe default rather
than raising, so a parser can only fail on purpose, with `MalformedPayload`, when the envelope itself is wrong.
Nothing here touches Django, the network or settings.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from typing import Any

from integrations.base import Attachment, MessageKind

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MAX_KEY_LENGTH = 255  # dedupe keys are stored in a 255-character column
_HASH_LENGTH = 16
_MAX_ID = 2**63  # platform ids are non-negative 64-bit numbers when they come as JSON numbers

_ATTACHMENT_KINDS = {
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
    "file": MessageKind.FILE,
    "sticker": MessageKind.STICKER,
    "location": MessageKind.LOCATION,
    "template": MessageKind.TEMPLATE,
}


class MalformedPayload(ValueError):
    """The body is not a webhook body of the expected platform.

    Raised only for the envelope (wrong object, missing event list, ...); the view answers 400 and keeps the raw
    body. Events inside a valid envelope never raise: what isn't understood becomes `EventKind.OTHER`.
    """


def as_dict(value: Any) -> dict[str, Any]:
    """`value` when it is an object, else an empty one, so lookups can chain without type checks."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` when it is an array, else an empty one."""
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    """`value` when it is a string, else "": text is kept exactly as sent, never coerced from other types."""
    return value if isinstance(value, str) else ""


def first_str(*values: Any) -> str:
    """The first non-empty string among `values`, for fields that moved between payload versions."""
    return next((value for value in values if isinstance(value, str) and value), "")


def id_str(value: Any) -> str:
    """A platform id as a string.

    Meta documents some ids as JSON numbers (echo `app_id`, `sticker_id`) and others as strings, and has changed
    between the two; both must give the same id.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MAX_ID:
        return str(value)
    return ""


def as_float(value: Any) -> float | None:
    """A finite JSON number as a float (coordinates), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def as_size(value: Any) -> int | None:
    """A non-negative integer (a byte count), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def valid_ms(value: Any) -> int | None:
    """`value` when it is a millisecond epoch a datetime can hold, else None (both platforms send ms)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    try:
        ms_to_datetime(value)
    except OverflowError:
        return None
    return value


def ms_to_datetime(ms: int) -> dt.datetime:
    """A millisecond epoch as an aware UTC datetime, computed exactly (no float rounding of the milliseconds)."""
    return EPOCH + dt.timedelta(milliseconds=ms)


def short_hash(value: Any) -> str:
    """A short hash of a JSON value that ignores key order and formatting.

    Used for dedupe keys of events that carry no id of their own: a retried delivery of the same event must
    give the same key, whatever order its keys were serialized in.
    """
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:_HASH_LENGTH]


def bounded_key(key: str) -> str:
    """`key` cut to fit the dedupe column; a long key keeps its prefix and ends with a hash of the whole key."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return f"{key[:MAX_KEY_LENGTH - _HASH_LENGTH - 1]}~{short_hash(key)}"


def message_kind(attachments: tuple[Attachment, ...], text: str) -> MessageKind:
    """What the inbox shows a message as: its first attachment's kind, else text, else other."""
    if attachments:
        return _ATTACHMENT_KINDS.get(attachments[0].type, MessageKind.OTHER)
    return MessageKind.TEXT if text else MessageKind.OTHER
