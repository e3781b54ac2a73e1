"""The quick order in a real browser: a chat bound to a member, an order built in the panel with a variant,
a gift, a custom product (with a HEIC picture uploaded), a bundle promotion, a coupon, credit at its cap, a
custom discount, 7-11 pickup at a picked store, a company invoice and tags (one picked from the saved tags,
one typed and saved for reuse); the created order charges exactly the panel's total, and its custom line's
picture shows on the back-office page and the customer's page."""
import io
import re
import time

import pytest
from django.core.management import call_command
from PIL import Image
from playwright.sync_api import expect

from customers import services as customer_services
from inbox.models import Conversation
from integrations.sandbox import services as sandbox
from orders import confirmation
from orders.models import Order, OrderTag, Variant
from tests import factories
from tests.browser import PAGE_ID, app, chromium, orm, screenshot, signed_in_page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser]

PASSWORD = "pw-Str0ng-enough"
PSID = "7000000000000501"


@pytest.fixture
def catalog(app):
    """The demo catalog, seeded before the browser starts (pick-any, T-shirt + tote bundle, SAVE100, credit
    from NT$1,000 at most NT$50, 7-11 pickup NT$60 free from NT$2,000, prices include 5 % tax)."""
    call_command("seed_catalog", verbosity=0)


def _setup():
    agent = factories.staff_user("agent")
    sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="我要訂購")
    conversation = Conversation.objects.get(contact__platform_user_id=PSID)
    mei = customer_services.create_customer(name="陳小美", phone="0912345678", actor=agent)
    customer_services.bind_contact(contact=conversation.contact, customer=mei, actor=agent)
    customer_services.adjust_credit(customer=mei, amount=200, reason="welcome", actor=agent)
    OrderTag.objects.get_or_create(name="VIP")  # the demo catalog saves it too
    return conversation, *(Variant.objects.get(sku=sku).pk for sku in ("TEE-WHT-M", "TOTE-NAT", "MUG-450"))


class QuickOrderBrowserTests:
    def test_build_and_create_an_order_from_the_chat(self, app, catalog, chromium):
        conversation, tee, tote, mug = orm(_setup)
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        page.goto(f"{app.url}/inbox/c/{conversation.pk}/")
        page.get_by_test_id("quick-order-open").click()
        panel = page.get_by_test_id("qo-panel")
        expect(panel).to_be_visible()
        expect(panel.get_by_test_id("qo-customer")).to_contain_text("陳小美")

        def add(query: str, variant_id: int):
            panel.get_by_test_id("qo-search").fill(query)
            result = panel.locator(f"[data-testid='qo-result']:has(option[value='{variant_id}'])")
            result.get_by_test_id("qo-variant").select_option(str(variant_id))
            result.get_by_test_id("qo-add").click()

        add("棉 T", tee)  # a variant (白 / M)
        add("托特", tote)  # with the T-shirt: the A+B bundle
        add("隨行杯", mug)
        panel.get_by_test_id("qo-gift").select_option(label="環保提袋 (50 left)")
        panel.get_by_test_id("qo-add-gift").click()
        panel.locator("summary").click()
        panel.get_by_test_id("qo-custom-name").fill("刻字服務")
        panel.get_by_test_id("qo-custom-price").fill("300")
        panel.get_by_test_id("qo-custom-image").set_input_files(
            {"name": "IMG_0420.HEIC", "mimeType": "image/heic", "buffer": heic_photo()}
        )
        panel.get_by_test_id("qo-add-custom").click()
        expect(panel.get_by_test_id("qo-line")).to_have_count(5)
        picture = panel.get_by_test_id("qo-line-image")
        expect(picture).to_have_count(1)
        expect(picture).to_have_attribute("src", re.compile(r"^/media/products/custom/[0-9a-f]{32}\.jpg$"))
        assert picture.evaluate("img => img.decode().then(() => img.naturalWidth)") == 80  # served and decoded
        expect(panel.get_by_test_id("qo-line-promo").first).to_contain_text("A+B")

        # Delivery: 7-11 pickup, a store picked in the directory, pay at pickup.
        panel.get_by_test_id("qo-delivery").select_option(label="7-11 超商取貨 (C2C)")
        panel.get_by_test_id("qo-payment").select_option(label="7-11 取貨付款")
        panel.get_by_test_id("qo-store-search").fill("松仁")
        # (the box searched on focus too: pick from the answer to what was typed)
        panel.get_by_test_id("qo-store-result").filter(has_text="松仁").get_by_test_id("qo-store-pick").first.click()
        expect(panel.get_by_test_id("qo-store-picked")).to_contain_text("松仁")
        panel.get_by_test_id("qo-rcpt-name").fill("陳小美")
        panel.get_by_test_id("qo-rcpt-phone").fill("0912345678")

        # Company invoice.
        panel.get_by_test_id("qo-issue-invoice").check()
        panel.get_by_test_id("qo-inv-type").select_option("company")
        panel.get_by_test_id("qo-inv-business").fill("22099131")
        panel.get_by_test_id("qo-inv-title").fill("好物有限公司")
        panel.get_by_test_id("qo-save-invoice").click()
        expect(panel.get_by_test_id("qo-invoice-summary")).to_contain_text("22099131")

        # Tags, note, a custom discount (the button greys at 5), a coupon from the member's list.
        panel.locator("[data-testid='qo-saved-tag'][data-tag='VIP']").click()
        expect(panel.locator("[data-testid='qo-saved-tag'][data-tag='VIP']")).to_be_disabled()
        panel.get_by_test_id("qo-tag-input").fill("週五出貨")
        panel.get_by_test_id("qo-tag-input").press("Enter")
        expect(panel.get_by_test_id("qo-tag")).to_have_count(2)
        panel.get_by_test_id("qo-tag-save").click()  # the typed tag, saved for reuse
        expect(panel.locator("[data-testid='qo-saved-tag'][data-tag='週五出貨']")).to_be_visible()
        expect(panel.get_by_test_id("qo-tag-save")).to_have_count(0)
        panel.get_by_test_id("qo-note").fill("請小心包裝")
        for _ in range(5):
            panel.get_by_test_id("qo-add-discount").click()
        expect(panel.get_by_test_id("qo-add-discount")).to_be_disabled()
        for _ in range(4):
            panel.get_by_test_id("qo-discount-remove").last.click()
        panel.get_by_test_id("qo-discount-label").fill("老客戶")
        panel.get_by_test_id("qo-discount-amount").fill("30")
        panel.get_by_test_id("qo-coupon").focus()
        panel.locator("[data-testid='qo-coupon-option'][data-code='SAVE100'] [data-testid='qo-coupon-pick']").click()

        # 690 + 250 + 880 + 300 = 2120; bundle 940 -> 799 (-141) = 1979; SAVE100 1879; 老客戶 1849;
        # credit at its cap 50 -> 1799; 1849 < 2000 so shipping 60: 1859.
        expect(panel.get_by_test_id("qo-total")).to_have_text("NT$1,859")
        expect(panel.get_by_test_id("qo-credit-amount")).to_have_value("50")
        # The included tax, and how it was worked out.
        formula = panel.get_by_test_id("qo-tax-formula")
        expect(formula).to_contain_text("5.00%: round(")
        included = panel.get_by_test_id("qo-tax-included").text_content().replace("NT$", "").replace(",", "")
        assert formula.text_content().endswith(f"= {included}"), (formula.text_content(), included)
        screenshot(page, "quick-order-panel")
        panel.get_by_test_id("qo-create").click()
        result = panel.get_by_test_id("qo-created")
        expect(result).to_be_visible()
        expect(result).to_contain_text("NT$1,859")
        # The confirmation link goes out from the panel (an automated message inside the 24-hour window).
        expect(panel.get_by_test_id("qo-link-window")).to_contain_text("24 hours")
        panel.get_by_test_id("qo-send-link").click()
        expect(panel.get_by_test_id("qo-link-result")).to_have_text("Sent")

        order = orm(lambda: Order.objects.get())
        assert order.total == 1859 == int(result.get_attribute("data-total"))
        assert order.credit_used == 50 and order.invoice["business_number"] == "22099131"
        assert order.pickup_store["name"].endswith("松仁門市") and order.tags == ["VIP", "週五出貨"]
        assert orm(lambda: OrderTag.objects.filter(name="週五出貨").exists())  # saved for reuse
        kinds = orm(lambda: sorted(order.lines.values_list("kind", flat=True)))
        assert kinds == ["custom", "gift", "variant", "variant", "variant"]
        labels = orm(lambda: list(order.adjustments.values_list("kind", flat=True)))
        assert labels == ["item_promotion", "coupon", "custom_discount", "credit", "shipping"]

        # The custom product's picture (the HEIC re-encoded as JPEG) on the back office's and the customer's pages.
        custom = orm(lambda: order.lines.get(kind="custom"))
        assert re.fullmatch(r"/media/products/custom/[0-9a-f]{32}\.jpg", custom.image_url)
        page.goto(f"{app.url}/orders/{order.pk}/")
        expect(page.locator(f"[data-testid='admin-line-image'][src='{custom.image_url}']")).to_be_visible()
        expect(page.get_by_test_id("admin-tags")).to_contain_text("週五出貨")
        customer = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-US").new_page()
        customer.goto(f"{app.url}/o/{orm(lambda: confirmation.order_token(order))}/")
        image = customer.locator(f"[data-testid='line'] img[src='{custom.image_url}']")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") == 80

    def test_a_cross_border_store_sets_the_destination_country(self, app, catalog, chromium):
        conversation, *_ = orm(_setup)
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        page.goto(f"{app.url}/inbox/c/{conversation.pk}/")
        page.get_by_test_id("quick-order-open").click()
        panel = page.get_by_test_id("qo-panel")
        panel.get_by_test_id("qo-delivery").select_option(label="7-11 跨境門市取貨")
        expect(panel.get_by_test_id("qo-rcpt-country")).to_be_visible()
        panel.get_by_test_id("qo-store-search").fill("Mong Kok")
        panel.get_by_test_id("qo-store-result").filter(has_text="Mong Kok").get_by_test_id("qo-store-pick").first.click()
        expect(panel.get_by_test_id("qo-store-picked")).to_contain_text("Mong Kok")
        expect(panel.get_by_test_id("qo-rcpt-country")).to_have_value("HK")
        # The draft, saved half a second after the change, keeps it.
        def saved_country():
            draft = Conversation.objects.get(pk=conversation.pk).order_draft
            return (draft.data.get("recipient") or {}).get("country")

        deadline = time.monotonic() + 10
        while orm(saved_country) != "HK" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert orm(saved_country) == "HK"

def heic_photo() -> bytes:
    """A phone-style HEIC picture, encoded by libheif (pillow-heif is registered by orders.images)."""
    import orders.images  # noqa: F401

    out = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 90, 200)).save(out, format="HEIF")
    return out.getvalue()
