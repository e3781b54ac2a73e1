"""Images people upload, judged by their bytes and written again: the one implementation behind the chat's
images (`inbox.media.store_image`) and the orders app's transfer proofs and custom-product pictures
(`orders.images`). Each caller brings its own `ImageRules` (the formats it takes and how each is stored, the
byte and pixel limits) and its own messages: a refusal is an `ImageRefused` naming the `Problem`, which the
caller words for people and raises as its own error.

    try:
        clean = images.clean_upload(upload, RULES)
    except images.ImageRefused as exc:
        raise MyError(my_message(exc.problem)) from None
    storage.save(f"...{clean.extension}", ContentFile(clean.data))

What happens to an upload, in order:
- at most `max_bytes` are read (one more byte tells it is over), never the name or declared content type;
- Pillow opens it with its decompression-bomb warning made an error, so a header claiming billions of pixels
  is refused before any pixel is decoded;
- the format Pillow recognised must be one the rules take (formats we refuse are never decoded), the header's
  width x height within `max_pixels`;
- the file is verified, then decoded (the first frame, or a HEIF file's primary image), turned upright as
  its EXIF orientation says and written again in the rules' output format, with no metadata (EXIF with its
  GPS position, XMP, ICC text, PNG text chunks, comments) and nothing that was hidden around the pixels (a
  script, an archive: polyglots).

Formats Pillow reads through plugins (HEIC through `pillow-heif`) are recognised once a caller registered
the plugin (`orders.images` does, globally); rules that don't list them refuse them as any other format.
"""
from __future__ import annotations

import enum
import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# What a broken or hostile file can make Pillow (or a plugin such as libheif) raise while reading it.
_UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, RuntimeError, KeyError)


class Problem(enum.Enum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"  # more than max_bytes
    NOT_AN_IMAGE = "not_an_image"  # not recognised, or broken once read
    FORMAT = "format"  # an image, in a format the rules don't take
    TOO_MANY_PIXELS = "too_many_pixels"


class ImageRefused(Exception):
    """The upload is not an image the rules take; `problem` says why (the caller words it for people)."""

    def __init__(self, problem: Problem):
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class Output:
    """How an accepted image is stored: the file extension, the content type, the format Pillow writes."""

    extension: str
    content_type: str
    format: str


JPEG = Output("jpg", "image/jpeg", "JPEG")
PNG = Output("png", "image/png", "PNG")
WEBP = Output("webp", "image/webp", "WEBP")


@dataclass(frozen=True)
class ImageRules:
    """What one kind of upload takes: `formats` maps Pillow's name of the format read (e.g. "JPEG", "HEIF")
    to how it is stored."""

    formats: Mapping[str, Output]
    max_bytes: int
    max_pixels: int
    quality: int = 90  # JPEG and WebP


@dataclass(frozen=True)
class CleanImage:
    """An accepted image, re-encoded: its bytes, the extension and content type to store it under, its size."""

    data: bytes
    extension: str
    content_type: str
    width: int
    height: int


def read_upload(upload, *, max_bytes: int) -> bytes:
    """The upload's bytes (a Django `UploadedFile` or any file object), refused when empty or over `max_bytes`
    (never reading more than one byte past it)."""
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ImageRefused(Problem.TOO_LARGE)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageRefused(Problem.TOO_LARGE)
    if not data:
        raise ImageRefused(Problem.EMPTY)
    return data


def clean_image(data: bytes, rules: ImageRules) -> CleanImage:
    """Check `data` is an image `rules` take (by content) and write it again without metadata."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it; ours is lower and checked below.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                if image_format not in rules.formats:
                    raise ImageRefused(Problem.FORMAT)
                width, height = probe.size
                if width * height > rules.max_pixels:
                    raise ImageRefused(Problem.TOO_MANY_PIXELS)
                probe.verify()  # leaves the image unusable: it is opened again to be decoded
            with Image.open(io.BytesIO(data)) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)  # keep the orientation EXIF gave, then drop EXIF
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(Problem.TOO_MANY_PIXELS) from None
    except _UNREADABLE:
        raise ImageRefused(Problem.NOT_AN_IMAGE) from None
    output = rules.formats[image_format]
    image = _writable(image, output.format)
    image.info = {}  # no EXIF, XMP, ICC text, PNG text chunks or comments written back
    out = io.BytesIO()
    options = {"JPEG": {"quality": rules.quality}, "WEBP": {"quality": rules.quality}}.get(output.format, {})
    image.save(out, format=output.format, **options)
    return CleanImage(out.getvalue(), output.extension, output.content_type, image.width, image.height)


def clean_upload(upload, rules: ImageRules) -> CleanImage:
    """`read_upload` then `clean_image`: the one call for a view or service handed a file."""
    return clean_image(read_upload(upload, max_bytes=rules.max_bytes), rules)


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
