"""The sandbox's Python API: what tests, the seed command and the simulator page call.

The customer side (`user_says`, `user_follows`, ...) builds the platform's exact webhook, signs it and posts
it to the registered webhook URL, recording the bubble the simulated customer sees. The shop side is the fake
HTTP API in `graph_views` / `line_views`; they use the `record_shop_message` and `send_messenger_echo` helpers
here. Nothing runs inside a transaction while a webhook is posted: the app answering it may call the sandbox
back (profile, reply) and, on SQLite, would wait for our write lock.
"""
import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from integrations.sandbox import delivery, ids, payloads
from integrations.sandbox.delivery import DeliveryResult
from integrations.sandbox.models import (
    Platform,
    SandboxCall,
    SandboxChatMessage,
    SandboxContent,
    SandboxFault,
    SandboxLineBot,
    SandboxPage,
    SandboxReplyToken,
    SandboxUser,
    line_id_validator,
)

__all__ = [
    "DeliveryResult",
    "calls",
    "clear_faults",
    "get_or_create_user",
    "messenger_postback",
    "record_shop_message",
    "redeliver",
    "register_line_bot",
    "register_page",
    "send_messenger_echo",
    "set_fault",
    "user_follows",
    "user_reads",
    "user_says",
    "user_unfollows",
    "user_unsends",
]

DEFAULT_LINE_STICKER_PACKAGE = "446"
# Beyond a minute of latency (past every client's read timeout) there is nothing more to learn.
FAULT_NUMBER_LIMITS = {"count": 1_000_000, "retry_after": 86_400, "latency_ms": 60_000}


# --- Registration ---------------------------------------------------------------------------------

def register_page(
    page_id: str, app_secret: str, access_token: str, webhook_url: str, name: str = "", app_id: str = ""
) -> SandboxPage:
    """Create or update a Page; `webhook_url` may be a path on the app (see `delivery.resolve_webhook_url`)."""
    page, _ = SandboxPage.objects.update_or_create(
        page_id=str(page_id),
        defaults={
            "app_secret": app_secret,
            "access_token": access_token,
            "webhook_url": webhook_url,
            "name": name,
            "app_id": str(app_id),
        },
    )
    return page


def register_line_bot(
    destination: str,
    channel_secret: str,
    access_token: str,
    webhook_url: str,
    channel_id: str = "",
    name: str = "",
    quota_limit: int | None = None,
    redelivery_enabled: bool = False,
) -> SandboxLineBot:
    """Create or update a LINE bot; `quota_limit=None` means no monthly limit."""
    line_id_validator(destination)
    bot, _ = SandboxLineBot.objects.update_or_create(
        destination=destination,
        defaults={
            "channel_secret": channel_secret,
            "access_token": access_token,
            "webhook_url": webhook_url,
            "channel_id": str(channel_id),
            "name": name,
            "quota_limit": quota_limit,
            "redelivery_enabled": redelivery_enabled,
        },
    )
    return bot


def get_or_create_user(
    platform: str,
    *,
    page_id: str | None = None,
    destination: str | None = None,
    user_id: str | None = None,
    display_name: str = "",
    picture_url: str = "",
) -> SandboxUser:
    """The customer `user_id` of that Page or bot; a new one (with a fresh id when none is given) if unknown."""
    page, bot = _channel(platform, page_id, destination)
    user_id = user_id or (ids.messenger_psid() if page else ids.line_user_id())
    if bot:
        line_id_validator(user_id)
    user, _ = SandboxUser.objects.get_or_create(
        platform=platform,
        page=page,
        bot=bot,
        user_id=str(user_id),
        defaults={"display_name": display_name or f"Customer {str(user_id)[-4:]}", "picture_url": picture_url},
    )
    return user


def _channel(platform: str, page_id: str | None, destination: str | None):
    if platform == Platform.MESSENGER:
        return SandboxPage.objects.get(page_id=str(page_id)), None
    if platform == Platform.LINE:
        return None, SandboxLineBot.objects.get(destination=destination)
    raise ValueError(f"unknown platform {platform!r}")


# --- The customer side: webhooks ------------------------------------------------------------------

@dataclass(frozen=True)
class _Said:
    """One thing the customer did: its webhook content and the bubble the simulator shows."""

    content: dict[str, Any]  # Messenger: {"message": ...} / {"postback": ...}; LINE: the event's own fields
    kind: str
    text: str = ""
    image_url: str = ""
    message_id: str = ""
    line_event_type: str = "message"
    opens_window: bool = True  # a message or postback opens Messenger's 24 h window; follows and unsends don't


def user_says(
    platform: str,
    *,
    page_id: str | None = None,
    destination: str | None = None,
    user_id: str,
    text: str = "",
    image: bytes | None = None,
    sticker: tuple[str, str] | str | int | None = None,
    location: dict[str, Any] | None = None,
    postback: str | None = None,
    at: dt.datetime | None = None,
) -> DeliveryResult:
    """The customer sends one thing: text, an image, a sticker, a location or a postback (with `text` as title).

    `at` backdates the event (timestamp, last_user_message_at and, on LINE, the reply token's issue time) so
    tests can reach the Messenger 24 h / 7 day windows and expired reply tokens. A sticker is
    `(package_id, sticker_id)` or just a sticker id (Messenger has no packages). Creates the user if new.
    """
    _check_one_thing(text=text, image=image, sticker=sticker, location=location, postback=postback)
    at = _aware(at)
    user = get_or_create_user(platform, page_id=page_id, destination=destination, user_id=user_id)
    things = {"text": text, "image": image, "sticker": sticker, "location": location, "postback": postback}
    if platform == Platform.MESSENGER:
        said = _messenger_said(**things)
        event = payloads.messenger_user_event(user.page.page_id, user.user_id, at, **said.content)
        return _record_and_deliver(user, at, said, event)
    said = _line_said(user.bot, **things)
    token = _issue_reply_token(user, at)
    event = payloads.line_event(said.line_event_type, user.user_id, at, reply_token=token, **said.content)
    return _record_and_deliver(user, at, said, event)


def messenger_postback(
    page_id: str, psid: str, payload: str, title: str = "", at: dt.datetime | None = None
) -> DeliveryResult:
    """The customer taps a postback button (or Get Started): a `messaging_postbacks` event; opens the window."""
    return user_says(Platform.MESSENGER, page_id=page_id, user_id=psid, text=title, postback=payload, at=at)


def user_reads(page_id: str, psid: str, at: dt.datetime | None = None) -> DeliveryResult:
    """Messenger read receipt: everything the Page sent up to now was seen."""
    at = _aware(at)
    user = get_or_create_user(Platform.MESSENGER, page_id=page_id, user_id=psid)
    SandboxUser.objects.filter(pk=user.pk).update(read_watermark=at)
    read = {"watermark": payloads.epoch_ms(at)}
    event = payloads.messenger_user_event(user.page.page_id, user.user_id, at, read=read)
    return delivery.deliver_messenger(user.page, payloads.messenger_envelope(user.page.page_id, event), event)


def user_follows(
    destination: str, user_id: str, display_name: str = "", at: dt.datetime | None = None
) -> DeliveryResult:
    """LINE: the user adds the bot as a friend, or unblocks it (`follow.isUnblocked`). Carries a reply token."""
    at = _aware(at)
    existing = SandboxUser.objects.filter(bot__destination=destination, user_id=user_id).first()
    is_unblocked = existing is not None and not existing.following
    user = existing or get_or_create_user(
        Platform.LINE, destination=destination, user_id=user_id, display_name=display_name
    )
    SandboxUser.objects.filter(pk=user.pk).update(following=True)
    said = _Said(
        {"follow": {"isUnblocked": is_unblocked}},
        "follow",
        text="unblocked the bot" if is_unblocked else "added the bot as a friend",
        line_event_type="follow",
        opens_window=False,
    )
    event = payloads.line_event("follow", user.user_id, at, reply_token=_issue_reply_token(user, at), **said.content)
    return _record_and_deliver(user, at, said, event)


def user_unfollows(destination: str, user_id: str, at: dt.datetime | None = None) -> DeliveryResult:
    """LINE: the user blocks the bot. No reply token; pushes stop being delivered and billed."""
    at = _aware(at)
    user = SandboxUser.objects.get(bot__destination=destination, user_id=user_id)
    SandboxUser.objects.filter(pk=user.pk).update(following=False)
    said = _Said({}, "unfollow", text="blocked the bot", line_event_type="unfollow", opens_window=False)
    event = payloads.line_event("unfollow", user.user_id, at)
    return _record_and_deliver(user, at, said, event)


def user_unsends(destination: str, user_id: str, message_id: str, at: dt.datetime | None = None) -> DeliveryResult:
    """LINE: the user takes a message back; its content is gone (the content API answers 410)."""
    at = _aware(at)
    user = SandboxUser.objects.get(bot__destination=destination, user_id=user_id)
    SandboxContent.objects.filter(bot=user.bot, key=message_id).update(gone=True)
    content = {"unsend": {"messageId": message_id}}
    said = _Said(content, "unsend", text="unsent a message", line_event_type="unsend", opens_window=False)
    event = payloads.line_event("unsend", user.user_id, at, **said.content)
    return _record_and_deliver(user, at, said, event)


def redeliver(destination: str, event: dict[str, Any]) -> DeliveryResult:
    """LINE: send `event` again, identical but `isRedelivery: true`; its reply token gets a fresh minute."""
    bot = SandboxLineBot.objects.get(destination=destination)
    redelivered = payloads.as_redelivery(event)
    if event.get("replyToken"):
        SandboxReplyToken.objects.filter(bot=bot, token=event["replyToken"]).update(redelivered_at=timezone.now())
    return delivery.deliver_line(bot, payloads.line_envelope(bot.destination, [redelivered]), redelivered)


def _record_and_deliver(user: SandboxUser, at: dt.datetime, said: _Said, event: dict[str, Any]) -> DeliveryResult:
    """Show the bubble first (the simulator polls), then post; the app's answer is kept on the bubble."""
    bubble = SandboxChatMessage.objects.create(
        user=user,
        direction=SandboxChatMessage.Direction.TO_SHOP,
        kind=said.kind,
        text=said.text,
        image_url=said.image_url,
        payload=event,
        platform_message_id=said.message_id,
        created_at=at,
    )
    if said.opens_window:
        SandboxUser.objects.filter(pk=user.pk).update(last_user_message_at=at)
    result = _deliver(user, event)
    SandboxChatMessage.objects.filter(pk=bubble.pk).update(webhook_status=result.status_code)
    return result


def _deliver(user: SandboxUser, event: dict[str, Any]) -> DeliveryResult:
    if user.platform == Platform.MESSENGER:
        return delivery.deliver_messenger(user.page, payloads.messenger_envelope(user.page.page_id, event), event)
    bot = user.bot
    first = delivery.deliver_line(bot, payloads.line_envelope(bot.destination, [event]), event)
    if first.ok or first.attempts == 0 or not bot.redelivery_enabled:
        return first
    again = redeliver(bot.destination, event)
    return replace(again, attempts=first.attempts + again.attempts)


def _messenger_said(*, text, image, sticker, location, postback) -> _Said:
    if postback is not None:
        mid = ids.messenger_mid()
        title = text or str(postback)
        content = {"postback": {"mid": mid, "title": title, "payload": postback}}
        return _Said(content, "postback", text=title, message_id=mid)
    if image is not None:
        path = media_path(_store_content(Platform.MESSENGER, image).key)
        message = payloads.messenger_attachment("image", {"url": absolute_url(path)})
        return _Said({"message": message}, "image", image_url=path, message_id=message["mid"])
    if sticker is not None:
        _, sticker_id = _sticker_parts(sticker)
        message = payloads.messenger_sticker(sticker_id, absolute_url(sticker_path(sticker_id)))
        return _Said({"message": message}, "sticker", image_url=sticker_path(sticker_id), message_id=message["mid"])
    if location is not None:
        message = payloads.messenger_location(location)
        return _Said({"message": message}, "location", text=_location_text(location), message_id=message["mid"])
    message = payloads.messenger_text(text)
    return _Said({"message": message}, "text", text=text, message_id=message["mid"])


def _line_said(bot: SandboxLineBot, *, text, image, sticker, location, postback) -> _Said:
    if postback is not None:
        content = {"postback": {"data": postback}}
        return _Said(content, "postback", text=text or str(postback), line_event_type="postback")
    if image is not None:
        content = _store_content(Platform.LINE, image, bot=bot, key=ids.line_message_id())
        message = payloads.line_image(content.key)
        return _Said({"message": message}, "image", image_url=media_path(content.key), message_id=content.key)
    if sticker is not None:
        message = payloads.line_sticker(*_sticker_parts(sticker))
        image_url = sticker_path(message["stickerId"])
        return _Said({"message": message}, "sticker", image_url=image_url, message_id=message["id"])
    if location is not None:
        message = payloads.line_location(location)
        return _Said({"message": message}, "location", text=_location_text(location), message_id=message["id"])
    message = payloads.line_text(text)
    return _Said({"message": message}, "text", text=text, message_id=message["id"])


def _check_one_thing(*, text, image, sticker, location, postback) -> None:
    """A webhook message is one thing: text alone, or one attachment; a postback may carry a title."""
    attachments = [thing for thing in (image, sticker, location) if thing is not None]
    if len(attachments) + (postback is not None) > 1 or (attachments and text):
        raise ValueError("say one thing at a time: text, an image, a sticker, a location or a postback")
    if not attachments and postback is None and not text:
        raise ValueError("nothing to say")
    if location is not None and not {"latitude", "longitude"} <= set(location):
        raise ValueError("a location needs latitude and longitude")


def _sticker_parts(sticker: tuple[str, str] | str | int) -> tuple[str, str]:
    package_id, sticker_id = sticker if isinstance(sticker, tuple | list) else (DEFAULT_LINE_STICKER_PACKAGE, sticker)
    if not str(package_id) or not str(sticker_id):
        raise ValueError("a sticker needs a package id and a sticker id")
    return str(package_id), str(sticker_id)


def _location_text(location: dict[str, Any]) -> str:
    place = " · ".join(str(location[key]) for key in ("title", "address") if location.get(key))
    coordinates = f"{location['latitude']}, {location['longitude']}"
    return f"{place} ({coordinates})" if place else coordinates


def _issue_reply_token(user: SandboxUser, at: dt.datetime) -> str:
    """Issued at the event's time, so a backdated event has a token that is already old."""
    return SandboxReplyToken.objects.create(token=ids.line_reply_token(), bot=user.bot, user=user, issued_at=at).token


def _aware(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise ValueError("`at` must be timezone-aware")
    return at


# --- Media the sandbox serves ---------------------------------------------------------------------

def _store_content(
    platform: str, data: bytes, *, bot: SandboxLineBot | None = None, key: str | None = None
) -> SandboxContent:
    return SandboxContent.objects.create(
        key=key or ids.line_request_id().replace("-", ""),
        platform=platform,
        bot=bot,
        data=data,
        content_type=sniff_image_type(data),
    )


def sniff_image_type(data: bytes) -> str:
    """The Content-Type LINE would report, from the bytes' magic number."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def media_path(key: str) -> str:
    return reverse("sandbox:media", args=[key])


def sticker_path(sticker_id: str) -> str:
    return reverse("sandbox:sticker", args=[sticker_id])


def absolute_url(path: str) -> str:
    """Webhooks carry absolute URLs; the sandbox is mounted in the app, at SANDBOX_APP_BASE_URL."""
    return settings.SANDBOX_APP_BASE_URL + path


# --- The shop side: what the fake APIs record -----------------------------------------------------

def record_shop_message(
    user: SandboxUser, *, kind: str, payload: dict[str, Any], message_id: str, text: str = "", image_url: str = ""
) -> SandboxChatMessage:
    return SandboxChatMessage.objects.create(
        user=user,
        direction=SandboxChatMessage.Direction.FROM_SHOP,
        kind=kind,
        text=text,
        image_url=image_url,
        payload=payload,
        platform_message_id=message_id,
    )


def send_messenger_echo(
    user: SandboxUser, *, mid: str, sent: dict[str, Any], metadata: str | None
) -> DeliveryResult:
    """Meta echoes every Page send to the Page's webhook (`message_echoes`), sender = Page, same mid."""
    page = user.page
    message = payloads.messenger_echo_message(mid=mid, app_id=page.app_id, sent=sent, metadata=metadata)
    event = payloads.messenger_echo_event(page.page_id, user.user_id, timezone.now(), message)
    return delivery.deliver_messenger(page, payloads.messenger_envelope(page.page_id, event), event)


# --- Faults and the call log ----------------------------------------------------------------------

def set_fault(
    platform: str,
    status: int | None = 500,
    count: int | None = 1,
    retry_after: int | None = None,
    endpoint: str = "",
    latency_ms: int = 0,
    error_rate: float | None = None,
) -> SandboxFault:
    """Make the next `count` matching API calls fail with `status` (None = only slow them by `latency_ms`).

    `endpoint` "" matches every endpoint of the platform; `count=None` lasts until `clear_faults`;
    `error_rate` (0..1) makes each matching call fail only with that probability.
    """
    _check_fault(platform, endpoint, status, error_rate, count=count, retry_after=retry_after, latency_ms=latency_ms)
    return SandboxFault.objects.create(
        platform=platform,
        endpoint=endpoint,
        status=status,
        remaining=count,
        retry_after=retry_after,
        latency_ms=latency_ms,
        error_rate=error_rate,
    )


def _check_fault(
    platform: str, endpoint: str, status: int | None, error_rate: float | None, **numbers: int | None
) -> None:
    """Refuse what the fake could not honour (and what the database could not store) up front."""
    if platform not in Platform.values:
        raise ValueError(f"unknown platform {platform!r}")
    if len(endpoint) > SandboxFault._meta.get_field("endpoint").max_length:
        raise ValueError(f"unknown endpoint {endpoint!r}")
    if status is not None and not 100 <= status <= 599:
        raise ValueError("status is an HTTP status code (100-599), or None for latency only")
    if error_rate is not None and not 0 <= error_rate <= 1:
        raise ValueError("error_rate is a probability between 0 and 1")
    for name, value in numbers.items():
        if value is not None and not 0 <= value <= FAULT_NUMBER_LIMITS[name]:
            raise ValueError(f"{name} must be between 0 and {FAULT_NUMBER_LIMITS[name]}")


def clear_faults(platform: str | None = None) -> int:
    faults = SandboxFault.objects.all()
    if platform:
        faults = faults.filter(platform=platform)
    deleted, _ = faults.delete()
    return deleted


def calls(platform: str | None = None, endpoint: str | None = None) -> QuerySet[SandboxCall]:
    """The API calls received, oldest first."""
    recorded = SandboxCall.objects.all()
    if platform:
        recorded = recorded.filter(platform=platform)
    if endpoint:
        recorded = recorded.filter(endpoint=endpoint)
    return recorded.order_by("id")
