"""The catalog and the shop's commerce settings in the Django admin (where the shop manages them)."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from orders.models import (
    CommerceSettings,
    Coupon,
    DeliveryMethod,
    Gift,
    OrderTag,
    PaymentMethod,
    Product,
    ProductTag,
    Promotion,
    Variant,
)


@admin.register(ProductTag)
class ProductTagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 1
    fields = ["options", "sku", "price", "stock", "weight_grams", "position", "is_active"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "visibility", "is_custom", "taxable", "is_archived", "updated_at"]
    list_filter = ["visibility", "is_custom", "taxable", "is_archived", "tags"]
    search_fields = ["name", "variants__sku", "tags__name"]
    filter_horizontal = ["tags"]
    inlines = [VariantInline]


@admin.register(Gift)
class GiftAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "stock", "is_active"]
    list_editable = ["stock", "is_active"]
    search_fields = ["name", "sku"]


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "is_active", "starts_at", "ends_at", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    filter_horizontal = ["products", "tags", "b_products", "b_tags"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "is_active", "starts_at", "ends_at"]}),
        (_("Eligible items (group A for bundles; none: every product)"), {"fields": ["products", "tags"]}),
        (_("Pick any N for $X"), {"fields": ["group_size", "group_price"]}),
        (_("A+B bundle"), {"fields": ["b_products", "b_tags", "bundle_price", "bundle_discount"]}),
        (_("Buy X get Y"), {"fields": ["buy_quantity", "get_quantity", "get_percent_off", "repeat"]}),
        (_("Spend and save"), {"fields": ["min_spend", "amount_off", "percent_off", "stackable"]}),
    ]


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "amount_off", "percent_off", "minimum_amount", "usage_count", "usage_limit", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    filter_horizontal = ["products", "tags"]
    readonly_fields = ["usage_count"]


@admin.register(DeliveryMethod)
class DeliveryMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "fee", "free_threshold", "is_hidden", "position"]
    list_editable = ["fee", "free_threshold", "is_hidden", "position"]
    list_filter = ["type", "is_hidden"]
    filter_horizontal = ["payment_methods"]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "is_hidden", "position"]
    list_editable = ["is_hidden", "position"]
    list_filter = ["type", "is_hidden"]


@admin.register(OrderTag)
class OrderTagAdmin(admin.ModelAdmin):
    """The saved order tags the quick-order panel offers (staff can also save a typed tag from there)."""

    list_display = ["name", "created_by", "created_at"]
    search_fields = ["name"]
    fields = ["name"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(CommerceSettings)
class CommerceSettingsAdmin(admin.ModelAdmin):
    """One row: no adding a second, no deleting it."""

    list_display = ["__str__", "currency", "tax_mode", "tax_rate", "credit_enabled"]

    def has_add_permission(self, request):
        return not CommerceSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
