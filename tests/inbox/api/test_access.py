"""Who may call the API: shop staff only, by session or token; saved-reply writes for admins only."""
import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inbox.models import Message, SavedReply

pytestmark = pytest.mark.django_db

DENIED = (401, 403)


@pytest.fixture
def world(messenger_channel, make_conversation, make_message, agent):
    conversation = make_conversation(messenger_channel, "Mei")
    message = make_message(conversation, direction=Message.Direction.OUTBOUND, state=Message.State.FAILED, sent_by=agent)
    reply = SavedReply.objects.create(shortcut="hi", text="Hello!")
    return {"c": conversation.pk, "m": message.pk, "r": reply.pk}


# (method, path, body) for every endpoint, ids filled from `world`.
ENDPOINTS = [
    ("get", "/api/v1/channels/", None),
    ("get", "/api/v1/conversations/", None),
    ("get", "/api/v1/conversations/{c}/", None),
    ("get", "/api/v1/conversations/{c}/messages/", None),
    ("post", "/api/v1/conversations/{c}/messages/", {"text": "hi"}),
    ("post", "/api/v1/messages/{m}/retry/", {}),
    ("post", "/api/v1/conversations/{c}/assign/", {"assignee": None}),
    ("post", "/api/v1/conversations/{c}/star/", {"starred": True}),
    ("post", "/api/v1/conversations/{c}/read/", {"read": True}),
    ("post", "/api/v1/conversations/{c}/note/", {"note": "VIP"}),
    ("get", "/api/v1/saved-replies/", None),
    ("post", "/api/v1/saved-replies/", {"shortcut": "bye", "text": "Bye!"}),
    ("get", "/api/v1/saved-replies/{r}/", None),
    ("patch", "/api/v1/saved-replies/{r}/", {"text": "Hi!"}),
    ("delete", "/api/v1/saved-replies/{r}/", None),
    ("get", "/api/v1/staff/", None),
    ("get", "/api/v1/events/?since=0", None),
]
# Agents save new replies from the chat; changing or deleting one is for admins.
SAVED_REPLY_WRITES = {("patch", "/api/v1/saved-replies/{r}/"), ("delete", "/api/v1/saved-replies/{r}/")}


def call(client, method, path, body, world):
    return getattr(client, method)(path.format(**world), body, format="json")


class AccessTests:
    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
    def test_anonymous_is_refused(self, world, method, path, body):
        assert call(APIClient(), method, path, body, world).status_code in DENIED

    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
    def test_a_user_who_is_not_staff_is_refused(self, world, outsider_api, method, path, body):
        assert call(outsider_api, method, path, body, world).status_code == 403

    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
    def test_an_agent_may_do_everything_but_change_or_delete_saved_replies(self, world, agent_api, method, path, body):
        response = call(agent_api, method, path, body, world)
        if (method, path) in SAVED_REPLY_WRITES:
            assert response.status_code == 403
        else:
            assert response.status_code < 300 or response.status_code == 409, response.content

    @pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
    def test_an_admin_may_do_everything(self, world, admin_api, method, path, body):
        response = call(admin_api, method, path, body, world)
        assert response.status_code < 300 or response.status_code == 409, response.content

    def test_an_admin_by_group_may_write_saved_replies(self, group_admin):
        client = APIClient()
        client.force_login(group_admin)
        assert client.post("/api/v1/saved-replies/", {"shortcut": "bye", "text": "Bye!"}, format="json").status_code == 201

    def test_an_inactive_agent_is_refused(self, agent, messenger_channel):
        client = APIClient()
        client.force_authenticate(agent)
        agent.is_active = False
        agent.save()
        assert client.get("/api/v1/conversations/").status_code == 403


class TokenAuthTests:
    def test_a_token_made_by_drf_create_token_signs_in(self, agent, messenger_channel, make_conversation):
        conversation = make_conversation(messenger_channel, "Mei")
        call_command("drf_create_token", agent.username)
        token = Token.objects.get(user=agent)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

        assert client.get("/api/v1/conversations/").status_code == 200
        # Token clients need no CSRF token for writes.
        response = client.post(f"/api/v1/conversations/{conversation.pk}/note/", {"note": "by token"}, format="json")
        assert response.status_code == 200
        assert response.json()["note"] == "by token"

    def test_a_token_of_a_user_who_is_not_staff_is_refused(self, outsider):
        call_command("drf_create_token", outsider.username)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=outsider).key}")
        assert client.get("/api/v1/conversations/").status_code == 403

    def test_a_wrong_token_is_refused(self, agent):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
        assert client.get("/api/v1/conversations/").status_code in DENIED


class SessionAuthTests:
    def test_session_writes_need_the_csrf_token(self, agent, messenger_channel, make_conversation):
        conversation = make_conversation(messenger_channel, "Mei")
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(agent)
        assert client.get("/api/v1/conversations/").status_code == 200
        response = client.post(f"/api/v1/conversations/{conversation.pk}/note/", {"note": "x"}, format="json")
        assert response.status_code == 403
        assert "CSRF" in response.json()["detail"]
