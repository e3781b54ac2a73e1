"""Custom products with a picture: uploaded in the quick-order panel (checked and re-encoded by
`orders.images`, stored under a random name), given to the product `place_order` creates, and shown on the
order's line: in the API, on the back-office page and on the customer's page."""
from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from orders import confirmation, selectors, services, tasks
from orders.errors import OrderInvalid
from orders.images import ImageRejected
from orders.models import CustomImage, Order, OrderLine, Product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def picture(fmt: str = "PNG", size=(60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 160, 90)).save(out, format=fmt)
    return out.getvalue()


def upload(data: bytes, name: str = "刻字 sample.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def with_custom(draft: dict, *, image_id=None, publish=False, name="刻字服務", price=300) -> dict:
    custom = {"name": name, "unit_price": price, "taxable": False, "publish": publish}
    if image_id is not None:
        custom["image_id"] = image_id
    draft = dict(draft, lines=[*draft["lines"], {"custom": custom, "quantity": 1}])
    draft.pop("expected_total", None)
    return draft


class UploadTests:
    def test_stored_reencoded_under_a_random_public_name(self, agent, settings):
        image = services.upload_custom_image(upload=upload(picture() + b"<script>x</script>"), actor=agent)
        assert image.file.name.startswith("products/custom/") and image.file.name.endswith(".png")
        assert "sample" not in image.file.name and "刻字" not in image.file.name
        assert str(settings.MEDIA_ROOT) in image.file.path
        assert (image.content_type, image.width, image.height, image.uploaded_by) == ("image/png", 60, 40, agent)
        with image.file.open("rb") as f:
            stored = f.read()
        assert b"<script>" not in stored and len(stored) == image.size
        assert image.file.url.startswith(settings.MEDIA_URL + "products/custom/")

    def test_heic_becomes_jpeg(self, agent):
        out = io.BytesIO()
        Image.new("RGB", (32, 32), (200, 10, 10)).save(out, format="HEIF")
        image = services.upload_custom_image(upload=upload(out.getvalue(), "IMG_0001.HEIC", "image/heic"), actor=agent)
        assert image.content_type == "image/jpeg" and image.file.name.endswith(".jpg")

    def test_not_an_image_is_refused_and_nothing_kept(self, agent):
        with pytest.raises(ImageRejected):
            services.upload_custom_image(upload=upload(b"<svg onload=alert(1)>", "x.png"), actor=agent)
        assert not CustomImage.objects.exists()


class PlaceOrderWithPictureTests:
    def test_the_picture_goes_to_the_product_and_the_line(self, bound, agent, worked_draft):
        image = services.upload_custom_image(upload=upload(picture()), actor=agent)
        order = services.place_order(conversation=bound.conversation, actor=agent, draft=with_custom(worked_draft, image_id=image.pk, publish=True))
        line = order.lines.get(kind=OrderLine.Kind.CUSTOM)
        product = line.variant.product
        assert product.is_custom and product.image.name == image.file.name
        assert line.image_url == image.file.url
        # Published: listed in the catalog with its picture.
        listed = {p.name: p for p in selectors.product_list(q="刻字")}
        assert listed["刻字服務"].image.name == image.file.name
        assert product.visibility == Product.Visibility.PUBLISHED

    def test_unpublished_custom_product_keeps_its_picture_but_is_not_listed(self, bound, agent, worked_draft):
        image = services.upload_custom_image(upload=upload(picture()), actor=agent)
        order = services.place_order(conversation=bound.conversation, actor=agent, draft=with_custom(worked_draft, image_id=image.pk))
        assert order.lines.get(kind=OrderLine.Kind.CUSTOM).image_url == image.file.url
        assert not selectors.product_list(q="刻字")

    def test_without_a_picture(self, bound, agent, worked_draft):
        order = services.place_order(conversation=bound.conversation, actor=agent, draft=with_custom(worked_draft))
        line = order.lines.get(kind=OrderLine.Kind.CUSTOM)
        assert line.image_url == "" and not line.variant.product.image

    def test_an_unknown_picture_is_refused_before_anything_is_written(self, bound, agent, worked_draft, worked_catalog):
        with pytest.raises(OrderInvalid) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=with_custom(worked_draft, image_id=987654))
        assert "image:987654" in caught.value.errors
        assert not Order.objects.exists() and not Product.objects.filter(is_custom=True).exists()

    @pytest.mark.parametrize("image_id", ["1", -1, 0, 1.5, True, [1], 2**70])
    def test_a_malformed_image_id_is_invalid(self, bound, agent, worked_draft, image_id):
        with pytest.raises(OrderInvalid):
            services.place_order(conversation=bound.conversation, actor=agent, draft=with_custom(worked_draft, image_id=image_id))


class PruneTests:
    """Uploads are forgotten after two days: a file an order's product took stays, an unused one goes."""

    def test_old_unused_files_go_used_and_recent_ones_stay(self, bound, agent, worked_draft):
        used = services.upload_custom_image(upload=upload(picture()), actor=agent)
        services.place_order(conversation=bound.conversation, actor=agent, draft=with_custom(worked_draft, image_id=used.pk))
        unused = services.upload_custom_image(upload=upload(picture()), actor=agent)
        recent = services.upload_custom_image(upload=upload(picture()), actor=agent)
        paths = {image.pk: image.file.path for image in (used, unused, recent)}
        now = timezone.now()
        CustomImage.objects.filter(pk__in=[used.pk, unused.pk]).update(created_at=now - dt.timedelta(days=3))

        assert services.prune_custom_images(now=now) == 2

        assert list(CustomImage.objects.values_list("pk", flat=True)) == [recent.pk]
        assert os.path.exists(paths[used.pk]) and os.path.exists(paths[recent.pk])
        assert not os.path.exists(paths[unused.pk])
        line = OrderLine.objects.get(kind=OrderLine.Kind.CUSTOM)
        assert line.variant.product.image.name == used.file.name and line.image_url.endswith(used.file.name)

    def test_the_beat_task_runs_it(self, agent):
        image = services.upload_custom_image(upload=upload(picture()), actor=agent)
        CustomImage.objects.filter(pk=image.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
        assert tasks.custom_images_prune.delay().get() == 1
        assert not CustomImage.objects.exists()


class ApiAndPagesTests:
    def test_upload_then_order_then_every_page_shows_it(self, agent_api, agent, bound, worked_draft, django_user_model):
        response = agent_api.post("/api/v1/custom-product-images/", {"image": upload(picture("JPEG"), "a.jpg", "image/jpeg")}, format="multipart")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["content_type"] == "image/jpeg" and body["url"].startswith("/media/products/custom/")

        response = agent_api.post(
            "/api/v1/orders/",
            {"conversation_id": bound.conversation.pk, "draft": with_custom(worked_draft, image_id=body["id"])},
            format="json",
        )
        assert response.status_code == 201, response.content
        lines = {line["kind"]: line for line in response.json()["lines"]}
        assert lines["custom"]["image_url"] == body["url"]
        order = Order.objects.get()

        page = agent_api.get(f"/orders/{order.pk}/").content.decode()
        assert f'src="{body["url"]}"' in page and 'data-testid="admin-line-image"' in page
        customer_page = Client().get(f"/o/{confirmation.order_token(order)}/").content.decode()
        assert f'src="{body["url"]}"' in customer_page
        assert CustomImage.objects.get(pk=body["id"]).file.storage.exists(body["url"].removeprefix("/media/"))

    @pytest.mark.parametrize(
        "data",
        [
            {},
            {"image": "not a file"},
            {"image": upload(b"", "empty.png")},
            {"image": upload(b"GIF89a" + b"\x00" * 40, "x.gif", "image/gif")},
            {"image": upload(b"%PDF-1.4", "x.heic", "image/heic")},
        ],
    )
    def test_bad_uploads_are_400(self, agent_api, data):
        response = agent_api.post("/api/v1/custom-product-images/", data, format="multipart")
        assert response.status_code == 400, response.content
        assert not CustomImage.objects.exists()

    def test_json_is_415_and_outsiders_are_refused(self, agent_api, outsider_api):
        assert agent_api.post("/api/v1/custom-product-images/", {"image": "x"}, format="json").status_code == 415
        response = outsider_api.post("/api/v1/custom-product-images/", {"image": upload(picture())}, format="multipart")
        assert response.status_code == 403 and not CustomImage.objects.exists()

    def test_panel_offers_the_upload(self, agent_api, bound):
        html = agent_api.get(f"/orders/quick-order/{bound.conversation.pk}/").content.decode()
        assert 'data-testid="qo-custom-image"' in html and "image/heic" in html
        assert 'data-image-prefix="/media/products/custom/"' in html
