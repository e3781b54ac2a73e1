"""Browser-test plumbing: the app under Daphne (HTTP + websockets) in a child process, the platform sandbox
on pytest-django's live server, and Debian's Chromium driven by Playwright.

The sandbox runs in the test process, the app in its own process, so webhooks and sends really cross
HTTP both ways. ORM calls made while Playwright runs go through `orm()`, in a thread of their own:
Playwright's sync API keeps an event loop (and greenlets) in the test's thread.
"""
from __future__ import annotations

import concurrent.futures
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from asgiref.sync import SyncToAsync
from channels.layers import channel_layers
from playwright.sync_api import expect
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connection

from integrations import services as channel_services
from integrations.models import Channel
from integrations.sandbox import services as sandbox

# Assertions wait up to 15 s: CI machines are busy (two cores, a database, a broker, two servers).
expect.set_options(timeout=15_000)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
VIEWPORT = {"width": 1440, "height": 900}

PAGE_ID = "104000000000888"
APP_ID = "555000111"
APP_SECRET = "browser-app-secret"
PAGE_TOKEN = "browser-page-token"
LINE_DEST = "U" + "c" * 32
LINE_SECRET = "browser-line-secret"
LINE_TOKEN = "browser-line-token"


def orm(fn, *args, **kwargs):
    """Run a database call in its own thread (and close that thread's connection)."""

    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result(timeout=30)


@dataclass
class App:
    url: str  # the app under Daphne
    sandbox_url: str  # the sandbox (and media) on the live server
    page: Channel
    line: Channel


@pytest.fixture
def app(live_server, settings, transactional_db, monkeypatch) -> App:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # Earlier async tests leave asgiref's single-thread executor with a thread that a fork doesn't copy;
    # the Daphne child's ORM calls from async code would wait on it forever. Give the child fresh ones.
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    channel_layers.backends.clear()
    sandbox_url = live_server.url
    settings.GRAPH_API_BASE = f"{sandbox_url}/sandbox/graph/v25.0"
    settings.LINE_API_BASE = f"{sandbox_url}/sandbox/line"
    settings.LINE_DATA_API_BASE = f"{sandbox_url}/sandbox/line-data"
    settings.PUBLIC_BASE_URL = sandbox_url
    page = channel_services.messenger_channel_add(
        name="Goodies page", page_id=PAGE_ID, app_secret=APP_SECRET, verify_token="v", access_token=PAGE_TOKEN, app_id=APP_ID
    )
    line = channel_services.line_channel_add(
        name="Goodies LINE", channel_id="2000000888", channel_secret=LINE_SECRET, access_token=LINE_TOKEN, destination=LINE_DEST
    )
    # The child process is forked now: it inherits these settings, the test database's name included
    # (pytest-django already renamed it), so it needs no database set-up of its own.
    server = DaphneProcess("127.0.0.1", partial(make_application, static_wrapper=ASGIStaticFilesHandler))
    server.start()
    if not server.ready.wait(timeout=30):
        raise RuntimeError("Daphne did not start")
    url = f"http://127.0.0.1:{server.port.value}"
    settings.SANDBOX_APP_BASE_URL = url
    sandbox.register_page(PAGE_ID, APP_SECRET, PAGE_TOKEN, f"{url}{page.webhook_path}", name="Goodies page", app_id=APP_ID)
    sandbox.register_line_bot(LINE_DEST, LINE_SECRET, LINE_TOKEN, f"{url}{line.webhook_path}", name="Goodies LINE", quota_limit=200)
    try:
        yield App(url=url, sandbox_url=sandbox_url, page=page, line=line)
    finally:
        server.terminate()
        server.join(10)


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (bash .ci/test does)")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


def signed_in_page(browser, app: App, username: str, password: str, *, locale: str = "en-US"):
    """A new browser window, signed in through the login form."""
    context = browser.new_context(viewport=VIEWPORT, locale=locale)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{app.url}/inbox/")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("login").click()
    page.wait_for_url(f"{app.url}/inbox/**")
    expect(page.locator("#inbox[data-live='1']")).to_be_attached(timeout=20_000)  # the live socket is connected
    return page


def open_chat(page, row_text: str) -> None:
    """Open the chat whose row shows `row_text`, and wait until the chat page's scripts run (its socket is live).
    Its composer and buttons are in the page before its deferred scripts: typed into too early, a busy machine's
    Enter would only add a line."""
    page.locator("li.row", has_text=row_text).locator("a").click()
    expect(page.locator("#inbox[data-live='1'][data-conversation]:not([data-conversation=''])")).to_be_attached(timeout=20_000)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


# --- Stored-XSS checks (tests/security/test_xss_*) ---------------------------------------------------------
# Records every CSP violation of a page; with the dialogs recorded by `watch_for_scripts`, proves nothing ran.
CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def watch_for_scripts(page) -> list[str]:
    """Record every dialog (none may open) and, from the next load on, every CSP violation."""
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.context.add_init_script(CSP_WATCH)
    return dialogs


def assert_nothing_ran(page, dialogs: list[str]) -> None:
    assert dialogs == []
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("window.__csp") == []
