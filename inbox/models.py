"""Conversations with customers on a connected channel. Business rules live in inbox.services."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.base import MessageKind
from integrations.models import Channel


class Contact(models.Model):
    """A platform user (Messenger PSID or LINE userId) on one channel."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="contacts")
    platform_user_id = models.CharField(max_length=128)
    display_name = models.CharField(_("display name"), max_length=200, blank=True, default="")
    avatar_url = models.URLField(max_length=2000, blank=True, default="")
    language = models.CharField(max_length=16, blank=True, default="")
    # LINE: False after an unfollow (blocked); pushes to a blocked user are pointless.
    is_following = models.BooleanField(default=True)
    profile_fetched_at = models.DateTimeField(null=True, blank=True)
    profile_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "platform_user_id"], name="contact_unique_per_channel"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.platform_user_id


class Conversation(models.Model):
    """One per channel + contact: the thread staff answer."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="conversations")
    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="conversation")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_conversations"
    )
    starred = models.BooleanField(default=False)
    # A starred conversation with a due time comes back to the top of the list when it falls due.
    star_due_at = models.DateTimeField(null=True, blank=True)
    tags = models.ManyToManyField("Tag", blank=True, related_name="conversations")
    note = models.TextField(_("note"), blank=True, default="")
    unread_count = models.PositiveIntegerField(default=0)
    last_inbound_at = models.DateTimeField(null=True, blank=True)  # the customer's last message: opens windows
    # The customer's last reaction or referral (an ad or m.me link into this chat): Messenger opens its 24-hour
    # window for those too, not the 7-day one, and they ask for no reply (integrations.policy).
    last_engaged_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)  # newest message either way
    # The list's order: the newest message, or a star's due time once it has fallen due.
    activity_at = models.DateTimeField(null=True, blank=True)
    # The last answer by a person (our inbox or the Page inbox): "needs reply" = the customer wrote after it.
    last_reply_at = models.DateTimeField(null=True, blank=True)
    last_message = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # LINE: the newest unused reply token and when its event happened (a reply is free for 1 minute).
    reply_token = models.CharField(max_length=255, blank=True, default="")
    reply_token_at = models.DateTimeField(null=True, blank=True)
    # LINE: when a person first confirmed a paid push here (asked once per conversation).
    paid_push_confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["-activity_at", "-id"], name="conv_activity_idx"),
            models.Index(fields=["channel", "-activity_at", "-id"], name="conv_channel_activity_idx"),
            models.Index(fields=["assignee", "-activity_at"], name="conv_assignee_idx"),
            models.Index(fields=["last_inbound_at"], name="conv_last_inbound_idx"),
            # The unread counts every list request and event shows (migration 0002_bench_indexes).
            models.Index(fields=["channel", "id"], condition=models.Q(unread_count__gt=0), name="conv_unread_channel_idx"),
            # "Unread" with an assignee filter (mine, nobody's, someone's) in any tab (migration 0004).
            models.Index(fields=["assignee", "-activity_at", "-id"], condition=models.Q(unread_count__gt=0), name="conv_unread_assignee_idx"),
            # On PostgreSQL only, migration 0003 adds trigram GIN indexes for the search, not declared here
            # (SQLite has no GIN): contact_name_trgm_idx on UPPER(inbox_contact.display_name) and
            # tag_name_trgm_idx on UPPER(inbox_tag.name).
        ]

    def __str__(self) -> str:
        return f"{self.contact} on {self.channel.name}"


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("inbound")
        OUTBOUND = "outbound", _("outbound")

    class Kind(models.TextChoices):
        TEXT = MessageKind.TEXT.value, _("text")
        IMAGE = MessageKind.IMAGE.value, _("image")
        VIDEO = MessageKind.VIDEO.value, _("video")
        AUDIO = MessageKind.AUDIO.value, _("audio")
        FILE = MessageKind.FILE.value, _("file")
        STICKER = MessageKind.STICKER.value, _("sticker")
        LOCATION = MessageKind.LOCATION.value, _("location")
        POSTBACK = MessageKind.POSTBACK.value, _("postback")
        TEMPLATE = MessageKind.TEMPLATE.value, _("template")
        SYSTEM = MessageKind.SYSTEM.value, _("system")
        OTHER = MessageKind.OTHER.value, _("other")

    class State(models.TextChoices):
        RECEIVED = "received", _("received")  # inbound
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        DELIVERED = "delivered", _("delivered")
        READ = "read", _("read")
        FAILED = "failed", _("failed")

    class Source(models.TextChoices):
        CUSTOMER = "customer", _("customer")
        STAFF = "staff", _("staff")  # typed by a person in our inbox
        AUTOMATED = "automated", _("automated")  # sent by the system (order links, notifications)
        PAGE_INBOX = "page_inbox", _("page inbox")  # sent from the platform's own inbox, seen as an echo

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    text = models.TextField(blank=True, default="")
    attachments = models.JSONField(default=list, blank=True)  # list of Attachment.as_dict()
    # The platform's id (mid / LINE message id) of the first part; unique per channel when known.
    platform_message_id = models.CharField(max_length=255, blank=True, default="")
    # Ids of every part sent (Messenger sends text and image as two messages).
    part_ids = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=16, choices=State.choices)
    error = models.TextField(blank=True, default="")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The policy decision that allowed an outbound send (window, messaging_type/tag, reply or push).
    decision = models.JSONField(default=dict, blank=True)
    reply_token = models.CharField(max_length=255, blank=True, default="")  # LINE: the token this send consumed
    retry_key = models.UUIDField(null=True, blank=True)  # LINE X-Line-Retry-Key, reused on every retry
    attempts = models.PositiveSmallIntegerField(default=0)
    billed = models.BooleanField(null=True)  # LINE: counted against the paid quota (push) or free (reply)
    platform_timestamp = models.DateTimeField()  # when it happened (platform time for inbound)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["platform_timestamp", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "platform_message_id"],
                condition=~models.Q(platform_message_id=""),
                name="message_unique_platform_id",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "platform_timestamp", "id"], name="message_timeline_idx"),
            models.Index(fields=["conversation", "direction", "state"], name="message_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.text[:30]}"


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SavedReply(models.Model):
    """A canned answer staff insert by typing `/` and its shortcut. Any staff member saves one; its author and the
    admins change or delete it."""

    shortcut = models.SlugField(_("shortcut"), max_length=40, unique=True, allow_unicode=True)
    text = models.TextField(_("text"), max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut"]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class InboxEvent(models.Model):
    """Every event sent to open inboxes, numbered, so a reconnecting browser can catch up exactly.

    Written in the same transaction as the change it describes; kept for a day.
    """

    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)


class InboxSettings(models.Model):
    """Shop-wide inbox settings (a single row)."""

    confirm_paid_line_push = models.BooleanField(
        _("ask before the first paid LINE push in a conversation"), default=True
    )

    @classmethod
    def load(cls) -> "InboxSettings":
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj
