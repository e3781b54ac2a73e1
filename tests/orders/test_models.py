"""Catalog models: the admin's checks, coupon codes, the settings row, database constraints."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from orders.logistics import DeliveryType, PaymentType
from orders.models import CommerceSettings, Coupon, DeliveryMethod, Product, Promotion, Variant

pytestmark = pytest.mark.django_db


class PromotionTests:
    @pytest.mark.parametrize(
        ("fields", "bad"),
        [
            ({"kind": "pick_any"}, {"group_size", "group_price"}),
            ({"kind": "bundle"}, {"bundle_price"}),
            ({"kind": "bundle", "bundle_price": 500, "bundle_discount": 50}, {"bundle_price"}),
            ({"kind": "buy_x_get_y", "get_percent_off": Decimal(0)}, {"buy_quantity", "get_quantity", "get_percent_off"}),
            ({"kind": "order_discount", "min_spend": 100}, {"amount_off"}),
            ({"kind": "order_discount", "amount_off": 5, "percent_off": Decimal(5)}, {"amount_off"}),
        ],
    )
    def test_each_kind_needs_its_fields(self, fields, bad):
        with pytest.raises(ValidationError) as raised:
            Promotion(name="p", **fields).full_clean()
        assert set(raised.value.message_dict) == bad

    def test_a_complete_promotion_is_valid(self):
        Promotion(name="p", kind="pick_any", group_size=2, group_price=990).full_clean()

    def test_percentages_stay_within_0_and_100(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            Promotion.objects.create(name="p", kind="order_discount", percent_off=Decimal(150))


class CouponTests:
    def test_codes_are_stored_in_capitals(self):
        coupon = Coupon(code=" save100 ", amount_off=100)
        coupon.full_clean()
        assert coupon.code == "SAVE100"

    def test_codes_are_unique(self):
        Coupon.objects.create(code="SAVE100", amount_off=100)
        with pytest.raises(ValidationError):
            Coupon(code="save100", amount_off=50).full_clean()

    def test_a_coupon_must_give_something(self):
        with pytest.raises(ValidationError):
            Coupon(code="X", kind="percent").full_clean()


class CatalogTests:
    def test_skus_are_unique(self):
        product = Product.objects.create(name="p")
        Variant.objects.create(product=product, sku="S-1", price=10)
        with pytest.raises(IntegrityError), transaction.atomic():
            Variant.objects.create(product=product, sku="S-1", price=20)

    def test_options_are_names_with_values(self):
        product = Product.objects.create(name="p")
        Variant(product=product, sku="S-2", price=1, options={"顏色": "紅", "尺寸": "M"}).full_clean()
        with pytest.raises(ValidationError):
            Variant(product=product, sku="S-3", price=1, options={"顏色": 3}).full_clean()
        with pytest.raises(ValidationError):
            Variant(product=product, sku="S-4", price=1, options=["紅"]).full_clean()

    def test_variant_label(self):
        assert Variant(options={"顏色": "紅", "尺寸": "M"}).label == "紅 / M"

    def test_stock_and_prices_are_never_negative(self):
        product = Product.objects.create(name="p")
        with pytest.raises(IntegrityError), transaction.atomic():
            Variant.objects.create(product=product, sku="NEG", price=1, stock=-1)

    def test_a_delivery_method_knows_its_payments_from_the_table(self):
        method = DeliveryMethod.objects.create(type=DeliveryType.TCAT, name="黑貓", fee=130)
        assert PaymentType.COD not in method.allowed_payment_types
        assert PaymentType.CARD in method.allowed_payment_types


class CommerceSettingsTests:
    def test_one_row(self):
        first = CommerceSettings.load()
        again = CommerceSettings(tax_mode="all")
        again.save()
        assert CommerceSettings.objects.count() == 1 and first.pk == again.pk == 1
        assert CommerceSettings.load().tax_mode == "all"
