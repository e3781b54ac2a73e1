from django.contrib import admin

from inbox.models import Contact, Conversation, InboxSettings, Message, SavedReply, Tag


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin):
    list_display = ("shortcut", "text", "updated_at")
    search_fields = ("shortcut", "text")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(InboxSettings)
class InboxSettingsAdmin(admin.ModelAdmin):
    list_display = ("pk", "confirm_paid_line_push")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("display_name", "platform_user_id", "channel", "is_following", "profile_error")
    list_filter = ("channel",)
    search_fields = ("display_name", "platform_user_id")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("contact", "channel", "assignee", "starred", "unread_count", "activity_at")
    list_filter = ("channel", "starred")
    raw_id_fields = ("contact", "last_message", "assignee")
    filter_horizontal = ("tags",)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("platform_timestamp", "conversation", "direction", "kind", "state", "text")
    list_filter = ("direction", "state", "kind", "channel")
    raw_id_fields = ("conversation", "sent_by")
    readonly_fields = ("decision", "retry_key", "reply_token", "part_ids")
