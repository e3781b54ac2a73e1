"""The sandbox's own tables: a fake of what Meta and LINE keep on their side.

Nothing here knows about the app's channels or conversations: a page or bot registered here is what the
platform would know (its secrets, its webhook URL), and the app is configured separately to talk to it.
"""
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

LINE_ID_PATTERN = r"^U[0-9a-f]{32}$"
line_id_validator = RegexValidator(LINE_ID_PATTERN, 'A LINE id is "U" followed by 32 lowercase hex digits.')


class Platform(models.TextChoices):
    MESSENGER = "messenger", "Messenger"
    LINE = "line", "LINE"


class SandboxPage(models.Model):
    """A Facebook Page as Meta knows it: the token our client sends and the secret webhooks are signed with."""

    page_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100, blank=True, default="")
    app_id = models.CharField(max_length=64, blank=True, default="")  # echoed in message_echoes
    app_secret = models.CharField(max_length=200)
    access_token = models.CharField(max_length=500, unique=True)
    # Absolute, or a path resolved against settings.SANDBOX_APP_BASE_URL; blank = nothing is delivered.
    webhook_url = models.CharField(max_length=500, blank=True, default="")

    def __str__(self) -> str:
        return f"Page {self.name or self.page_id}"


class SandboxLineBot(models.Model):
    """A LINE Official Account's Messaging API channel, keyed by the bot user id webhooks carry as `destination`."""

    destination = models.CharField(max_length=33, unique=True, validators=[line_id_validator])
    channel_id = models.CharField(max_length=64, blank=True, default="")
    name = models.CharField(max_length=100, blank=True, default="")
    channel_secret = models.CharField(max_length=200)
    access_token = models.CharField(max_length=500, unique=True)
    webhook_url = models.CharField(max_length=500, blank=True, default="")
    # Messages a month (per recipient); None = no limit, reported as quota type "none".
    quota_limit = models.PositiveIntegerField(null=True, blank=True)
    redelivery_enabled = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"LINE bot {self.name or self.destination}"


class SandboxUser(models.Model):
    """A customer on the platform: a PSID of one Page, or a LINE user who is (or was) a friend of one bot."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    page = models.ForeignKey(SandboxPage, null=True, blank=True, on_delete=models.CASCADE, related_name="users")
    bot = models.ForeignKey(SandboxLineBot, null=True, blank=True, on_delete=models.CASCADE, related_name="users")
    user_id = models.CharField(max_length=64)  # PSID digits / "U" + 32 hex
    display_name = models.CharField(max_length=100, blank=True, default="")
    picture_url = models.CharField(max_length=500, blank=True, default="")
    # Opens the Messenger 24 h / 7 day windows; backdated by tests through `user_says(at=...)`.
    last_user_message_at = models.DateTimeField(null=True, blank=True)
    # LINE: friend (not blocked). Messenger: False = the person blocked the Page (551 on send).
    following = models.BooleanField(default=True)
    # Messenger: the last read watermark sent, so the simulator sends one read event per new shop message.
    read_watermark = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["page", "user_id"], condition=models.Q(page__isnull=False), name="sandbox_user_unique_per_page"
            ),
            models.UniqueConstraint(
                fields=["bot", "user_id"], condition=models.Q(bot__isnull=False), name="sandbox_user_unique_per_bot"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(platform=Platform.MESSENGER, page__isnull=False, bot__isnull=True)
                    | models.Q(platform=Platform.LINE, bot__isnull=False, page__isnull=True)
                ),
                name="sandbox_user_belongs_to_its_platform",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} user {self.display_name or self.user_id}"


class SandboxReplyToken(models.Model):
    """A LINE reply token: single use, valid a short while after the event (or after its redelivery)."""

    token = models.CharField(max_length=64, unique=True)
    bot = models.ForeignKey(SandboxLineBot, on_delete=models.CASCADE, related_name="reply_tokens")
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="reply_tokens")
    issued_at = models.DateTimeField()  # the event's time
    redelivered_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)


class SandboxRetryKey(models.Model):
    """An accepted `X-Line-Retry-Key`: a repeat within 24 h answers 409 with the first request's id."""

    bot = models.ForeignKey(SandboxLineBot, on_delete=models.CASCADE, related_name="retry_keys")
    key = models.UUIDField()
    request_id = models.CharField(max_length=64)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bot", "key"], name="sandbox_retry_key_unique_per_bot")]


class SandboxCall(models.Model):
    """Every request the fake platform APIs received and what they answered; tests assert on these."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    endpoint = models.CharField(max_length=32)  # send, profile, reply, push, multicast, quota, ...
    channel_key = models.CharField(max_length=64, blank=True, default="")  # page id / bot destination, once known
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=1000)
    headers = models.JSONField(default=dict)  # only the ones that change behaviour
    body = models.JSONField(null=True, blank=True)  # parsed JSON, or the raw text when it did not parse
    status = models.PositiveSmallIntegerField()
    response = models.JSONField(null=True, blank=True)  # None for binary content
    # LINE: recipients counted against the monthly quota by this call.
    billed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["platform", "endpoint"], name="sandbox_call_endpoint_idx")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


class SandboxChatMessage(models.Model):
    """One bubble of the conversation as the simulated customer sees it."""

    class Direction(models.TextChoices):
        TO_SHOP = "to_shop", "customer to shop"
        FROM_SHOP = "from_shop", "shop to customer"

    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="chat_messages")
    direction = models.CharField(max_length=16, choices=Direction.choices)
    kind = models.CharField(max_length=16)  # text, image, sticker, location, template, postback, flex, ...
    text = models.TextField(blank=True, default="")
    image_url = models.CharField(max_length=2000, blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)  # the platform's message object
    platform_message_id = models.CharField(max_length=100, blank=True, default="")
    # to_shop: the HTTP status the app answered the webhook with (None: no answer / nothing delivered).
    webhook_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class SandboxFault(models.Model):
    """A failure injected into the fake APIs: delay, a forced error status, or both, sometimes at random."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    endpoint = models.CharField(max_length=32, blank=True, default="")  # blank = every endpoint
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # None = latency only
    retry_after = models.PositiveIntegerField(null=True, blank=True)  # seconds, sent as Retry-After
    remaining = models.PositiveIntegerField(null=True, blank=True)  # None = until cleared
    latency_ms = models.PositiveIntegerField(default=0)
    error_rate = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )  # None = every matching call
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.platform}/{self.endpoint or '*'} status={self.status} remaining={self.remaining}"


class SandboxContent(models.Model):
    """Bytes a user sent: served by LINE's content API (key = message id) and to the simulator page."""

    key = models.CharField(max_length=64, unique=True)
    platform = models.CharField(max_length=16, choices=Platform.choices)
    bot = models.ForeignKey(SandboxLineBot, null=True, blank=True, on_delete=models.CASCADE, related_name="contents")
    data = models.BinaryField()
    content_type = models.CharField(max_length=100)
    gone = models.BooleanField(default=False)  # the user unsent it: LINE answers 410
    created_at = models.DateTimeField(default=timezone.now)
