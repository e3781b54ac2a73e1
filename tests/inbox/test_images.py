"""`inbox.images`, the one check-and-re-encode of uploaded images that the chat (`inbox.media`) and the orders
app (`orders.images`) call with their own rules: every refusal names its problem, formats the rules don't take
are refused before they are decoded, and what is kept is written again in the rules' output format without
metadata or hidden payloads. (The callers' messages are tested with them: tests/inbox/test_media.py,
tests/orders/test_images.py.)"""
from __future__ import annotations

import io
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from inbox import images
from inbox.images import ImageRefused, ImageRules, Problem
from tests.images import png_claiming, reopened

RULES = ImageRules(formats={"JPEG": images.JPEG, "PNG": images.PNG, "WEBP": images.WEBP}, max_bytes=64 * 1024, max_pixels=1_000_000)


def encoded(fmt: str, size=(40, 30), mode: str = "RGB", color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt, **save)
    return out.getvalue()


def problem(call) -> Problem:
    with pytest.raises(ImageRefused) as refused:
        call()
    return refused.value.problem


class ReadTests:
    def test_empty_and_too_large(self):
        assert problem(lambda: images.read_upload(io.BytesIO(b""), max_bytes=10)) is Problem.EMPTY
        assert images.read_upload(io.BytesIO(b"x" * 10), max_bytes=10) == b"x" * 10
        handle = io.BytesIO(b"x" * 50)
        assert problem(lambda: images.read_upload(handle, max_bytes=10)) is Problem.TOO_LARGE
        assert handle.tell() == 11  # never more than one byte past the limit

    def test_a_declared_size_over_the_limit_is_refused_unread(self):
        class Upload(io.BytesIO):
            size = 11

        handle = Upload(b"x")
        assert problem(lambda: images.read_upload(handle, max_bytes=10)) is Problem.TOO_LARGE
        assert handle.tell() == 0

    def test_read_from_the_start(self):
        handle = io.BytesIO(encoded("PNG"))
        handle.read()
        assert images.clean_upload(handle, RULES).extension == "png"


class RefusalTests:
    @pytest.mark.parametrize("fmt,mode", [("GIF", "P"), ("BMP", "RGB"), ("TIFF", "RGB")])
    def test_images_in_other_formats(self, fmt, mode):
        assert problem(lambda: images.clean_image(encoded(fmt, mode=mode, color=1 if mode == "P" else (1, 2, 3)), RULES)) is Problem.FORMAT

    def test_a_format_not_taken_is_refused_before_it_is_decoded(self):
        broken_gif = encoded("GIF", mode="P", color=1)[:20] + b"\x00" * 40
        assert problem(lambda: images.clean_image(broken_gif, RULES)) is Problem.FORMAT
        broken_png = encoded("PNG")[:60]
        assert problem(lambda: images.clean_image(broken_png, RULES)) is Problem.NOT_AN_IMAGE

    @pytest.mark.parametrize("data", [b"<html><script>alert(1)</script></html>", b"%PDF-1.4 fake", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50])
    def test_not_images(self, data):
        assert problem(lambda: images.clean_image(data, RULES)) is Problem.NOT_AN_IMAGE

    @pytest.mark.parametrize("size", [(1001, 1000), (60_000, 60_000), (1, 2**31 - 1)])
    def test_too_many_pixels_from_the_header(self, size):
        assert problem(lambda: images.clean_image(png_claiming(*size), RULES)) is Problem.TOO_MANY_PIXELS

    def test_the_pixel_limit_is_the_rules(self):
        data = encoded("PNG", size=(100, 50))
        assert problem(lambda: images.clean_image(data, replace(RULES, max_pixels=4999))) is Problem.TOO_MANY_PIXELS
        assert images.clean_image(data, replace(RULES, max_pixels=5000)).width == 100


class ReencodeTests:
    @pytest.mark.parametrize(
        "fmt,extension,content_type", [("JPEG", "jpg", "image/jpeg"), ("PNG", "png", "image/png"), ("WEBP", "webp", "image/webp")]
    )
    def test_kept_in_the_format_the_rules_say(self, fmt, extension, content_type):
        clean = images.clean_image(encoded(fmt), RULES)
        assert (clean.extension, clean.content_type, clean.width, clean.height) == (extension, content_type, 40, 30)
        assert reopened(clean).format == fmt

    def test_written_as_another_format_transparency_over_white(self):
        as_jpeg = ImageRules(formats={"PNG": images.JPEG}, max_bytes=10**6, max_pixels=10**6)
        clean = images.clean_image(encoded("PNG", mode="RGBA", color=(0, 0, 0, 0)), as_jpeg)
        image = reopened(clean)
        assert (clean.extension, clean.content_type, image.format, image.mode) == ("jpg", "image/jpeg", "JPEG", "RGB")
        assert min(image.getpixel((5, 5))) > 240

    def test_metadata_and_hidden_payloads_are_dropped_orientation_kept(self):
        exif = Image.Exif()
        exif[0x010F] = "SecretCam"  # Make
        exif[0x0112] = 6  # Orientation: rotate 90° to show upright
        data = encoded("JPEG", size=(40, 30), exif=exif.tobytes()) + b"PK\x03\x04evil.js<script>alert(1)</script>"
        clean = images.clean_image(data, RULES)
        assert b"SecretCam" not in clean.data and b"PK\x03\x04" not in clean.data and b"<script" not in clean.data
        assert (clean.width, clean.height) == reopened(clean).size == (30, 40)
        assert "exif" not in reopened(clean).info

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(width=st.integers(1, 64), height=st.integers(1, 64), fmt=st.sampled_from(["JPEG", "PNG", "WEBP"]))
    def test_any_small_image_keeps_its_size_and_format(self, width, height, fmt):
        clean = images.clean_image(encoded(fmt, size=(width, height)), RULES)
        image = reopened(clean)
        assert (clean.width, clean.height) == image.size == (width, height) and image.format == fmt

    @settings(max_examples=60, deadline=None)
    @given(st.binary(max_size=512))
    def test_arbitrary_bytes_are_refused_or_reencoded_never_crash(self, data):
        try:
            clean = images.clean_image(data, RULES)
        except ImageRefused as refused:
            assert refused.problem in (Problem.NOT_AN_IMAGE, Problem.FORMAT, Problem.TOO_MANY_PIXELS)
            return
        assert reopened(clean).format in ("JPEG", "PNG", "WEBP")
