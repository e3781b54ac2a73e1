"""Images people upload to the orders app: customers' transfer proofs (`orders.confirmation`) and the
pictures of custom products staff add in the quick-order panel (`orders.services`).

The orders app's rules and messages over `inbox.images` (which judges an upload by its bytes, never by its name
or declared content type, refuses decompression bombs before their pixels are decoded, and writes the image
again without metadata or anything hidden around the pixels): JPEG, PNG, WebP or HEIC/HEIF (phones' camera
format, read through the `pillow-heif` plugin), within `MAX_BYTES` and `MAX_PIXELS`. HEIC/HEIF is written back
as JPEG, which every browser shows.

    clean = clean_upload(request.FILES["image"])   # raises ImageRejected with a message for people
    storage.save(f"...{clean.extension}", ContentFile(clean.data))

Registering the HEIF opener is global to Pillow: other modules reading images (e.g. `inbox.media`) then
recognise HEIC too, and refuse it by their own rules.
"""
from __future__ import annotations

from dataclasses import replace

from django.utils.translation import gettext as _
from pillow_heif import register_heif_opener

from inbox import images as core
from inbox.images import CleanImage
from orders.errors import OrdersError

register_heif_opener()

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a phone screenshot is ~3 M pixels; 40 M is a generous photo
JPEG_QUALITY = 90

RULES = core.ImageRules(
    # Pillow's name for the format read -> how it is stored.
    formats={"JPEG": core.JPEG, "PNG": core.PNG, "WEBP": core.WEBP, "HEIF": core.JPEG, "HEIC": core.JPEG},
    max_bytes=MAX_BYTES,
    max_pixels=MAX_PIXELS,
    quality=JPEG_QUALITY,
)
# For an <input type="file" accept="...">: a hint to the browser's picker only, never trusted.
ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"


class ImageRejected(OrdersError):
    """The upload is not an image we take (type, size, pixels); `message` says so to the person."""


def read_upload(upload, *, max_bytes: int = MAX_BYTES) -> bytes:
    """The upload's bytes (a Django `UploadedFile` or any file object), refused when empty or over `max_bytes`
    (never reading more than one byte past it)."""
    try:
        return core.read_upload(upload, max_bytes=max_bytes)
    except core.ImageRefused as exc:
        raise _rejected(exc.problem, max_bytes) from None


def clean_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> CleanImage:
    """Check `data` is an image we take (by content) and re-encode it without metadata; raises `ImageRejected`."""
    try:
        return core.clean_image(data, replace(RULES, max_pixels=max_pixels))
    except core.ImageRefused as exc:
        raise _rejected(exc.problem, RULES.max_bytes) from None


def clean_upload(upload, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> CleanImage:
    """`read_upload` then `clean_image`: the one call for a view or service handed a file."""
    return clean_image(read_upload(upload, max_bytes=max_bytes), max_pixels=max_pixels)


def _rejected(problem: core.Problem, max_bytes: int) -> ImageRejected:
    """The error for people, in the request's language."""
    if problem is core.Problem.EMPTY:
        return ImageRejected(_("The file is empty."))
    if problem is core.Problem.TOO_LARGE:
        return ImageRejected(_("The image is larger than %(size)s MB.") % {"size": max_bytes // (1024 * 1024)})
    if problem is core.Problem.FORMAT:
        return ImageRejected(_("Upload a JPEG, PNG, WebP or HEIC image."))
    if problem is core.Problem.TOO_MANY_PIXELS:
        return ImageRejected(_("This image has too many pixels. Upload a screenshot or a smaller photo."))
    return ImageRejected(_("This file is not an image we accept. Upload a JPEG, PNG, WebP or HEIC image."))
