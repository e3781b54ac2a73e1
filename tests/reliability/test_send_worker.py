"""Sends at the Celery task level: a real `celery worker` process runs `inbox.tasks.message_deliver` against
the platform sandbox (a live server) through real Redis and PostgreSQL.

tests/reliability/test_sends.py covers the HTTP client's own attempts (in-process tasks). Here the client
makes one attempt per run (PLATFORM_MAX_ATTEMPTS=1) so the task's retries with backoff do the work:
- platform 500s: the task retries with growing countdowns, same LINE retry key, delivered once;
- after the task's last retry the message is failed with the platform's reason; a manual retry sends it once;
- the worker is SIGKILLed while LINE is accepting the push: the unacknowledged task (acks_late) runs again in
  another worker with the same retry key, LINE answers 409 "already accepted", the message is sent, once;
- the same during a Messenger send (no idempotency key there): the task that comes back never sends again;
  Meta's echo tells it the message went out (sent), and without an echo it is failed, "may have gone out";
- the same during a LINE reply (no retry key, no echo): failed, "may have reached the customer", never sent again.

Task retries wait 1, 2, 4 s here (TASK_RETRY_BASE_SECONDS in worker_settings; 30, 60, 120 s in production).
"""
from __future__ import annotations

import os
import time

import pytest

from inbox.models import Conversation, InboxSettings, Message
from inbox.services.messaging import send_message
from inbox.tasks import DELIVER_MAX_RETRIES
from integrations.sandbox import services as sandbox
from integrations.sandbox.models import SandboxChatMessage, SandboxFault, SandboxPage
from tests import factories
from tests.live import LINE_DEST, PAGE_ID, platforms  # noqa: F401 (fixture)
from tests.reliability.support import wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL")),
        reason="needs Redis and PostgreSQL (REDIS_URL, DATABASE_URL); CI always sets both",
    ),
]

LINE_USER = "U" + "b" * 32
PSID = "7000000000000515"


def worker_env(platforms) -> dict[str, str]:
    """The worker talks to this test's sandbox, one HTTP attempt per task run, task retries after 1, 2, 4 s."""
    return {
        "GRAPH_API_BASE": f"{platforms.url}/sandbox/graph/v25.0",
        "LINE_API_BASE": f"{platforms.url}/sandbox/line",
        "LINE_DATA_API_BASE": f"{platforms.url}/sandbox/line-data",
        "PUBLIC_BASE_URL": platforms.url,
        "PLATFORM_MAX_ATTEMPTS": "1",
        "PLATFORM_READ_TIMEOUT": "15",
        "RELIABILITY_TASK_RETRY_BASE_SECONDS": "1",
    }


@pytest.fixture
def agent(platforms):
    return factories.staff_user("agent")


@pytest.fixture
def push_chat(platforms, queue, workers, settings):
    """A LINE customer wrote long enough ago that the reply token is gone: the next send is a retry-keyed push.
    The webhook is processed by a first worker (whose handle is returned with the conversation)."""
    InboxSettings.objects.update_or_create(pk=1, defaults={"confirm_paid_line_push": False})
    worker = workers(queue, env=worker_env(platforms))
    sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="還有貨嗎")
    assert wait_for(lambda: Conversation.objects.filter(channel=platforms.line).exists(), timeout=30), worker.output()
    conversation = Conversation.objects.get(channel=platforms.line)
    Conversation.objects.filter(pk=conversation.pk).update(reply_token="", reply_token_at=None)
    return Conversation.objects.select_related("channel", "contact").get(pk=conversation.pk), worker


def delivered(text: str) -> int:
    return SandboxChatMessage.objects.filter(direction="from_shop", text=text).count()


def state_of(message: Message) -> str:
    return Message.objects.get(pk=message.pk).state


class TaskLevelSendTests:
    def test_500s_are_retried_by_the_task_with_backoff_and_delivered_once(self, push_chat, agent):
        conversation, worker = push_chat
        sandbox.set_fault("line", status=500, count=2, endpoint="push")
        message = send_message(conversation=conversation, author=agent, text="今天出貨")
        assert wait_for(lambda: state_of(message) == Message.State.SENT, timeout=40), worker.output()

        pushes = list(sandbox.calls("line", "push"))
        assert [c.status for c in pushes] == [500, 500, 200]
        message.refresh_from_db()
        assert {c.headers["X-Line-Retry-Key"] for c in pushes} == {str(message.retry_key)}
        assert message.attempts == 3 and message.billed is True
        # Backoff: the task waited ~1 s, then ~2 s, between its runs.
        gaps = [(b.created_at - a.created_at).total_seconds() for a, b in zip(pushes, pushes[1:])]
        assert gaps[0] >= 0.9 and gaps[1] >= 1.9, gaps
        # The retried runs end in Retry, one run succeeds (its log line may follow the state change a moment later).
        assert wait_for(lambda: worker.results("message_deliver") == ["sent"], timeout=10), worker.output()
        assert delivered("今天出貨") == 1 and sum(c.billed for c in pushes) == 1

    def test_after_the_last_task_retry_the_message_fails_with_the_reason_and_a_manual_retry_sends_once(self, push_chat, agent, client):
        conversation, worker = push_chat
        sandbox.set_fault("line", status=500, count=None, endpoint="push")
        message = send_message(conversation=conversation, author=agent, text="訂單已成立")
        # The first run and DELIVER_MAX_RETRIES retries (after 1 + 2 + 4 s), then failed.
        assert wait_for(lambda: state_of(message) == Message.State.FAILED, timeout=60), worker.output()
        message.refresh_from_db()
        assert sandbox.calls("line", "push").count() == DELIVER_MAX_RETRIES + 1 == message.attempts
        assert "HTTP 500" in message.error
        assert wait_for(lambda: worker.results("message_deliver") == ["failed"], timeout=10), worker.output()
        client.force_login(agent)
        shown = next(m for m in client.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()["results"] if m["id"] == message.pk)
        assert shown["state"] == "failed" and "HTTP 500" in shown["error"]
        time.sleep(1)
        assert sandbox.calls("line", "push").count() == DELIVER_MAX_RETRIES + 1  # it stopped

        sandbox.clear_faults()
        retried = client.post(f"/api/v1/messages/{message.pk}/retry/", {}, content_type="application/json")
        assert retried.status_code == 200, retried.content
        assert wait_for(lambda: state_of(message) == Message.State.SENT, timeout=30), worker.output()
        ok = sandbox.calls("line", "push").filter(status=200)
        assert ok.count() == 1 and ok.get().headers["X-Line-Retry-Key"] == str(message.retry_key)
        assert delivered("訂單已成立") == 1

    def test_worker_killed_while_line_accepts_the_push_the_task_runs_again_and_it_is_sent_once(self, push_chat, agent, queue, workers, platforms):
        conversation, first = push_chat
        # LINE takes 6 s to answer this push: the worker is killed while waiting for the answer.
        fault = sandbox.set_fault("line", status=None, latency_ms=6000, count=1, endpoint="push")
        message = send_message(conversation=conversation, author=agent, text="請查收訂單")
        assert wait_for(lambda: SandboxFault.objects.get(pk=fault.pk).remaining == 0, timeout=30), first.output()
        first.kill()
        # LINE accepted it (the customer has it) but the worker died before hearing so.
        assert wait_for(lambda: delivered("請查收訂單") == 1, timeout=20)
        assert state_of(message) == Message.State.QUEUED

        # The task was not acknowledged: another worker gets it back after the visibility timeout.
        second = workers(queue, env=worker_env(platforms), visibility_timeout=1)
        assert wait_for(lambda: state_of(message) == Message.State.SENT, timeout=40), second.output()
        message.refresh_from_db()
        pushes = list(sandbox.calls("line", "push"))
        assert sorted(c.status for c in pushes) == [200, 409]  # 409: LINE already accepted that retry key
        assert {c.headers["X-Line-Retry-Key"] for c in pushes} == {str(message.retry_key)}
        assert delivered("請查收訂單") == 1 and sum(c.billed for c in pushes) == 1
        assert wait_for(lambda: second.results("message_deliver") == ["sent"], timeout=10), second.output()

    def test_worker_killed_during_a_line_reply_it_is_failed_with_may_have_reached_never_replied_again(
        self, platforms, agent, queue, workers
    ):
        """A LINE reply has no retry key and no echo: the task that comes back after its worker died can't know
        whether LINE took it, and sending again proves nothing (the token works once). It is failed saying so,
        not with LINE's "Invalid reply token", and never sent again; a person decides (a push, then)."""
        InboxSettings.objects.update_or_create(pk=1, defaults={"confirm_paid_line_push": False})
        first = workers(queue, env=worker_env(platforms))
        sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="可以幫我保留嗎")
        assert wait_for(lambda: Conversation.objects.filter(channel=platforms.line).exclude(reply_token="").exists(), timeout=30), first.output()
        conversation = Conversation.objects.select_related("channel", "contact").get(channel=platforms.line)
        # LINE takes 6 s to answer this reply: the worker is killed while waiting for the answer.
        fault = sandbox.set_fault("line", status=None, latency_ms=6000, count=1, endpoint="reply")
        message = send_message(conversation=conversation, author=agent, text="幫您保留到週五")
        assert message.reply_token and message.retry_key is None  # a free reply, no retry key
        assert wait_for(lambda: SandboxFault.objects.get(pk=fault.pk).remaining == 0, timeout=30), first.output()
        first.kill()
        assert wait_for(lambda: delivered("幫您保留到週五") == 1, timeout=20)  # LINE took it; the worker never heard
        assert state_of(message) == Message.State.QUEUED

        late = workers(queue, env=worker_env(platforms), visibility_timeout=1)
        assert wait_for(lambda: late.results("message_deliver") == ["failed"], timeout=30), late.output()
        message.refresh_from_db()
        assert message.state == Message.State.FAILED
        assert "may have reached the customer" in message.error or "可能已經收到" in message.error
        assert sandbox.calls("line", "reply").count() == 1 and not sandbox.calls("line", "push").exists()
        assert delivered("幫您保留到週五") == 1

    def test_worker_killed_during_a_messenger_send_it_is_settled_by_the_echo_not_sent_again(self, platforms, agent, queue, workers):
        """A Messenger send has no idempotency key, so a task that comes back after its worker died must not
        send blindly. Meta's echo (carrying our metadata) records the platform's message id; the redelivered
        task sees it and marks the message sent without sending. (Without an echo it would be failed with
        "may have gone out", never repeated.) In production the visibility timeout, 20 minutes, leaves the
        echo ample time; here a second worker with the default hour processes the echo, then a third with
        a 1-second timeout takes the dead worker's task back."""
        first = workers(queue, env=worker_env(platforms))
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="請問運費")
        assert wait_for(lambda: Conversation.objects.filter(channel=platforms.page).exists(), timeout=30), first.output()
        conversation = Conversation.objects.get(channel=platforms.page)
        # Meta takes 6 s to answer this send: the worker is killed while waiting for the answer.
        fault = sandbox.set_fault("messenger", status=None, latency_ms=6000, count=1, endpoint="send")
        message = send_message(conversation=conversation, author=agent, text="運費 60 元")
        assert wait_for(lambda: SandboxFault.objects.get(pk=fault.pk).remaining == 0, timeout=30), first.output()
        first.kill()
        assert state_of(message) == Message.State.QUEUED, first.output()  # it died before hearing the answer
        assert wait_for(lambda: delivered("運費 60 元") == 1, timeout=20)

        echo_worker = workers(queue, env=worker_env(platforms))
        assert wait_for(lambda: Message.objects.get(pk=message.pk).platform_message_id != "", timeout=30), echo_worker.output()
        echo_worker.stop()
        assert state_of(message) == Message.State.QUEUED
        late = workers(queue, env=worker_env(platforms), visibility_timeout=1)
        assert wait_for(lambda: late.results("message_deliver") == ["sent"], timeout=30), late.output()
        message.refresh_from_db()
        assert message.state == Message.State.SENT and message.error == ""
        assert sandbox.calls("messenger", "send").count() == 1
        assert delivered("運費 60 元") == 1
        assert Message.objects.filter(direction="outbound").count() == 1

    def test_worker_killed_during_a_messenger_send_and_no_echo_it_is_failed_with_the_reason_not_sent_again(
        self, platforms, agent, queue, workers
    ):
        first = workers(queue, env=worker_env(platforms))
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="請問有現貨嗎")
        assert wait_for(lambda: Conversation.objects.filter(channel=platforms.page).exists(), timeout=30), first.output()
        conversation = Conversation.objects.get(channel=platforms.page)
        # Meta's echo will not reach us: the page's webhook now points at a closed port.
        SandboxPage.objects.filter(page_id=PAGE_ID).update(webhook_url="http://127.0.0.1:9/webhooks/messenger/")
        fault = sandbox.set_fault("messenger", status=None, latency_ms=6000, count=1, endpoint="send")
        message = send_message(conversation=conversation, author=agent, text="有現貨")
        assert wait_for(lambda: SandboxFault.objects.get(pk=fault.pk).remaining == 0, timeout=30), first.output()
        first.kill()
        assert state_of(message) == Message.State.QUEUED, first.output()
        assert wait_for(lambda: delivered("有現貨") == 1, timeout=20)

        late = workers(queue, env=worker_env(platforms), visibility_timeout=1)
        assert wait_for(lambda: late.results("message_deliver") == ["failed"], timeout=30), late.output()
        message.refresh_from_db()
        # The worker writes in the shop's language (zh-Hant by default).
        assert message.state == Message.State.FAILED and ("may have gone out" in message.error or "可能已送出" in message.error)
        assert sandbox.calls("messenger", "send").count() == 1  # never repeated blindly
        assert delivered("有現貨") == 1
