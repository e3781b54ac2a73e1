"""The app served on a live port with the platform sandbox as Meta and LINE: webhooks travel over real
HTTP signed by the sandbox, sends travel through our real clients to the sandbox."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from integrations import services as channel_services
from integrations.models import Channel
from integrations.sandbox import services as sandbox

PAGE_ID = "104000000000777"
APP_ID = "555000111"
APP_SECRET = "e2e-app-secret"
PAGE_TOKEN = "e2e-page-token"
LINE_DEST = "U" + "a" * 32
LINE_SECRET = "e2e-line-secret"
LINE_TOKEN = "e2e-line-token"


@dataclass
class Platforms:
    url: str
    page: Channel
    line: Channel


@pytest.fixture
def platforms(live_server, settings, transactional_db) -> Platforms:
    """Both sides configured: our channels, and the sandbox's page and bot delivering to our webhooks."""
    base = live_server.url
    settings.GRAPH_API_BASE = f"{base}/sandbox/graph/v25.0"
    settings.LINE_API_BASE = f"{base}/sandbox/line"
    settings.LINE_DATA_API_BASE = f"{base}/sandbox/line-data"
    settings.SANDBOX_APP_BASE_URL = base
    settings.PUBLIC_BASE_URL = base
    page = channel_services.messenger_channel_add(
        name="Shop page", page_id=PAGE_ID, app_secret=APP_SECRET, verify_token="v", access_token=PAGE_TOKEN, app_id=APP_ID
    )
    line = channel_services.line_channel_add(
        name="Shop LINE", channel_id="2000000777", channel_secret=LINE_SECRET, access_token=LINE_TOKEN, destination=LINE_DEST
    )
    sandbox.register_page(PAGE_ID, APP_SECRET, PAGE_TOKEN, f"{base}{page.webhook_path}", name="Shop page", app_id=APP_ID)
    sandbox.register_line_bot(LINE_DEST, LINE_SECRET, LINE_TOKEN, f"{base}{line.webhook_path}", name="Shop LINE", quota_limit=100)
    return Platforms(url=base, page=page, line=line)
