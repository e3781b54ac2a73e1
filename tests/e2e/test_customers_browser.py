"""The customer pane beside a chat, and the back-office customer pages, in a real browser.

Customers write through the platform sandbox; members are made with the customers services. Every flow
of the reference's section 三 is walked from the pane: find and bind, create, the clash prompts (merge or
re-enter), edits with the three outcomes, addresses up to the 6th-address error, the menu, unbinding,
the suggestion chips for details a customer wrote, the member's past year of orders, and flow (C): a chat
whose orders (a live-stream order, say) point at an existing member offers "view existing customer details",
then binds to it or merges the chat's member into it.
"""
import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers import services
from customers.models import ContactBinding, Customer, MemberTier
from inbox.models import Conversation
from integrations.sandbox import services as sandbox
from orders import services as order_services
from orders.logistics import DeliveryType, PaymentType
from orders.models import DeliveryMethod, Order, PaymentMethod
from tests import factories
from tests.orders.public.factories import make_order
from tests.browser import LINE_DEST, PAGE_ID, app, chromium, orm, screenshot, signed_in_page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser]

PASSWORD = "pw-Str0ng-enough"
PSID = "7000000000000201"
PSID_2 = "7000000000000202"
LINE_USER = "U" + "f" * 32


def chat(app, user_id: str, text: str, *, platform: str = "messenger") -> Conversation:
    """A customer writes; returns their conversation."""
    return orm(_chat, app, user_id, text, platform)


def _chat(app, user_id, text, platform):
    if platform == "messenger":
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=user_id, text=text)
        return Conversation.objects.get(channel=app.page, contact__platform_user_id=user_id)
    sandbox.user_says("line", destination=LINE_DEST, user_id=user_id, text=text)
    return Conversation.objects.get(channel=app.line, contact__platform_user_id=user_id)


def open_chat(page, app, conversation: Conversation):
    page.goto(f"{app.url}/inbox/c/{conversation.pk}/")
    expect(page.locator("#inbox")).to_have_attribute("data-live", "1")
    expect(page.get_by_test_id("cust-pane")).to_be_visible()


def prompt(page):
    return page.get_by_test_id("cust-prompt")


def member(**fields) -> Customer:
    return orm(services.create_customer, **fields)


def _order_methods() -> tuple[int, int]:
    pay = PaymentMethod.objects.get_or_create(type=PaymentType.PICKUP_711, defaults={"name": "7-11 取貨付款"})[0]
    seven = DeliveryMethod.objects.get_or_create(type=DeliveryType.SEVEN_C2C, defaults={"name": "7-11 取貨", "fee": 0})[0]
    return seven.pk, pay.pk


def order_draft(amount: int) -> dict:
    """A quick-order draft: one custom item, 7-11 pickup (free) at a demo store, paid at pickup."""
    delivery, payment = orm(_order_methods)
    return {
        "lines": [{"custom": {"name": "碎花洋裝", "unit_price": amount}, "quantity": 1}],
        "delivery_method_id": delivery,
        "payment_method_id": payment,
        "store": {"id": "991001"},
        "recipient": {"name": "陳小美", "phone": "0912345678"},
    }


def _place(conversation, draft: dict, days_ago: int) -> Order:
    order = order_services.place_order(conversation=conversation, actor=None, draft=draft)
    if days_ago:
        Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - dt.timedelta(days=days_ago))
        order.refresh_from_db()
    return order


def place(conversation, amount: int, days_ago: int = 0) -> Order:
    """An order placed the quick order's way (the chat must be bound), back-dated by `days_ago`."""
    return orm(_place, conversation, order_draft(amount), days_ago)


def place_in_app(page, conversation, amount: int) -> Order:
    """The same through the app's API from a signed-in page, so the app's live events announce it."""
    created = page.evaluate(
        """async ([conversation, draft]) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const r = await fetch('/api/v1/orders/', {method: 'POST', headers: {'X-CSRFToken': token, 'Content-Type': 'application/json'},
                                                       body: JSON.stringify({conversation_id: conversation, draft: draft})});
            return [r.status, await r.json()];
        }""",
        [conversation.pk, order_draft(amount)],
    )
    assert created[0] == 201, created
    return orm(Order.objects.get, pk=created[1]["id"])


class CustomerPaneBrowserTests:
    def test_unbound_chat_find_by_name_or_phone_then_bind(self, app, chromium):
        orm(factories.staff_user, "agent")
        mei = member(name="陳小美", email="mei@example.com", phone="0912345678")
        member(name="王小明", phone="0987654321")
        orm(factories.staff_user, "colleague")
        conversation = chat(app, PSID, "請問還有貨嗎？")
        colleague = signed_in_page(chromium, app, "colleague", PASSWORD)
        open_chat(colleague, app, conversation)
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        open_chat(page, app, conversation)

        pane = page.get_by_test_id("cust-pane")
        expect(pane).to_have_attribute("data-state", "unbound")
        # The quick order, opened first, waits for a member.
        page.get_by_test_id("quick-order-open").click()
        expect(page.get_by_test_id("qo-no-customer")).to_be_visible()
        expect(page.get_by_test_id("qo-panel")).to_have_attribute("data-customer", "")
        # By name (the reference can't), then by a phone number written any way.
        page.get_by_test_id("cust-new-name").fill("小美")
        expect(page.get_by_test_id("cust-match")).to_have_count(1)
        expect(page.get_by_test_id("cust-match")).to_contain_text("陳小美")
        page.get_by_test_id("cust-new-phone").fill("+886 912-345")
        expect(page.get_by_test_id("cust-match")).to_have_count(1)
        expect(page.get_by_test_id("cust-match")).to_contain_text("0912 345 678")
        page.get_by_test_id("cust-match-bind").click()

        expect(pane).to_have_attribute("data-state", "bound")
        expect(prompt(page)).to_have_attribute("data-outcome", "updated")
        expect(page.get_by_test_id("cust-name")).to_have_value("陳小美")
        expect(page.get_by_test_id("cust-no-orders")).to_have_text("No orders yet.")
        assert orm(lambda: ContactBinding.objects.get(contact=conversation.contact).customer_id) == mei.pk
        # The open quick order now takes the order for her, without being opened again.
        expect(page.get_by_test_id("qo-panel")).to_have_attribute("data-customer", str(mei.pk))
        expect(page.get_by_test_id("qo-no-customer")).to_have_count(0)
        expect(page.get_by_test_id("qo-search")).to_be_enabled()
        # A colleague with the same chat open sees the binding without reloading.
        expect(colleague.get_by_test_id("cust-pane")).to_have_attribute("data-customer", str(mei.pk))
        expect(colleague.get_by_test_id("cust-name")).to_have_value("陳小美")
        screenshot(page, "customers-pane-bound")

    def test_new_details_create_or_clash_with_merge_and_reenter(self, app, chromium):
        orm(factories.staff_user, "agent")
        m1 = member(name="Member One", email="one@x.tw", phone="0911000001")
        member(name="Member Two", phone="0922000002")
        first = chat(app, PSID, "hello")
        second = chat(app, PSID_2, "hi there")
        page = signed_in_page(chromium, app, "agent", PASSWORD)

        # A new customer: created with the chat's name and bound.
        open_chat(page, app, second)
        page.get_by_test_id("cust-new-email").fill("Fresh@Mail.tw")
        page.get_by_test_id("cust-create").click()
        expect(page.get_by_test_id("cust-pane")).to_have_attribute("data-state", "bound")
        expect(prompt(page)).to_contain_text("Member created")
        expect(page.get_by_test_id("cust-email")).to_have_value("fresh@mail.tw")
        # The name defaults to the chat's (the platform's display name).
        expect(page.get_by_test_id("cust-name")).to_have_value(orm(lambda: second.contact.display_name))
        expect(page.get_by_test_id("cust-name")).not_to_have_value("")

        # The email of one member and the phone of another: must be re-entered.
        open_chat(page, app, first)
        page.get_by_test_id("cust-new-email").fill("ONE@x.tw")
        page.get_by_test_id("cust-new-phone").fill("0922-000-002")
        page.get_by_test_id("cust-create").click()
        expect(prompt(page)).to_have_attribute("data-outcome", "reenter")
        expect(prompt(page)).to_contain_text("Please re-enter")
        expect(page.get_by_test_id("cust-merge")).to_have_count(0)
        page.get_by_test_id("cust-reenter").click()
        expect(prompt(page)).to_be_hidden()

        # Only the email belongs to a member: merge (bind to it) or re-enter.
        page.get_by_test_id("cust-new-phone").fill("0933 000 003")
        page.get_by_test_id("cust-create").click()
        expect(prompt(page)).to_have_attribute("data-outcome", "duplicate")
        expect(prompt(page)).to_contain_text("Member One")
        screenshot(page, "customers-pane-duplicate")
        page.get_by_test_id("cust-merge").click()
        expect(page.get_by_test_id("cust-pane")).to_have_attribute("data-customer", str(m1.pk))
        expect(prompt(page)).to_contain_text("Merged")
        expect(page.get_by_test_id("cust-phone")).to_have_value("0911 000 001")  # the member's own login stays
        assert orm(Customer.objects.count) == 3

    def test_bound_member_edits_with_each_prompt_then_menu_and_unbind(self, app, chromium):
        orm(factories.staff_user, "agent")
        orm(lambda: MemberTier.objects.create(name="Gold", rank=1))
        mine = member(name="Mine", email="mine@x.tw", phone="0911000001")
        other = member(name="Other", email="other@x.tw", phone="0922000002")
        member(name="Third", phone="0933000003")
        conversation = chat(app, PSID, "hi")
        orm(services.bind_contact, contact=conversation.contact, customer=mine, actor=None)
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        open_chat(page, app, conversation)

        # Name, tier, tags and notes edit in place.
        page.get_by_test_id("cust-name").fill("Mine Renamed")
        page.get_by_test_id("cust-name").press("Tab")
        expect(prompt(page)).to_have_attribute("data-outcome", "updated")
        expect(page.get_by_test_id("cust-title")).to_have_text("Mine Renamed")
        page.get_by_test_id("cust-tier").select_option(label="Gold")
        expect(page.get_by_test_id("cust-tier")).to_have_value(str(orm(lambda: MemberTier.objects.get().pk)))
        page.get_by_test_id("cust-tag-input").fill("VIP")
        page.get_by_test_id("cust-tag-input").press("Enter")
        expect(page.get_by_test_id("cust-tag")).to_have_count(1)
        page.get_by_test_id("cust-tag-input").fill("<b>團購</b>")
        page.get_by_test_id("cust-tag-input").press("Enter")
        expect(page.get_by_test_id("cust-tag").filter(has_text="<b>團購</b>")).to_have_count(1)  # shown as text
        page.get_by_test_id("cust-tag").filter(has_text="VIP").get_by_role("button").click()
        expect(page.get_by_test_id("cust-tag")).to_have_count(1)
        page.get_by_test_id("cust-notes").fill("Prefers 7-11 pickup")
        page.get_by_test_id("cust-notes").press("Tab")
        expect(page.get_by_test_id("cust-notes")).to_have_text("Prefers 7-11 pickup")  # as stored (the reload's HTML)

        # 1. Updated.
        page.get_by_test_id("cust-phone").fill("0912-000-111")
        page.get_by_test_id("cust-login-save").click()
        expect(prompt(page)).to_have_attribute("data-outcome", "updated")
        expect(page.get_by_test_id("cust-phone")).to_have_value("0912 000 111")
        # 2. Must re-enter: the email of one member and the phone of another.
        page.get_by_test_id("cust-email").fill("other@x.tw")
        page.get_by_test_id("cust-phone").fill("0933000003")
        page.get_by_test_id("cust-login-save").click()
        expect(prompt(page)).to_have_attribute("data-outcome", "reenter")
        page.get_by_test_id("cust-reenter").click()
        # 3. Duplicate: another member's phone -> update binding merges this member into it.
        page.get_by_test_id("cust-email").fill("mine@x.tw")
        page.get_by_test_id("cust-phone").fill("+886 922 000 002")
        page.get_by_test_id("cust-login-save").click()
        expect(prompt(page)).to_have_attribute("data-outcome", "duplicate")
        expect(prompt(page)).to_contain_text("Other")
        page.get_by_test_id("cust-merge").click()
        expect(page.get_by_test_id("cust-pane")).to_have_attribute("data-customer", str(other.pk))
        expect(prompt(page)).to_contain_text("Merged")
        expect(page.get_by_test_id("cust-tag")).to_have_text("<b>團購</b> ×")  # the merged member's tags came along
        assert not orm(lambda: Customer.objects.filter(pk=mine.pk).exists())

        # Menu: view customer goes to the back-office page; unbind asks first.
        page.get_by_test_id("cust-menu").click()
        expect(page.get_by_test_id("cust-view")).to_have_attribute("href", f"/customers/{other.pk}/")
        page.get_by_test_id("cust-unbind").click()
        expect(page.get_by_test_id("cust-unbind-dialog")).to_be_visible()
        page.get_by_test_id("cust-unbind-no").click()
        expect(page.get_by_test_id("cust-unbind-dialog")).to_be_hidden()
        page.get_by_test_id("cust-menu").click()
        page.get_by_test_id("cust-unbind").click()
        page.get_by_test_id("cust-unbind-yes").click()
        expect(page.get_by_test_id("cust-pane")).to_have_attribute("data-state", "unbound")
        expect(prompt(page)).to_contain_text("no longer bound")
        assert orm(lambda: Customer.objects.filter(pk=other.pk).exists())

        page.goto(f"{app.url}/customers/{other.pk}/")
        expect(page.get_by_test_id("customer-name")).to_contain_text("Other")
        expect(page.get_by_test_id("customer-audit")).to_contain_text("merged in")

    def test_addresses_up_to_five_then_the_sixth_error_edit_default_delete(self, app, chromium):
        orm(factories.staff_user, "agent")
        mei = member(name="Mei", phone="0912345678")
        for n in range(4):
            orm(services.add_address, customer=mei, actor=None, recipient_name="Mei", street=f"忠孝東路 {n + 1} 號")
        conversation = chat(app, PSID, "hi")
        orm(services.bind_contact, contact=conversation.contact, customer=mei, actor=None)
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        open_chat(page, app, conversation)
        expect(page.get_by_test_id("cust-address-count")).to_have_text("4 / 5")

        def fill_address(street: str):
            page.get_by_test_id("cust-address-add").click()
            page.get_by_test_id("cust-address-recipient").fill("王小明")
            page.get_by_test_id("cust-address-phone").fill("0987-654-321")
            page.get_by_test_id("cust-address-postal").fill("106")
            page.get_by_test_id("cust-address-city").fill("台北市")
            page.get_by_test_id("cust-address-district").fill("大安區")
            page.get_by_test_id("cust-address-street").fill(street)
            page.get_by_test_id("cust-address-save").click()

        fill_address("仁愛路四段 1 號")
        expect(page.get_by_test_id("cust-address-count")).to_have_text("5 / 5")
        expect(page.get_by_test_id("cust-address").filter(has_text="仁愛路四段 1 號")).to_contain_text("0987 654 321")
        fill_address("One too many")
        expect(page.get_by_test_id("cust-address-error")).to_have_text(
            "A member can keep at most 5 addresses. Delete one before adding another."
        )
        expect(page.get_by_test_id("cust-address-form")).to_be_visible()
        screenshot(page, "customers-pane-sixth-address")

        # Edit one, make it the default, delete another.
        row = page.get_by_test_id("cust-address").filter(has_text="忠孝東路 2 號")
        row.get_by_test_id("cust-address-edit").click()
        expect(page.get_by_test_id("cust-address-street")).to_have_value("忠孝東路 2 號")
        page.get_by_test_id("cust-address-street").fill("忠孝東路 200 號")
        page.get_by_test_id("cust-address-save").click()
        edited = page.get_by_test_id("cust-address").filter(has_text="忠孝東路 200 號")
        expect(edited).to_have_count(1)
        edited.get_by_test_id("cust-address-make-default").click()
        expect(page.get_by_test_id("cust-address").first).to_contain_text("忠孝東路 200 號")
        expect(page.get_by_test_id("cust-address").first.get_by_test_id("cust-address-default-badge")).to_be_visible()
        page.get_by_test_id("cust-address").filter(has_text="忠孝東路 3 號").get_by_test_id("cust-address-delete").click()
        expect(page.get_by_test_id("cust-address-count")).to_have_text("4 / 5")
        expect(page.get_by_test_id("cust-credit")).to_have_text("NT$0")

    def test_details_a_customer_writes_are_offered_as_one_click_suggestions(self, app, chromium):
        orm(factories.staff_user, "agent")
        mei = member(name="陳小美", phone="0912345678")
        conversation = chat(app, LINE_USER, "你好，我想訂購", platform="line")
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        open_chat(page, app, conversation)
        expect(page.get_by_test_id("cust-suggestion")).to_have_count(0)

        # The customer writes their phone while the pane is open: offered, never applied by itself.
        orm(sandbox.user_says, "line", destination=LINE_DEST, user_id=LINE_USER, text="我的電話是 0912-345-678")
        chip = page.get_by_test_id("cust-suggestion")
        expect(chip).to_contain_text("0912 345 678")
        expect(chip).to_contain_text("陳小美")
        assert not orm(lambda: ContactBinding.objects.exists())
        chip.click()
        expect(page.get_by_test_id("cust-new-phone")).to_have_value("+886912345678")
        page.get_by_test_id("cust-match").filter(has_text="陳小美").get_by_test_id("cust-match-bind").click()
        expect(page.get_by_test_id("cust-pane")).to_have_attribute("data-customer", str(mei.pk))

        # Bound: an email written later updates the member in one click (with the usual prompts).
        orm(sandbox.user_says, "line", destination=LINE_DEST, user_id=LINE_USER, text="email 是 Mei.Chen@Example.com 喔")
        chip = page.get_by_test_id("cust-suggestion")
        expect(chip).to_contain_text("mei.chen@example.com")
        chip.click()
        expect(prompt(page)).to_have_attribute("data-outcome", "updated")
        expect(page.get_by_test_id("cust-email")).to_have_value("mei.chen@example.com")
        expect(page.get_by_test_id("cust-suggestion")).to_have_count(0)

        # A number that is another member's: the chip says whose, and clicking it gives the duplicate prompt.
        member(name="王小明", phone="0987654321")
        orm(sandbox.user_says, "line", destination=LINE_DEST, user_id=LINE_USER, text="或打 0987 654 321")
        chip = page.get_by_test_id("cust-suggestion")
        expect(chip).to_contain_text("王小明")
        chip.click()
        expect(prompt(page)).to_have_attribute("data-outcome", "duplicate")
        expect(prompt(page)).to_contain_text("王小明")
        expect(page.get_by_test_id("cust-merge")).to_have_text("Update binding")
        page.get_by_test_id("cust-reenter").click()
        expect(prompt(page)).to_be_hidden()
        assert orm(lambda: Customer.objects.get(pk=mei.pk).phone) == "+886912345678"


class CustomerOrdersBrowserTests:
    def test_the_members_orders_of_the_past_year_link_to_the_order_page(self, app, chromium):
        orm(factories.staff_user, "agent")
        orm(factories.staff_user, "colleague")
        mei = member(name="陳小美", phone="0912345678")
        conversation = chat(app, PSID, "我要訂購")
        orm(services.bind_contact, contact=conversation.contact, customer=mei, actor=None)
        place(conversation, 990, days_ago=400)  # more than a year ago
        older = place(conversation, 450, days_ago=20)
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        open_chat(page, app, conversation)
        rows = page.get_by_test_id("cust-order")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(older.number)
        expect(rows.first).to_contain_text("NT$450")
        expect(rows.first).to_contain_text(timezone.localtime(older.created_at).strftime("%Y-%m-%d"))

        # An order placed while the pane is open (here from a colleague's window) shows up first, live.
        colleague = signed_in_page(chromium, app, "colleague", PASSWORD)
        newer = place_in_app(colleague, conversation, 1280)
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text(newer.number)
        expect(rows.first).to_contain_text("NT$1,280")
        expect(rows.first).to_contain_text("awaiting customer confirmation")
        link = rows.first.get_by_test_id("cust-order-link")
        expect(link).to_have_attribute("href", f"/orders/{newer.pk}/")
        screenshot(page, "customers-pane-orders")
        with page.context.expect_page() as opened:
            link.click()
        order_page = opened.value
        order_page.wait_for_load_state()
        assert order_page.url == f"{app.url}/orders/{newer.pk}/"
        expect(order_page.locator("body")).to_contain_text(newer.number)

        page.goto(f"{app.url}/customers/{mei.pk}/")
        expect(page.get_by_test_id("customer-order")).to_have_count(2)
        expect(page.get_by_test_id("customer-order").first).to_contain_text(newer.number)

    def test_flow_c_a_live_stream_order_offers_the_existing_member_to_bind(self, app, chromium):
        orm(factories.staff_user, "agent")
        mei = member(name="陳小美", email="mei@example.com", phone="0912345678")
        conversation = chat(app, PSID, "直播那件洋裝我要")
        # Two orders from the live stream came in without a member: one with Mei's phone, one with a
        # number no member has.
        live = orm(make_order, conversation=conversation, recipient={"name": "小美", "phone": "0912-345-678"})
        orm(make_order, conversation=conversation, recipient={"name": "王小華", "phone": "0955-000-111"})
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        open_chat(page, app, conversation)

        matches = page.get_by_test_id("cust-order-match")
        expect(matches).to_have_count(2)
        # Details that match no member can fill the form (the agent could then save a new member).
        unknown = matches.filter(has_text="王小華")
        unknown.get_by_test_id("cust-order-match-use").click()
        expect(page.get_by_test_id("cust-new-phone")).to_have_value("+886955000111")
        expect(page.get_by_test_id("cust-new-name")).to_have_value("王小華")
        expect(page.get_by_test_id("cust-matches")).to_contain_text("No member matches yet")

        # The order with Mei's phone: view the existing member, first decide it's not the same, then confirm.
        found = matches.filter(has_text=live.number)
        found.get_by_test_id("cust-order-match-view").click()
        card = found.get_by_test_id("cust-order-member")
        expect(card).to_be_visible()
        expect(card.get_by_test_id("cust-order-member-name")).to_contain_text(f"陳小美 #{mei.pk}")
        expect(card).to_contain_text("mei@example.com")
        expect(card).to_contain_text("the order's phone number")
        expect(card.get_by_test_id("cust-order-member-page")).to_have_attribute("href", f"/customers/{mei.pk}/")
        screenshot(page, "customers-pane-flow-c")
        card.get_by_test_id("cust-order-match-cancel").click()
        expect(card).to_be_hidden()
        assert not orm(lambda: ContactBinding.objects.exists())
        found.get_by_test_id("cust-order-match-view").click()
        card.get_by_test_id("cust-order-match-confirm").click()

        expect(page.get_by_test_id("cust-pane")).to_have_attribute("data-customer", str(mei.pk))
        expect(prompt(page)).to_have_attribute("data-outcome", "updated")
        expect(prompt(page)).to_contain_text("Chat bound to the member this chat's orders belong to.")
        expect(page.get_by_test_id("cust-order-matches")).to_have_count(0)
        assert orm(lambda: ContactBinding.objects.get(contact=conversation.contact).customer_id) == mei.pk

    def test_flow_c_a_member_created_for_the_chat_merges_into_the_one_its_orders_belong_to(self, app, chromium):
        orm(factories.staff_user, "agent")
        existing = member(name="陳小美", phone="0912345678")
        conversation = chat(app, PSID, "hi")
        # An earlier order of this chat belongs to the existing member; the chat was unbound since.
        orm(services.bind_contact, contact=conversation.contact, customer=existing, actor=None)
        earlier = place(conversation, 700, days_ago=3)
        orm(services.unbind_contact, contact=conversation.contact, actor=None)
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        open_chat(page, app, conversation)
        expect(page.get_by_test_id("cust-order-match")).to_contain_text(earlier.number)

        # The agent doesn't look and creates a new member from an email instead.
        page.get_by_test_id("cust-new-email").fill("mei.chen@example.com")
        page.get_by_test_id("cust-create").click()
        expect(page.get_by_test_id("cust-pane")).to_have_attribute("data-state", "bound")
        created = int(page.get_by_test_id("cust-pane").get_attribute("data-customer"))
        assert created != existing.pk
        expect(page.get_by_test_id("cust-no-orders")).to_be_visible()

        # The pane still says this chat's orders name another member: view it and merge.
        match = page.get_by_test_id("cust-order-match")
        expect(page.get_by_test_id("cust-order-matches")).to_contain_text("This chat's orders name another member")
        match.get_by_test_id("cust-order-match-view").click()
        expect(match.get_by_test_id("cust-order-member")).to_contain_text("merged into 陳小美")
        match.get_by_test_id("cust-order-match-confirm").click()

        expect(page.get_by_test_id("cust-pane")).to_have_attribute("data-customer", str(existing.pk))
        expect(prompt(page)).to_have_attribute("data-outcome", "updated")
        expect(prompt(page)).to_contain_text("Merged")
        expect(page.get_by_test_id("cust-email")).to_have_value("mei.chen@example.com")  # the new member's email came along
        expect(page.get_by_test_id("cust-phone")).to_have_value("0912 345 678")
        expect(page.get_by_test_id("cust-order")).to_have_count(1)
        expect(page.get_by_test_id("cust-order")).to_contain_text(earlier.number)
        assert not orm(lambda: Customer.objects.filter(pk=created).exists())


class CustomerPagesBrowserTests:
    def test_list_search_detail_and_admin_credit(self, app, chromium):
        orm(factories.staff_user, "boss", admin=True)
        mei = member(name="陳小美", email="mei@example.com", phone="0912345678", tags=["VIP"])
        member(name="王小明", phone="0987654321")
        page = signed_in_page(chromium, app, "boss", PASSWORD)
        page.goto(f"{app.url}/customers/")
        expect(page.get_by_test_id("customer-row")).to_have_count(2)
        page.get_by_test_id("customer-search").fill("0912-345-678")
        page.get_by_test_id("customer-filter-submit").click()
        expect(page.get_by_test_id("customer-row")).to_have_count(1)
        page.get_by_test_id("customer-filter-tag").select_option("VIP")
        page.get_by_test_id("customer-search").fill("")
        page.get_by_test_id("customer-filter-submit").click()
        expect(page.get_by_test_id("customer-row")).to_have_count(1)
        page.get_by_test_id("customer-row").get_by_role("link").click()

        expect(page.get_by_test_id("customer-name")).to_contain_text("陳小美")
        page.get_by_test_id("credit-amount").fill("500")
        page.get_by_test_id("credit-reason").fill("Apology for a late parcel")
        page.get_by_test_id("credit-submit").click()
        expect(page.get_by_test_id("customer-credit")).to_have_text("NT$500")
        page.get_by_test_id("credit-amount").fill("-501")
        page.get_by_test_id("credit-reason").fill("Too much")
        page.get_by_test_id("credit-submit").click()
        expect(page.get_by_test_id("messages")).to_contain_text("can't go below zero")
        expect(page.get_by_test_id("customer-credit")).to_have_text("NT$500")
        expect(page.get_by_test_id("credit-entry")).to_have_count(1)
        assert orm(lambda: Customer.objects.get(pk=mei.pk).credit_balance) == 500
        screenshot(page, "customers-detail")
