"""The staff inbox pages: server-rendered, with small scripts for live updates and actions.

Actions (send, assign, star, read, note) go through the JSON API with the session; these views render
the page and the fragments the script swaps in when an event arrives.
"""
from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from inbox import events, selectors
from inbox.services import conversations
from inbox.models import InboxSettings, Message
from inbox.permissions import is_inbox_admin, is_inbox_staff
from integrations.models import Channel


def staff_required(view):
    """Signed-in shop staff only: others are sent to sign in, or refused when signed in."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_inbox_staff(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def list_params(request) -> dict:
    channel = request.GET.get("channel", "")
    return {
        "channel_id": int(channel) if channel.isdigit() else None,
        "view": request.GET.get("view", "all"),
        "assignee": request.GET.get("assignee") or None,
        "q": request.GET.get("q", "")[:100].replace("\x00", ""),  # PostgreSQL refuses NUL in a query
        "sort": request.GET.get("sort", "recent"),
    }


@require_GET
@staff_required
def inbox_page(request, conversation_id: int | None = None):
    params = list_params(request)
    now = timezone.now()
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No beat runs when tasks run in-process (the demo): bring due follow-ups forward here.
        conversations.bring_due_stars_forward(now=now)
    # First, before the rows and counts: the live socket asks for everything after it (events.page_position).
    seq, shown_events = events.page_position()
    try:
        rows, next_cursor = selectors.conversation_list(user=request.user, cursor=request.GET.get("cursor"), now=now, **params)
    except selectors.InvalidQuery as exc:
        return HttpResponseBadRequest(str(exc))
    channels = list(Channel.objects.filter(is_active=True).order_by("platform", "position", "pk"))
    # Tabs: all, then Facebook pages (primary first, then secondaries in order), then LINE accounts.
    channels.sort(key=lambda c: (c.platform != "messenger", c.position, c.pk))
    context = {
        "rows": rows,
        "next_cursor": next_cursor,
        "params": params,
        "channels": channels,
        "unread": selectors.unread_counts(),
        "staff": staff_members(),
        "is_admin": is_inbox_admin(request.user),
        "now": now,
        "conversation": None,
        "seq": seq,
        "shown_events": ",".join(map(str, shown_events)),
    }
    if conversation_id is not None:
        conversation = selectors.access_conversation(request.user, conversation_id)
        messages, has_more = selectors.timeline(conversation=conversation)
        context.update(
            conversation=conversation,
            messages=messages,
            has_more=has_more,
            window=selectors.conversation_window(conversation, now=now),
            quota=selectors.channel_quota(conversation.channel),
            confirm_paid=InboxSettings.load().confirm_paid_line_push and not conversation.paid_push_confirmed_at,
        )
    if request.GET.get("fragment") == "rows":
        return render(request, "inbox/_conversation_rows.html", context)
    return render(request, "inbox/inbox.html", context)


def staff_members():
    User = get_user_model()
    return [u for u in User.objects.filter(is_active=True).prefetch_related("groups").order_by("username") if _staff(u)]


def _staff(user) -> bool:
    names = {g.name for g in user.groups.all()}
    return user.is_superuser or bool(names & {"admins", "agents"})


@require_GET
@staff_required
def conversation_row(request, conversation_id: int):
    conversation = selectors.access_conversation(request.user, conversation_id)
    return render(request, "inbox/_conversation_row.html", {"c": conversation, "now": timezone.now()})


@require_GET
@staff_required
def message_fragment(request, message_id: int):
    message = Message.objects.select_related("sent_by", "conversation").filter(pk=message_id).first()
    if message is None:
        raise Http404
    selectors.access_conversation(request.user, message.conversation_id)
    return render(request, "inbox/_message.html", {"m": message})


@require_GET
@staff_required
def chat_header(request, conversation_id: int):
    """The banner and assignment bar, re-rendered when the conversation or its window changes."""
    conversation = selectors.access_conversation(request.user, conversation_id)
    now = timezone.now()
    return render(
        request,
        "inbox/_chat_header.html",
        {
            "conversation": conversation,
            "window": selectors.conversation_window(conversation, now=now),
            "quota": selectors.channel_quota(conversation.channel),
            "staff": staff_members(),
            "confirm_paid": InboxSettings.load().confirm_paid_line_push and not conversation.paid_push_confirmed_at,
            "now": now,
        },
    )


@require_GET
@staff_required
def older_messages(request, conversation_id: int):
    """The page of messages before `before`, for scrolling back in a long chat."""
    conversation = selectors.access_conversation(request.user, conversation_id)
    before = request.GET.get("before", "")
    try:
        messages, has_more = selectors.timeline(conversation=conversation, before=int(before) if before.isdigit() else None)
    except selectors.InvalidQuery as exc:
        return HttpResponseBadRequest(str(exc))
    return render(request, "inbox/_timeline.html", {"messages": messages, "has_more": has_more})


@require_GET
@staff_required
def saved_replies(request):
    q = request.GET.get("q", "").replace("\x00", "").strip()[:50]
    return render(request, "inbox/_saved_replies.html", {"replies": selectors.saved_replies(q=q, limit=10)})

