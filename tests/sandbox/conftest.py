"""Fixtures for the sandbox tests: a webhook capture server and a registered page and bot."""
import pytest

from integrations.sandbox import services
from tests.sandbox.support import (
    APP_ID,
    APP_SECRET,
    BOT_DESTINATION,
    BOT_TOKEN,
    CHANNEL_SECRET,
    PAGE_ID,
    PAGE_TOKEN,
    running_capture_server,
)


@pytest.fixture
def capture_server():
    with running_capture_server() as capture:
        yield capture


@pytest.fixture(autouse=True)
def fast_webhook_retries(settings):
    settings.SANDBOX_WEBHOOK_BACKOFF_SECONDS = 0


@pytest.fixture
def page(db, capture_server):
    return services.register_page(
        PAGE_ID, APP_SECRET, PAGE_TOKEN, capture_server.url + "/webhooks/messenger/", name="Shop", app_id=APP_ID
    )


@pytest.fixture
def bot(db, capture_server):
    return services.register_line_bot(
        BOT_DESTINATION, CHANNEL_SECRET, BOT_TOKEN, capture_server.url + "/webhooks/line/1/", name="Shop LINE"
    )
