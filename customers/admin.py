"""Settings the shop manages in the admin: member tiers (ordered by rank) and customer tags.

Members themselves are read here only: their login details, credit and merges have rules, so they
change through the inbox pane, the customer pages and the API (customers.services), never a raw form.
"""
from django.contrib import admin

from customers.models import Customer, CustomerTag, MemberTier


@admin.register(MemberTier)
class MemberTierAdmin(admin.ModelAdmin):
    list_display = ("name", "rank")
    list_editable = ("rank",)
    ordering = ("rank", "name")


@admin.register(CustomerTag)
class CustomerTagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "phone", "tier", "credit_balance", "source", "created_at")
    list_filter = ("tier", "source")
    search_fields = ("name", "email", "phone")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
