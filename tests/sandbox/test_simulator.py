"""The simulator page's JSON API and the sandbox_send command."""
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.core.files.uploadedfile import SimpleUploadedFile

from integrations.sandbox import services
from integrations.sandbox.models import SandboxFault, SandboxUser
from tests.sandbox.support import BOT_DESTINATION, LINE_USER, PAGE_ID, PAGE_TOKEN, PSID

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.mark.django_db
class SimulatorApiTests:
    def test_page_lists_pages_and_bots(self, client, page, bot):
        response = client.get("/sandbox/")

        assert response.status_code == 200
        html = response.content.decode()
        assert f'value="messenger:{PAGE_ID}"' in html
        assert f'value="line:{BOT_DESTINATION}"' in html
        assert 'data-testid="composer-input"' in html

    def test_new_line_user_follows_the_bot(self, client, bot, capture_server):
        response = client.post("/sandbox/api/users", {"platform": "line", "channel": BOT_DESTINATION, "display_name": "Ah Hua"})

        assert response.status_code == 201
        user = response.json()
        assert user["display_name"] == "Ah Hua" and user["user_id"].startswith("U")
        assert capture_server.requests[0].json["events"][0]["type"] == "follow"
        listed = client.get("/sandbox/api/users", {"platform": "line", "channel": BOT_DESTINATION}).json()["users"]
        assert [u["id"] for u in listed] == [user["id"]]

    def test_new_user_on_an_unknown_channel(self, client, db):
        response = client.post("/sandbox/api/users", {"platform": "line", "channel": "U" + "0" * 32})

        assert response.status_code == 400

    def test_say_text_sticker_image_location(self, client, page, capture_server):
        user = services.get_or_create_user("messenger", page_id=PAGE_ID, user_id=PSID)
        url = f"/sandbox/api/users/{user.pk}/say"

        statuses = [
            client.post(url, {"text": "<b>hi</b>"}).json()["status"],
            client.post(url, {"sticker": "369239263222822"}).json()["status"],
            client.post(url, {"image": SimpleUploadedFile("a.png", PNG, content_type="image/png")}).json()["status"],
            client.post(url, {"latitude": "25.03", "longitude": "121.56", "title": "101"}).json()["status"],
        ]

        assert statuses == [200, 200, 200, 200]
        timeline = client.get(f"/sandbox/api/users/{user.pk}/messages").json()["messages"]
        assert [m["kind"] for m in timeline] == ["text", "sticker", "image", "location"]
        assert timeline[0]["text"] == "<b>hi</b>"  # data, escaped by the page's textContent
        assert timeline[0]["webhook_status"] == 200
        assert client.get(timeline[2]["image_url"]).content == PNG
        assert client.get(timeline[1]["image_url"])["Content-Type"] == "image/svg+xml"
        assert len(client.get(f"/sandbox/api/users/{user.pk}/messages", {"after": timeline[1]["id"]}).json()["messages"]) == 2

    def test_say_nothing_is_a_400(self, client, page):
        user = services.get_or_create_user("messenger", page_id=PAGE_ID, user_id=PSID)

        assert client.post(f"/sandbox/api/users/{user.pk}/say", {"text": ""}).status_code == 400
        assert client.post(f"/sandbox/api/users/{user.pk}/say", {"latitude": "north"}).status_code == 400
        assert client.post(f"/sandbox/api/users/{user.pk}/say", {"sticker": "446:"}).status_code == 400
        assert client.post(f"/sandbox/api/users/{user.pk}/say", {"latitude": "nan", "longitude": "1"}).status_code == 400

    def test_read_event_once_per_new_shop_message(self, client, page, capture_server):
        user = services.get_or_create_user("messenger", page_id=PAGE_ID, user_id=PSID)
        read_url = f"/sandbox/api/users/{user.pk}/read"
        assert client.post(read_url).json() == {"sent": False}
        services.record_shop_message(user, kind="text", text="hello", payload={"text": "hello"}, message_id="m_1")

        first = client.post(read_url).json()
        second = client.post(read_url).json()

        assert first == {"sent": True, "status": 200}
        assert second == {"sent": False}
        [read] = capture_server.requests
        assert "read" in read.json["entry"][0]["messaging"][0]

    def test_shop_buttons_only_link_to_web_urls(self, client, bot):
        user = services.get_or_create_user("line", destination=BOT_DESTINATION, user_id=LINE_USER)
        actions = [{"type": "uri", "label": "Pay", "uri": "https://shop.example/p"}, {"type": "uri", "label": "Call", "uri": "tel:123"}]
        services.record_shop_message(
            user, kind="template", text="Order", message_id="1",
            payload={"type": "template", "altText": "Order", "template": {"type": "buttons", "text": "Order", "actions": actions}},
        )

        [bubble] = client.get(f"/sandbox/api/users/{user.pk}/messages").json()["messages"]

        assert bubble["buttons"] == [{"label": "Pay", "url": "https://shop.example/p"}, {"label": "Call", "url": ""}]

    def test_follow_and_block_buttons(self, client, bot, capture_server):
        user = services.get_or_create_user("line", destination=BOT_DESTINATION, user_id=LINE_USER)

        client.post(f"/sandbox/api/users/{user.pk}/unfollow")
        assert not SandboxUser.objects.get(pk=user.pk).following
        client.post(f"/sandbox/api/users/{user.pk}/follow")
        assert SandboxUser.objects.get(pk=user.pk).following
        assert [r.json["events"][0]["type"] for r in capture_server.requests] == ["unfollow", "follow"]

    def test_faults_form(self, client, db):
        response = client.post("/sandbox/api/faults", {
            "platform": "line", "endpoint": "push", "status": "429", "count": "", "retry_after": "5", "latency_ms": "", "error_rate": "0.5",
        })

        [fault] = response.json()["faults"]
        assert fault == {"id": fault["id"], "platform": "line", "endpoint": "push", "status": 429, "remaining": None,
                         "retry_after": 5, "latency_ms": 0, "error_rate": 0.5}
        assert client.post("/sandbox/api/faults", {"platform": "line", "status": "five"}).status_code == 400
        assert client.post("/sandbox/api/faults", {"platform": "line", "error_rate": "2"}).status_code == 400
        assert client.post("/sandbox/api/faults", {"platform": "myspace"}).status_code == 400
        assert client.post("/sandbox/api/faults", {"platform": "line", "status": "999"}).status_code == 400
        assert client.post("/sandbox/api/faults", {"platform": "line", "latency_ms": "9" * 12}).status_code == 400
        assert client.post("/sandbox/api/faults/clear").json() == {"cleared": 1}
        assert not SandboxFault.objects.exists()

    def test_simulator_posts_need_the_csrf_token(self, db, page):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        assert strict.post("/sandbox/api/faults/clear").status_code == 403
        # ...while the fake platform APIs, like the real ones, take token-authenticated calls without it.
        assert strict.get("/sandbox/graph/v25.0/me", {"access_token": PAGE_TOKEN}).status_code == 200
        assert strict.post(f"/sandbox/graph/v25.0/me/messages?access_token={PAGE_TOKEN}", data="{}",
                           content_type="application/json").status_code == 400


@pytest.mark.django_db
class SandboxSendCommandTests:
    def run(self, *args) -> str:
        out = io.StringIO()
        call_command("sandbox_send", *args, stdout=out)
        return out.getvalue()

    def test_messenger_text_backdated(self, page, capture_server):
        output = self.run("messenger", "--page-id", PAGE_ID, "--psid", PSID, "--text", "hi", "--at", "2026-11-01T10:00:00+08:00")

        assert output.strip() == "HTTP 200"
        event = capture_server.requests[0].json["entry"][0]["messaging"][0]
        assert event["timestamp"] == int(dt.datetime(2026, 11, 1, 2, tzinfo=dt.UTC).timestamp() * 1000)

    def test_messenger_sticker(self, page, capture_server):
        self.run("messenger", "--page-id", PAGE_ID, "--psid", PSID, "--sticker", "369239263222822")

        message = capture_server.requests[0].json["entry"][0]["messaging"][0]["message"]
        assert message["attachments"][0]["type"] == "sticker"

    def test_line_sticker_with_redelivery(self, bot, capture_server):
        capture_server.statuses = [500]

        output = self.run("line", "--destination", BOT_DESTINATION, "--user", LINE_USER, "--sticker", "446:1988", "--redeliver")

        assert output.splitlines() == ["HTTP 500", "redelivery: HTTP 200"]
        first, second = (r.json["events"][0] for r in capture_server.requests)
        assert first["message"]["packageId"] == "446" and first["message"]["stickerId"] == "1988"
        assert second["webhookEventId"] == first["webhookEventId"]
        assert second["deliveryContext"]["isRedelivery"] is True

    def test_unreachable_app(self, bot):
        bot.webhook_url = "http://127.0.0.1:9/"
        bot.save()

        assert self.run("line", "--destination", BOT_DESTINATION, "--user", LINE_USER, "--text", "hi").startswith("no answer")

    def test_unknown_page(self, db):
        with pytest.raises(CommandError):
            self.run("messenger", "--page-id", "1", "--psid", PSID, "--text", "hi")
