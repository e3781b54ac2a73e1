"""The inbox pages: who may see them, what they show, and a constant number of queries."""
import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.models import Conversation, Message
from inbox.services import conversations
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client):
    client.force_login(factories.staff_user("agent"))
    return client


class AccessTests:
    def test_anonymous_is_sent_to_sign_in(self, client, messenger_channel):
        response = client.get("/inbox/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    def test_signed_in_non_staff_is_refused(self, client, messenger_channel):
        client.force_login(User.objects.create_user("visitor", password="x"))
        assert client.get("/inbox/").status_code == 403
        assert client.get("/inbox/fragments/saved-replies/").status_code == 403

    def test_fragments_need_staff_too(self, client, messenger_channel):
        convo = factories.conversation(messenger_channel)
        for url in (f"/inbox/fragments/row/{convo.pk}/", f"/inbox/fragments/header/{convo.pk}/", f"/inbox/c/{convo.pk}/"):
            assert client.get(url).status_code == 302

    def test_unknown_conversation_is_404(self, agent_client, messenger_channel):
        assert agent_client.get("/inbox/c/999999/").status_code == 404

    def test_bad_cursor_is_400_not_500(self, agent_client, messenger_channel):
        assert agent_client.get("/inbox/?cursor=%%%").status_code == 400
        assert agent_client.get("/inbox/?view=nonsense").status_code == 400


class PageTests:
    def test_tabs_in_order_and_unread_counts(self, agent_client, messenger_channel, line_channel):
        from integrations.services import messenger_channel_add

        second = messenger_channel_add(name="Outlet", page_id="2", app_secret="s", verify_token="v2", access_token="t", secondary=True)
        factories.conversation(line_channel)
        factories.conversation(second)
        html = agent_client.get("/inbox/").content.decode()
        order = [html.index(f'data-channel-tab="{c.pk}"') for c in (messenger_channel, second, line_channel)]
        assert order == sorted(order)
        assert f'data-unread-for="{line_channel.pk}">1<' in html
        assert 'data-unread-for="all">2<' in html

    def test_output_is_escaped(self, agent_client, messenger_channel):
        convo = factories.conversation(messenger_channel, name="<script>alert(1)</script>", text="<img src=x onerror=alert(1)>")
        html = agent_client.get(f"/inbox/c/{convo.pk}/").content.decode()
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
        assert "<img src=x" not in html

    def test_closed_messenger_window_banner_says_why(self, agent_client, messenger_channel):
        convo = factories.conversation(messenger_channel, last_inbound_ago=dt.timedelta(hours=30))
        html = agent_client.get(f"/inbox/c/{convo.pk}/").content.decode()
        assert "24-hour window has closed" in html

    def test_due_star_comes_back_to_the_top(self, agent_client, messenger_channel):
        old = factories.conversation(messenger_channel, name="Old", last_inbound_ago=dt.timedelta(days=3))
        factories.conversation(messenger_channel, name="New", last_inbound_ago=dt.timedelta(minutes=1))
        agent = User.objects.get(username="agent")
        conversations.star_conversation(conversation=old, starred=True, due_at=timezone.now() - dt.timedelta(seconds=5), actor=agent)
        html = agent_client.get("/inbox/").content.decode()
        assert html.index(">Old<") < html.index(">New<")


class QueryCountTests:
    def queries(self, client, url) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    def test_list_and_chat_are_constant_in_size(self, agent_client, messenger_channel, line_channel):
        def fill(n):
            convos = [factories.conversation(messenger_channel if i % 2 else line_channel) for i in range(n)]
            for convo in convos[:3]:
                for j in range(n):
                    Message.objects.create(conversation=convo, channel=convo.channel, direction="outbound", source="staff",
                                           text=f"m{j}", state="sent", platform_timestamp=timezone.now())
            return convos[0]

        first = fill(3)
        agent_client.get(f"/inbox/c/{first.pk}/")  # warm up: one-time rows (the settings row) are created
        small = self.queries(agent_client, f"/inbox/c/{first.pk}/")
        list_small = self.queries(agent_client, "/inbox/")
        Conversation.objects.all().delete()
        first = fill(25)
        assert self.queries(agent_client, f"/inbox/c/{first.pk}/") == small
        assert self.queries(agent_client, "/inbox/") == list_small


class LoginThrottleTests:
    def test_five_wrong_passwords_lock_the_account(self, client, messenger_channel):
        factories.staff_user("agent")
        for _ in range(5):
            response = client.post("/accounts/login/", {"username": "agent", "password": "wrong"})
        response = client.post("/accounts/login/", {"username": "agent", "password": "pw-Str0ng-enough"})
        assert response.status_code == 429
        assert b"Too many failed sign-ins" in response.content

    def test_right_password_signs_in(self, client, messenger_channel):
        factories.staff_user("agent")
        response = client.post("/accounts/login/", {"username": "agent", "password": "pw-Str0ng-enough"})
        assert response.status_code == 302 and response["Location"] == "/inbox/"
