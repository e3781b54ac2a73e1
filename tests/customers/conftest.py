"""Members, chats and staff for the customers tests, built through the models and services the app uses."""
from __future__ import annotations

import itertools

import pytest

from customers import services
from customers.models import MemberTier
from inbox.models import Contact, Conversation

_numbers = itertools.count(1)
















@pytest.fixture
def make_conversation(messenger_channel):
    """make("Display name", channel=...) -> a conversation with its contact."""

    def make(name: str = "", *, channel=None) -> Conversation:
        n = next(_numbers)
        channel = channel or messenger_channel
        contact = Contact.objects.create(channel=channel, platform_user_id=f"cust-{channel.pk}-{n}", display_name=name or f"Fan {n}")
        return Conversation.objects.create(channel=channel, contact=contact)

    return make


@pytest.fixture
def make_customer(db):
    """make(name=..., email=..., phone=...) through the create service (a phone by default)."""

    def make(name: str = "", *, email: str = "", phone: str | None = None, **fields):
        n = next(_numbers)
        if phone is None and not email:
            phone = "0912" + f"{n:06d}"
        return services.create_customer(name=name or f"Member {n}", email=email, phone=phone or "", **fields)

    return make


@pytest.fixture
def tiers(db):
    return {
        "basic": MemberTier.objects.create(name="Basic", rank=0),
        "gold": MemberTier.objects.create(name="Gold", rank=2),
    }
