"""The fake Graph API answers like Meta: validation, windows, echoes, profiles, faults, the call log."""
import datetime as dt
import json
import time

import pytest
from django.utils import timezone

from integrations.sandbox import services
from integrations.sandbox.models import SandboxCall, SandboxChatMessage, SandboxUser
from tests.sandbox.support import APP_ID, PAGE_ID, PAGE_TOKEN, PSID, messenger_signature_ok

SEND_URL = f"/sandbox/graph/v25.0/{PAGE_ID}/messages?access_token={PAGE_TOKEN}"


def send(client, body, url=SEND_URL):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def text_body(text="hello", **extra):
    return {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": text}, **extra}


def body_with(**changes):
    """A valid text send with some fields changed; None removes a field."""
    body = {**text_body(), **changes}
    return {name: value for name, value in body.items() if value is not None}


def error_of(response):
    return response.json()["error"]


@pytest.fixture
def customer(page):
    """A customer who wrote a minute ago: the 24 h window is open."""
    return services.get_or_create_user("messenger", page_id=PAGE_ID, user_id=PSID, display_name="Mei Lin")


@pytest.fixture
def open_window(customer):
    SandboxUser.objects.filter(pk=customer.pk).update(last_user_message_at=timezone.now() - dt.timedelta(minutes=1))
    return customer


def backdate(user, **delta):
    SandboxUser.objects.filter(pk=user.pk).update(last_user_message_at=timezone.now() - dt.timedelta(**delta))


@pytest.mark.django_db
class GraphSendTests:
    def test_success_records_the_message_and_echoes_it(self, client, open_window, capture_server):
        body = text_body("你好")
        body["message"]["metadata"] = "outbound:42"

        response = send(client, body)

        assert response.status_code == 200
        answer = response.json()
        assert answer["recipient_id"] == PSID
        assert answer["message_id"].startswith("m_")
        bubble = SandboxChatMessage.objects.get(direction="from_shop")
        assert (bubble.text, bubble.platform_message_id) == ("你好", answer["message_id"])
        [echo] = capture_server.requests
        assert messenger_signature_ok(echo)
        event = echo.json["entry"][0]["messaging"][0]
        assert event["sender"] == {"id": PAGE_ID} and event["recipient"] == {"id": PSID}
        assert event["message"] == {
            "is_echo": True, "app_id": int(APP_ID), "mid": answer["message_id"], "metadata": "outbound:42", "text": "你好",
        }

    def test_top_level_metadata_is_echoed_too(self, client, open_window, capture_server):
        send(client, text_body(metadata="order:7"))

        assert capture_server.requests[0].json["entry"][0]["messaging"][0]["message"]["metadata"] == "order:7"

    def test_me_is_the_page(self, client, open_window):
        response = send(client, text_body(), url=f"/sandbox/graph/v25.0/me/messages?access_token={PAGE_TOKEN}")

        assert response.status_code == 200

    def test_echo_failure_does_not_fail_the_send(self, client, open_window, capture_server):
        capture_server.statuses = [500] * 4

        response = send(client, text_body())

        assert response.status_code == 200
        assert len(capture_server.requests) == 4

    def test_image_and_button_template(self, client, open_window, capture_server):
        image_url = "http://127.0.0.1:8000/media/a.jpg"
        image = {"attachment": {"type": "image", "payload": {"url": image_url, "is_reusable": True}}}
        button = {"attachment": {"type": "template", "payload": {
            "template_type": "button", "text": "Your order is ready",
            "buttons": [{"type": "web_url", "url": "https://shop.example/o/1", "title": "Pay now"}],
        }}}

        assert send(client, {**text_body(), "message": image}).status_code == 200
        assert send(client, {**text_body(), "message": button}).status_code == 200

        kinds = list(SandboxChatMessage.objects.values_list("kind", "image_url", "text"))
        assert kinds == [("image", image_url, ""), ("template", "", "Your order is ready")]
        echoed = capture_server.requests[1].json["entry"][0]["messaging"][0]["message"]["attachments"][0]
        assert echoed["type"] == "template"

    def test_form_encoded_body_with_json_values(self, client, open_window):
        response = client.post(SEND_URL, {
            "recipient": json.dumps({"id": PSID}), "messaging_type": "RESPONSE", "message": json.dumps({"text": "hi"}),
        })

        assert response.status_code == 200

    def test_sender_action(self, client, open_window, capture_server):
        response = send(client, {"recipient": {"id": PSID}, "sender_action": "typing_on"})

        assert response.json() == {"recipient_id": PSID}
        assert not capture_server.requests

    @pytest.mark.parametrize("url", [
        f"/sandbox/graph/v25.0/{PAGE_ID}/messages",
        f"/sandbox/graph/v25.0/{PAGE_ID}/messages?access_token=wrong",
    ])
    def test_bad_token(self, client, open_window, url):
        response = send(client, text_body(), url=url)

        assert response.status_code == 400
        error = error_of(response)
        assert (error["code"], error["type"], error["message"]) == (190, "OAuthException", "Invalid OAuth access token.")
        assert error["fbtrace_id"]

    def test_nul_in_the_token_is_refused(self, client, open_window):
        response = send(client, text_body(), url=f"/sandbox/graph/v25.0/{PAGE_ID}/messages?access_token=a%00b")

        assert (response.status_code, error_of(response)["code"]) == (400, 100)

    def test_token_in_the_authorization_header(self, client, open_window):
        response = client.post(
            f"/sandbox/graph/v25.0/{PAGE_ID}/messages", data=json.dumps(text_body()),
            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {PAGE_TOKEN}",
        )

        assert response.status_code == 200

    def test_another_pages_node(self, client, open_window):
        response = send(client, text_body(), url=f"/sandbox/graph/v25.0/999/messages?access_token={PAGE_TOKEN}")

        assert (response.status_code, error_of(response)["code"], error_of(response)["error_subcode"]) == (400, 100, 33)

    def test_unknown_recipient(self, client, page):
        response = send(client, text_body())

        error = error_of(response)
        assert (response.status_code, error["code"], error["error_subcode"]) == (400, 100, 2018001)
        assert error["message"] == "(#100) No matching user found"

    def test_blocked_person(self, client, open_window):
        SandboxUser.objects.filter(pk=open_window.pk).update(following=False)

        error = error_of(send(client, text_body()))

        assert (error["code"], error["error_subcode"]) == (551, 1545041)

    @pytest.mark.parametrize("body, fragment", [
        (body_with(recipient=None), "recipient"),
        (body_with(recipient={}), "recipient"),
        (body_with(messaging_type=None), "messaging_type"),
        (body_with(messaging_type="PROMO"), "messaging_type"),
        (body_with(messaging_type="MESSAGE_TAG"), "Tag is required"),
        (body_with(messaging_type="MESSAGE_TAG", tag="POST_PURCHASE_UPDATE"), "deprecated"),
        (body_with(messaging_type="MESSAGE_TAG", tag="ACCOUNT_UPDATE"), "deprecated"),
        (body_with(messaging_type="MESSAGE_TAG", tag="CONFIRMED_EVENT_UPDATE"), "deprecated"),
        (body_with(message=None), "message"),
        (body_with(message={}), "cannot be empty"),
        (body_with(message={"text": ""}), "cannot be empty"),
        (body_with(message={"text": "x" * 2001}), "2000"),
        (body_with(message={"text": "x", "attachment": {}}), "Only one"),
        (body_with(message={"attachment": {"type": "image", "payload": {}}}), "url"),
        (body_with(message={"attachment": {"type": "image", "payload": {"url": "javascript:alert(1)"}}}), "url"),
        (body_with(message={"attachment": {"type": "sticker", "payload": {}}}), "type"),
        (body_with(metadata="m" * 1001), "1000"),
        ({"recipient": {"id": PSID}, "sender_action": "dance"}, "sender_action"),
    ])
    def test_parameter_errors(self, client, open_window, body, fragment):
        response = send(client, body)

        error = error_of(response)
        assert (response.status_code, error["code"]) == (400, 100)
        assert fragment in error["message"]
        assert not SandboxChatMessage.objects.exists()

    @pytest.mark.parametrize("change, fragment", [
        ({"text": "t" * 641}, "640"),
        ({"buttons": []}, "buttons"),
        ({"buttons": [{"type": "web_url", "url": "https://a.example", "title": "b"}] * 4}, "buttons"),
        ({"buttons": [{"type": "web_url", "url": "https://a.example", "title": "t" * 21}]}, "20"),
        ({"buttons": [{"type": "web_url", "url": "ftp://a.example", "title": "Go"}]}, "url"),
        ({"buttons": [{"type": "postback", "title": "Go"}]}, "payload"),
        ({"template_type": "generic"}, "button"),
    ])
    def test_button_template_errors(self, client, open_window, change, fragment):
        payload = {"template_type": "button", "text": "Pay", "buttons": [{"type": "postback", "title": "Go", "payload": "P"}]}
        body = {**text_body(), "message": {"attachment": {"type": "template", "payload": {**payload, **change}}}}

        error = error_of(send(client, body))

        assert error["code"] == 100
        assert fragment in error["message"]

    def test_exactly_2000_characters_is_fine(self, client, open_window):
        assert send(client, text_body("字" * 2000)).status_code == 200

    @pytest.mark.parametrize("raw", [b"{not json", b"[1,2]", b'"text"', b"\xff\xfe", b'{"recipient": {"id": "1\\u0000"}}'])
    def test_unreadable_body_is_a_400(self, client, open_window, raw):
        response = client.post(SEND_URL, data=raw, content_type="application/json")

        assert response.status_code == 400
        assert error_of(response)["code"] == 100


@pytest.mark.django_db
class GraphWindowTests:
    def test_response_inside_24_hours(self, client, customer):
        backdate(customer, hours=23, minutes=59)

        assert send(client, text_body()).status_code == 200

    @pytest.mark.parametrize("messaging_type", ["RESPONSE", "UPDATE"])
    def test_response_after_24_hours_is_outside_the_window(self, client, customer, messaging_type):
        backdate(customer, hours=24, minutes=1)

        response = send(client, {**text_body(), "messaging_type": messaging_type})

        assert response.status_code == 400
        error = error_of(response)
        assert (error["code"], error["error_subcode"], error["type"]) == (10, 2018278, "OAuthException")
        assert error["message"] == "(#10) This message is sent outside of allowed window."

    def test_window_opened_by_a_backdated_webhook(self, client, page, capture_server):
        yesterday = timezone.now() - dt.timedelta(hours=25)
        services.user_says("messenger", page_id=PAGE_ID, user_id=PSID, text="hi", at=yesterday)

        assert error_of(send(client, text_body()))["error_subcode"] == 2018278

    def test_human_agent_tag_within_seven_days(self, client, customer):
        backdate(customer, days=6, hours=23)

        response = send(client, {**text_body(), "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"})

        assert response.status_code == 200

    def test_human_agent_tag_after_seven_days(self, client, customer):
        backdate(customer, days=7, minutes=1)

        response = send(client, {**text_body(), "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"})

        assert error_of(response)["error_subcode"] == 2018278

    def test_never_wrote(self, client, customer):
        assert error_of(send(client, text_body()))["code"] == 10


@pytest.mark.django_db
class GraphProfileTests:
    def test_profile_fields(self, client, customer):
        response = client.get(
            f"/sandbox/graph/v25.0/{PSID}", {"fields": "first_name,last_name,profile_pic", "access_token": PAGE_TOKEN}
        )

        assert response.status_code == 200
        profile = response.json()
        assert (profile["id"], profile["first_name"], profile["last_name"]) == (PSID, "Mei", "Lin")
        assert profile["profile_pic"].startswith("http://testserver/sandbox/avatars/")
        assert client.get(profile["profile_pic"]).status_code == 200

    def test_unknown_user(self, client, page):
        response = client.get(f"/sandbox/graph/v25.0/123/", {"access_token": PAGE_TOKEN})

        assert (response.status_code, error_of(response)["code"]) == (400, 100)

    def test_unknown_field(self, client, customer):
        response = client.get(f"/sandbox/graph/v25.0/{PSID}", {"fields": "email", "access_token": PAGE_TOKEN})

        assert error_of(response)["code"] == 100

    def test_me_describes_the_page(self, client, page):
        response = client.get("/sandbox/graph/v25.0/me", {"access_token": PAGE_TOKEN})

        assert response.json() == {"name": "Shop", "id": PAGE_ID}

    def test_bad_token(self, client, customer):
        assert error_of(client.get(f"/sandbox/graph/v25.0/{PSID}", {"access_token": "x"}))["code"] == 190


@pytest.mark.django_db
class GraphFaultTests:
    def test_forced_500_then_normal(self, client, open_window):
        services.set_fault("messenger", status=500, count=1)

        failed = send(client, text_body())
        recovered = send(client, text_body())

        assert failed.status_code == 500
        error = error_of(failed)
        assert (error["code"], error["is_transient"]) == (2, True)
        assert error["message"] == "An unexpected error has occurred. Please retry your request later."
        assert recovered.status_code == 200
        assert SandboxChatMessage.objects.count() == 1  # the failed call sent nothing

    def test_rate_limit_with_retry_after(self, client, open_window):
        services.set_fault("messenger", status=429, retry_after=3)

        response = send(client, text_body())

        assert response.status_code == 429
        assert response["Retry-After"] == "3"
        assert error_of(response)["code"] == 613
        assert error_of(response)["message"] == "Calls to this api have exceeded the rate limit."

    def test_count_is_decremented(self, client, open_window):
        fault = services.set_fault("messenger", status=500, count=2)

        statuses = [send(client, text_body()).status_code for _ in range(3)]

        assert statuses == [500, 500, 200]
        fault.refresh_from_db()
        assert fault.remaining == 0

    def test_endpoint_specific(self, client, open_window):
        services.set_fault("messenger", status=500, endpoint="profile", count=None)

        assert send(client, text_body()).status_code == 200
        assert client.get(f"/sandbox/graph/v25.0/{PSID}", {"access_token": PAGE_TOKEN}).status_code == 500

    def test_other_platform_unaffected(self, client, open_window):
        services.set_fault("line", status=500, count=None)

        assert send(client, text_body()).status_code == 200

    def test_error_rate(self, client, open_window):
        services.set_fault("messenger", status=500, count=None, error_rate=0.0)
        assert send(client, text_body()).status_code == 200

        services.clear_faults()
        services.set_fault("messenger", status=500, count=None, error_rate=1.0)
        assert send(client, text_body()).status_code == 500

    def test_latency_only(self, client, open_window):
        services.set_fault("messenger", status=None, latency_ms=200)

        started = time.monotonic()
        response = send(client, text_body())

        assert response.status_code == 200
        assert time.monotonic() - started >= 0.2

    def test_clear_faults(self, client, open_window):
        services.set_fault("messenger", status=500, count=None)

        assert services.clear_faults() == 1
        assert send(client, text_body()).status_code == 200


@pytest.mark.django_db
def test_every_call_is_recorded(client, open_window):
    send(client, text_body("one"))
    send(client, text_body("x" * 2001))
    client.get(f"/sandbox/graph/v25.0/{PSID}", {"access_token": PAGE_TOKEN})

    calls = list(services.calls("messenger"))
    assert [(c.endpoint, c.method, c.status) for c in calls] == [
        ("send", "POST", 200), ("send", "POST", 400), ("profile", "GET", 200),
    ]
    assert calls[0].body["message"] == {"text": "one"}
    assert calls[0].response["recipient_id"] == PSID
    assert calls[0].channel_key == PAGE_ID
    assert calls[1].response["error"]["code"] == 100
    assert list(services.calls(endpoint="profile")) == [calls[2]]
    assert SandboxCall.objects.count() == 3
