"""Fake LINE Messaging API (api.line.me) and its content API (api-data.line.me).

Behaviour follows platforms.md §2.2–2.4: reply tokens are single use and expire, push/multicast honour
`X-Line-Retry-Key` (409 + `x-line-accepted-request-id` on a repeat), pushes are billed per recipient against
the monthly quota, blocked users get nothing and cost nothing, every answer carries `X-Line-Request-Id`.
"""
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from integrations.sandbox import ids, services
from integrations.sandbox.endpoint import parse_json_object, platform_api
from integrations.sandbox.errors import LINE_AUTH_FAILED, LineError, line_body_errors
from integrations.sandbox.line_validation import messages_errors
from integrations.sandbox.models import (
    Platform,
    SandboxCall,
    SandboxContent,
    SandboxLineBot,
    SandboxReplyToken,
    SandboxRetryKey,
    SandboxUser,
)

REPLY_TOKEN_TTL_SECONDS = 60  # settings.SANDBOX_REPLY_TOKEN_TTL_SECONDS overrides it (tests shorten it)
REPLY_TOKEN_MAX_AGE = dt.timedelta(minutes=20)  # even a redelivered token dies 20 min after the event
RETRY_KEY_LIFETIME = dt.timedelta(hours=24)
MAX_MULTICAST_RECIPIENTS = 500
QUOTABLE_TYPES = ("text", "sticker", "image", "video")  # sent messages of these types get a quoteToken
BILLING_TIMEZONE = ZoneInfo("Asia/Tokyo")  # the monthly quota resets at the start of the month in Japan


@platform_api(Platform.LINE, "reply", ("POST",))
def reply(request: HttpRequest) -> JsonResponse:
    """Free of charge; the token is the only way to address the user, so the recipient is its owner."""
    bot = _bot_for_token(request)
    if "X-Line-Retry-Key" in request.headers:
        raise LineError(400, "The retry key is not supported for this API")
    data = _body(request)
    _refuse_invalid(_required_string(data, "replyToken") + messages_errors(data.get("messages")))
    token = _use_reply_token(bot, data["replyToken"])
    return JsonResponse({"sentMessages": _deliver(token.user, data["messages"])})


@platform_api(Platform.LINE, "push", ("POST",))
def push(request: HttpRequest) -> JsonResponse:
    bot = _bot_for_token(request)
    retry_key = _retry_key(request)
    data = _body(request)
    _refuse_invalid(_required_string(data, "to") + messages_errors(data.get("messages")))

    def send() -> dict[str, Any]:
        user = bot.users.filter(user_id=data["to"]).first()
        if user is None:
            raise LineError(400, "Failed to send messages")
        _bill(request, bot, [user])
        return {"sentMessages": _deliver(user, data["messages"])}

    return _at_most_once(request, bot, retry_key, send, repeat_sent_messages=True)


@platform_api(Platform.LINE, "multicast", ("POST",))
def multicast(request: HttpRequest) -> JsonResponse:
    """Unknown or blocked recipients are skipped silently (and not billed), as LINE does."""
    bot = _bot_for_token(request)
    retry_key = _retry_key(request)
    data = _body(request)
    _refuse_invalid(_recipients_errors(data.get("to")) + messages_errors(data.get("messages")))

    def send() -> dict[str, Any]:
        users = list(bot.users.filter(user_id__in=data["to"]))
        _bill(request, bot, users)
        for user in users:
            _deliver(user, data["messages"])
        return {}

    return _at_most_once(request, bot, retry_key, send, repeat_sent_messages=False)


@platform_api(Platform.LINE, "profile", ("GET",))
def profile(request: HttpRequest, user_id: str) -> JsonResponse:
    bot = _bot_for_token(request)
    user = bot.users.filter(user_id=user_id, following=True).first()
    if user is None:
        raise LineError(404, "Not found")
    body = {"displayName": user.display_name, "userId": user.user_id, "language": "zh-TW"}
    if user.picture_url:
        body["pictureUrl"] = user.picture_url
    return JsonResponse(body)


@platform_api(Platform.LINE, "quota", ("GET",))
def quota(request: HttpRequest) -> JsonResponse:
    bot = _bot_for_token(request)
    if bot.quota_limit is None:
        return JsonResponse({"type": "none"})
    return JsonResponse({"type": "limited", "value": bot.quota_limit})


@platform_api(Platform.LINE, "quota_consumption", ("GET",))
def quota_consumption(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"totalUsage": monthly_usage(_bot_for_token(request))})


@platform_api(Platform.LINE, "content", ("GET",))
def content(request: HttpRequest, message_id: str) -> HttpResponse:
    """api-data.line.me: the bytes of an image the user sent (contentProvider.type = line)."""
    bot = _bot_for_token(request)
    item = SandboxContent.objects.filter(bot=bot, key=message_id).first()
    if item is None:
        raise LineError(404, "Not found")
    if item.gone:
        raise LineError(410, "The content is gone")
    return HttpResponse(bytes(item.data), content_type=item.content_type)


def monthly_usage(bot: SandboxLineBot) -> int:
    """Recipients billed this month: what `quota/consumption` reports and the monthly limit is checked against."""
    now = timezone.now().astimezone(BILLING_TIMEZONE)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    billed = SandboxCall.objects.filter(
        platform=Platform.LINE, channel_key=bot.destination, created_at__gte=month_start
    ).aggregate(total=Sum("billed"))
    return billed["total"] or 0


def reply_token_ttl() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "SANDBOX_REPLY_TOKEN_TTL_SECONDS", REPLY_TOKEN_TTL_SECONDS))


# --- Steps ----------------------------------------------------------------------------------------

def _bot_for_token(request: HttpRequest) -> SandboxLineBot:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    bot = SandboxLineBot.objects.filter(access_token=token.strip()).first() if scheme == "Bearer" else None
    if bot is None:
        raise LineError(401, LINE_AUTH_FAILED)
    request.sandbox.channel_key = bot.destination
    return bot


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        return parse_json_object(request.body)
    except json.JSONDecodeError as error:
        raise LineError(
            400, f"The request body could not be parsed as JSON (line: {error.lineno}, column: {error.colno})"
        ) from error
    except ValueError as error:
        raise LineError(400, "The request body could not be parsed as JSON (line: 1, column: 1)") from error


def _refuse_invalid(details: list[dict[str, str]]) -> None:
    if details:
        raise line_body_errors(details)


def _required_string(data: dict[str, Any], key: str) -> list[dict[str, str]]:
    if isinstance(data.get(key), str) and data[key]:
        return []
    return [{"message": "May not be empty", "property": key}]


def _recipients_errors(to: Any) -> list[dict[str, str]]:
    valid = isinstance(to, list) and 1 <= len(to) <= MAX_MULTICAST_RECIPIENTS and all(isinstance(u, str) for u in to)
    return [] if valid else [{"message": f"Size must be between 1 and {MAX_MULTICAST_RECIPIENTS}", "property": "to"}]


def _use_reply_token(bot: SandboxLineBot, token: str) -> SandboxReplyToken:
    """Single use: the token is marked used atomically, so two concurrent replies can't both win."""
    now = timezone.now()
    row = SandboxReplyToken.objects.filter(bot=bot, token=token).select_related("user").first()
    if row is None or not _reply_token_fresh(row, now):
        raise LineError(400, "Invalid reply token")
    if not SandboxReplyToken.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
        raise LineError(400, "Invalid reply token")
    return row


def _reply_token_fresh(row: SandboxReplyToken, now: dt.datetime) -> bool:
    """Valid for a minute after the event, or a minute after its redelivery, never 20 min after the event."""
    ttl = reply_token_ttl()
    if row.used_at is not None or now - row.issued_at > REPLY_TOKEN_MAX_AGE:
        return False
    recently_redelivered = row.redelivered_at is not None and now - row.redelivered_at <= ttl
    return now - row.issued_at <= ttl or recently_redelivered


def _retry_key(request: HttpRequest) -> uuid.UUID | None:
    value = request.headers.get("X-Line-Retry-Key")
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise LineError(400, "The X-Line-Retry-Key header must be a UUID") from None


def _at_most_once(
    request: HttpRequest,
    bot: SandboxLineBot,
    retry_key: uuid.UUID | None,
    send: Callable[[], dict[str, Any]],
    *,
    repeat_sent_messages: bool,
) -> JsonResponse:
    """Run `send` once per retry key: the key is claimed in the same transaction as the send, so a refused
    send (4xx) releases it and a concurrent duplicate gets the 409."""
    if retry_key is None:
        return JsonResponse(send())
    SandboxRetryKey.objects.filter(bot=bot, key=retry_key, created_at__lt=timezone.now() - RETRY_KEY_LIFETIME).delete()
    accepted = SandboxRetryKey.objects.filter(bot=bot, key=retry_key).first()
    if accepted is not None:
        raise _already_accepted(accepted, repeat_sent_messages)
    try:
        with transaction.atomic():
            claim = SandboxRetryKey.objects.create(bot=bot, key=retry_key, request_id=request.sandbox.request_id)
            body = send()
            claim.response = body
            claim.save(update_fields=["response"])
    except IntegrityError:
        raise _already_accepted(SandboxRetryKey.objects.get(bot=bot, key=retry_key), repeat_sent_messages) from None
    return JsonResponse(body)


def _already_accepted(accepted: SandboxRetryKey, repeat_sent_messages: bool) -> LineError:
    extra = {"sentMessages": accepted.response.get("sentMessages", [])} if repeat_sent_messages else {}
    return LineError(
        409,
        "The retry key is already accepted",
        headers={"x-line-accepted-request-id": accepted.request_id},
        **extra,
    )


def _bill(request: HttpRequest, bot: SandboxLineBot, recipients: list[SandboxUser]) -> None:
    """Each reachable recipient costs one message, however many message objects it gets."""
    billable = sum(1 for user in recipients if user.following)
    if bot.quota_limit is not None and monthly_usage(bot) + billable > bot.quota_limit:
        raise LineError(429, "You have reached your monthly limit.")
    request.sandbox.billed = billable


def _deliver(user: SandboxUser, messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Ids for every message; bubbles only for a user who still follows (a blocked one gets nothing)."""
    sent = []
    for message in messages:
        message_id = ids.line_message_id()
        if user.following:
            services.record_shop_message(user, payload=message, message_id=message_id, **_bubble(message))
        entry = {"id": message_id}
        if message["type"] in QUOTABLE_TYPES:
            entry["quoteToken"] = ids.line_quote_token()
        sent.append(entry)
    return sent


def _bubble(message: dict[str, Any]) -> dict[str, str]:
    """How the customer sees a sent message in the simulator."""
    kind = message["type"]
    if kind == "text":
        return {"kind": kind, "text": message["text"]}
    if kind == "image":
        return {"kind": kind, "image_url": message["originalContentUrl"]}
    if kind == "sticker":
        return {"kind": kind, "image_url": services.sticker_path(message["stickerId"])}
    if kind == "template":
        return {"kind": kind, "text": message["template"].get("text") or message["altText"]}
    if kind == "location":
        return {"kind": kind, "text": f"{message['title']} · {message['address']}"}
    if kind in ("video", "audio"):
        return {"kind": kind, "text": message["originalContentUrl"]}
    return {"kind": kind, "text": message.get("altText", "")}
