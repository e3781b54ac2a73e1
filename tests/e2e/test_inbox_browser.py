"""The inbox in a real browser, as an agent and as an admin, with customers played by the sandbox."""
import datetime as dt
import io

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from inbox.models import Conversation, SavedReply, Tag
from integrations.sandbox import services as sandbox
from integrations.sandbox.models import SandboxChatMessage
from tests import factories
from tests.browser import LINE_DEST, PAGE_ID, app, chromium, open_chat, orm, screenshot, signed_in_page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser]

PASSWORD = "pw-Str0ng-enough"
PSID = "7000000000000101"
LINE_USER = "U" + "e" * 32


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def row_of(page, name):
    return page.locator("li.row", has=page.get_by_test_id("row-name").filter(has_text=name))


class InboxBrowserTests:
    def test_live_message_reply_text_and_image_saved_reply(self, app, chromium, tmp_path):
        factories.staff_user("agent")
        SavedReply.objects.create(shortcut="ship", text="運費 60 元，滿 1000 免運")
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="第一次來問")
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        expect(page.get_by_test_id("rows")).to_contain_text("第一次來問")

        # A new message from a LINE customer arrives live, in the All tab and the LINE tab's count.
        orm(sandbox.user_says, "line", destination=LINE_DEST, user_id=LINE_USER, text="請問有現貨嗎？")
        expect(page.get_by_test_id("rows")).to_contain_text("請問有現貨嗎？")
        expect(page.locator(f'[data-unread-for="{app.line.pk}"]')).to_have_text("1")
        expect(page.locator('[data-unread-for="all"]')).to_have_text("2")
        expect(page.locator(f'[data-unread-for="{app.page.pk}"]')).to_have_text("1")
        # The same customer again: still one unread conversation in each tab (the counts count conversations).
        orm(sandbox.user_says, "line", destination=LINE_DEST, user_id=LINE_USER, text="今天能出貨嗎？")
        expect(page.get_by_test_id("rows")).to_contain_text("今天能出貨嗎？")
        expect(page.locator(f'[data-unread-for="{app.line.pk}"]')).to_have_text("1")
        expect(page.locator('[data-unread-for="all"]')).to_have_text("2")

        # Open it and reply: text (a free reply), then an image. Opening it reads it: the counts drop live.
        open_chat(page, "今天能出貨嗎？")
        expect(page.locator(f'[data-unread-for="{app.line.pk}"]')).to_have_text("")
        expect(page.locator('[data-unread-for="all"]')).to_have_text("1")
        expect(page.get_by_test_id("chat-header")).to_contain_text("free reply")
        page.get_by_test_id("composer-text").fill("有的！")
        page.get_by_test_id("composer-text").press("Enter")
        expect(page.locator(".msg.outbound").last).to_contain_text("有的！")
        expect(page.locator(".msg.outbound").last.get_by_test_id("msg-free")).to_be_visible()
        expect(page.locator(".msg.outbound").last.get_by_test_id("msg-state")).to_have_text("sent")
        assert orm(lambda: SandboxChatMessage.objects.filter(direction="from_shop", text="有的！").exists())

        image = tmp_path / "photo.png"
        image.write_bytes(png_bytes())
        page.get_by_test_id("composer-image").set_input_files(str(image))
        page.get_by_test_id("send").click()
        # The reply token is used up: a paid push needs one confirmation click.
        page.get_by_test_id("confirm-paid").click()
        expect(page.locator(".msg.outbound").last.get_by_test_id("msg-image")).to_be_visible()
        expect(page.locator(".msg.outbound").last.get_by_test_id("msg-paid")).to_be_visible()
        assert orm(lambda: SandboxChatMessage.objects.filter(direction="from_shop", kind="image").count()) == 1

        # Saved reply by typing "/".
        page.get_by_test_id("composer-text").fill("/sh")
        page.get_by_test_id("saved-reply").first.click()
        expect(page.get_by_test_id("composer-text")).to_have_value("運費 60 元，滿 1000 免運")
        screenshot(page, "inbox-line-chat")

        # An agent saves what they typed as a new saved reply; a taken shortcut is refused with the reason.
        page.get_by_test_id("composer-text").fill("週五前下單，週一出貨")
        page.get_by_test_id("save-reply-open").click()
        page.get_by_test_id("save-reply-shortcut").fill("ship")
        page.get_by_test_id("save-reply-confirm").click()
        expect(page.get_by_test_id("composer-error")).to_contain_text("shortcut")
        page.get_by_test_id("save-reply-shortcut").fill("/出貨日")
        page.get_by_test_id("save-reply-shortcut").press("Enter")
        expect(page.get_by_test_id("save-reply-done")).to_have_text("/出貨日 ✓")
        assert orm(lambda: SavedReply.objects.get(shortcut="出貨日").text) == "週五前下單，週一出貨"
        page.get_by_test_id("composer-text").fill("/出貨")
        expect(page.get_by_test_id("saved-reply")).to_contain_text("週五前下單")

        # Another Messenger customer writes while the chat is open: that tab and All grow by one, live.
        orm(sandbox.user_says, "messenger", page_id=PAGE_ID, user_id="7000000000000102", text="我也想問")
        expect(page.get_by_test_id("rows")).to_contain_text("我也想問")
        expect(page.locator(f'[data-unread-for="{app.page.pk}"]')).to_have_text("2")
        expect(page.locator('[data-unread-for="all"]')).to_have_text("2")
        expect(page.locator(f'[data-unread-for="{app.line.pk}"]')).to_have_text("")

    def test_tab_counts_that_went_wrong_are_mended_after_the_next_message(self, app, chromium):
        """A new message sends only +1; a count already off (here: a chat read behind the page's back, with no
        event) is put right by the absolute counts the page asks for shortly after."""
        factories.staff_user("agent")
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="第一位客人")
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        expect(page.locator('[data-unread-for="all"]')).to_have_text("1")

        orm(lambda: Conversation.objects.update(unread_count=0))  # no event: the page still says 1
        orm(sandbox.user_says, "messenger", page_id=PAGE_ID, user_id="7000000000000109", text="第二位客人")
        expect(page.get_by_test_id("rows")).to_contain_text("第二位客人")  # its +1 is applied first: 2
        expect(page.locator('[data-unread-for="all"]')).to_have_text("1")  # then the truth
        expect(page.locator(f'[data-unread-for="{app.page.pk}"]')).to_have_text("1")

    def test_an_event_committed_after_a_higher_number_still_reaches_the_page(self, app, chromium):
        """Two processes can commit event numbers out of order. The page was rendered while the star (a lower
        number) was not yet committed but a later message (a higher number) was: the star still shows."""
        from inbox.models import InboxEvent
        from inbox.services import conversations

        agent = factories.staff_user("agent")
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="請幫我保留")
        conversation = Conversation.objects.get()
        conversations.star_conversation(conversation=conversation, starred=True, actor=agent)
        late = InboxEvent.objects.latest("pk")
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id="7000000000000110", text="後來的訊息")
        # Not committed yet when the page is rendered: neither the star nor its event.
        Conversation.objects.filter(pk=conversation.pk).update(starred=False)
        InboxEvent.objects.filter(pk=late.pk).delete()

        page = signed_in_page(chromium, app, "agent", PASSWORD)
        expect(page.get_by_test_id("rows")).to_contain_text("後來的訊息")
        expect(row_of(page, conversation.contact.display_name).get_by_test_id("row-star")).to_have_count(0)

        def commit_late():
            Conversation.objects.filter(pk=conversation.pk).update(starred=True)
            InboxEvent.objects.create(pk=late.pk, payload=late.payload)

        orm(commit_late)
        # Its live frame went out before this page's socket joined (the server is another process here): the
        # socket's next catch-up, after a drop, asks again for the last numbers and gets it.
        page.evaluate("window.inboxSocket.close()")
        expect(row_of(page, conversation.contact.display_name).get_by_test_id("row-star")).to_have_count(1)

    def test_assign_star_filter_search_and_two_browsers(self, app, chromium):
        agent = factories.staff_user("agent")
        factories.staff_user("boss", admin=True)
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="想訂兩件")
        sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="LINE 的客人")
        line_conversation = Conversation.objects.get(channel=app.line)
        line_conversation.tags.add(Tag.objects.create(name="VIP"))
        agent_page = signed_in_page(chromium, app, "agent", PASSWORD)
        admin_page = signed_in_page(chromium, app, "boss", PASSWORD)

        open_chat(agent_page, "想訂兩件")
        agent_page.get_by_test_id("take").click()
        expect(agent_page.get_by_test_id("assign")).to_have_value(str(agent.pk))
        agent_page.get_by_test_id("star").click()
        expect(agent_page.get_by_test_id("star")).to_have_attribute("aria-pressed", "true")

        # The admin's window shows both changes without a reload.
        admin_row = admin_page.locator("li.row", has_text="想訂兩件")
        expect(admin_row.get_by_test_id("row-assignee")).to_have_text("agent")
        expect(admin_row.get_by_test_id("row-star")).to_be_visible()

        # Filters: starred, assigned to me, search by tag.
        agent_page.goto(f"{app.url}/inbox/?view=starred")
        expect(agent_page.locator("li.row")).to_have_count(1)
        agent_page.goto(f"{app.url}/inbox/?assignee=me")
        expect(agent_page.locator("li.row")).to_have_count(1)
        agent_page.goto(f"{app.url}/inbox/?q=VIP")
        expect(agent_page.locator("li.row")).to_have_count(1)
        expect(agent_page.get_by_test_id("rows")).to_contain_text("LINE 的客人")
        screenshot(admin_page, "inbox-admin-live")

    def test_messenger_window_closed_banner(self, app, chromium):
        factories.staff_user("agent")
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="好久以前的訊息", at=timezone.now() - dt.timedelta(hours=30))
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        row = page.locator("li.row", has_text="好久以前的訊息")
        expect(row.get_by_test_id("window-chip")).to_have_class("chip human")
        open_chat(page, "好久以前的訊息")
        banner = page.get_by_test_id("window-banner")
        expect(banner).to_contain_text("24-hour window has closed")
        expect(banner).to_contain_text("Order links and automated messages can't be sent")
        screenshot(page, "inbox-messenger-window")

    def test_traditional_chinese_by_default(self, app, chromium):
        factories.staff_user("agent")
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="哈囉")
        page = signed_in_page(chromium, app, "agent", PASSWORD, locale="zh-TW")
        expect(page.get_by_test_id("filters")).to_contain_text("全部")
        screenshot(page, "inbox-zh-hant")


class PagingBrowserTests:
    def test_more_conversations_and_earlier_messages(self, app, chromium):
        from inbox.models import Message

        factories.staff_user("agent")
        convos = [factories.conversation(app.page, name=f"Buyer {n:02d}", last_inbound_ago=dt.timedelta(minutes=n + 1)) for n in range(33)]
        newest = convos[0]
        start = timezone.now() - dt.timedelta(days=2)
        for n in range(60):
            Message.objects.create(conversation=newest, channel=app.page, direction="inbound", source="customer", text=f"line {n:02d}",
                                   state="received", platform_timestamp=start + dt.timedelta(minutes=n))
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        expect(page.locator("li.row")).to_have_count(30)
        page.get_by_test_id("more").click()
        expect(page.locator("li.row")).to_have_count(33)
        expect(page.get_by_test_id("more")).to_have_count(0)

        open_chat(page, "Buyer 00")
        expect(page.locator(".msg")).to_have_count(50)
        page.get_by_test_id("older").click()
        expect(page.locator(".msg")).to_have_count(61)
        expect(page.get_by_test_id("timeline")).to_contain_text("line 00")


class FailureBrowserTests:
    def test_failed_send_shows_the_reason_and_retry_sends_once(self, app, chromium):
        factories.staff_user("agent")
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="在嗎")
        sandbox.set_fault("messenger", status=500, count=None, endpoint="send")
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        open_chat(page, "在嗎")
        page.get_by_test_id("composer-text").fill("在的")
        page.get_by_test_id("composer-text").press("Enter")
        failed = page.locator(".msg.outbound.state-failed")
        expect(failed.get_by_test_id("msg-error")).to_contain_text("retry")
        orm(sandbox.clear_faults)
        failed.get_by_test_id("retry").click()
        expect(page.locator(".msg.outbound").last.get_by_test_id("msg-state")).to_have_text("sent")
        assert orm(lambda: sandbox.calls("messenger", "send").filter(status=200).count()) == 1
