"""Shared fixtures. Tests talk to the real database (PostgreSQL in CI), real Redis in CI, and the
platform sandbox over real HTTP; nothing of our own code is mocked."""
from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from inbox.permissions import AGENTS
from integrations import services as channel_services


def pytest_configure(config):
    settings.FREEZE_LOADED_OBJECTS = False  # test modules import config.asgi: this process is not a server
    # CI (REQUIRE_REAL_SERVICES=1, set by .ci/run) must exercise PostgreSQL and Redis, never fall back.
    if os.environ.get("REQUIRE_REAL_SERVICES") == "1":
        engine = settings.DATABASES["default"]["ENGINE"]
        layer = settings.CHANNEL_LAYERS["default"]["BACKEND"]
        if "postgresql" not in engine or "Redis" not in layer or not settings.REDIS_URL:
            raise pytest.UsageError(f"CI needs PostgreSQL and Redis, got {engine} and {layer}")


@pytest.fixture(autouse=True)
def _no_channels_kept_from_another_test():
    """The webhook views keep the channels a second (integrations.webhook_channels): rows of a previous test,
    rolled back or flushed without a signal, must not be among them."""
    from integrations import webhook_channels

    webhook_channels.forget()


@pytest.fixture(autouse=True)
def _sign_in_failures_rarely_limit_the_suite(settings):
    """Failed sign-ins are counted per address for 15 minutes (inbox/signin.py) in a cache that outlives a test
    (Redis in CI): the suite's wrong passwords, all from 127.0.0.1, must not pause later tests' sign-ins. The
    tests of that limit set their own, with addresses of their own."""
    settings.SIGNIN_FAILURES_PER_ADDRESS = "100000/15m"


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    """Tests read English messages; the shop's default (zh-hant) is checked in test_settings and the browser."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _fast_platform_retries(settings):
    settings.PLATFORM_BACKOFF_SECONDS = 0.01
    settings.PLATFORM_MAX_RETRY_AFTER_SECONDS = 0.05
    settings.PLATFORM_TIMEOUT = (2, 5)
    # Nothing leaves the machine: unless a test points them at the sandbox, platform calls hit a closed
    # local port and fail fast as transient errors (which the code must tolerate).
    settings.GRAPH_API_BASE = "http://127.0.0.1:9/graph/v25.0"
    settings.LINE_API_BASE = "http://127.0.0.1:9/line"
    settings.LINE_DATA_API_BASE = "http://127.0.0.1:9/line-data"


@pytest.fixture
def messenger_channel(db):
    return channel_services.messenger_channel_add(
        name="Main page",
        page_id="104000000000001",
        app_secret="test-app-secret",
        verify_token="verify-me",
        access_token="PAGE-TOKEN-1",
        app_id="555000111",
    )


@pytest.fixture
def line_channel(db):
    return channel_services.line_channel_add(
        name="LINE shop",
        channel_id="2000000001",
        channel_secret="8c570fa6dd201bb328f1c1eac23a96d8",
        access_token="LINE-TOKEN-1",
        destination="U8e742f61d673b39c7fff3cecb7536ef0",
    )


# --- Staff in each role, and API clients signed in as them (shared by the API tests) ---------------

@pytest.fixture
def agent(django_user_model):
    user = django_user_model.objects.create_user(username="amy", first_name="Amy", last_name="Lin")
    user.groups.add(Group.objects.get_or_create(name=AGENTS)[0])
    return user


@pytest.fixture
def shop_admin(django_user_model):
    return django_user_model.objects.create_superuser(username="boss")


@pytest.fixture
def outsider(django_user_model):
    """Signed in, but neither admin nor agent."""
    return django_user_model.objects.create_user(username="visitor")


def signed_in_api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)  # a real session: SessionAuthentication, as the staff page uses it
    return client


@pytest.fixture
def agent_api(agent):
    return signed_in_api(agent)


@pytest.fixture
def admin_api(shop_admin):
    return signed_in_api(shop_admin)


@pytest.fixture
def outsider_api(outsider):
    return signed_in_api(outsider)
