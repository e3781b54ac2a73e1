"""The fake LINE Messaging API answers like LINE: auth, reply tokens, retry keys, quota, profile, content."""
import datetime as dt
import json
import uuid

import pytest
from django.utils import timezone

from integrations.sandbox import services
from integrations.sandbox.models import SandboxChatMessage, SandboxContent, SandboxUser
from tests.sandbox.support import BOT_DESTINATION, BOT_TOKEN, LINE_USER

OTHER_USER = "Uffffffffffffffffffffffffffffff00"
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {BOT_TOKEN}"}


def post(client, path, body, **headers):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(f"/sandbox/line/v2/bot/message/{path}", data=data, content_type="application/json", **AUTH, **headers)


def text(value="hello"):
    return {"type": "text", "text": value}


def reply(client, token, messages=None, **headers):
    return post(client, "reply", {"replyToken": token, "messages": messages or [text()]}, **headers)


def push(client, to=LINE_USER, messages=None, **headers):
    return post(client, "push", {"to": to, "messages": messages or [text()]}, **headers)


def usage(client):
    return client.get("/sandbox/line/v2/bot/message/quota/consumption", **AUTH).json()["totalUsage"]


@pytest.fixture
def friend(bot):
    return services.get_or_create_user("line", destination=BOT_DESTINATION, user_id=LINE_USER, display_name="Ah Hua")


@pytest.fixture
def token(bot, capture_server):
    """A reply token from a message the customer just sent."""
    return services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, text="hi").event["replyToken"]


@pytest.mark.django_db
class LineAuthTests:
    @pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Bearer nope"}, {"HTTP_AUTHORIZATION": BOT_TOKEN}])
    def test_bad_token_is_401(self, client, bot, headers):
        response = client.get("/sandbox/line/v2/bot/message/quota", **headers)

        assert response.status_code == 401
        assert response.json() == {
            "message": "Authentication failed due to the following reason: invalid token. "
            "Confirm that the access token in the authorization header is valid."
        }
        assert response["X-Line-Request-Id"]

    def test_every_answer_has_a_request_id(self, client, bot):
        first = client.get("/sandbox/line/v2/bot/message/quota", **AUTH)
        second = client.get("/sandbox/line/v2/bot/message/quota", **AUTH)

        assert uuid.UUID(first["X-Line-Request-Id"]) != uuid.UUID(second["X-Line-Request-Id"])


@pytest.mark.django_db
class LineReplyTests:
    def test_reply(self, client, token):
        response = reply(client, token, [text("thanks"), {"type": "sticker", "packageId": "446", "stickerId": "1988"}])

        assert response.status_code == 200
        sent = response.json()["sentMessages"]
        assert len(sent) == 2
        assert all(entry["id"].isdigit() and entry["quoteToken"] for entry in sent)
        shown = SandboxChatMessage.objects.filter(direction="from_shop").order_by("id")
        assert [bubble.kind for bubble in shown] == ["text", "sticker"]
        assert shown[0].platform_message_id == sent[0]["id"]

    def test_reply_is_free(self, client, token):
        reply(client, token)

        assert usage(client) == 0

    def test_token_is_single_use(self, client, token):
        assert reply(client, token).status_code == 200

        again = reply(client, token)

        assert again.status_code == 400
        assert again.json() == {"message": "Invalid reply token"}

    def test_unknown_token(self, client, bot):
        assert reply(client, "0" * 32).json() == {"message": "Invalid reply token"}

    def test_token_expires_after_a_minute(self, client, bot, capture_server):
        at = timezone.now() - dt.timedelta(seconds=61)
        old = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, text="hi", at=at)

        assert reply(client, old.event["replyToken"]).json() == {"message": "Invalid reply token"}

    def test_ttl_can_be_shortened(self, client, token, settings):
        settings.SANDBOX_REPLY_TOKEN_TTL_SECONDS = 0

        assert reply(client, token).status_code == 400

    def test_redelivery_gives_the_token_another_minute(self, client, bot, capture_server):
        at = timezone.now() - dt.timedelta(minutes=5)
        old = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, text="hi", at=at)

        services.redeliver(BOT_DESTINATION, old.event)

        assert reply(client, old.event["replyToken"]).status_code == 200

    def test_never_after_twenty_minutes(self, client, bot, capture_server):
        at = timezone.now() - dt.timedelta(minutes=21)
        old = services.user_says("line", destination=BOT_DESTINATION, user_id=LINE_USER, text="hi", at=at)

        services.redeliver(BOT_DESTINATION, old.event)

        assert reply(client, old.event["replyToken"]).status_code == 400

    def test_retry_key_is_refused_on_reply(self, client, token):
        response = reply(client, token, HTTP_X_LINE_RETRY_KEY=str(uuid.uuid4()))

        assert response.status_code == 400
        assert reply(client, token).status_code == 200  # the refused call did not use the token

    def test_follow_event_token_works(self, client, bot, capture_server):
        followed = services.user_follows(BOT_DESTINATION, LINE_USER)

        assert reply(client, followed.event["replyToken"]).status_code == 200


@pytest.mark.django_db
class LinePushTests:
    def test_push(self, client, friend):
        response = push(client, messages=[text("a"), text("b"), text("c")])

        assert response.status_code == 200
        assert len(response.json()["sentMessages"]) == 3
        assert SandboxChatMessage.objects.filter(direction="from_shop").count() == 3
        assert usage(client) == 1  # per recipient, not per message object

    def test_unknown_recipient(self, client, bot):
        response = push(client, to=OTHER_USER)

        assert response.status_code == 400
        assert response.json() == {"message": "Failed to send messages"}

    def test_blocked_user_gets_200_but_nothing(self, client, friend):
        SandboxUser.objects.filter(pk=friend.pk).update(following=False)

        response = push(client)

        assert response.status_code == 200
        assert response.json()["sentMessages"]
        assert not SandboxChatMessage.objects.exists()
        assert usage(client) == 0

    def test_retry_key_accepted_once(self, client, friend):
        key = str(uuid.uuid4())

        first = push(client, HTTP_X_LINE_RETRY_KEY=key)
        second = push(client, HTTP_X_LINE_RETRY_KEY=key)

        assert first.status_code == 200
        assert second.status_code == 409
        assert second.json() == {
            "message": "The retry key is already accepted", "sentMessages": first.json()["sentMessages"],
        }
        assert second["x-line-accepted-request-id"] == first["X-Line-Request-Id"]
        assert second["X-Line-Request-Id"] != first["X-Line-Request-Id"]
        assert SandboxChatMessage.objects.count() == 1
        assert usage(client) == 1

    def test_retry_key_of_a_failed_push_can_be_reused(self, client, friend):
        key = str(uuid.uuid4())
        services.set_fault("line", status=500, endpoint="push")

        assert push(client, HTTP_X_LINE_RETRY_KEY=key).status_code == 500
        assert push(client, HTTP_X_LINE_RETRY_KEY=key).status_code == 200

    def test_retry_key_of_a_refused_push_is_released(self, client, friend):
        key = str(uuid.uuid4())

        assert push(client, to=OTHER_USER, HTTP_X_LINE_RETRY_KEY=key).status_code == 400
        assert push(client, HTTP_X_LINE_RETRY_KEY=key).status_code == 200

    def test_retry_key_must_be_a_uuid(self, client, friend):
        assert push(client, HTTP_X_LINE_RETRY_KEY="not-a-uuid").status_code == 400

    def test_quota(self, client, friend, bot):
        assert client.get("/sandbox/line/v2/bot/message/quota", **AUTH).json() == {"type": "none"}
        bot.quota_limit = 2
        bot.save()
        assert client.get("/sandbox/line/v2/bot/message/quota", **AUTH).json() == {"type": "limited", "value": 2}

        statuses = [push(client).status_code for _ in range(3)]

        assert statuses == [200, 200, 429]
        over = push(client)
        assert over.json() == {"message": "You have reached your monthly limit."}
        assert usage(client) == 2

    def test_multicast_counts_each_reachable_recipient(self, client, friend, bot):
        services.get_or_create_user("line", destination=BOT_DESTINATION, user_id=OTHER_USER)
        blocked = services.get_or_create_user("line", destination=BOT_DESTINATION, user_id="U" + "b" * 32)
        SandboxUser.objects.filter(pk=blocked.pk).update(following=False)

        response = post(client, "multicast", {
            "to": [LINE_USER, OTHER_USER, blocked.user_id, "U" + "c" * 32], "messages": [text(), text(), text()],
        })

        assert (response.status_code, response.json()) == (200, {})
        assert usage(client) == 2
        assert SandboxChatMessage.objects.count() == 6

    def test_multicast_over_quota(self, client, friend, bot):
        services.get_or_create_user("line", destination=BOT_DESTINATION, user_id=OTHER_USER)
        bot.quota_limit = 1
        bot.save()

        response = post(client, "multicast", {"to": [LINE_USER, OTHER_USER], "messages": [text()]})

        assert response.status_code == 429
        assert usage(client) == 0

    def test_multicast_retry_key(self, client, friend):
        key = str(uuid.uuid4())
        body = {"to": [LINE_USER], "messages": [text()]}

        post(client, "multicast", body, HTTP_X_LINE_RETRY_KEY=key)
        again = post(client, "multicast", body, HTTP_X_LINE_RETRY_KEY=key)

        assert again.status_code == 409
        assert again.json() == {"message": "The retry key is already accepted"}


@pytest.mark.django_db
class LineValidationTests:
    @pytest.mark.parametrize("messages, detail", [
        ([], {"message": "Size must be between 1 and 5", "property": "messages"}),
        ([text()] * 6, {"message": "Size must be between 1 and 5", "property": "messages"}),
        (None, {"message": "Size must be between 1 and 5", "property": "messages"}),
        ([{"type": "text", "text": ""}], {"message": "May not be empty", "property": "messages[0].text"}),
        ([{"type": "text", "text": "😀" * 2501}], {"message": "Length must be between 0 and 5000", "property": "messages[0].text"}),
        ([{"type": "carousel"}], {
            "message": "Must be one of the following values: [text, image, video, audio, location, sticker, template, imagemap, flex]",
            "property": "messages[0].type",
        }),
        ([{"type": "image", "previewImageUrl": "https://a.example/p.jpg"}],
         {"message": "May not be empty", "property": "messages[0].originalContentUrl"}),
        ([{"type": "image", "originalContentUrl": "ftp://a/x.jpg", "previewImageUrl": "https://a.example/p.jpg"}],
         {"message": "Must be a valid HTTPS URL", "property": "messages[0].originalContentUrl"}),
        (["text"], {"message": "Must be an object", "property": "messages[0]"}),
    ])
    def test_one_error(self, client, friend, messages, detail):
        response = post(client, "push", {"to": LINE_USER, "messages": messages})

        assert response.status_code == 400
        assert response.json() == {"message": "The request body has 1 error(s)", "details": [detail]}

    def test_errors_are_counted(self, client, friend):
        response = push(client, messages=[{"type": "text"}, {"type": "nope"}])

        assert response.json()["message"] == "The request body has 2 error(s)"
        assert [d["property"] for d in response.json()["details"]] == ["messages[0].text", "messages[1].type"]

    def test_missing_recipient(self, client, friend):
        response = post(client, "push", {"messages": [text()]})

        assert response.json()["details"] == [{"message": "May not be empty", "property": "to"}]

    def test_5000_utf16_units_is_fine(self, client, friend):
        assert push(client, messages=[text("😀" * 2500)]).status_code == 200

    def test_odd_sticker_ids_are_shown(self, client, friend):
        response = push(client, messages=[{"type": "sticker", "packageId": "1", "stickerId": "a/b?c#d"}])

        assert response.status_code == 200
        assert client.get(SandboxChatMessage.objects.get().image_url).status_code == 200

    def test_http_image_urls_are_accepted_for_the_demo(self, client, friend):
        image = {"type": "image", "originalContentUrl": "http://127.0.0.1:8000/m/a.jpg", "previewImageUrl": "http://127.0.0.1:8000/m/a.jpg"}

        assert push(client, messages=[image]).status_code == 200
        assert SandboxChatMessage.objects.get().image_url == "http://127.0.0.1:8000/m/a.jpg"

    def test_buttons_template(self, client, friend):
        template = {"type": "template", "altText": "Pay", "template": {
            "type": "buttons", "text": "Your order", "actions": [{"type": "uri", "label": "Pay now", "uri": "https://shop.example/o/1"}],
        }}

        assert push(client, messages=[template]).status_code == 200
        assert SandboxChatMessage.objects.get().text == "Your order"

    @pytest.mark.parametrize("change, property_", [
        ({"altText": ""}, "messages[0].altText"),
        ({"template": {"type": "buttons", "text": "t" * 161, "actions": [{"type": "message", "label": "a", "text": "a"}]}}, "messages[0].template.text"),
        ({"template": {"type": "buttons", "title": "T", "text": "t" * 61, "actions": [{"type": "message", "label": "a", "text": "a"}]}}, "messages[0].template.text"),
        ({"template": {"type": "buttons", "text": "t", "actions": []}}, "messages[0].template.actions"),
        ({"template": {"type": "buttons", "text": "t", "actions": [{"type": "uri", "label": "l" * 21, "uri": "https://a.example"}]}}, "messages[0].template.actions[0].label"),
        ({"template": {"type": "buttons", "text": "t", "actions": [{"type": "uri", "label": "Go", "uri": "javascript:alert(1)"}]}}, "messages[0].template.actions[0].uri"),
        ({"template": {"type": "confirm", "text": "t", "actions": [{"type": "message", "label": "a", "text": "a"}]}}, "messages[0].template.actions"),
        ({"template": {"type": "grid"}}, "messages[0].template.type"),
    ])
    def test_template_errors(self, client, friend, change, property_):
        template = {"type": "template", "altText": "alt", "template": {"type": "buttons", "text": "t", "actions": []}}

        response = push(client, messages=[{**template, **change}])

        assert response.status_code == 400
        assert property_ in [d["property"] for d in response.json()["details"]]

    def test_bad_json(self, client, friend):
        response = post(client, "push", b'{"to": ')

        assert response.status_code == 400
        assert response.json()["message"].startswith("The request body could not be parsed as JSON (line: 1")
        assert response["X-Line-Request-Id"]

    @pytest.mark.parametrize("body", [
        b"[]", b"null", b'"x"', b"\xff", b'{"to": 5, "messages": 5}', b'{"to": [], "messages": [{}]}',
        b'{"to": "U", "messages": [{"type": "template", "altText": 1, "template": {"type": "buttons", "actions": [1, {"type": "uri"}]}}]}',
        b'{"to": "U", "messages": [{"type": "location", "latitude": true}]}',
        b'{"to": "U", "messages": [{"type": "flex", "contents": []}, {"type": "audio", "duration": "x"}, {"type": "imagemap"}]}',
        b'{"to": "U", "messages": [{"type": "image", "originalContentUrl": "http://[::1", "previewImageUrl": 3}]}',
        b'{"to": "U\\u0000", "replyToken": "\\u0000", "messages": [{"type": "text", "text": "a\\u0000"}]}',
        b'{"to": "U\x00"}',
        b'{"to": "U", "messages": [{"type": "location", "title": "t", "address": "a", "latitude": NaN, "longitude": 1e999}]}',
        pytest.param(b"[" * 100_000, id="deeply-nested"),
    ])
    @pytest.mark.parametrize("path", ["push", "reply", "multicast"])
    def test_malformed_bodies_never_500(self, client, friend, body, path):
        response = post(client, path, body)

        assert response.status_code == 400
        assert "message" in response.json()


@pytest.mark.django_db
class LineProfileAndContentTests:
    def test_profile(self, client, friend):
        response = client.get(f"/sandbox/line/v2/bot/profile/{LINE_USER}", **AUTH)

        assert response.status_code == 200
        assert response.json()["displayName"] == "Ah Hua"
        assert response.json()["userId"] == LINE_USER

    def test_profile_of_unknown_or_blocked_user_is_404(self, client, friend):
        assert client.get(f"/sandbox/line/v2/bot/profile/{OTHER_USER}", **AUTH).json() == {"message": "Not found"}
        SandboxUser.objects.filter(pk=friend.pk).update(following=False)

        response = client.get(f"/sandbox/line/v2/bot/profile/{LINE_USER}", **AUTH)

        assert (response.status_code, response.json()) == (404, {"message": "Not found"})

    def test_content_404_and_410(self, client, bot):
        SandboxContent.objects.create(key="123", platform="line", bot=bot, data=b"x", content_type="image/jpeg", gone=True)

        missing = client.get("/sandbox/line-data/v2/bot/message/999/content", **AUTH)
        gone = client.get("/sandbox/line-data/v2/bot/message/123/content", **AUTH)

        assert (missing.status_code, missing.json()) == (404, {"message": "Not found"})
        assert (gone.status_code, gone.json()) == (410, {"message": "The content is gone"})
        assert gone["X-Line-Request-Id"]

    def test_nul_in_the_path_is_refused_not_looked_up(self, client, bot):
        assert client.get("/sandbox/line/v2/bot/profile/U%00", **AUTH).status_code == 400

    def test_content_of_another_bot_is_404(self, client, bot):
        other = services.register_line_bot("U" + "e" * 32, "s", "other-token", "")
        SandboxContent.objects.create(key="555", platform="line", bot=other, data=b"x", content_type="image/jpeg")

        assert client.get("/sandbox/line-data/v2/bot/message/555/content", **AUTH).status_code == 404


@pytest.mark.django_db
class LineFaultTests:
    def test_500(self, client, friend):
        services.set_fault("line", status=500)

        response = push(client)

        assert (response.status_code, response.json()) == (500, {"message": "Internal server error"})
        assert response["X-Line-Request-Id"]
        assert push(client).status_code == 200

    def test_429_with_retry_after(self, client, friend):
        services.set_fault("line", status=429, retry_after=2, endpoint="push")

        response = push(client)

        assert response.status_code == 429
        assert response.json() == {"message": "The API rate limit has been exceeded. Try again later."}
        assert response["Retry-After"] == "2"

    def test_content_endpoint_fault(self, client, bot):
        services.set_fault("line", status=503, endpoint="content")

        assert client.get("/sandbox/line-data/v2/bot/message/1/content", **AUTH).status_code == 503

    def test_calls_are_recorded(self, client, friend):
        push(client, HTTP_X_LINE_RETRY_KEY="9f2f2c1e-5f1a-4b55-9d7a-0f5e0e3b1c2d")

        [call] = services.calls("line", "push")
        assert call.status == 200
        assert call.billed == 1
        assert call.channel_key == BOT_DESTINATION
        assert call.headers["X-Line-Retry-Key"] == "9f2f2c1e-5f1a-4b55-9d7a-0f5e0e3b1c2d"
        assert call.body["to"] == LINE_USER
        assert call.response["sentMessages"]
