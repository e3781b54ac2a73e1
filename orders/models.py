"""The shop's catalog and commerce settings (products and variants, gifts, tags, promotions, coupons,
delivery and payment methods) and its orders. Money is integer TWD; percentages are Decimal.

Pricing never reads these models directly: `orders.selectors.pricing_inputs` turns them into the
engine's dataclasses once per quote (`orders.pricing`).
"""
from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.logistics import DeliveryType, PaymentType, payments_for

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ProductTag(models.Model):
    """A label products carry for promotion and coupon targeting (e.g. "夏日任選")."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product tag")
        verbose_name_plural = _("product tags")

    def __str__(self) -> str:
        return self.name


class Product(TimeStamped):
    class Visibility(models.TextChoices):
        PUBLISHED = "published", _("Shown in the online store")
        HIDDEN = "hidden", _("Hidden from the online store")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    visibility = models.CharField(_("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.PUBLISHED)
    tags = models.ManyToManyField(ProductTag, blank=True, related_name="products", verbose_name=_("tags"))
    image = models.ImageField(_("image"), upload_to="products/", blank=True)
    # Created in a quick order ("自訂商品"); listed with the catalog only once published.
    is_custom = models.BooleanField(_("custom product"), default=False)
    # Carries the extra consumption tax when the shop taxes per product.
    taxable = models.BooleanField(_("extra consumption tax"), default=False)
    is_archived = models.BooleanField(_("archived"), default=False)
    # The variant dropdowns' names in the shop's order (e.g. ["顏色", "尺寸"]). Kept here because a
    # variant's options are a JSON object, whose key order PostgreSQL's jsonb doesn't keep.
    option_names = models.JSONField(_("option names"), default=list, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    """One sellable version of a product: its options (e.g. {"顏色": "紅", "尺寸": "M"}), SKU, price,
    stock and weight. A product without options has one variant with empty options."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    options = models.JSONField(_("options"), default=dict, blank=True)
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    price = models.PositiveIntegerField(_("price (TWD)"))
    stock = models.PositiveIntegerField(_("stock"), default=0)
    weight_grams = models.PositiveIntegerField(_("weight (g)"), default=0)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["product_id", "position", "id"]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")

    def __str__(self) -> str:
        return f"{self.product.name} {self.label}".strip()

    @property
    def label(self) -> str:
        """"紅 / M": the option values in the product's option order."""
        options = self.options or {}
        order = (self.product.option_names or []) if self.product_id else []
        names = [n for n in order if n in options] + [n for n in options if n not in order]
        return " / ".join(str(options[n]) for n in names)

    def clean(self) -> None:
        if not isinstance(self.options, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip() for k, v in self.options.items()
        ):
            raise ValidationError({"options": _('Options are names with values, e.g. {"顏色": "紅", "尺寸": "M"}.')})


class Gift(TimeStamped):
    """An item only added as a gift (priced 0), with its own stock."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    image = models.ImageField(_("image"), upload_to="gifts/", blank=True)
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    stock = models.PositiveIntegerField(_("stock"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("gift")
        verbose_name_plural = _("gifts")

    def __str__(self) -> str:
        return self.name


class ActiveWindowQuerySet(models.QuerySet):
    def active_at(self, now):
        return self.filter(is_active=True).filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now)).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=now)
        )


class Promotion(TimeStamped):
    """An automatic promotion: a condition and a benefit, by kind (see `orders.pricing.promotions`).

    - pick any (任選): `group_size` eligible items for `group_price`;
    - bundle (A+B): one item of group A (`products`/`tags`) with one of group B (`b_products`/`b_tags`)
      for `bundle_price`, or `bundle_discount` off;
    - buy X get Y (買X享Y): buy `buy_quantity`, `get_quantity` more at `get_percent_off` % off (100 = free),
      `repeat` per block;
    - order discount (滿額): spend `min_spend`, get `amount_off` or `percent_off` % off; `stackable` ones
      add to the best one.
    Eligible items are `products` or `tags` (none: every product). Ties between competing promotions go
    to the one created first (the lower id)."""

    class Kind(models.TextChoices):
        PICK_ANY = "pick_any", _("Pick any N for $X")
        BUNDLE = "bundle", _("A+B bundle")
        BUY_X_GET_Y = "buy_x_get_y", _("Buy X get Y")
        ORDER_DISCOUNT = "order_discount", _("Spend and save")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    is_active = models.BooleanField(_("active"), default=True)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)

    products = models.ManyToManyField(Product, blank=True, related_name="promotions", verbose_name=_("eligible products (group A)"))
    tags = models.ManyToManyField(ProductTag, blank=True, related_name="promotions", verbose_name=_("eligible tags (group A)"))
    b_products = models.ManyToManyField(Product, blank=True, related_name="+", verbose_name=_("group B products"))
    b_tags = models.ManyToManyField(ProductTag, blank=True, related_name="+", verbose_name=_("group B tags"))

    group_size = models.PositiveSmallIntegerField(_("pick any: items"), null=True, blank=True)
    group_price = models.PositiveIntegerField(_("pick any: price"), null=True, blank=True)
    bundle_price = models.PositiveIntegerField(_("bundle: price"), null=True, blank=True)
    bundle_discount = models.PositiveIntegerField(_("bundle: amount off"), null=True, blank=True)
    buy_quantity = models.PositiveSmallIntegerField(_("buy X"), null=True, blank=True)
    get_quantity = models.PositiveSmallIntegerField(_("get Y"), null=True, blank=True)
    get_percent_off = models.DecimalField(
        _("rewarded items: percentage off"), max_digits=5, decimal_places=2, default=Decimal(100), validators=PERCENT
    )
    repeat = models.BooleanField(_("repeat per block"), default=True)
    min_spend = models.PositiveIntegerField(_("minimum spend"), default=0)
    amount_off = models.PositiveIntegerField(_("amount off"), default=0)
    percent_off = models.DecimalField(_("percentage off"), max_digits=5, decimal_places=2, default=Decimal(0), validators=PERCENT)
    stackable = models.BooleanField(_("stacks with other order promotions"), default=False)

    objects = ActiveWindowQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        constraints = [
            models.CheckConstraint(condition=Q(get_percent_off__gte=0, get_percent_off__lte=100), name="promotion_get_percent_range"),
            models.CheckConstraint(condition=Q(percent_off__gte=0, percent_off__lte=100), name="promotion_percent_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.kind == self.Kind.PICK_ANY:
            if not self.group_size:
                errors["group_size"] = _("How many items make a group?")
            if self.group_price is None:
                errors["group_price"] = _("What does a group cost?")
        elif self.kind == self.Kind.BUNDLE:
            if (self.bundle_price is None) == (self.bundle_discount is None):
                errors["bundle_price"] = _("Give either the bundle's price or its amount off.")
        elif self.kind == self.Kind.BUY_X_GET_Y:
            if not self.buy_quantity:
                errors["buy_quantity"] = _("How many items to buy?")
            if not self.get_quantity:
                errors["get_quantity"] = _("How many items are rewarded?")
            if not self.get_percent_off:
                errors["get_percent_off"] = _("The rewarded items need a percentage off (100 = free).")
        elif self.kind == self.Kind.ORDER_DISCOUNT:
            if bool(self.amount_off) == bool(self.percent_off):
                errors["amount_off"] = _("Give either an amount or a percentage off.")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The end is after the start.")
        if errors:
            raise ValidationError(errors)


class Coupon(TimeStamped):
    """A code the customer (or staff for them) applies: an amount or percentage off, with a minimum
    order, usage limits, a validity window and optionally eligible products or tags (none: everything)."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("Amount off")
        PERCENT = "percent", _("Percentage off")

    code = models.CharField(_("code"), max_length=32, unique=True, help_text=_("Stored in capitals; matched without case."))
    name = models.CharField(_("name"), max_length=100, blank=True, default="")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.AMOUNT)
    amount_off = models.PositiveIntegerField(_("amount off"), default=0)
    percent_off = models.DecimalField(_("percentage off"), max_digits=5, decimal_places=2, default=Decimal(0), validators=PERCENT)
    max_discount = models.PositiveIntegerField(_("maximum discount"), null=True, blank=True)
    minimum_amount = models.PositiveIntegerField(_("minimum order"), default=0)
    products = models.ManyToManyField(Product, blank=True, related_name="coupons", verbose_name=_("eligible products"))
    tags = models.ManyToManyField(ProductTag, blank=True, related_name="coupons", verbose_name=_("eligible tags"))
    usage_limit = models.PositiveIntegerField(_("usage limit"), null=True, blank=True)
    per_customer_limit = models.PositiveIntegerField(_("uses per customer"), null=True, blank=True)
    # Incremented by `place_order` under a row lock.
    usage_count = models.PositiveIntegerField(_("times used"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)

    objects = ActiveWindowQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints = [
            models.CheckConstraint(condition=Q(percent_off__gte=0, percent_off__lte=100), name="coupon_percent_range"),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        self.code = (self.code or "").strip().upper()
        errors = {}
        if self.kind == self.Kind.AMOUNT and not self.amount_off:
            errors["amount_off"] = _("An amount coupon takes more than NT$0 off.")
        if self.kind == self.Kind.PERCENT and not self.percent_off:
            errors["percent_off"] = _("A percentage coupon takes more than 0 percent off.")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The end is after the start.")
        if errors:
            raise ValidationError(errors)


class PaymentMethod(models.Model):
    """A payment method the shop offers, under the name the shop gave it."""

    type = models.CharField(_("type"), max_length=20, choices=PaymentType.choices)
    name = models.CharField(_("name shown"), max_length=100)
    instructions = models.TextField(_("payment instructions"), blank=True, default="")
    is_hidden = models.BooleanField(_("hidden"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")

    def __str__(self) -> str:
        return self.name


class DeliveryMethod(models.Model):
    """A delivery method the shop offers: its type (what it integrates with), the name the shop gave it,
    its fee and free-shipping threshold. Hidden methods are never offered. `payment_methods`, when set,
    narrows what `orders.logistics.DELIVERY_RULES` allows for the type (it can't widen it)."""

    type = models.CharField(_("type"), max_length=20, choices=DeliveryType.choices)
    name = models.CharField(_("name shown"), max_length=100)
    fee = models.PositiveIntegerField(_("fee (TWD)"), default=0)
    free_threshold = models.PositiveIntegerField(
        _("free shipping from (TWD)"), null=True, blank=True, help_text=_("Empty: never free.")
    )
    is_hidden = models.BooleanField(_("hidden"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    payment_methods = models.ManyToManyField(
        PaymentMethod, blank=True, related_name="delivery_methods", verbose_name=_("only these payment methods")
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("delivery method")
        verbose_name_plural = _("delivery methods")

    def __str__(self) -> str:
        return self.name

    @property
    def allowed_payment_types(self) -> frozenset[str]:
        return payments_for(self.type)


class CommerceSettings(models.Model):
    """The shop's pricing settings (one row): currency, tax mode and rate, and the store-credit rules
    (商店購物金: master switch, minimum order to redeem, maximum per order, customers may choose)."""

    class TaxMode(models.TextChoices):
        NONE = "none", _("No tax shown")
        INCLUDED = "included", _("Prices include tax")
        ALL = "all", _("All products taxed (tax added)")
        PER_PRODUCT = "per_product", _("Extra consumption tax on some products")

    currency = models.CharField(_("currency"), max_length=3, default="TWD")
    tax_mode = models.CharField(_("tax"), max_length=16, choices=TaxMode.choices, default=TaxMode.INCLUDED)
    tax_rate = models.DecimalField(_("tax rate (percent)"), max_digits=5, decimal_places=2, default=Decimal(5), validators=PERCENT)
    credit_enabled = models.BooleanField(_("store credit master switch"), default=False)
    credit_min_order = models.PositiveIntegerField(_("minimum order to use credit"), default=0)
    credit_max_per_order = models.PositiveIntegerField(_("maximum credit per order"), null=True, blank=True)
    credit_customer_may_choose = models.BooleanField(_("customers may choose the credit amount"), default=False)

    class Meta:
        verbose_name = _("commerce settings")
        verbose_name_plural = _("commerce settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="commerce_settings_single_row")]

    def __str__(self) -> str:
        return str(_("Commerce settings"))

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> CommerceSettings:
        settings, _created = cls.objects.get_or_create(pk=1)
        return settings


# --- Orders -----------------------------------------------------------------------------------------


def private_storage():
    """Transfer proofs live outside MEDIA_ROOT (never served publicly); staff read them through a view."""
    return FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT)


def proof_path(instance, filename: str) -> str:
    """A random name: the customer's file name is never used or shown back."""
    return f"proofs/{uuid.uuid4().hex}{Path(filename).suffix.lower()[:6]}"

def custom_image_path(instance, filename: str) -> str:
    """A random name under the public media (the customer's order page shows it); the file's own name is
    never used."""
    return f"products/custom/{uuid.uuid4().hex}{Path(filename).suffix.lower()[:6]}"


class CustomImage(models.Model):
    """A picture of a custom product, uploaded in the quick-order panel before the order exists: checked and
    re-encoded by `orders.images`, stored under a random name. `place_order` gives it to the product it
    creates (and the order line shows it); one never attached is just an unused upload."""

    file = models.FileField(_("image"), upload_to=custom_image_path)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("custom product image")
        verbose_name_plural = _("custom product images")

    def __str__(self) -> str:
        return self.file.name


MAX_ORDER_TAG_LENGTH = 30  # the seed's limit for an order tag, saved or typed


class OrderTag(models.Model):
    """One of the shop's saved order tags, offered in the quick-order panel to pick (an order may also carry
    tags typed there; orders keep their tags as text, so renaming or deleting a saved tag changes no order)."""

    name = models.CharField(_("name"), max_length=MAX_ORDER_TAG_LENGTH, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved order tag")
        verbose_name_plural = _("saved order tags")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Spaces collapsed (as typed tags are) and no second tag differing only in case."""
        self.name = " ".join((self.name or "").split())
        if not self.name:
            raise ValidationError({"name": _("A tag needs a name.")})
        if OrderTag.objects.filter(name__iexact=self.name).exclude(pk=self.pk).exists():
            raise ValidationError({"name": _("This tag is already saved.")})


# An order is a snapshot: what was charged, named and labelled at the time, never recomputed from live
# rules (the catalog and promotions may change afterwards). Status changes go through
# `orders.statuses.transition`, and every change writes an OrderEvent.


class OrderStatus(models.TextChoices):
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("awaiting customer confirmation")
    CONFIRMED = "confirmed", _("confirmed")
    PAID = "paid", _("paid")
    SHIPPED = "shipped", _("shipped")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("unpaid")
    ON_PICKUP = "on_pickup", _("pay on pickup / delivery")
    PROOF_SUBMITTED = "proof_submitted", _("transfer proof awaiting verification")
    PAID = "paid", _("paid")
    REJECTED = "rejected", _("payment rejected")


class Order(TimeStamped):
    number = models.CharField(_("order number"), max_length=32, unique=True)
    status = models.CharField(max_length=32, choices=OrderStatus.choices, default=OrderStatus.AWAITING_CONFIRMATION)
    payment_status = models.CharField(max_length=32, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID)
    conversation = models.ForeignKey("inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Delivery and payment, as chosen and named at the time.
    delivery_method = models.ForeignKey(DeliveryMethod, null=True, on_delete=models.SET_NULL, related_name="+")
    delivery_name = models.CharField(max_length=100, blank=True, default="")
    delivery_type = models.CharField(max_length=32, blank=True, default="")
    pickup_store = models.JSONField(default=dict, blank=True)  # {chain, id, name, address}
    recipient = models.JSONField(default=dict, blank=True)  # {name, phone, address, country, ...}
    payment_method = models.ForeignKey(PaymentMethod, null=True, on_delete=models.SET_NULL, related_name="+")
    payment_name = models.CharField(max_length=100, blank=True, default="")
    payment_type = models.CharField(max_length=32, blank=True, default="")
    invoice = models.JSONField(default=dict, blank=True)  # the validated e-invoice choice
    tags = models.JSONField(default=list, blank=True)  # at most 10
    note = models.CharField(_("order note"), max_length=200, blank=True, default="")  # visible to the customer
    # Amounts (integer TWD) from the quote the order was placed with.
    subtotal = models.IntegerField(default=0)
    discount_total = models.IntegerField(default=0)
    credit_used = models.IntegerField(default=0)
    shipping_fee = models.IntegerField(default=0)
    tax = models.IntegerField(default=0)
    tax_included = models.BooleanField(default=True)
    total = models.IntegerField(default=0)
    quote = models.JSONField(default=dict, blank=True)  # the full explained quote, for display
    # The customer's page: an unguessable key inside a signed, expiring token (orders.public).
    access_key = models.CharField(max_length=64, unique=True)
    link_message = models.ForeignKey("inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    link_sent_at = models.DateTimeField(null=True, blank=True)
    link_error = models.CharField(max_length=500, blank=True, default="")
    link_opened_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="order_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="order_created_idx"),  # the back office's list
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(condition=Q(credit_used__gte=0), name="order_credit_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    class Kind(models.TextChoices):
        VARIANT = "variant", _("product")
        GIFT = "gift", _("gift")
        CUSTOM = "custom", _("custom product")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    gift = models.ForeignKey(Gift, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64, blank=True, default="")
    options = models.CharField(max_length=200, blank=True, default="")  # "Blue / M"
    image_url = models.CharField(max_length=500, blank=True, default="")
    unit_price = models.IntegerField()
    quantity = models.PositiveIntegerField()
    line_total = models.IntegerField()  # after the promotions that touched this line
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class OrderAdjustment(models.Model):
    """One named change to the price: a promotion, coupon, custom discount, credit, shipping or tax.

    `source_id` is a plain integer (the promotion or coupon may be deleted later); `label` is what the
    customer saw."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="adjustments")
    kind = models.CharField(max_length=32)
    source_id = models.PositiveIntegerField(null=True, blank=True)
    label = models.CharField(max_length=200)
    amount = models.IntegerField()  # negative: a discount; positive: a charge
    line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.CASCADE, related_name="adjustments")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class OrderEvent(models.Model):
    """The order's story: every status change and notable step, who did it and when (shown in the chat)."""

    class Type(models.TextChoices):
        PLACED = "placed", _("order placed")
        LINK_SENT = "link_sent", _("confirmation link sent")
        LINK_FAILED = "link_failed", _("confirmation link not sent")
        OPENED = "opened", _("opened by the customer")
        CONFIRMED = "confirmed", _("confirmed by the customer")
        PROOF_UPLOADED = "proof_uploaded", _("transfer proof uploaded")
        PAYMENT_APPROVED = "payment_approved", _("payment approved")
        PAYMENT_REJECTED = "payment_rejected", _("payment rejected")
        STATUS_CHANGED = "status_changed", _("status changed")
        SHIPPED = "shipped", _("shipped")
        CANCELLED = "cancelled", _("cancelled")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=32, choices=Type.choices)
    parameters = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class PaymentProof(models.Model):
    """A transfer proof image from the customer: stored privately, seen only by staff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting verification")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    class Source(models.TextChoices):
        PAGE = "page", _("order page")
        CHAT = "chat", _("chat")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="proofs")
    file = models.FileField(storage=private_storage, upload_to=proof_path)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.PAGE)
    message = models.ForeignKey("inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=300, blank=True, default="")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]


class OrderDraft(models.Model):
    """The quick-order cart being built in a conversation, saved as it changes (closing the browser loses
    nothing); `editing_by`/`editing_at` say who has it open, so a second person sees "X is editing"."""

    conversation = models.OneToOneField("inbox.Conversation", on_delete=models.CASCADE, related_name="order_draft")
    data = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=0)  # optimistic concurrency: a stale save is refused
    editing_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    editing_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
