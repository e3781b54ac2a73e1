"""Images people upload to the orders app: customers' transfer proofs (`orders.confirmation`) and the
pictures of custom products staff add in the quick-order panel (`orders.services`).

An upload is judged by its bytes, never by its name or declared content type: Pillow must recognise it as
JPEG, PNG, WebP or HEIC/HEIF (phones' camera format, read through the `pillow-heif` plugin), within
`MAX_BYTES` and `MAX_PIXELS` (decompression bombs are refused before their pixels are decoded). The
pixels are then decoded and written again, so metadata (EXIF with its GPS position, XMP, comments) and
anything hidden after or around the pixels (a script, an archive: polyglots) is dropped. HEIC/HEIF is
written back as JPEG, which every browser shows.

    clean = clean_upload(request.FILES["image"])   # raises ImageRejected with a message for people
    storage.save(f"...{clean.extension}", ContentFile(clean.data))

Registering the HEIF opener is global to Pillow: other modules reading images (e.g. `inbox.media`) then
recognise HEIC too, and refuse it by their own allow-lists.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from orders.errors import OrdersError

register_heif_opener()

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a phone screenshot is ~3 M pixels; 40 M is a generous photo
JPEG_QUALITY = 90

# Pillow's name for the format read -> (stored extension, content type, Pillow format written).
FORMATS = {
    "JPEG": ("jpg", "image/jpeg", "JPEG"),
    "PNG": ("png", "image/png", "PNG"),
    "WEBP": ("webp", "image/webp", "WEBP"),
    "HEIF": ("jpg", "image/jpeg", "JPEG"),
    "HEIC": ("jpg", "image/jpeg", "JPEG"),
}
# For an <input type="file" accept="...">: a hint to the browser's picker only, never trusted.
ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif"

# What a broken or hostile file can make Pillow or libheif raise while reading it.
_UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, RuntimeError, KeyError)


class ImageRejected(OrdersError):
    """The upload is not an image we take (type, size, pixels); `message` says so to the person."""


@dataclass(frozen=True)
class CleanImage:
    """An accepted image, re-encoded: its bytes, the extension and content type to store it under, its size."""

    data: bytes
    extension: str
    content_type: str
    width: int
    height: int


def read_upload(upload, *, max_bytes: int = MAX_BYTES) -> bytes:
    """The upload's bytes (a Django `UploadedFile` or any file object), refused when empty or over `max_bytes`
    (never reading more than one byte past it)."""
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ImageRejected(_too_large(max_bytes))
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageRejected(_too_large(max_bytes))
    if not data:
        raise ImageRejected(_("The file is empty."))
    return data


def clean_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> CleanImage:
    """Check `data` is an image we take (by content) and re-encode it without metadata; raises `ImageRejected`."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it; our limit is lower and checked below.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                width, height = probe.size
                probe.verify()
            if image_format not in FORMATS:
                raise ImageRejected(_("Upload a JPEG, PNG, WebP or HEIC image."))
            if width * height > max_pixels:
                raise ImageRejected(_too_many_pixels())
            with Image.open(io.BytesIO(data)) as opened:
                opened.load()  # the image Pillow opened on: the first frame, or a HEIF file's primary image
                image = ImageOps.exif_transpose(opened)  # keep the orientation EXIF gave, then drop EXIF
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(_too_many_pixels()) from None
    except ImageRejected:
        raise
    except _UNREADABLE:
        raise ImageRejected(_("This file is not an image we accept. Upload a JPEG, PNG, WebP or HEIC image.")) from None
    extension, content_type, out_format = FORMATS[image_format]
    image = _writable(image, out_format)
    image.info = {}  # no EXIF, XMP, ICC text, PNG text chunks or comments written back
    out = io.BytesIO()
    options = {"JPEG": {"quality": JPEG_QUALITY}, "WEBP": {"quality": JPEG_QUALITY}, "PNG": {"optimize": False}}[out_format]
    image.save(out, format=out_format, **options)
    return CleanImage(out.getvalue(), extension, content_type, image.width, image.height)


def clean_upload(upload, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> CleanImage:
    """`read_upload` then `clean_image`: the one call for a view or service handed a file."""
    return clean_image(read_upload(upload, max_bytes=max_bytes), max_pixels=max_pixels)


def _writable(image: Image.Image, out_format: str) -> Image.Image:
    """The image in a mode `out_format` can write; transparency over white for JPEG (which has none)."""
    if out_format == "JPEG":
        if image.mode in ("RGB", "L"):
            return image
        if "A" in image.mode or image.mode == "P" and "transparency" in image.info:
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return image.convert("RGB")
    if out_format == "WEBP" and image.mode not in ("RGB", "RGBA"):
        return image.convert("RGBA")
    if out_format == "PNG" and image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        return image.convert("RGBA")
    return image


def _too_large(max_bytes: int) -> str:
    return _("The image is larger than %(size)s MB.") % {"size": max_bytes // (1024 * 1024)}


def _too_many_pixels() -> str:
    return _("This image has too many pixels. Upload a screenshot or a smaller photo.")
