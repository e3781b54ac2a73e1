"""Test data built through the same models and services the app uses."""
from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.auth.models import Group, User
from django.utils import timezone

from inbox.models import Contact, Conversation, Message

_seq = itertools.count(1)


def staff_user(username: str, *, admin: bool = False, password: str = "pw-Str0ng-enough") -> User:
    user = User.objects.create_user(username=username, password=password, is_superuser=admin, is_staff=admin)
    if not admin:
        user.groups.add(Group.objects.get_or_create(name="agents")[0])
    return user


def conversation(channel, *, name: str = "", last_inbound_ago: dt.timedelta | None = dt.timedelta(minutes=5), text: str = "hi") -> Conversation:
    """A conversation whose customer last wrote `last_inbound_ago` ago (one inbound message)."""
    n = next(_seq)
    contact = Contact.objects.create(channel=channel, platform_user_id=f"user-{n}", display_name=name or f"Customer {n}")
    convo = Conversation.objects.create(channel=channel, contact=contact)
    if last_inbound_ago is not None:
        at = timezone.now() - last_inbound_ago
        message = Message.objects.create(
            conversation=convo, channel=channel, direction="inbound", source="customer", text=text,
            platform_message_id=f"in-{n}", state="received", platform_timestamp=at,
        )
        Conversation.objects.filter(pk=convo.pk).update(
            last_inbound_at=at, last_message_at=at, activity_at=at, last_message=message, unread_count=1
        )
        convo.refresh_from_db()
    return convo
