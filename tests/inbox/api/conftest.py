"""Users in each role, API clients signed in as them, and conversations built with the ORM."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from inbox.models import Contact, Conversation, Message
from inbox.permissions import ADMINS, AGENTS


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"




@pytest.fixture
def other_agent(django_user_model):
    user = django_user_model.objects.create_user(username="ben")
    user.groups.add(Group.objects.get_or_create(name=AGENTS)[0])
    return user




@pytest.fixture
def group_admin(django_user_model):
    user = django_user_model.objects.create_user(username="carol")
    user.groups.add(Group.objects.get_or_create(name=ADMINS)[0])
    return user












@pytest.fixture
def make_conversation():
    """make(channel, "Name", activity_at=..., last_inbound_at=..., **other Conversation fields)."""
    numbers = itertools.count(1)

    def make(channel, name: str = "", *, activity_at: dt.datetime | None = None, **fields) -> Conversation:
        n = next(numbers)
        contact = Contact.objects.create(channel=channel, platform_user_id=f"user-{channel.pk}-{n}", display_name=name)
        return Conversation.objects.create(
            channel=channel, contact=contact, activity_at=activity_at or timezone.now(), **fields
        )

    return make


@pytest.fixture
def make_message():
    def make(conversation, *, direction=Message.Direction.INBOUND, at: dt.datetime | None = None, **fields) -> Message:
        inbound = direction == Message.Direction.INBOUND
        fields.setdefault("source", Message.Source.CUSTOMER if inbound else Message.Source.STAFF)
        fields.setdefault("state", Message.State.RECEIVED if inbound else Message.State.SENT)
        fields.setdefault("text", "hello")
        return Message.objects.create(
            conversation=conversation,
            channel=conversation.channel,
            direction=direction,
            platform_timestamp=at or timezone.now(),
            **fields,
        )

    return make
