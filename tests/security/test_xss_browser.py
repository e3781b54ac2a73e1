"""Stored XSS, proved in a real browser: script-bearing message text, contact names and staff notes are shown
as text on first load and when they arrive live, and nothing executes (no dialog opens, the page's window
flag stays unset, the CSP reports no blocked script). Also: the pages work under the Content-Security-Policy
(the inbox, the sandbox's simulator, Swagger UI at /api/docs/, the admin) with no violation reported."""
import pytest
from playwright.sync_api import expect

from inbox.models import Contact
from integrations.sandbox import services as sandbox
from tests import factories
from tests.browser import (  # noqa: F401 (fixtures)
    CSP_WATCH, LINE_DEST, PAGE_ID, VIEWPORT, app, assert_nothing_ran, chromium, open_chat, orm, signed_in_page, watch_for_scripts,
)

pytestmark = [pytest.mark.browser]

PASSWORD = "pw-Str0ng-enough"
PSID = "7000000000000666"
LINE_USER = "U" + "6" * 32
# Each variant sets window.__xss and opens a dialog if it ever runs.
PAYLOAD = (
    "<img src=x onerror=\"window.__xss=1;alert('img')\">"
    "<script>window.__xss=1;alert('script')</script>"
    "\"'><svg/onload=\"window.__xss=1;alert('svg')\">"
    "<a href=\"javascript:window.__xss=1\">x</a>"
)
# Profile names are at most 100 characters (the platforms' limit is lower still).
NAME_PAYLOAD = "<img src=x onerror=\"window.__xss=1;alert(1)\"><script>window.__xss=1</script>"


def watch(page) -> list[str]:
    """Record every dialog (none may open) and every CSP violation from now on (after a reload)."""
    dialogs = watch_for_scripts(page)
    page.reload()
    # The socket can take a while to come up when the machine is busy (the whole suite on 2 cores).
    expect(page.locator("#inbox[data-live='1']")).to_be_attached(timeout=30_000)
    return dialogs


class StoredXssTests:
    def test_message_text_contact_names_and_notes_never_execute(self, app, chromium):
        factories.staff_user("agent")
        factories.staff_user("boss", admin=True)
        # A Messenger customer whose profile name is the payload, writing the payload.
        sandbox.get_or_create_user("messenger", page_id=PAGE_ID, user_id=PSID, display_name=NAME_PAYLOAD)
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text=PAYLOAD)
        Contact.objects.filter(platform_user_id=PSID).update(display_name=PAYLOAD)

        agent = signed_in_page(chromium, app, "agent", PASSWORD)
        agent_dialogs = watch(agent)
        admin = signed_in_page(chromium, app, "boss", PASSWORD)
        admin_dialogs = watch(admin)
        expect(agent.get_by_test_id("rows")).to_contain_text("<script>window.__xss=1")  # shown as text

        # Live: a LINE customer named with the payload writes the payload while both inboxes are open.
        orm(sandbox.get_or_create_user, "line", destination=LINE_DEST, user_id=LINE_USER, display_name=NAME_PAYLOAD)
        orm(sandbox.user_says, "line", destination=LINE_DEST, user_id=LINE_USER, text="live " + PAYLOAD)
        expect(agent.get_by_test_id("rows")).to_contain_text("live", timeout=20_000)
        expect(admin.get_by_test_id("rows")).to_contain_text("live", timeout=20_000)

        # Open the chat: the timeline and the header render the text and the name.
        open_chat(agent, "live")
        expect(agent.get_by_test_id("timeline")).to_contain_text("<svg/onload=", timeout=20_000)
        open_chat(admin, "live")

        # A staff note carrying the payload, saved by the agent, arrives live in the admin's open chat.
        note = agent.get_by_test_id("note")
        note.fill(PAYLOAD + " note")
        note.blur()
        expect(admin.get_by_test_id("note")).to_have_value(PAYLOAD + " note", timeout=20_000)
        agent.reload()
        expect(agent.get_by_test_id("note")).to_have_value(PAYLOAD + " note", timeout=20_000)

        for page, dialogs in ((agent, agent_dialogs), (admin, admin_dialogs)):
            assert_nothing_ran(page, dialogs)


def violations_on(browser, url: str, ready: str, *, sign_in=None) -> tuple[list[str], object]:
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(CSP_WATCH)
    page = context.new_page()
    page.set_default_timeout(30_000)  # generous: a busy machine (the whole suite on 2 cores) is slow to connect
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    if sign_in:
        sign_in(page)
    page.goto(url)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__csp") + errors, page


class PagesUnderCspTests:
    def test_inbox_simulator_api_docs_and_admin_work_with_no_violation(self, app, chromium):
        factories.staff_user("boss", admin=True)
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hello")

        def sign_in(page):
            page.goto(f"{app.url}/accounts/login/")
            page.get_by_test_id("username").fill("boss")
            page.get_by_test_id("password").fill(PASSWORD)
            page.get_by_test_id("login").click()
            page.wait_for_url(f"{app.url}/inbox/**")

        problems, page = violations_on(chromium, f"{app.url}/inbox/", "#inbox[data-live='1']", sign_in=sign_in)
        assert problems == []
        # The filter selects submit through their (hash-allowed) inline handler.
        page.get_by_test_id("view").select_option("unread")
        page.wait_for_url("**view=unread**", timeout=30_000)
        assert page.evaluate("window.__csp") == []

        problems, page = violations_on(chromium, f"{app.url}/api/docs/", ".swagger-ui .info .title")
        assert problems == []
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Social inbox API", timeout=20_000)
        expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)

        problems, page = violations_on(chromium, f"{app.url}/sandbox/", "body")
        assert problems == []

        problems, page = violations_on(chromium, f"{app.url}/admin/", "#content", sign_in=sign_in)
        assert problems == []
