"""The customer simulator in a real browser: type, send, see the signed webhook and the shop's answer."""
import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from integrations.sandbox import services
from tests.sandbox.support import (
    APP_ID,
    APP_SECRET,
    BOT_DESTINATION,
    BOT_TOKEN,
    CHANNEL_SECRET,
    PAGE_ID,
    PAGE_TOKEN,
    PSID,
    line_signature_ok,
    messenger_signature_ok,
)

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def allow_orm_beside_playwright(monkeypatch):
    """Playwright's sync API keeps an asyncio loop running in this thread; Django would refuse ORM calls."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def line_bot(capture_server):
    """Registered before the browser starts: ORM calls made while Playwright runs would live in its greenlet's
    context and leave a database connection behind."""
    return services.register_line_bot(
        BOT_DESTINATION, CHANNEL_SECRET, BOT_TOKEN, capture_server.url + "/webhooks/line/1/", name="Shop LINE"
    )


@pytest.fixture
def messenger_customer(capture_server):
    """A Page and a customer who just wrote to it (so the 24 h window is open), also set up before the browser."""
    services.register_page(PAGE_ID, APP_SECRET, PAGE_TOKEN, capture_server.url + "/webhooks/messenger/", "Shop", APP_ID)
    services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hello")
    capture_server.requests.clear()


@pytest.fixture
def browser_page():
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    try:
        page = browser.new_page()
        page.set_default_timeout(10_000)
        yield page
    finally:
        browser.close()
        playwright.stop()


def test_customer_writes_and_sees_the_shop_answer(live_server, capture_server, line_bot, browser_page):
    page = browser_page
    page.goto(live_server.url + "/sandbox/")
    page.get_by_test_id("channel-select").select_option(f"line:{BOT_DESTINATION}")
    page.get_by_test_id("new-user-name").fill("Browser Buyer")
    page.get_by_test_id("new-user-button").click()
    expect(page.get_by_test_id("user-select")).to_contain_text("Browser Buyer")
    page.get_by_test_id("composer-input").fill("Is the blue one in stock? 藍色")
    page.get_by_test_id("send-button").click()

    customer_bubble = page.locator("[data-testid=timeline-item][data-direction=to_shop][data-kind=text]")
    expect(customer_bubble).to_contain_text("Is the blue one in stock? 藍色")
    follow, message = capture_server.wait_for(2)
    assert all(line_signature_ok(request) for request in (follow, message))
    assert follow.json["events"][0]["type"] == "follow"
    [event] = message.json["events"]
    assert event["message"]["text"] == "Is the blue one in stock? 藍色"

    pushed = requests.post(
        live_server.url + "/sandbox/line/v2/bot/message/push",
        json={"to": event["source"]["userId"], "messages": [{"type": "text", "text": "Yes! <b>in stock</b>"}]},
        headers={"Authorization": f"Bearer {BOT_TOKEN}"},
        timeout=10,
    )
    assert pushed.status_code == 200

    shop_bubble = page.locator("[data-testid=timeline-item][data-direction=from_shop]")
    expect(shop_bubble).to_contain_text("Yes! <b>in stock</b>")  # shown as text, not markup
    assert shop_bubble.locator("b").count() == 0


def test_messenger_customer_sends_an_image_and_reads_the_answer(
    live_server, capture_server, messenger_customer, browser_page
):
    page = browser_page
    page.goto(live_server.url + "/sandbox/")
    page.get_by_test_id("channel-select").select_option(f"messenger:{PAGE_ID}")
    expect(page.locator("[data-testid=timeline-item]")).to_have_count(1)  # the "hello" from the fixture

    page.get_by_test_id("image-input").set_input_files(
        {"name": "shirt.png", "mimeType": "image/png", "buffer": PNG_1PX}
    )
    page.get_by_test_id("image-button").click()
    expect(page.locator("[data-testid=timeline-item][data-kind=image] img")).to_have_count(1)
    [upload] = capture_server.wait_for(1)
    assert messenger_signature_ok(upload)
    attachment = upload.json["entry"][0]["messaging"][0]["message"]["attachments"][0]
    assert attachment["type"] == "image"

    sent = requests.post(
        f"{live_server.url}/sandbox/graph/v25.0/{PAGE_ID}/messages",
        params={"access_token": PAGE_TOKEN},
        json={"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "Nice shirt!"}},
        timeout=10,
    )
    assert sent.status_code == 200

    expect(page.locator("[data-testid=timeline-item][data-direction=from_shop]")).to_contain_text("Nice shirt!")
    upload, echo, read = capture_server.wait_for(3)
    assert echo.json["entry"][0]["messaging"][0]["message"]["is_echo"] is True
    read_event = read.json["entry"][0]["messaging"][0]
    assert read_event["read"]["watermark"] >= echo.json["entry"][0]["messaging"][0]["timestamp"]
    assert messenger_signature_ok(read)
