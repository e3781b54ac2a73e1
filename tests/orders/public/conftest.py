"""Fixtures for the order confirmation tests: conversations on both platforms, images to upload."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests import factories


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path, monkeypatch):
    """Proofs and media in a temporary place (the proof field's storage is built once, at import)."""
    from django.core.files.storage import FileSystemStorage

    from orders.models import PaymentProof

    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = "https://shop.example"
    monkeypatch.setattr(PaymentProof._meta.get_field("file"), "storage", FileSystemStorage(location=tmp_path / "private"))
    from django.core.cache import cache

    cache.clear()  # the public pages' rate-limit counters


@pytest.fixture
def staff(db):
    return factories.staff_user("olivia")


@pytest.fixture
def messenger_convo(messenger_channel):
    return factories.conversation(messenger_channel, name="Mei")


@pytest.fixture
def line_convo(line_channel):
    return factories.conversation(line_channel, name="Ken")


def image_bytes(fmt: str = "PNG", size=(40, 30), color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt, **save)
    return out.getvalue()


def upload(data: bytes, name: str = "proof.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be width x height (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b"")
