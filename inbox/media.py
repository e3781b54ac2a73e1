"""Images the shop sends: checked, stored in our own storage, and given a URL the platforms can fetch.

Customers open chats late, so the URL must keep working: files are kept (never expire) under
`outbound/` and served from MEDIA_URL at PUBLIC_BASE_URL.
"""
from __future__ import annotations

import io
import uuid
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from inbox.errors import ApplicationError

# The smaller of the platforms' limits: Messenger 8 MB by URL, LINE 10 MB.
MAX_IMAGE_BYTES = 8 * 1024 * 1024
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png"}
MAX_IMAGE_PIXELS = 40_000_000  # judged from the header, before any pixel is decoded (decompression bombs)


def store_image(upload) -> str:
    """Validate an uploaded image (JPEG or PNG, at most 8 MB and 40 M pixels) and return its public URL.

    The pixels are decoded and written again, so metadata and anything hidden around them (a script, an
    archive: polyglots) is not kept or sent."""
    if upload.size > MAX_IMAGE_BYTES:
        raise ApplicationError(_("The image is larger than 8 MB."))
    data = upload.read()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format = image.format
                if image_format not in ALLOWED_FORMATS:
                    raise ApplicationError(_("Only JPEG and PNG images can be sent."))
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise ApplicationError(_("This image has too many pixels. Upload a screenshot or a smaller photo."))
                data = _reencoded(image, image_format)
    except ApplicationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ApplicationError(_("This image has too many pixels. Upload a screenshot or a smaller photo.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError):
        raise ApplicationError(_("This file is not a JPEG or PNG image.")) from None
    name = default_storage.save(f"outbound/{uuid.uuid4().hex}.{ALLOWED_FORMATS[image_format]}", ContentFile(data))
    return public_url(name)


def _reencoded(image: Image.Image, image_format: str) -> bytes:
    image.load()
    image = ImageOps.exif_transpose(image)  # keep the orientation EXIF gave, then drop EXIF
    if image_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif image_format == "PNG" and image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        image = image.convert("RGBA")
    image.info = {}  # no EXIF, XMP, text chunks or comments written back
    out = io.BytesIO()
    image.save(out, format=image_format, **({"quality": 90} if image_format == "JPEG" else {}))
    return out.getvalue()


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
