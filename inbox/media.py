"""Images the shop sends: checked, stored in our own storage, and given a URL the platforms can fetch.

Customers open chats late, so the URL must keep working: files are kept (never expire) under
`outbound/` and served from MEDIA_URL at PUBLIC_BASE_URL.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from inbox import images
from inbox.errors import ApplicationError

# The smaller of the platforms' limits: Messenger 8 MB by URL, LINE 10 MB.
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # judged from the header, before any pixel is decoded (decompression bombs)
CHAT_IMAGES = images.ImageRules(
    formats={"JPEG": images.JPEG, "PNG": images.PNG},  # kept in their own format
    max_bytes=MAX_IMAGE_BYTES,
    max_pixels=MAX_IMAGE_PIXELS,
)


def store_image(upload) -> str:
    """Validate an uploaded image (JPEG or PNG, at most 8 MB and 40 M pixels) and return its public URL.

    The pixels are decoded and written again (`inbox.images`), so metadata and anything hidden around them
    (a script, an archive: polyglots) is not kept or sent."""
    try:
        clean = images.clean_upload(upload, CHAT_IMAGES)
    except images.ImageRefused as exc:
        raise ApplicationError(_refusal(exc.problem)) from None
    name = default_storage.save(f"outbound/{uuid.uuid4().hex}.{clean.extension}", ContentFile(clean.data))
    return public_url(name)


def _refusal(problem: images.Problem) -> str:
    if problem is images.Problem.TOO_LARGE:
        return _("The image is larger than 8 MB.")
    if problem is images.Problem.FORMAT:
        return _("Only JPEG and PNG images can be sent.")
    if problem is images.Problem.TOO_MANY_PIXELS:
        return _("This image has too many pixels. Upload a screenshot or a smaller photo.")
    return _("This file is not a JPEG or PNG image.")  # not an image, broken, or empty


def public_url(name: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}{name}"


CONTENT_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "video/mp4": "mp4",
                 "audio/m4a": "m4a", "audio/x-m4a": "m4a", "application/pdf": "pdf"}


def store_inbound_media(data: bytes, content_type: str, *, name: str) -> str:
    """Keep media a customer sent (fetched from the platform) and return the URL staff see it at."""
    extension = CONTENT_TYPES.get(content_type.split(";")[0].strip().lower(), "bin")
    safe = "".join(ch for ch in name if ch.isalnum() or ch in "-_")[:80]
    stored = default_storage.save(f"inbound/{safe}.{extension}", ContentFile(data))
    return public_url(stored)
