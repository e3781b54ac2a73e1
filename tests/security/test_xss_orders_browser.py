"""Stored XSS through product names (and the order's other stored text: options, the order note, the recipient,
the customer's name and notes), proved in a real browser on every page that shows them: the quick-order
panel's product search in the inbox, the back-office order page, the customer's page and the customer's
order page /o/<token>/ at a phone viewport. Nothing executes: no dialog opens, the window flag stays unset,
the CSP reports nothing blocked, and the payload is visible as text."""
import pytest
from playwright.sync_api import expect

from customers import services as customer_services
from inbox.models import Conversation
from integrations.sandbox import services as sandbox
from orders import confirmation
from orders.models import Product, Variant
from tests import factories
from tests.browser import PAGE_ID, app, assert_nothing_ran, chromium, orm, signed_in_page, watch_for_scripts  # noqa: F401 (fixtures)
from tests.orders.public.factories import make_order

pytestmark = [pytest.mark.browser]

PASSWORD = "pw-Str0ng-enough"
PSID = "7000000000000667"
PHONE = {"width": 390, "height": 844}
HOOK = "<img src=x onerror=\"window.__xss=1;alert('img')\"><script>window.__xss=1;alert('s')</script>"
PRODUCT = "Tee " + HOOK + "\"'><svg/onload=\"window.__xss=1\">"  # 200 characters at most
OPTION = "M" + HOOK
NOTE = "note " + HOOK + "<a href=\"javascript:window.__xss=1\">x</a>"
def _setup():
    agent = factories.staff_user("agent")
    sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="我要訂購")
    conversation = Conversation.objects.get(contact__platform_user_id=PSID)
    customer = customer_services.create_customer(name="Mei " + HOOK[:80], phone="0912345678", actor=agent)
    customer_services.bind_contact(contact=conversation.contact, customer=customer, actor=agent)
    type(customer).objects.filter(pk=customer.pk).update(notes=NOTE)
    product = Product.objects.create(name=PRODUCT, description=HOOK, option_names=["Size" + HOOK[:40]])
    variant = Variant.objects.create(product=product, sku="XSS-1", price=500, stock=5, options={"Size" + HOOK[:40]: OPTION})
    order = make_order(
        conversation=conversation,
        customer=customer,
        lines=[{"name": PRODUCT, "options": OPTION, "unit_price": 500, "quantity": 1, "kind": "variant", "variant": variant}],
        note=NOTE,
        recipient={"name": "王" + HOOK[:60], "phone": "0912345678"},
    )
    return conversation.pk, customer.pk, order.pk, confirmation.order_token(order)


class OrderXssTests:
    def test_product_names_and_order_texts_never_execute_on_any_page(self, app, chromium):
        conversation_id, customer_id, order_id, token = orm(_setup)
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        dialogs = watch_for_scripts(page)

        # The quick-order panel: search the product, its name and option are listed as text.
        page.goto(f"{app.url}/inbox/c/{conversation_id}/")
        expect(page.locator("#inbox[data-live='1']")).to_be_attached(timeout=30_000)
        page.get_by_test_id("quick-order-open").click()
        panel = page.get_by_test_id("qo-panel")
        expect(panel).to_be_visible()
        panel.get_by_test_id("qo-search").fill("Tee")
        result = panel.get_by_test_id("qo-result").first
        expect(result).to_contain_text("<script>window.__xss=1", timeout=20_000)
        result.get_by_test_id("qo-add").click()
        expect(panel.get_by_test_id("qo-line")).to_contain_text("<img src=x", timeout=20_000)
        assert_nothing_ran(page, dialogs)

        # The back-office order page and the customer's page.
        page.goto(f"{app.url}/orders/{order_id}/")
        expect(page.locator("body")).to_contain_text("Tee <img src=x")
        expect(page.locator("body")).to_contain_text("note <img src=x")
        assert_nothing_ran(page, dialogs)
        page.goto(f"{app.url}/customers/{customer_id}/")
        expect(page.locator("body")).to_contain_text("Mei <img src=x")
        assert_nothing_ran(page, dialogs)

        # The customer's order page, on a phone, no login.
        context = chromium.new_context(viewport=PHONE, locale="en-US")
        phone = context.new_page()
        phone_dialogs = watch_for_scripts(phone)
        phone.goto(f"{app.sandbox_url}/o/{token}/")
        expect(phone.locator("body")).to_contain_text("Tee <img src=x")
        expect(phone.locator("body")).to_contain_text("note <img src=x")
        assert_nothing_ran(phone, phone_dialogs)
        context.close()
