"""The order link in real browsers: the customer (a 390x844 phone) opens the link the sandbox received,
confirms, uploads a transfer proof and sees "awaiting verification"; staff approve in a second browser
and both the customer's page and the inbox chat update."""
from __future__ import annotations

import io
import re
import time
from urllib.parse import urlparse

import pytest
from django.core.files.storage import FileSystemStorage
from PIL import Image
from playwright.sync_api import expect

from inbox.models import Conversation
from integrations.sandbox import services as sandbox
from integrations.sandbox.models import SandboxChatMessage
from orders.models import Order, PaymentProof
from tests import factories
from tests.browser import LINE_DEST, PAGE_ID, app, chromium, orm, screenshot, signed_in_page  # noqa: F401 (fixtures)
from tests.orders.public.factories import make_order

pytestmark = [pytest.mark.browser]

PASSWORD = "pw-Str0ng-enough"
PSID = "7000000000000606"
LINE_USER = "U" + "7" * 32
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def private_proofs(tmp_path, monkeypatch):
    """Before the app's process is forked: proofs go to a temporary directory in both processes."""
    monkeypatch.setattr(PaymentProof._meta.get_field("file"), "storage", FileSystemStorage(location=tmp_path / "private"))


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def link_in_sandbox() -> str:
    """The "view order details" URL from the Send API call the sandbox recorded."""
    for call in sandbox.calls("messenger", "send").order_by("-id"):
        payload = (((call.body or {}).get("message") or {}).get("attachment") or {}).get("payload") or {}
        for button in payload.get("buttons", []):
            if "/o/" in button.get("url", ""):
                return button["url"]
    return ""


def wait_for(fn, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = orm(fn)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


class OrderLinkBrowserTests:
    def test_customer_confirms_uploads_and_staff_approves(self, private_proofs, app, chromium, tmp_path):
        factories.staff_user("olivia")
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="我要買碎花洋裝")
        conversation = wait_for(lambda: Conversation.objects.filter(contact__platform_user_id=PSID).first())
        order = orm(make_order, conversation=conversation, total=560)

        staff = signed_in_page(chromium, app, "olivia", PASSWORD)
        staff.goto(f"{app.url}/inbox/c/{conversation.pk}/")
        expect(staff.locator("#inbox[data-live='1']")).to_be_attached()
        # Send the link as the quick-order panel would, through the API (in the app's process).
        status = staff.evaluate(
            """async (id) => {
                const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
                const r = await fetch('/api/v1/orders/' + id + '/link/', {method: 'POST', headers: {'X-CSRFToken': token}});
                return r.status;
            }""",
            order.pk,
        )
        assert status == 200
        expect(staff.locator(".msg.outbound").last).to_contain_text(order.number)
        expect(staff.get_by_test_id("order-activity").filter(has_text="confirmation link sent")).to_be_visible()

        url = wait_for(link_in_sandbox)
        # The sandbox lives on the test server; the app (and its live events) in Daphne: same path there.
        customer_context = chromium.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
        customer = customer_context.new_page()
        customer.set_default_timeout(10_000)
        customer.goto(app.url + urlparse(url).path)
        expect(customer.get_by_test_id("order-status")).to_have_text("awaiting customer confirmation")
        expect(customer.get_by_test_id("line")).to_contain_text("碎花洋裝")
        customer.get_by_test_id("confirm").click()
        expect(customer.get_by_test_id("confirmed")).to_be_visible()
        expect(customer.get_by_test_id("order-status")).to_have_text("confirmed")

        proof = tmp_path / "transfer.png"
        proof.write_bytes(png_bytes())
        customer.get_by_test_id("proof-file").set_input_files(str(proof))
        customer.get_by_test_id("upload").click()
        expect(customer.get_by_test_id("awaiting")).to_have_text("Awaiting verification by the shop")
        screenshot(customer, "order-link-customer-awaiting")

        # The chat tells the story, live: opened, confirmed, proof uploaded, and the "awaiting" message.
        expect(staff.get_by_test_id("order-activity").filter(has_text="transfer proof uploaded")).to_be_visible()
        expect(staff.get_by_test_id("order-activity").filter(has_text="confirmed by the customer")).to_be_visible()
        expect(staff.locator(".msg.outbound").last).to_contain_text("Awaiting verification")

        # A second browser: staff approve on the back-office order page.
        admin = signed_in_page(chromium, app, "olivia", PASSWORD)
        admin.goto(f"{app.url}/orders/{order.pk}/")
        expect(admin.get_by_test_id("admin-proof")).to_have_count(1)
        expect(admin.locator("[data-testid=admin-proof] img")).to_have_js_property("naturalWidth", 60)
        admin.get_by_test_id("approve").click()
        expect(admin.get_by_test_id("admin-payment")).to_have_text("paid")

        expect(customer.get_by_test_id("payment-status")).to_have_text("paid", timeout=15_000)
        expect(customer.get_by_test_id("order-status")).to_have_text("paid")
        expect(staff.get_by_test_id("order-activity").filter(has_text="payment approved")).to_be_visible()
        expect(staff.locator(".msg.outbound").last).to_contain_text("is confirmed")
        screenshot(customer, "order-link-customer-paid")
        assert orm(lambda: Order.objects.get(pk=order.pk).status) == "paid"
        assert re.search(r"/o/[^/]+/", url)
        customer_context.close()

    def test_line_the_order_page_says_free_reply_or_paid_push_before_sending_and_that_is_what_happens(self, app, chromium):
        """On LINE the link is free while the customer's reply token is valid, otherwise a paid push. The
        staff order page says which before the click; LINE (the sandbox) then records that endpoint, and
        the month's quota moves only for the push."""
        from integrations.sandbox.line_views import monthly_usage
        from integrations.sandbox.models import SandboxLineBot

        factories.staff_user("olivia")
        sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="想買洋裝")
        conversation = wait_for(lambda: Conversation.objects.filter(contact__platform_user_id=LINE_USER).first())
        first, second = orm(make_order, conversation=conversation), orm(make_order, conversation=conversation)

        def quota() -> int:
            return orm(lambda: monthly_usage(SandboxLineBot.objects.get(destination=LINE_DEST)))

        def calls(endpoint: str) -> list[int]:
            return orm(lambda: list(sandbox.calls("line", endpoint).values_list("status", flat=True)))

        staff = signed_in_page(chromium, app, "olivia", PASSWORD)
        staff.goto(f"{app.url}/orders/{first.pk}/")
        card = staff.locator("section.card", has=staff.get_by_test_id("admin-resend"))
        expect(card).to_contain_text("free reply")
        expect(card).not_to_contain_text("paid LINE push")
        used = quota()
        staff.get_by_test_id("admin-resend").click()
        expect(card).to_contain_text("Sent", timeout=15_000)
        wait_for(lambda: sandbox.calls("line", "reply").filter(status=200).exists())
        assert calls("reply") == [200] and calls("push") == []
        assert quota() == used

        # The token is used up: the next order's page announces a paid push, and a push it is.
        staff.goto(f"{app.url}/orders/{second.pk}/")
        card = staff.locator("section.card", has=staff.get_by_test_id("admin-resend"))
        expect(card).to_contain_text("paid LINE push")
        staff.get_by_test_id("admin-resend").click()
        expect(card).to_contain_text("Sent", timeout=15_000)
        wait_for(lambda: sandbox.calls("line", "push").filter(status=200).exists())
        assert calls("reply") == [200] and calls("push") == [200]
        assert quota() == used + 1
        bubbles = orm(lambda: [m.text for m in SandboxChatMessage.objects.filter(direction="from_shop")])
        assert any(first.number in text for text in bubbles) and any(second.number in text for text in bubbles)

