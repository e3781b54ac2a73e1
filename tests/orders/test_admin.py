"""The catalog is managed in the Django admin: every page opens."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from orders.models import CommerceSettings, Coupon, DeliveryMethod, Gift, OrderTag, PaymentMethod, Product, ProductTag, Promotion

pytestmark = pytest.mark.django_db
MODELS = [Product, ProductTag, Gift, Promotion, Coupon, DeliveryMethod, PaymentMethod, CommerceSettings, OrderTag]


@pytest.fixture
def admin_client_with_catalog(client, django_user_model):
    call_command("seed_catalog", "--no-images", stdout=io.StringIO())
    OrderTag.objects.get_or_create(name="VIP")
    client.force_login(django_user_model.objects.create_superuser(username="boss"))
    return client


class CatalogAdminTests:
    @pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
    def test_list_add_and_change_pages_open(self, admin_client_with_catalog, model):
        name = f"admin:orders_{model._meta.model_name}"
        assert admin_client_with_catalog.get(reverse(f"{name}_changelist")).status_code == 200
        obj = model.objects.first()
        assert admin_client_with_catalog.get(reverse(f"{name}_change", args=[obj.pk])).status_code == 200
        expected_add = 403 if model is CommerceSettings else 200
        assert admin_client_with_catalog.get(reverse(f"{name}_add")).status_code == expected_add

    def test_the_settings_row_cannot_be_deleted(self, admin_client_with_catalog):
        response = admin_client_with_catalog.get(reverse("admin:orders_commercesettings_delete", args=[1]))
        assert response.status_code == 403
