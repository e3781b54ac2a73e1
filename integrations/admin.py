from django.contrib import admin

from integrations.models import Channel, WebhookReceipt


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "platform", "external_id", "is_primary", "position", "is_active", "auth_error")
    list_filter = ("platform", "is_active")
    # Secrets are write-only here: never shown back in a page.
    exclude = ("app_secret", "access_token", "verify_token")
    readonly_fields = ("platform", "external_id", "line_destination", "created_at")


@admin.register(WebhookReceipt)
class WebhookReceiptAdmin(admin.ModelAdmin):
    list_display = ("received_at", "platform", "event_type", "status", "channel", "dedupe_key")
    list_filter = ("platform", "status", "event_type")
    search_fields = ("dedupe_key", "body")
    readonly_fields = [f.name for f in WebhookReceipt._meta.fields]
    actions = ["replay"]

    @admin.action(description="Process again (replay)")
    def replay(self, request, queryset):
        from integrations.tasks import webhook_receipt_process

        for receipt in queryset.exclude(status=WebhookReceipt.Status.REJECTED):
            WebhookReceipt.objects.filter(pk=receipt.pk).update(status=WebhookReceipt.Status.RECEIVED)
            webhook_receipt_process.delay(receipt.pk)
