"""What the app receives when a simulated customer acts: exact platform JSON, signed, retried like the platform."""
import datetime as dt
import re

import pytest
from django.utils import timezone

from integrations.sandbox import services
from integrations.sandbox.models import SandboxChatMessage, SandboxReplyToken, SandboxUser
from tests.sandbox.support import (
    APP_ID,
    CapturedRequest,
    BOT_DESTINATION,
    BOT_TOKEN,
    LINE_USER,
    PAGE_ID,
    PSID,
    line_signature_ok,
    messenger_signature_ok,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def messenger_event(request):
    body = request.json
    assert body["object"] == "page"
    [entry] = body["entry"]
    assert entry["id"] == PAGE_ID
    [event] = entry["messaging"]
    return event


@pytest.mark.django_db
class MessengerWebhookTests:
    def test_text_message_is_signed_and_shaped_like_meta(self, page, capture_server):
        result = services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="有貨嗎? äöå")

        [request] = capture_server.requests
        assert result.status_code == 200
        assert request.path == "/webhooks/messenger/"
        assert request.body == result.body_sent
        assert messenger_signature_ok(request)
        assert b"\\u6709\\u8ca8" in request.body  # non-ASCII arrives escaped, as Meta sends it
        event = messenger_event(request)
        assert event["sender"] == {"id": PSID}
        assert event["recipient"] == {"id": PAGE_ID}
        assert event["message"]["text"] == "有貨嗎? äöå"
        assert event["message"]["mid"].startswith("m_")
        assert result.event == event

    def test_at_backdates_the_event_and_the_window(self, page, capture_server):
        at = timezone.now() - dt.timedelta(hours=30)

        services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi", at=at)

        event = messenger_event(capture_server.requests[0])
        assert event["timestamp"] == int(at.timestamp() * 1000)
        assert SandboxUser.objects.get(user_id=PSID).last_user_message_at == at

    def test_new_user_is_created_once(self, page, capture_server):
        services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="one")
        services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="two")

        assert SandboxUser.objects.filter(user_id=PSID).count() == 1
        texts = list(SandboxChatMessage.objects.filter(direction="to_shop").values_list("text", flat=True))
        assert texts == ["one", "two"]

    def test_sticker_is_a_sticker_attachment(self, page, capture_server):
        services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, sticker="369239263222822")

        [attachment] = messenger_event(capture_server.requests[0])["message"]["attachments"]
        assert attachment["type"] == "sticker"
        assert attachment["payload"]["sticker_id"] == 369239263222822
        assert attachment["payload"]["url"].startswith("http")

    def test_image_url_serves_the_bytes(self, page, capture_server, client, settings):
        settings.SANDBOX_APP_BASE_URL = "http://testserver"

        services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, image=PNG)

        [attachment] = messenger_event(capture_server.requests[0])["message"]["attachments"]
        assert attachment["type"] == "image"
        response = client.get(attachment["payload"]["url"])
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response.content == PNG

    def test_location_and_postback(self, page, capture_server):
        services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, location={"latitude": 25.03, "longitude": 121.56})
        services.messenger_postback(PAGE_ID, PSID, payload="GET_STARTED", title="Get Started")

        location = messenger_event(capture_server.requests[0])["message"]["attachments"][0]
        assert location["payload"]["coordinates"] == {"lat": 25.03, "long": 121.56}
        postback = messenger_event(capture_server.requests[1])["postback"]
        assert postback["payload"] == "GET_STARTED"
        assert postback["title"] == "Get Started"

    def test_read_event_carries_a_watermark(self, page, capture_server):
        services.user_reads(PAGE_ID, PSID)

        event = messenger_event(capture_server.requests[0])
        assert event["read"]["watermark"] == event["timestamp"]
        assert messenger_signature_ok(capture_server.requests[0])

    def test_failed_delivery_is_retried_three_times(self, page, capture_server):
        capture_server.statuses = [500, 503, 500]

        result = services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi")

        assert result.status_code == 200
        assert result.attempts == 4
        bodies = {request.body for request in capture_server.requests}
        assert len(capture_server.requests) == 4 and len(bodies) == 1  # the same signed body each time

    def test_giving_up_keeps_the_last_status(self, page, capture_server):
        capture_server.statuses = [500] * 4

        result = services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi")

        assert (result.status_code, result.attempts, result.ok) == (500, 4, False)
        assert SandboxChatMessage.objects.get().webhook_status == 500

    def test_unreachable_app_is_an_answer_not_an_exception(self, page):
        page.webhook_url = "http://127.0.0.1:9/nothing-listens"
        page.save()

        result = services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi")

        assert result.status_code is None
        assert result.error

    def test_one_thing_at_a_time(self, page):
        with pytest.raises(ValueError):
            services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi", sticker="1")
        with pytest.raises(ValueError):
            services.user_says("messenger", page_id=PAGE_ID, user_id=PSID)


@pytest.mark.django_db
class LineWebhookTests:
    def test_text_message_is_signed_and_shaped_like_line(self, bot, capture_server):
        result = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, text="你好")

        [request] = capture_server.requests
        assert result.status_code == 200
        assert line_signature_ok(request)
        assert "你好".encode() in request.body  # LINE sends UTF-8 unescaped
        body = request.json
        assert body["destination"] == BOT_DESTINATION
        [event] = body["events"]
        assert event["type"] == "message"
        assert event["mode"] == "active"
        assert event["source"] == {"type": "user", "userId": LINE_USER}
        assert ULID.match(event["webhookEventId"])
        assert event["deliveryContext"] == {"isRedelivery": False}
        assert event["message"]["type"] == "text" and event["message"]["text"] == "你好"
        assert event["message"]["id"].isdigit()
        assert SandboxReplyToken.objects.get(token=event["replyToken"]).used_at is None

    def test_reply_token_is_issued_at_the_event_time(self, bot, capture_server):
        at = timezone.now() - dt.timedelta(minutes=5)

        result = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, text="hi", at=at)

        assert result.event["timestamp"] == int(at.timestamp() * 1000)
        assert SandboxReplyToken.objects.get(token=result.event["replyToken"]).issued_at == at

    def test_image_bytes_come_from_the_content_api(self, bot, capture_server, client):
        result = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, image=PNG)

        message = result.event["message"]
        assert message["type"] == "image"
        assert message["contentProvider"] == {"type": "line"}
        response = client.get(
            f"/sandbox/line-data/v2/bot/message/{message['id']}/content", HTTP_AUTHORIZATION=f"Bearer {BOT_TOKEN}"
        )
        assert response.status_code == 200
        assert response.content == PNG
        assert response["Content-Type"] == "image/png"

    def test_sticker_and_location(self, bot, capture_server):
        sticker = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, sticker=("446", "1988"))
        place = {"latitude": 25.03, "longitude": 121.56, "title": "Taipei 101", "address": "Xinyi"}
        location = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, location=place)

        assert sticker.event["message"]["packageId"] == "446"
        assert sticker.event["message"]["stickerId"] == "1988"
        assert sticker.event["message"]["stickerResourceType"] == "STATIC"
        assert location.event["message"]["title"] == "Taipei 101"
        assert location.event["message"]["latitude"] == 25.03

    def test_follow_unfollow(self, bot, capture_server):
        followed = services.user_follows(BOT_DESTINATION, LINE_USER)
        unfollowed = services.user_unfollows(BOT_DESTINATION, LINE_USER)
        unblocked = services.user_follows(BOT_DESTINATION, LINE_USER)

        assert followed.event["follow"] == {"isUnblocked": False}
        assert "replyToken" in followed.event
        assert unfollowed.event["type"] == "unfollow"
        assert "replyToken" not in unfollowed.event
        assert unblocked.event["follow"] == {"isUnblocked": True}
        assert all(line_signature_ok(request) for request in capture_server.requests)
        assert SandboxUser.objects.get(user_id=LINE_USER).following

    def test_redeliver_repeats_the_event(self, bot, capture_server):
        first = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, text="hi")

        again = services.redeliver(BOT_DESTINATION, first.event)

        [event] = capture_server.requests[1].json["events"]
        assert event["deliveryContext"] == {"isRedelivery": True}
        assert event["webhookEventId"] == first.event["webhookEventId"]
        assert event["replyToken"] == first.event["replyToken"]
        assert event["timestamp"] == first.event["timestamp"]
        assert line_signature_ok(capture_server.requests[1])
        assert again.ok

    def test_failed_delivery_is_redelivered_once_when_enabled(self, bot, capture_server):
        bot.redelivery_enabled = True
        bot.save()
        capture_server.statuses = [500, 500]

        result = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, text="hi")

        first, second = capture_server.requests
        assert first.json["events"][0]["deliveryContext"] == {"isRedelivery": False}
        assert second.json["events"][0]["deliveryContext"] == {"isRedelivery": True}
        assert (result.status_code, result.attempts) == (500, 2)

    def test_no_redelivery_by_default(self, bot, capture_server):
        capture_server.statuses = [500]

        result = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, text="hi")

        assert len(capture_server.requests) == 1
        assert result.status_code == 500

    def test_unsend_makes_the_content_gone(self, bot, capture_server, client):
        image = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, image=PNG)
        message_id = image.event["message"]["id"]

        unsend = services.user_unsends(BOT_DESTINATION, LINE_USER, message_id)

        assert unsend.event["unsend"] == {"messageId": message_id}
        response = client.get(
            f"/sandbox/line-data/v2/bot/message/{message_id}/content", HTTP_AUTHORIZATION=f"Bearer {BOT_TOKEN}"
        )
        assert response.status_code == 410
        assert response.json() == {"message": "The content is gone"}

    def test_relative_webhook_url_points_at_the_app(self, bot, capture_server, settings):
        settings.SANDBOX_APP_BASE_URL = capture_server.url
        bot.webhook_url = "/webhooks/line/7/"
        bot.save()

        services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, text="hi")

        assert capture_server.requests[0].path == "/webhooks/line/7/"

    def test_blank_webhook_url_delivers_nothing(self, bot):
        bot.webhook_url = ""
        bot.save()

        result = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, text="hi")

        assert (result.status_code, result.attempts) == (None, 0)
        unsent = CapturedRequest("", result.headers_sent, result.body_sent)  # still built and signed
        assert line_signature_ok(unsent)


def test_registering_a_bot_checks_the_destination(db):
    with pytest.raises(Exception, match="32"):
        services.register_line_bot("not-a-line-id", "secret", "token", "")


def test_messenger_echo_app_id_is_a_number(page, capture_server):
    user = services.get_or_create_user("messenger", page_id=PAGE_ID, user_id=PSID)

    services.send_messenger_echo(user, mid="m_1", sent={"text": "hi"}, metadata="order:1")

    message = messenger_event(capture_server.requests[0])["message"]
    assert message == {"is_echo": True, "app_id": int(APP_ID), "mid": "m_1", "metadata": "order:1", "text": "hi"}
