"""Image bytes shared by the upload tests (inbox, orders, security)."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes whose PNG header claims width x height pixels: a decompression bomb's header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b"")


def reopened(clean) -> Image.Image:
    """A cleaned image (inbox's or orders' CleanImage) opened again from its bytes, fully decoded."""
    image = Image.open(io.BytesIO(clean.data))
    image.load()
    return image
