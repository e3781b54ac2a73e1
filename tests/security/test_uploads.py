"""Hostile uploads on every upload endpoint, over HTTP: the staff chat's image (POST
/api/v1/conversations/<id>/messages/), a custom product's picture (POST /api/v1/custom-product-images/) and the
customer's transfer proof on the public order page (POST /o/<token>/proofs/).

Wrong types (judged by content, whatever the name or declared type), script-bearing polyglots and
decompression bombs are refused with a 400 and a message, never a 500, and nothing is kept; an image with
something hidden after its pixels is kept without it. The endpoints are found in the URL resolver, so a new
upload route has to be added here (test_every_upload_route_is_covered fails until it is).
"""
from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from orders import confirmation
from tests import factories
from tests.orders.public.factories import make_order
from tests.security.routes import all_routes
from tests.images import png_claiming

pytestmark = pytest.mark.django_db

SCRIPT = b"<script>alert(document.cookie)</script>"


def png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 30, 200)).save(out, "JPEG")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


def zip_bytes() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.html", SCRIPT)
    return out.getvalue()


# name -> (bytes, file name, declared content type)
REFUSED = {
    "gif-named-png": (gif, "proof.png", "image/png"),
    "svg-with-script": (lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">' + SCRIPT + b"</svg>", "proof.png", "image/png"),
    "html-named-png": (lambda: b"<!doctype html><html><body>" + SCRIPT + b"</body></html>", "proof.png", "image/png"),
    "html-with-png-magic": (lambda: b"\x89PNG\r\n\x1a\n" + SCRIPT, "proof.png", "image/png"),
    "pdf": (lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "proof.jpg", "image/jpeg"),
    "zip-named-jpg": (zip_bytes, "proof.jpg", "image/jpeg"),
    "truncated-png": (lambda: png()[:60], "proof.png", "image/png"),
    "bomb-3.6-gigapixels": (lambda: png_claiming(60_000, 60_000), "proof.png", "image/png"),
    "bomb-100-megapixels": (lambda: png_claiming(10_000, 10_000), "proof.png", "image/png"),
    "bomb-narrow": (lambda: png_claiming(1, 2**31 - 1), "proof.png", "image/png"),
}
POLYGLOTS = {
    "png-then-script": (lambda: png() + SCRIPT, "proof.png", "image/png"),
    "jpeg-then-zip": (lambda: jpeg() + zip_bytes(), "proof.jpg", "image/jpeg"),
    "png-with-script-in-a-text-chunk": (lambda: _png_with_text_chunk(SCRIPT), "proof.png", "image/png"),
}


def _png_with_text_chunk(text: bytes) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text.decode())
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 120, 0)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.fixture
def storage(settings, tmp_path, monkeypatch):
    """Every upload lands under tmp_path (public media and the private proofs), so the test can read what was kept."""
    from django.core.files.storage import FileSystemStorage

    from orders.models import PaymentProof

    settings.MEDIA_ROOT = tmp_path / "media"  # the chat's images and custom products' pictures (default storage)
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    monkeypatch.setattr(PaymentProof._meta.get_field("file"), "storage", FileSystemStorage(location=tmp_path / "private"))
    from django.core.cache import cache

    cache.clear()  # the public page's rate-limit counters
    return tmp_path


def kept_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


class Endpoint:
    """One upload route: how to post a file to it and whether the answer means "kept"."""

    def __init__(self, name, post, accepted_statuses):
        self.name, self.post, self.accepted_statuses = name, post, accepted_statuses


@pytest.fixture
def endpoints(messenger_channel, storage):
    agent = factories.staff_user("agent")
    staff = Client()
    staff.force_login(agent)
    conversation = factories.conversation(messenger_channel, name="Mei")
    order = make_order(conversation=conversation)
    token = confirmation.order_token(order)
    customer = Client()

    def chat(file):
        return staff.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"image": file})

    def custom(file):
        return staff.post("/api/v1/custom-product-images/", {"image": file})

    def proof(file):
        return customer.post(f"/o/{token}/proofs/", {"proof": file})

    return {
        "chat-image": Endpoint("chat-image", chat, {201}),
        "custom-product-image": Endpoint("custom-product-image", custom, {201}),
        "transfer-proof": Endpoint("transfer-proof", proof, {302}),
    }


ENDPOINTS = ["chat-image", "custom-product-image", "transfer-proof"]
UPLOAD_ROUTES = {"api/v1/conversations/<int:conversation_id>/messages/", "api/v1/custom-product-images/", "o/<str:token>/proofs/"}


def test_every_upload_route_is_covered():
    """Views that read files: the three above (the sandbox's simulator is a development tool, not the app)."""
    import inspect

    readers = set()
    for route in all_routes():
        view = getattr(route.callback, "cls", route.callback)
        module = inspect.getmodule(view)
        if module is None or module.__name__.startswith(("django.", "rest_framework", "drf_spectacular", "integrations.sandbox")):
            continue
        source = inspect.getsource(view)
        if "FILES" in source or "FileField" in source:
            readers.add(route.pattern)
    assert readers == UPLOAD_ROUTES


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", list(REFUSED))
def test_wrong_types_and_bombs_are_refused_and_nothing_is_kept(endpoints, storage, endpoint, case):
    make, name, content_type = REFUSED[case]
    before = kept_files(storage)
    started = time.monotonic()
    response = endpoints[endpoint].post(SimpleUploadedFile(name, make(), content_type=content_type))
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert time.monotonic() - started < 5  # a bomb is refused from its header, never decoded
    assert kept_files(storage) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", list(POLYGLOTS))
def test_polyglots_are_kept_only_as_a_clean_image(endpoints, storage, endpoint, case):
    make, name, content_type = POLYGLOTS[case]
    before = set(kept_files(storage))
    response = endpoints[endpoint].post(SimpleUploadedFile(name, make(), content_type=content_type))
    if response.status_code == 400:
        assert set(kept_files(storage)) == before  # refusing is fine too
        return
    assert response.status_code in endpoints[endpoint].accepted_statuses, (response.status_code, response.content[:300])
    (kept,) = set(kept_files(storage)) - before
    data = kept.read_bytes()
    assert b"<script" not in data and b"PK\x03\x04" not in data and b"evil.html" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format in ("PNG", "JPEG")
        image.load()
