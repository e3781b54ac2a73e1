"""Platform-specific records: connected channels, the raw webhook log."""
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from integrations.base import Platform


class Channel(models.Model):
    """A connected Facebook Page or LINE Official Account, with its credentials.

    Secrets come from the `add_channel` command (or the admin) and are never shown in the UI.
    Pages are ordered: one primary (position 0) and up to 9 secondaries, which is also the tab order.
    """

    class Platform(models.TextChoices):
        MESSENGER = Platform.MESSENGER.value, "Facebook Messenger"
        LINE = Platform.LINE.value, "LINE"

    platform = models.CharField(max_length=16, choices=Platform.choices)
    name = models.CharField(_("name"), max_length=100)
    # Messenger: the Page id. LINE: the channel id of the Messaging API channel.
    external_id = models.CharField(max_length=64)
    # LINE: the bot's user id, the webhook's `destination` (learned from the first webhook or the bot info).
    line_destination = models.CharField(max_length=64, blank=True, default="")
    app_secret = models.CharField(max_length=200, blank=True, default="")  # Messenger app secret / LINE channel secret
    verify_token = models.CharField(max_length=200, blank=True, default="")  # Messenger handshake
    access_token = models.TextField(blank=True, default="")  # Page token / LINE channel access token
    app_id = models.CharField(max_length=64, blank=True, default="")  # Messenger: our app id, to recognise echoes
    is_primary = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    # Set when the platform rejects the token or a permission: staff see it, sends stop being retried.
    auth_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["platform", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="channel_unique_external_id"),
            models.UniqueConstraint(
                fields=["platform"], condition=models.Q(is_primary=True), name="channel_one_primary_per_platform"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} · {self.name}"

    def clean(self):
        if self.platform == Platform.LINE and self.is_primary:
            raise ValidationError(_("Only Facebook pages are primary or secondary."))

    @property
    def webhook_path(self) -> str:
        if self.platform == Platform.MESSENGER:
            return "/webhooks/messenger/"
        return f"/webhooks/line/{self.pk}/"


class WebhookReceipt(models.Model):
    """One raw webhook event, kept for audit and replay. Stored before anything else happens.

    `dedupe_key` is unique per channel: a redelivered or concurrently delivered event is stored once and
    processed once. Bodies that can't be split into events (bad JSON, unknown shape) are kept whole with
    no dedupe key.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        PROCESSED = "processed", _("processed")
        IGNORED = "ignored", _("ignored")  # valid but nothing for us (unknown type, other page)
        FAILED = "failed", _("failed")  # processing raised; error kept, replayable
        REJECTED = "rejected", _("rejected")  # malformed body, answered 400

    platform = models.CharField(max_length=16, choices=Channel.Platform.choices)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="receipts")
    dedupe_key = models.CharField(max_length=255, null=True, blank=True)
    event_type = models.CharField(max_length=40, blank=True, default="")
    body = models.TextField()  # the event's JSON (or the whole raw body when it could not be split)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "dedupe_key"], name="receipt_unique_dedupe_key"),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="receipt_status_idx")]

    def __str__(self) -> str:
        return f"{self.platform} {self.event_type} {self.dedupe_key or '-'} ({self.status})"
