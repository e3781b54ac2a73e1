"""The platform clients against the sandbox over HTTP: request shapes, typed errors, retries."""
import datetime as dt
import time

import pytest
from django.utils import timezone

from integrations.base import (
    AuthError,
    Delivery,
    InvalidReplyToken,
    InvalidRequest,
    OutboundMessage,
    QuotaExceeded,
    RateLimited,
    RecipientUnavailable,
    TransientError,
    WindowClosed,
)
from integrations.line.client import LineClient
from integrations.messenger.client import MessengerClient
from integrations.sandbox import services as sandbox
from tests.live import LINE_DEST, LINE_TOKEN, PAGE_ID, PAGE_TOKEN, platforms  # noqa: F401 (fixture)

PSID = "7000000000000077"
LINE_USER = "U" + "f" * 32
RESPONSE = Delivery(messaging_type="RESPONSE")


def messenger(token=PAGE_TOKEN) -> MessengerClient:
    return MessengerClient(page_id=PAGE_ID, access_token=token)


def line(token=LINE_TOKEN) -> LineClient:
    return LineClient(access_token=token)


class MessengerClientTests:
    def test_text_and_image_are_two_requests_with_metadata(self, platforms):
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi")
        result = messenger().send(
            recipient_id=PSID, message=OutboundMessage(text="看這張", image_url=f"{platforms.url}/static/css/app.css", metadata="inbox:1"),
            delivery=RESPONSE,
        )
        assert len(result.message_ids) == 2 and all(result.message_ids)
        text_call, image_call = sandbox.calls("messenger", "send")
        assert text_call.body["message"] == {"text": "看這張", "metadata": "inbox:1"}
        assert image_call.body["message"]["attachment"]["type"] == "image"

    def test_outside_the_window_is_window_closed(self, platforms):
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi", at=timezone.now() - dt.timedelta(hours=25))
        with pytest.raises(WindowClosed) as error:
            messenger().send(recipient_id=PSID, message=OutboundMessage(text="x"), delivery=RESPONSE)
        assert (error.value.code, error.value.subcode) == (10, 2018278)
        assert len(sandbox.calls("messenger", "send")) == 1  # never retried

    def test_bad_token_is_auth_error(self, platforms):
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi")
        with pytest.raises(AuthError) as error:
            messenger("wrong-token").send(recipient_id=PSID, message=OutboundMessage(text="x"), delivery=RESPONSE)
        assert error.value.code == 190

    def test_unknown_user_is_unavailable(self, platforms):
        with pytest.raises(RecipientUnavailable):
            messenger().send(recipient_id="1234", message=OutboundMessage(text="x"), delivery=RESPONSE)

    def test_transient_errors_are_retried_then_succeed(self, platforms):
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi")
        sandbox.set_fault("messenger", status=500, count=2, endpoint="send")
        result = messenger().send(recipient_id=PSID, message=OutboundMessage(text="x"), delivery=RESPONSE)
        assert result.message_ids[0]
        assert [c.status for c in sandbox.calls("messenger", "send")] == [500, 500, 200]

    def test_rate_limit_gives_up_after_the_attempts(self, platforms):
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi")
        sandbox.set_fault("messenger", status=429, count=None, endpoint="send", retry_after=0)
        with pytest.raises(RateLimited):
            messenger().send(recipient_id=PSID, message=OutboundMessage(text="x"), delivery=RESPONSE)
        assert len(sandbox.calls("messenger", "send")) == 3

    def test_partial_failure_reports_what_was_sent(self, platforms):
        """Text accepted, image refused: the error carries the text's id so a retry sends only the image."""
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi")
        with pytest.raises(InvalidRequest) as error:
            messenger().send(recipient_id=PSID, message=OutboundMessage(text="a", image_url="not a url"), delivery=RESPONSE)
        (text_call, image_call) = sandbox.calls("messenger", "send")
        assert error.value.sent_ids == (text_call.response["message_id"],)
        assert image_call.status == 400

    def test_profile(self, platforms):
        sandbox.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi")
        profile = messenger().get_profile(user_id=PSID)
        assert profile.display_name


class LineClientTests:
    def test_reply_token_is_single_use(self, platforms):
        result = sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="hi")
        token = result.event["replyToken"]
        sent = line().send(recipient_id=LINE_USER, message=OutboundMessage(text="a"), delivery=Delivery(reply_token=token))
        assert sent.used_reply and not sent.billed
        with pytest.raises(InvalidReplyToken):
            line().send(recipient_id=LINE_USER, message=OutboundMessage(text="b"), delivery=Delivery(reply_token=token))

    def test_expired_reply_token(self, platforms, settings):
        settings.SANDBOX_REPLY_TOKEN_TTL_SECONDS = 1
        token = sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="hi").event["replyToken"]
        time.sleep(1.2)
        with pytest.raises(InvalidReplyToken):
            line().send(recipient_id=LINE_USER, message=OutboundMessage(text="a"), delivery=Delivery(reply_token=token))

    def test_text_and_image_in_one_push(self, platforms):
        sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="hi")
        result = line().send(
            recipient_id=LINE_USER,
            message=OutboundMessage(text="看這張", image_url=f"{platforms.url}/media/x.png"),
            delivery=Delivery(retry_key="2b0d8f3e-5a1c-4c9e-8f7d-6e5a4b3c2d1e"),
        )
        (push,) = sandbox.calls("line", "push")
        assert [m["type"] for m in push.body["messages"]] == ["text", "image"]
        assert len(result.message_ids) == 2 and result.billed

    def test_transient_push_is_retried_with_the_same_key(self, platforms):
        sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="hi")
        sandbox.set_fault("line", status=500, count=1, endpoint="push")
        line().send(recipient_id=LINE_USER, message=OutboundMessage(text="x"), delivery=Delivery(retry_key="7c9e6679-7425-40de-944b-e07fc1f90ae7"))
        calls = list(sandbox.calls("line", "push"))
        assert [c.status for c in calls] == [500, 200]
        assert {c.headers.get("X-Line-Retry-Key") for c in calls} == {"7c9e6679-7425-40de-944b-e07fc1f90ae7"}

    def test_monthly_limit_is_quota_exceeded(self, platforms):
        sandbox.register_line_bot(LINE_DEST, "e2e-line-secret", LINE_TOKEN, f"{platforms.url}{platforms.line.webhook_path}", quota_limit=0)
        sandbox.user_says("line", destination=LINE_DEST, user_id=LINE_USER, text="hi")
        with pytest.raises(QuotaExceeded):
            line().send(recipient_id=LINE_USER, message=OutboundMessage(text="x"), delivery=Delivery(retry_key="0f8fad5b-d9cb-469f-a165-70867728950e"))
        assert len(sandbox.calls("line", "push")) == 1  # not retried

    def test_bad_token_is_auth_error(self, platforms):
        with pytest.raises(AuthError):
            line("nope").get_quota()

    def test_unknown_profile_is_unavailable(self, platforms):
        with pytest.raises(RecipientUnavailable):
            line().get_profile(user_id="U" + "0" * 32)

    def test_timeout_is_transient(self, platforms, settings):
        settings.PLATFORM_TIMEOUT = (1, 0.3)
        settings.PLATFORM_MAX_ATTEMPTS = 1
        sandbox.set_fault("line", status=None, count=1, endpoint="quota", latency_ms=1000)
        with pytest.raises(TransientError):
            line().get_quota()
