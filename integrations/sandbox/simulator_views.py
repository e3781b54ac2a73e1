"""The customer simulator page and its small JSON API (`/sandbox/api/...`).

A developer plays the customer: picks a Page or bot and a user, types, sends stickers, images and locations
(each one a correctly signed webhook through `services.user_says`) and watches the shop's answers arrive.
These endpoints are the simulator's own, not a platform's: plain JSON, CSRF-protected like any form.
"""
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.sandbox import services
from integrations.sandbox.graph_validation import is_web_url
from integrations.sandbox.models import (
    Platform,
    SandboxChatMessage,
    SandboxContent,
    SandboxFault,
    SandboxLineBot,
    SandboxPage,
    SandboxUser,
)

STICKER_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120">
<circle cx="60" cy="60" r="56" fill="hsl({hue},80%,70%)"/><circle cx="42" cy="48" r="7"/><circle cx="78" cy="48" r="7"/>
<path d="M36 74 Q60 98 84 74" stroke="#000" stroke-width="6" fill="none" stroke-linecap="round"/>
<text x="60" y="114" font-size="12" text-anchor="middle" font-family="sans-serif">{label}</text></svg>"""
AVATAR_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">
<rect width="96" height="96" fill="hsl({hue},45%,55%)"/>
<text x="48" y="62" font-size="44" text-anchor="middle" fill="#fff" font-family="sans-serif">{initial}</text></svg>"""
FAULT_NUMBER_FIELDS = ("status", "count", "retry_after", "latency_ms")


@require_GET
def simulator(request: HttpRequest) -> HttpResponse:
    return render(request, "sandbox/simulator.html", {"channels": _channels(), "endpoints": _endpoint_names()})


@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> JsonResponse:
    """GET: the users of one Page/bot. POST: a new user; on LINE it first adds the bot as a friend (follow)."""
    source = request.GET if request.method == "GET" else request.POST
    platform, channel = source.get("platform", ""), source.get("channel", "")
    if request.method == "GET":
        found = SandboxUser.objects.filter(platform=platform, **_channel_filter(platform, channel))
        return JsonResponse({"users": [_user_json(user) for user in found]})
    try:
        user = _create_user(platform, channel, source.get("display_name", "").strip()[:100])
    except (SandboxPage.DoesNotExist, SandboxLineBot.DoesNotExist, ValueError):
        return JsonResponse({"error": "unknown platform or channel"}, status=400)
    return JsonResponse(_user_json(user), status=201)


@require_GET
def user_messages(request: HttpRequest, pk: int) -> JsonResponse:
    """The timeline after message id `after` (polled every second by the page)."""
    user = get_object_or_404(SandboxUser, pk=pk)
    after = int(request.GET["after"]) if request.GET.get("after", "").isdigit() else 0
    bubbles = user.chat_messages.filter(id__gt=after).order_by("id")
    return JsonResponse({"user": _user_json(user), "messages": [_bubble_json(bubble) for bubble in bubbles]})


@require_POST
def user_say(request: HttpRequest, pk: int) -> JsonResponse:
    """One thing the customer sends: text, sticker, image upload or location, as a signed webhook."""
    user = get_object_or_404(SandboxUser, pk=pk)
    try:
        result = services.user_says(user.platform, **_channel_kwargs(user), user_id=user.user_id, **_said(request))
    except ValueError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"status": result.status_code, "attempts": result.attempts, "error": result.error})


@require_POST
def user_read(request: HttpRequest, pk: int) -> JsonResponse:
    """Messenger: the customer has seen the shop's messages; a read event, once per new shop message."""
    user = get_object_or_404(SandboxUser, pk=pk, platform=Platform.MESSENGER)
    latest = user.chat_messages.filter(direction=SandboxChatMessage.Direction.FROM_SHOP).order_by("-created_at").first()
    if latest is None or (user.read_watermark and latest.created_at <= user.read_watermark):
        return JsonResponse({"sent": False})
    result = services.user_reads(user.page.page_id, user.user_id)
    return JsonResponse({"sent": True, "status": result.status_code})


@require_POST
def user_follow(request: HttpRequest, pk: int) -> JsonResponse:
    user = get_object_or_404(SandboxUser, pk=pk, platform=Platform.LINE)
    result = services.user_follows(user.bot.destination, user.user_id)
    return JsonResponse({"status": result.status_code})


@require_POST
def user_unfollow(request: HttpRequest, pk: int) -> JsonResponse:
    user = get_object_or_404(SandboxUser, pk=pk, platform=Platform.LINE)
    result = services.user_unfollows(user.bot.destination, user.user_id)
    return JsonResponse({"status": result.status_code})


@require_http_methods(["GET", "POST"])
def faults(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        try:
            services.set_fault(**_fault_fields(request.POST))
        except ValueError as error:
            return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"faults": [_fault_json(fault) for fault in SandboxFault.objects.all()]})


@require_POST
def faults_clear(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"cleared": services.clear_faults()})


@require_GET
def media(request: HttpRequest, key: str) -> HttpResponse:
    """What a user sent, at a public URL: Messenger attachment URLs and the simulator's own bubbles."""
    item = get_object_or_404(SandboxContent, key=key)
    if item.gone:
        return HttpResponse(status=410)
    return HttpResponse(bytes(item.data), content_type=item.content_type)


@require_GET
def sticker(request: HttpRequest, sticker_id: str) -> HttpResponse:
    """A stand-in sticker picture: real sticker images are not obtainable through the platforms' APIs."""
    svg = STICKER_SVG.format(hue=_hue(sticker_id), label=escape(sticker_id[:12]))
    return HttpResponse(svg, content_type="image/svg+xml")


@require_GET
def avatar(request: HttpRequest, user_id: str) -> HttpResponse:
    user = SandboxUser.objects.filter(user_id=user_id).first()
    initial = (user.display_name[:1] if user and user.display_name else "?").upper()
    return HttpResponse(AVATAR_SVG.format(hue=_hue(user_id), initial=escape(initial)), content_type="image/svg+xml")


# --- Helpers --------------------------------------------------------------------------------------

def _channels() -> list[dict[str, str]]:
    pages = [
        {"platform": Platform.MESSENGER.value, "key": page.page_id, "name": page.name or page.page_id}
        for page in SandboxPage.objects.order_by("id")
    ]
    bots = [
        {"platform": Platform.LINE.value, "key": bot.destination, "name": bot.name or bot.destination}
        for bot in SandboxLineBot.objects.order_by("id")
    ]
    return pages + bots


def _endpoint_names() -> dict[str, list[str]]:
    return {
        Platform.MESSENGER.value: ["send", "profile"],
        Platform.LINE.value: ["reply", "push", "multicast", "profile", "quota", "quota_consumption", "content"],
    }


def _channel_filter(platform: str, channel: str) -> dict[str, str]:
    return {"page__page_id": channel} if platform == Platform.MESSENGER else {"bot__destination": channel}


def _channel_kwargs(user: SandboxUser) -> dict[str, str]:
    if user.platform == Platform.MESSENGER:
        return {"page_id": user.page.page_id}
    return {"destination": user.bot.destination}


def _create_user(platform: str, channel: str, display_name: str) -> SandboxUser:
    if platform == Platform.MESSENGER:
        return services.get_or_create_user(platform, page_id=channel, display_name=display_name)
    user = services.get_or_create_user(platform, destination=channel, display_name=display_name)
    services.user_follows(channel, user.user_id)
    return user


def _said(request: HttpRequest) -> dict[str, Any]:
    """The form's fields as `user_says` keywords: the first of image, sticker, location, else the text."""
    form = request.POST
    if "image" in request.FILES:
        return {"image": request.FILES["image"].read()}
    if form.get("sticker"):
        package, _, sticker_id = form["sticker"].rpartition(":")
        return {"sticker": (package, sticker_id) if package else sticker_id}
    if form.get("latitude") or form.get("longitude"):
        latitude, longitude = _coordinates(form.get("latitude", ""), form.get("longitude", ""))
        place = {"title": form.get("title", ""), "address": form.get("address", "")}
        return {"location": {"latitude": latitude, "longitude": longitude, **place}}
    return {"text": form.get("text", "")}


def _coordinates(latitude: str, longitude: str) -> tuple[float, float]:
    try:
        lat, lng = float(latitude), float(longitude)
    except ValueError:
        raise ValueError("latitude and longitude must be numbers") from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):  # also refuses NaN, which JSON can't carry
        raise ValueError("latitude is -90..90 and longitude -180..180")
    return lat, lng


def _fault_fields(form) -> dict[str, Any]:
    fields: dict[str, Any] = {"platform": form.get("platform", ""), "endpoint": form.get("endpoint", "")}
    for name in FAULT_NUMBER_FIELDS:
        value = form.get(name, "").strip()
        if value and not value.isdigit():
            raise ValueError(f"{name} must be a whole number")
        fields[name] = int(value) if value else None
    fields["latency_ms"] = fields["latency_ms"] or 0
    rate = form.get("error_rate", "").strip()
    try:
        fields["error_rate"] = float(rate) if rate else None
    except ValueError:
        raise ValueError("error_rate must be a number between 0 and 1") from None
    return fields


def _user_json(user: SandboxUser) -> dict[str, Any]:
    return {
        "id": user.pk,
        "platform": user.platform,
        "user_id": user.user_id,
        "display_name": user.display_name,
        "following": user.following,
    }


def _bubble_json(bubble: SandboxChatMessage) -> dict[str, Any]:
    return {
        "id": bubble.pk,
        "direction": bubble.direction,
        "kind": bubble.kind,
        "text": bubble.text,
        "image_url": _displayable_url(bubble.image_url),
        "buttons": _buttons(bubble),
        "created_at": bubble.created_at.isoformat(),
        "webhook_status": bubble.webhook_status,
    }


def _buttons(bubble: SandboxChatMessage) -> list[dict[str, str]]:
    """Template buttons (Messenger) or actions (LINE) of a shop message, links only when http(s)."""
    if bubble.direction != SandboxChatMessage.Direction.FROM_SHOP or bubble.kind != "template":
        return []
    payload = bubble.payload
    if "attachment" in payload:
        buttons = payload["attachment"]["payload"].get("buttons", [])
        return [{"label": b.get("title", ""), "url": _displayable_url(b.get("url", ""))} for b in buttons]
    actions = payload.get("template", {}).get("actions", [])
    return [{"label": a.get("label", ""), "url": _displayable_url(a.get("uri", ""))} for a in actions]


def _displayable_url(url: str) -> str:
    """Only web URLs and the sandbox's own paths reach an `src`/`href` (never `javascript:`)."""
    if url.startswith("/sandbox/") or is_web_url(url):
        return url
    return ""


def _fault_json(fault: SandboxFault) -> dict[str, Any]:
    return {
        "id": fault.pk,
        "platform": fault.platform,
        "endpoint": fault.endpoint,
        "status": fault.status,
        "remaining": fault.remaining,
        "retry_after": fault.retry_after,
        "latency_ms": fault.latency_ms,
        "error_rate": fault.error_rate,
    }


def _hue(seed: str) -> int:
    return sum(seed.encode()) * 37 % 360
