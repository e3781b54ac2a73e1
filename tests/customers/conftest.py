"""Members, chats and staff for the customers tests, built through the models and services the app uses."""
from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from customers import services
from customers.models import MemberTier
from inbox.models import Contact, Conversation
from inbox.permissions import AGENTS

_numbers = itertools.count(1)


@pytest.fixture
def agent(django_user_model):
    user = django_user_model.objects.create_user(username="amy")
    user.groups.add(Group.objects.get_or_create(name=AGENTS)[0])
    return user


@pytest.fixture
def shop_admin(django_user_model):
    return django_user_model.objects.create_superuser(username="boss")


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user(username="visitor")


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def agent_api(agent):
    return _api(agent)


@pytest.fixture
def admin_api(shop_admin):
    return _api(shop_admin)


@pytest.fixture
def outsider_api(outsider):
    return _api(outsider)


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
