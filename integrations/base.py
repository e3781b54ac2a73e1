"""What the integrations layer hands to the rest of the app, and what it takes back.

The inbox never branches on the platform: it receives `InboundEvent`s from the parsers, sends an
`OutboundMessage` through a `ChannelClient` with a `Delivery` chosen by `integrations.policy`, and gets
a `SendResult` or one of the typed `PlatformError`s below.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Platform(StrEnum):
    MESSENGER = "messenger"
    LINE = "line"


class EventKind(StrEnum):
    MESSAGE = "message"  # the customer wrote something
    ECHO = "echo"  # Messenger: a message the Page sent (our app or the Page inbox)
    POSTBACK = "postback"
    DELIVERY = "delivery"  # Messenger: everything up to `watermark` was delivered
    READ = "read"  # Messenger: everything up to `watermark` was read
    FOLLOW = "follow"  # LINE: added as friend or unblocked
    UNFOLLOW = "unfollow"  # LINE: blocked
    HANDOVER = "handover"  # Messenger: thread control changed
    UNSEND = "unsend"  # LINE: the user took a message back
    REACTION = "reaction"  # Messenger: the customer reacted to a message (or took the reaction back)
    REFERRAL = "referral"  # Messenger: the customer came into the chat from an ad, a shortlink or a plugin
    OTHER = "other"  # kept, shown nowhere: edits, joins, unknown types


class MessageKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    FILE = "file"
    STICKER = "sticker"
    LOCATION = "location"
    POSTBACK = "postback"
    TEMPLATE = "template"
    SYSTEM = "system"
    OTHER = "other"


@dataclass(frozen=True)
class Attachment:
    """One piece of media or structured content in a message."""

    type: str  # image, video, audio, file, sticker, location, fallback, template, ...
    url: str = ""
    preview_url: str = ""
    title: str = ""
    sticker_id: str = ""
    package_id: str = ""  # LINE sticker package
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    # LINE: the message id whose bytes the content API (api-data host) serves, when contentProvider=line.
    content_id: str = ""
    file_name: str = ""
    file_size: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}


@dataclass(frozen=True)
class InboundEvent:
    """One platform event, normalized. Built only by `integrations.<platform>.parse`.

    `channel_key` routes the event: the Page id for Messenger, the bot's `destination` for LINE.
    `user_id` is the customer's platform id (PSID or LINE userId), whichever way the event went.
    """

    platform: Platform
    kind: EventKind
    channel_key: str
    user_id: str
    timestamp: dt.datetime  # aware, UTC
    dedupe_key: str  # unique per platform+channel: mid / webhookEventId / kind+user+watermark
    raw: dict[str, Any]
    message_id: str = ""  # mid or LINE message.id
    message_kind: MessageKind | None = None
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    reply_token: str = ""  # LINE; empty for standby and unfollow
    is_standby: bool = False  # Messenger standby channel / LINE mode=standby
    is_redelivery: bool = False
    app_id: str = ""  # Messenger echo: which app sent it
    metadata: str = ""  # Messenger echo: our Send API `metadata`, echoed back
    payload: str = ""  # postback payload / data
    watermark: dt.datetime | None = None  # delivery/read
    mids: tuple[str, ...] = ()  # delivery: the delivered message ids, when present
    reply_to: str = ""  # the message id this one replies to / quotes


@dataclass(frozen=True)
class LinkButton:
    """A button that opens a page (an order's details, its payment page)."""

    label: str
    url: str


@dataclass(frozen=True)
class OutboundMessage:
    """What staff or the system send: text, an image, or both (LINE sends both in one request).

    With `buttons`, the text becomes a button message (Messenger button template, LINE buttons
    template) whose plain-text fallback is the text followed by the links.
    """

    text: str = ""
    image_url: str = ""
    preview_url: str = ""
    # Messenger echoes it back, so our own sends are recognised in the echo.
    metadata: str = ""
    buttons: tuple[LinkButton, ...] = ()

    def __post_init__(self):
        if not (self.text or self.image_url):
            raise ValueError("an outbound message needs text or an image")
        if self.buttons and not self.text:
            raise ValueError("a button message needs text")
        if len(self.buttons) > 3:
            raise ValueError("at most 3 buttons (Messenger's limit)")

    @property
    def fallback_text(self) -> str:
        """The message as plain text, for where buttons can't be shown."""
        return "\n".join([self.text, *(f"{b.label}: {b.url}" for b in self.buttons)])


@dataclass(frozen=True)
class Delivery:
    """How the policy allowed this send; stored with the message."""

    # Messenger
    messaging_type: str = ""  # RESPONSE | UPDATE | MESSAGE_TAG
    tag: str = ""  # HUMAN_AGENT only
    # LINE
    reply_token: str = ""  # empty -> push
    retry_key: str = ""  # X-Line-Retry-Key for push


@dataclass(frozen=True)
class SendResult:
    message_ids: tuple[str, ...]  # one per part sent, in order (text, image)
    request_id: str = ""
    used_reply: bool = False
    billed: bool = False  # LINE push counts against the monthly quota


@dataclass(frozen=True)
class Profile:
    display_name: str = ""
    picture_url: str = ""
    language: str = ""


@dataclass(frozen=True)
class Quota:
    limited: bool
    limit: int | None  # messages a month, None when unlimited
    used: int

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)


@dataclass(frozen=True)
class Content:
    content_type: str
    data: bytes


class ChannelClient(Protocol):
    def send(self, *, recipient_id: str, message: OutboundMessage, delivery: Delivery, skip_parts: int = 0) -> SendResult: ...

    def get_profile(self, *, user_id: str) -> Profile: ...

    def get_quota(self) -> Quota | None: ...

    def get_content(self, *, message_id: str) -> Content: ...


# --- Typed errors ---------------------------------------------------------------------------------

@dataclass
class PlatformError(Exception):
    """A platform refused or failed a call. Only `retryable` errors are ever retried."""

    message: str
    status: int | None = None
    code: int | None = None
    subcode: int | None = None
    retry_after: float | None = None
    sent_ids: tuple[str, ...] = field(default=())  # parts already accepted before the failure
    retryable = False

    def __str__(self) -> str:
        bits = [self.message]
        if self.code is not None:
            bits.append(f"code {self.code}" + (f"/{self.subcode}" if self.subcode else ""))
        if self.status is not None:
            bits.append(f"HTTP {self.status}")
        return " · ".join(bits)


class TransientError(PlatformError):
    """Timeout, connection error, 5xx, or a platform's 'try again later'."""

    retryable = True


class RateLimited(PlatformError):
    """429 or a Graph rate-limit code: retry after a pause."""

    retryable = True


class QuotaExceeded(PlatformError):
    """LINE: the monthly message limit is used up. Not retried until the quota changes."""


class WindowClosed(PlatformError):
    """Messenger: outside the allowed messaging window."""


class RecipientUnavailable(PlatformError):
    """The person can't receive messages (blocked, deleted, not reachable)."""


class AuthError(PlatformError):
    """Bad or expired access token, or missing permission: the channel needs attention."""


class InvalidRequest(PlatformError):
    """We sent something the platform rejects (bad parameter, expired reply token, bad media)."""


class InvalidReplyToken(InvalidRequest):
    """LINE: the reply token is used or expired; a push can still be sent."""


class ThreadControlled(PlatformError):
    """Messenger: another app controls the thread (handover protocol)."""
