"""`orders.images`: uploads judged by content (JPEG, PNG, WebP, HEIC/HEIF), re-encoded without metadata or
hidden payloads, within the byte and pixel limits. HEIC files are made here with pillow-heif itself."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from orders import images
from orders.images import ImageRejected
from tests.images import png_claiming, reopened


def encoded(fmt: str, size=(40, 30), mode: str = "RGB", color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt, **save)
    return out.getvalue()


def heic(size=(64, 48), mode: str = "RGB", color=(20, 120, 220), **save) -> bytes:
    """A real HEIC file, encoded by libheif through pillow-heif."""
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format="HEIF", **save)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.heic", content_type: str = "image/heic") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


class HeicTests:
    def test_a_real_heic_is_reencoded_as_jpeg(self):
        data = heic()
        assert data[4:12] == b"ftypheic"
        clean = images.clean_upload(upload(data))
        assert (clean.extension, clean.content_type, clean.width, clean.height) == ("jpg", "image/jpeg", 64, 48)
        image = reopened(clean)
        assert image.format == "JPEG" and image.size == (64, 48)
        r, g, b = image.getpixel((32, 24))
        assert abs(r - 20) < 12 and abs(g - 120) < 12 and abs(b - 220) < 12  # the same picture

    def test_heic_metadata_is_dropped(self):
        exif = Image.Exif()
        exif[0x010F] = "SecretCam"  # Make
        data = heic(exif=exif.tobytes())
        assert b"SecretCam" in data
        clean = images.clean_image(data)
        assert b"SecretCam" not in clean.data and "exif" not in reopened(clean).info

    def test_transparent_heic_goes_over_white(self):
        clean = images.clean_image(heic(mode="RGBA", color=(0, 0, 0, 0)))
        image = reopened(clean)
        assert image.mode == "RGB" and min(image.getpixel((10, 10))) > 240

    def test_heic_with_a_script_appended_is_stored_without_it(self):
        clean = images.clean_image(heic() + b"<script>alert(document.cookie)</script>")
        assert clean.data.startswith(b"\xff\xd8") and b"<script>" not in clean.data

    def test_heic_over_the_pixel_limit_is_refused(self):
        with pytest.raises(ImageRejected, match="too many pixels"):
            images.clean_upload(upload(heic(size=(200, 100))), max_pixels=200 * 100 - 1)
        assert images.clean_upload(upload(heic(size=(200, 100))), max_pixels=200 * 100).width == 200

    def test_a_file_named_heic_that_is_not_one(self):
        with pytest.raises(ImageRejected, match="not an image we accept"):
            images.clean_upload(upload(b"<html><script>alert(1)</script></html>"))
        # A HEIC file's opening box followed by garbage: recognised, then refused when decoded.
        fake = heic()[:32] + b"\x00" * 200
        with pytest.raises(ImageRejected, match="not an image we accept"):
            images.clean_upload(upload(fake))

    def test_a_png_named_heic_is_taken_as_the_png_it_is(self):
        clean = images.clean_upload(upload(encoded("PNG"), name="photo.heic", content_type="image/heic"))
        assert (clean.extension, clean.content_type) == ("png", "image/png")


class FormatTests:
    @pytest.mark.parametrize(
        "fmt,extension,content_type",
        [("JPEG", "jpg", "image/jpeg"), ("PNG", "png", "image/png"), ("WEBP", "webp", "image/webp")],
    )
    def test_kept_in_their_own_format(self, fmt, extension, content_type):
        clean = images.clean_image(encoded(fmt))
        assert (clean.extension, clean.content_type, clean.width, clean.height) == (extension, content_type, 40, 30)
        assert reopened(clean).format == fmt

    @pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
    def test_other_image_formats_refused(self, fmt):
        data = encoded(fmt, mode="P" if fmt == "GIF" else "RGB", color=0 if fmt == "GIF" else (1, 2, 3))
        with pytest.raises(ImageRejected, match="JPEG, PNG, WebP or HEIC"):
            images.clean_image(data)

    @pytest.mark.parametrize(
        "data",
        [b"%PDF-1.4 fake", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, b"\xff\xd8\xff\xe0" + b"\x00" * 20, b"ftypheic"],
    )
    def test_broken_or_foreign_files_refused(self, data):
        with pytest.raises(ImageRejected):
            images.clean_image(data)

    def test_jpeg_polyglot_with_an_archive_appended(self):
        payload = b"PK\x03\x04" + b"evil.js" + b"\x00" * 30
        clean = images.clean_image(encoded("JPEG") + payload)
        assert b"PK\x03\x04" not in clean.data and b"evil.js" not in clean.data

    def test_png_text_chunk_with_html_is_dropped(self):
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "<img src=x onerror=alert(1)>")
        data = encoded("PNG", pnginfo=info)
        assert b"onerror" in data
        assert b"onerror" not in images.clean_image(data).data


class SizeTests:
    def test_empty_refused(self):
        with pytest.raises(ImageRejected, match="empty"):
            images.clean_upload(upload(b""))

    def test_over_the_byte_limit_refused_without_reading_it_all(self):
        data = encoded("PNG") + b"\x00" * 2048
        with pytest.raises(ImageRejected, match="larger than"):
            images.clean_upload(upload(data), max_bytes=1024)

    def test_an_upload_without_a_size_is_read_one_byte_past_the_limit(self):
        handle = io.BytesIO(heic() + b"\x00" * 5000)
        with pytest.raises(ImageRejected, match="larger than"):
            images.read_upload(handle, max_bytes=4096)
        assert handle.tell() == 4097

    def test_default_limit_is_ten_megabytes(self):
        with pytest.raises(ImageRejected, match="larger than 10 MB"):
            images.clean_upload(upload(encoded("PNG") + b"\x00" * images.MAX_BYTES))

    @pytest.mark.parametrize("size", [(30000, 30000), (10000, 5000)])
    def test_decompression_bomb_headers_refused(self, size):
        with pytest.raises(ImageRejected, match="too many pixels"):
            images.clean_image(png_claiming(*size))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(width=st.integers(1, 64), height=st.integers(1, 64), fmt=st.sampled_from(["JPEG", "PNG", "WEBP", "HEIF"]))
    def test_any_small_image_keeps_its_size(self, width, height, fmt):
        data = heic(size=(width, height)) if fmt == "HEIF" else encoded(fmt, size=(width, height))
        clean = images.clean_image(data)
        assert (clean.width, clean.height) == reopened(clean).size == (width, height)

    @settings(max_examples=40, deadline=None)
    @given(st.binary(max_size=512))
    def test_arbitrary_bytes_are_refused_or_reencoded_never_crash(self, data):
        try:
            clean = images.clean_image(data)
        except ImageRejected:
            return
        assert reopened(clean).format in ("JPEG", "PNG", "WEBP")
