"""Fake Graph API for one Page: the Send API (`/<page>/messages`) and node reads (User Profile API).

Answers like graph.facebook.com: HTTP 400 with `{"error": {...}}` for every refusal, classified by `code` /
`error_subcode` (platforms.md §1.3–1.5). A successful send is echoed to the Page's webhook before the answer.
"""
import datetime as dt
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone

from integrations.sandbox import ids, services
from integrations.sandbox.endpoint import loads_json, parse_json_object, platform_api
from integrations.sandbox.errors import GraphError, graph_invalid_token, graph_unknown_object
from integrations.sandbox.graph_validation import SendRequest, param_error, validate_send
from integrations.sandbox.models import Platform, SandboxPage, SandboxUser

STANDARD_WINDOW = dt.timedelta(hours=24)
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)
PROFILE_FIELDS = ("id", "name", "first_name", "last_name", "profile_pic")
DEFAULT_PROFILE_FIELDS = "first_name,last_name,profile_pic"


@platform_api(Platform.MESSENGER, "send", ("POST",))
def send_message(request: HttpRequest, version: str, node: str) -> JsonResponse:
    page = _page_for_token(request)
    if node not in ("me", page.page_id):
        raise graph_unknown_object(node, request.method)
    send = validate_send(_params(request))
    user = page.users.filter(user_id=send.recipient_id).first()
    if user is None:
        raise GraphError("(#100) No matching user found", 100, 2018001)
    if not user.following:
        raise GraphError("This person isn't available right now.", 551, 1545041)
    _check_window(user, send)
    if send.sender_action:
        return JsonResponse({"recipient_id": user.user_id})
    mid = ids.messenger_mid()
    services.record_shop_message(user, payload=send.message, message_id=mid, **_bubble(send.message))
    services.send_messenger_echo(user, mid=mid, sent=send.message, metadata=send.metadata)
    return JsonResponse({"recipient_id": user.user_id, "message_id": mid})


@platform_api(Platform.MESSENGER, "profile", ("GET",))
def read_node(request: HttpRequest, version: str, node: str) -> JsonResponse:
    """`/<psid>?fields=...` is the User Profile API; `/me` or `/<page id>` describes the Page itself."""
    page = _page_for_token(request)
    if node in ("me", page.page_id):
        return JsonResponse({"name": page.name, "id": page.page_id})
    user = page.users.filter(user_id=node).first()
    if user is None:
        raise graph_unknown_object(node, request.method)
    profile = _profile(request, user)
    fields = [name.strip() for name in request.GET.get("fields", DEFAULT_PROFILE_FIELDS).split(",") if name.strip()]
    unknown = [name for name in fields if name not in PROFILE_FIELDS]
    if unknown:
        raise param_error(f"Tried accessing nonexisting field ({unknown[0]}) on node type (User)")
    return JsonResponse({name: profile[name] for name in [*fields, "id"]})


def _page_for_token(request: HttpRequest) -> SandboxPage:
    """The Page whose token the call carries (`?access_token=` or `Authorization: Bearer`)."""
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    token = request.GET.get("access_token") or (bearer.strip() if scheme == "Bearer" else "")
    page = SandboxPage.objects.filter(access_token=token).first() if token else None
    if page is None:
        raise graph_invalid_token()
    request.sandbox.channel_key = page.page_id
    return page


def _params(request: HttpRequest) -> dict[str, Any]:
    """Graph takes a JSON body, or form fields whose values are JSON (`recipient={"id": ...}`).

    An unreadable body is an empty one: Graph then complains about the first missing parameter.
    """
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {name: _json_or_text(value) for name, value in request.POST.items()}
    try:
        return parse_json_object(request.body)
    except ValueError:
        return {}


def _json_or_text(value: str) -> Any:
    try:
        return loads_json(value.encode())
    except ValueError:
        return value


def _check_window(user: SandboxUser, send: SendRequest) -> None:
    """RESPONSE/UPDATE within 24 h of the customer's last message; MESSAGE_TAG + HUMAN_AGENT within 7 days."""
    window = HUMAN_AGENT_WINDOW if send.tag == "HUMAN_AGENT" else STANDARD_WINDOW
    last = user.last_user_message_at
    if last is None or timezone.now() - last > window:
        raise GraphError("(#10) This message is sent outside of allowed window.", 10, 2018278)


def _bubble(message: dict[str, Any]) -> dict[str, str]:
    """How the customer sees a sent message in the simulator."""
    if "text" in message:
        return {"kind": "text", "text": message["text"]}
    attachment = message["attachment"]
    payload = attachment["payload"]
    if attachment["type"] == "template":
        return {"kind": "template", "text": payload["text"]}
    if attachment["type"] == "image":
        return {"kind": "image", "image_url": payload["url"]}
    return {"kind": attachment["type"], "text": payload["url"]}


def _profile(request: HttpRequest, user: SandboxUser) -> dict[str, str]:
    first_name, _, last_name = user.display_name.partition(" ")
    picture = user.picture_url or request.build_absolute_uri(reverse("sandbox:avatar", args=[user.user_id]))
    return {
        "id": user.user_id,
        "name": user.display_name,
        "first_name": first_name,
        "last_name": last_name,
        "profile_pic": picture,
    }
