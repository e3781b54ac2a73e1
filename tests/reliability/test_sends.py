"""Sends under platform faults: 500s, timeouts (the sandbox slower than our read timeout) and 429 with
Retry-After. Retried with backoff, never delivered twice, failed with the reason after the last attempt, and
a manual retry works. Everything crosses real HTTP to the sandbox (tests/live.py); nothing of ours is mocked.
"""
import pytest

from inbox.errors import SendRefused
from inbox.models import Conversation, InboxSettings, Message
from inbox.services.messaging import retry_message, send_message
from integrations.sandbox import services as sandbox
from integrations.sandbox.models import SandboxChatMessage
from tests import factories
from tests.live import LINE_DEST, PAGE_ID, platforms  # noqa: F401 (fixture)
from tests.reliability.support import wait_for

PSID = "7000000000000314"
LINE_USER = "U" + "d" * 32


@pytest.fixture
def agent(transactional_db):
    return factories.staff_user("agent")


def conversation_of(channel) -> Conversation:
    return Conversation.objects.select_related("channel", "contact").get(channel=channel)


def delivered_to_customer(text: str) -> int:
    """How many times the customer's phone shows this text from the shop."""
    return SandboxChatMessage.objects.filter(direction="from_shop", text=text).count()


@pytest.fixture
def line_push_conversation(platforms, settings):
    """A LINE customer whose reply token is used up, so the next send is a (paid, retry-keyed) push."""
    sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="在嗎")
    conversation = conversation_of(platforms.line)
    Conversation.objects.filter(pk=conversation.pk).update(reply_token="", reply_token_at=None)
    InboxSettings.objects.update_or_create(pk=1, defaults={"confirm_paid_line_push": False})
    return conversation_of(platforms.line)


@pytest.fixture
def messenger_conversation(platforms):
    sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="在嗎")
    return conversation_of(platforms.page)


class LinePushFaultTests:
    def test_500s_are_retried_with_the_same_retry_key_and_delivered_once(self, line_push_conversation, agent, settings):
        settings.PLATFORM_MAX_ATTEMPTS = 3
        sandbox.set_fault("line", status=500, count=2, endpoint="push")
        message = send_message(conversation=line_push_conversation, author=agent, text="有貨")
        message.refresh_from_db()
        assert message.state == Message.State.SENT
        pushes = list(sandbox.calls("line", "push"))
        assert [c.status for c in pushes] == [500, 500, 200]
        keys = {c.headers["X-Line-Retry-Key"] for c in pushes}
        assert keys == {str(message.retry_key)}
        assert delivered_to_customer("有貨") == 1
        assert sum(c.billed for c in pushes) == 1

    def test_a_timeout_after_line_accepted_the_push_is_not_sent_twice(self, line_push_conversation, agent, settings):
        # The sandbox takes 1.5 s, our client waits 0.5 s: the push is accepted but the answer is lost.
        settings.PLATFORM_TIMEOUT = (2, 0.5)
        settings.PLATFORM_MAX_ATTEMPTS = 4
        settings.PLATFORM_BACKOFF_SECONDS = 0.6
        sandbox.set_fault("line", status=None, latency_ms=1500, count=1, endpoint="push")
        message = send_message(conversation=line_push_conversation, author=agent, text="已出貨")
        message.refresh_from_db()
        assert message.state == Message.State.SENT, message.error
        # The first, slow request is recorded when it finally ends (the test waits for it, so it can't leak
        # into the next test); it and the repeat carry the same key, and LINE sent the message once.
        assert wait_for(lambda: sandbox.calls("line", "push").count() == 2, timeout=10)
        pushes = list(sandbox.calls("line", "push"))
        assert {c.headers["X-Line-Retry-Key"] for c in pushes} == {str(message.retry_key)}
        assert sorted(c.status for c in pushes) == [200, 409]  # 409: "the retry key is already accepted"
        assert delivered_to_customer("已出貨") == 1
        assert sum(c.billed for c in pushes) == 1

    def test_429_waits_for_retry_after(self, line_push_conversation, agent, settings):
        settings.PLATFORM_MAX_RETRY_AFTER_SECONDS = 5
        sandbox.set_fault("line", status=429, count=1, retry_after=1, endpoint="push")
        message = send_message(conversation=line_push_conversation, author=agent, text="稍等")
        message.refresh_from_db()
        assert message.state == Message.State.SENT
        first, second = sandbox.calls("line", "push")
        assert (first.status, second.status) == (429, 200)
        assert (second.created_at - first.created_at).total_seconds() >= 0.9
        assert first.headers["X-Line-Retry-Key"] == second.headers["X-Line-Retry-Key"]
        assert delivered_to_customer("稍等") == 1

    def test_last_attempt_fails_with_the_reason_then_a_manual_retry_sends_once(self, line_push_conversation, agent, settings, client):
        settings.PLATFORM_MAX_ATTEMPTS = 3
        sandbox.set_fault("line", status=500, count=None, endpoint="push")
        message = send_message(conversation=line_push_conversation, author=agent, text="訂單確認")
        message.refresh_from_db()
        assert message.state == Message.State.FAILED
        assert "HTTP 500" in message.error and "Internal server error" in message.error
        assert sandbox.calls("line", "push").count() == 3  # every attempt, then it stopped
        # The reason is shown to staff: in the API and in the rendered chat.
        client.force_login(agent)
        api = client.get(f"/api/v1/conversations/{line_push_conversation.pk}/messages/").json()
        shown = next(m for m in api["results"] if m["id"] == message.pk)
        assert shown["state"] == "failed" and "HTTP 500" in shown["error"]
        assert "Internal server error" in client.get(f"/inbox/fragments/message/{message.pk}/").content.decode()

        sandbox.clear_faults()
        retried = client.post(f"/api/v1/messages/{message.pk}/retry/", {}, content_type="application/json")
        assert retried.status_code == 200, retried.content
        message.refresh_from_db()
        assert message.state == Message.State.SENT
        ok = sandbox.calls("line", "push").filter(status=200)
        assert ok.count() == 1 and ok.get().headers["X-Line-Retry-Key"] == str(message.retry_key)
        assert delivered_to_customer("訂單確認") == 1
        # A second retry of a sent message is refused, not sent again.
        assert client.post(f"/api/v1/messages/{message.pk}/retry/", {}, content_type="application/json").status_code == 409


class MessengerSendFaultTests:
    def test_500s_are_retried_and_delivered_once(self, messenger_conversation, agent, settings):
        settings.PLATFORM_MAX_ATTEMPTS = 3
        sandbox.set_fault("messenger", status=500, count=2, endpoint="send")
        message = send_message(conversation=messenger_conversation, author=agent, text="好的")
        message.refresh_from_db()
        assert message.state == Message.State.SENT
        assert [c.status for c in sandbox.calls("messenger", "send")] == [500, 500, 200]
        assert delivered_to_customer("好的") == 1
        assert Message.objects.filter(direction="outbound").count() == 1  # the echo was recognised as ours

    def test_429_waits_for_retry_after(self, messenger_conversation, agent, settings):
        settings.PLATFORM_MAX_RETRY_AFTER_SECONDS = 5
        sandbox.set_fault("messenger", status=429, count=1, retry_after=1, endpoint="send")
        message = send_message(conversation=messenger_conversation, author=agent, text="馬上回覆")
        message.refresh_from_db()
        assert message.state == Message.State.SENT
        first, second = sandbox.calls("messenger", "send")
        assert (first.status, second.status) == (429, 200)
        assert (second.created_at - first.created_at).total_seconds() >= 0.9
        assert delivered_to_customer("馬上回覆") == 1

    def test_a_timed_out_send_is_not_repeated_and_the_echo_settles_it(self, messenger_conversation, agent, settings):
        """A Messenger send has no idempotency key: after a read timeout it may have gone out, so it is
        never repeated blindly. Meta's echo (carrying our metadata) then marks it sent."""
        settings.PLATFORM_TIMEOUT = (2, 0.5)
        sandbox.set_fault("messenger", status=None, latency_ms=1500, count=1, endpoint="send")
        message = send_message(conversation=messenger_conversation, author=agent, text="收到")
        message.refresh_from_db()
        assert message.state == Message.State.FAILED and "no answer in time" in message.error

        # The sandbox finishes the slow send (one call, never repeated) and echoes it to our webhook.
        assert wait_for(lambda: sandbox.calls("messenger", "send").count() == 1, timeout=10)
        assert wait_for(lambda: Message.objects.get(pk=message.pk).state == Message.State.SENT, timeout=10)
        message.refresh_from_db()
        assert message.error == "" and message.platform_message_id
        assert delivered_to_customer("收到") == 1
        assert Message.objects.filter(direction="outbound").count() == 1
        with pytest.raises(SendRefused):
            retry_message(message=message, actor=agent)

    def test_last_attempt_fails_with_the_reason_then_a_manual_retry_sends_once(self, messenger_conversation, agent, settings, client):
        settings.PLATFORM_MAX_ATTEMPTS = 3
        sandbox.set_fault("messenger", status=503, count=None, endpoint="send")
        message = send_message(conversation=messenger_conversation, author=agent, text="明天寄出")
        message.refresh_from_db()
        assert message.state == Message.State.FAILED
        assert "HTTP 503" in message.error and "retry" in message.error.lower()
        assert sandbox.calls("messenger", "send").count() == 3
        # The reason is shown to staff: in the API and in the rendered chat.
        client.force_login(agent)
        api = client.get(f"/api/v1/conversations/{messenger_conversation.pk}/messages/").json()
        shown = next(m for m in api["results"] if m["id"] == message.pk)
        assert shown["state"] == "failed" and "HTTP 503" in shown["error"]
        assert "HTTP 503" in client.get(f"/inbox/fragments/message/{message.pk}/").content.decode()

        sandbox.clear_faults()
        retried = client.post(f"/api/v1/messages/{message.pk}/retry/", {}, content_type="application/json")
        assert retried.status_code == 200, retried.content
        message.refresh_from_db()
        assert message.state == Message.State.SENT
        assert sandbox.calls("messenger", "send").filter(status=200).count() == 1
        assert delivered_to_customer("明天寄出") == 1
        assert client.post(f"/api/v1/messages/{message.pk}/retry/", {}, content_type="application/json").status_code == 409
