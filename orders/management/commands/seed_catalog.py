"""`manage.py seed_catalog`: a demo store to take quick orders with. Idempotent: rows are found by SKU,
code, name or type and brought back to the demo values, never duplicated.

Creates tagged products with colour/size variants, gifts, a pick-any promotion (任選 2 件 $990), an A+B
bundle, a buy-2-get-1 on socks, a spend-and-save, coupons (SAVE100, TENOFF), saved order tags, every delivery type (one
custom method hidden), the payment methods (the card one hidden: no card gateway is connected), and the commerce
settings of the reference's worked example (prices include 5 % tax; store credit on, from NT$1,000, at most NT$50
per order).
"""
from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction

from orders.logistics import DeliveryType, PaymentType
from orders.models import (
    CommerceSettings, Coupon, DeliveryMethod, Gift, OrderTag, PaymentMethod, Product, ProductTag, Promotion, Variant,
)

TAG_SUMMER = "夏日任選"
TAG_BAGS = "包款"
TAG_SOCKS = "襪子"

# The shop's saved order tags, offered in the quick-order panel.
ORDER_TAGS = ["VIP", "急件", "直播單", "預購", "禮物包裝"]

# name, description, tags, colour (RGB for the placeholder image), variants: (options, sku, price, stock, grams)
PRODUCTS = [
    (
        "經典棉 T",
        "100% 棉，寬鬆版型。",
        [TAG_SUMMER],
        (230, 90, 70),
        [
            ({"顏色": "白", "尺寸": "M"}, "TEE-WHT-M", 690, 30, 220),
            ({"顏色": "白", "尺寸": "L"}, "TEE-WHT-L", 690, 25, 240),
            ({"顏色": "黑", "尺寸": "M"}, "TEE-BLK-M", 690, 20, 220),
            ({"顏色": "黑", "尺寸": "L"}, "TEE-BLK-L", 690, 0, 240),
        ],
    ),
    (
        "亞麻襯衫",
        "透氣亞麻，夏天必備。",
        [TAG_SUMMER],
        (90, 140, 200),
        [
            ({"顏色": "米", "尺寸": "M"}, "SHIRT-BEI-M", 590, 12, 260),
            ({"顏色": "米", "尺寸": "L"}, "SHIRT-BEI-L", 590, 8, 280),
        ],
    ),
    (
        "帆布托特包",
        "厚磅帆布，可放 A4。",
        [TAG_BAGS],
        (200, 170, 90),
        [({"顏色": "原色"}, "TOTE-NAT", 250, 40, 350), ({"顏色": "黑"}, "TOTE-BLK", 250, 35, 350)],
    ),
    (
        "棉質短襪",
        "一雙入。",
        [TAG_SOCKS],
        (120, 180, 120),
        [({"尺寸": "F"}, "SOCK-F", 120, 100, 40)],
    ),
    (
        "保溫隨行杯",
        "不鏽鋼雙層，450 ml。",
        [],
        (150, 150, 160),
        [({}, "MUG-450", 880, 15, 300)],
    ),
]

GIFTS = [("品牌貼紙組", "GIFT-STICKER", 200), ("環保提袋", "GIFT-BAG", 50)]

DELIVERY = [
    (DeliveryType.SEVEN_C2C, "7-11 超商取貨 (C2C)", 60, 2000, False),
    (DeliveryType.SEVEN_B2C, "7-11 超商取貨 (B2C)", 65, 2000, False),
    (DeliveryType.FAMI_C2C, "全家取貨 (C2C)", 60, 2000, False),
    (DeliveryType.FAMI_B2C, "全家取貨 (B2C)", 65, 2000, False),
    (DeliveryType.HCT, "新竹物流宅配", 120, 3000, False),
    (DeliveryType.TCAT, "黑貓宅配", 130, 3000, False),
    (DeliveryType.SEVEN_XB_STORE, "7-11 跨境門市取貨", 250, None, False),
    (DeliveryType.SEVEN_XB_HOME, "7-11 跨境宅配", 400, None, False),
    (DeliveryType.CUSTOM, "面交 (台北捷運站)", 0, None, False),
    (DeliveryType.CUSTOM, "舊版郵寄 (已停用)", 80, None, True),
]

PAYMENTS = [
    (PaymentType.PICKUP_711, "7-11 取貨付款", ""),
    (PaymentType.PICKUP_FAMI, "全家取貨付款", ""),
    (PaymentType.CARD, "信用卡 (線上刷卡)", ""),  # hidden below: no card gateway is connected yet
    (PaymentType.BANK_TRANSFER, "銀行轉帳", "請匯款至 示範銀行 (000) 帳號 0000-0000-0000，並上傳轉帳證明。"),
    (PaymentType.COD, "貨到付款", ""),
    (PaymentType.COD, "面交付現", "面交時付現。"),  # cash collected by the shop itself: nothing to pay online
    (PaymentType.CUSTOM, "街口支付", "請以街口支付轉帳至商店帳號，並上傳付款截圖。"),  # a custom method: paid first, proof uploaded
]


def _placeholder_png(rgb: tuple[int, int, int]) -> bytes | None:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return None
    buffer = BytesIO()
    Image.new("RGB", (240, 240), rgb).save(buffer, format="PNG")
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Create (or bring back) the demo catalog: products, gifts, promotions, coupons, delivery and payment methods."

    def add_arguments(self, parser):
        parser.add_argument("--no-images", action="store_true", help="Don't write placeholder product images.")

    @transaction.atomic
    def handle(self, *args, no_images: bool = False, **options):
        tags = {name: ProductTag.objects.get_or_create(name=name)[0] for name in (TAG_SUMMER, TAG_BAGS, TAG_SOCKS)}
        products = {}
        for name, description, tag_names, rgb, variants in PRODUCTS:
            first_sku = variants[0][1]
            existing = Variant.objects.filter(sku=first_sku).select_related("product").first()
            product = existing.product if existing else Product(name=name)
            product.name, product.description = name, description
            product.visibility, product.is_archived, product.is_custom = Product.Visibility.PUBLISHED, False, False
            product.option_names = list(variants[0][0])
            product.save()
            product.tags.set([tags[t] for t in tag_names])
            if not no_images and not product.image:
                png = _placeholder_png(rgb)
                if png:
                    product.image.save(f"{first_sku.lower()}.png", ContentFile(png), save=True)
            for position, (opts, sku, price, stock, grams) in enumerate(variants):
                Variant.objects.update_or_create(
                    sku=sku,
                    defaults={
                        "product": product,
                        "options": opts,
                        "price": price,
                        "stock": stock,
                        "weight_grams": grams,
                        "position": position,
                        "is_active": True,
                    },
                )
            products[first_sku] = product

        for name, sku, stock in GIFTS:
            Gift.objects.update_or_create(sku=sku, defaults={"name": name, "stock": stock, "is_active": True})

        pick_any = self._promotion(
            "夏日任選 2 件 $990", Promotion.Kind.PICK_ANY, group_size=2, group_price=990
        )
        pick_any.tags.set([tags[TAG_SUMMER]])
        bundle = self._promotion("棉 T + 托特包 $799", Promotion.Kind.BUNDLE, bundle_price=799)
        bundle.products.set([products["TEE-WHT-M"]])
        bundle.b_products.set([products["TOTE-NAT"]])
        socks = self._promotion("襪子買 2 送 1", Promotion.Kind.BUY_X_GET_Y, buy_quantity=2, get_quantity=1, get_percent_off=Decimal(100))
        socks.tags.set([tags[TAG_SOCKS]])
        self._promotion("滿 3000 折 200", Promotion.Kind.ORDER_DISCOUNT, min_spend=3000, amount_off=200)

        Coupon.objects.update_or_create(
            code="SAVE100",
            defaults={"name": "滿 1500 折 100", "kind": Coupon.Kind.AMOUNT, "amount_off": 100, "minimum_amount": 1500,
                      "usage_limit": 500, "is_active": True},
        )
        tenoff, _ = Coupon.objects.update_or_create(
            code="TENOFF",
            defaults={"name": "包款 9 折", "kind": Coupon.Kind.PERCENT, "percent_off": Decimal(10), "max_discount": 300,
                      "is_active": True},
        )
        tenoff.tags.set([tags[TAG_BAGS]])

        payments = {}  # by name
        for position, (kind, name, instructions) in enumerate(PAYMENTS):
            # A card method needs a card gateway, which nothing connects yet: kept, hidden, so no order is taken with it
            # (its customer would be asked for a transfer proof).
            payments[name], _ = PaymentMethod.objects.update_or_create(
                type=kind, name=name,
                defaults={"instructions": instructions, "is_hidden": kind == PaymentType.CARD, "position": position},
            )
        for position, (kind, name, fee, threshold, hidden) in enumerate(DELIVERY):
            method, _ = DeliveryMethod.objects.update_or_create(
                type=kind, name=name, defaults={"fee": fee, "free_threshold": threshold, "is_hidden": hidden, "position": position}
            )
            if kind == DeliveryType.CUSTOM and not hidden:
                method.payment_methods.set([payments["面交付現"], payments["街口支付"], payments["銀行轉帳"]])
            elif kind == DeliveryType.HCT:  # the courier collects cash: not the meet-up's cash
                method.payment_methods.set([payments["貨到付款"], payments["信用卡 (線上刷卡)"], payments["銀行轉帳"]])

        for name in ORDER_TAGS:
            OrderTag.objects.get_or_create(name=name)

        settings = CommerceSettings.load()
        settings.currency = "TWD"
        settings.tax_mode, settings.tax_rate = CommerceSettings.TaxMode.INCLUDED, Decimal(5)
        settings.credit_enabled, settings.credit_min_order, settings.credit_max_per_order = True, 1000, 50
        settings.credit_customer_may_choose = False
        settings.save()

        self.stdout.write(
            self.style.SUCCESS(
                f"Catalog ready: {Product.objects.filter(is_custom=False).count()} products, {Gift.objects.count()} gifts, "
                f"{Promotion.objects.count()} promotions, {Coupon.objects.count()} coupons, "
                f"{DeliveryMethod.objects.count()} delivery and {PaymentMethod.objects.count()} payment methods."
            )
        )

    def _promotion(self, name: str, kind: str, **fields) -> Promotion:
        promotion = Promotion.objects.filter(name=name).order_by("id").first() or Promotion(name=name)
        promotion.kind, promotion.is_active = kind, True
        for field, value in fields.items():
            setattr(promotion, field, value)
        promotion.full_clean()
        promotion.save()
        return promotion
