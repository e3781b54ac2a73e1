"""`inbox.media.store_image`, the chat's image check: JPEG or PNG only, at most 8 MB and 40 M pixels, each
refusal with the chat's own message; what is kept is re-encoded in its own format under outbound/."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from inbox import media
from inbox.errors import ApplicationError
from tests.inbox.test_images import encoded, png_claiming


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path / "media"


def upload(data: bytes, name: str = "photo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def heic() -> bytes:
    from orders import images  # noqa: F401 (registers Pillow's HEIF opener, as the running app does)

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 220)).save(out, format="HEIF")
    return out.getvalue()


@pytest.mark.parametrize(
    "data,message",
    [
        (lambda: encoded("GIF", mode="P", color=1), "Only JPEG and PNG images can be sent."),
        (lambda: encoded("WEBP"), "Only JPEG and PNG images can be sent."),
        (heic, "Only JPEG and PNG images can be sent."),
        (lambda: b"<html>not an image</html>", "This file is not a JPEG or PNG image."),
        (lambda: b"", "This file is not a JPEG or PNG image."),
        (lambda: png_claiming(10_000, 5_000), "This image has too many pixels. Upload a screenshot or a smaller photo."),
        (lambda: png_claiming(60_000, 60_000), "This image has too many pixels. Upload a screenshot or a smaller photo."),
        (lambda: encoded("PNG") + b"\x00" * media.MAX_IMAGE_BYTES, "The image is larger than 8 MB."),
    ],
    ids=["gif", "webp", "heic", "html", "empty", "50-megapixels", "3.6-gigapixels", "over-8-MB"],
)
def test_refusals_say_why_and_keep_nothing(_media, data, message):
    with pytest.raises(ApplicationError) as refused:
        media.store_image(upload(data()))
    assert refused.value.message == message
    assert not _media.exists() or not any(p.is_file() for p in _media.rglob("*"))


@pytest.mark.parametrize("fmt,extension", [("JPEG", "jpg"), ("PNG", "png")])
def test_kept_reencoded_in_its_own_format(_media, settings, fmt, extension):
    data = encoded(fmt) + b"<script>alert(1)</script>"
    url = media.store_image(upload(data, name="x.bin", content_type="application/octet-stream"))
    assert url.startswith(f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}outbound/") and url.endswith(f".{extension}")
    (kept,) = [p for p in _media.rglob("*") if p.is_file()]
    assert b"<script" not in kept.read_bytes()
    with Image.open(kept) as image:
        assert image.format == fmt and image.size == (40, 30)
