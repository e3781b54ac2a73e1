"""What both platforms' webhook endpoints share: body size limit and JSON decoding."""
from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse


class BodyTooLarge(Exception):
    pass


def read_body(request) -> bytes:
    """The raw body, refusing anything over WEBHOOK_MAX_BODY_BYTES before reading it all."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise BodyTooLarge
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge
    return body


def decode_json(body: bytes) -> dict | None:
    """The body as a JSON object, or None when it is not one."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    return data if isinstance(data, dict) else None


def too_large() -> HttpResponse:
    return JsonResponse({"error": "body too large"}, status=413)


def forbidden() -> HttpResponse:
    return JsonResponse({"error": "invalid signature"}, status=403)


def bad_request(reason: str) -> HttpResponse:
    return JsonResponse({"error": reason}, status=400)
