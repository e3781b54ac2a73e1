"""Assign, star, read and note: each answers the new summary and publishes an event for open inboxes."""
import asyncio
import datetime as dt

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from inbox import events
from inbox.models import Conversation, InboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(messenger_channel, make_conversation):
    return make_conversation(messenger_channel, "Mei", unread_count=3, last_inbound_at=timezone.now())


def action(client, conversation, name, body):
    return client.post(f"/api/v1/conversations/{conversation.pk}/{name}/", body, format="json")


def last_event(op: str) -> dict:
    row = InboxEvent.objects.filter(payload__type="conversation", payload__op=op).order_by("-pk").first()
    assert row is not None, f"no {op} event stored"
    return row.payload


class AssignTests:
    def test_assign_to_me(self, agent_api, agent, conversation):
        response = action(agent_api, conversation, "assign", {"assignee": "me"})
        assert response.status_code == 200
        assert response.json()["assignee"] == {"id": agent.pk, "name": "amy"}
        assert Conversation.objects.get(pk=conversation.pk).assignee == agent
        event = last_event("assign")
        assert event["conversation"]["assignee"]["id"] == agent.pk and event["actor_id"] == agent.pk

    def test_assign_to_a_staff_id_then_to_nobody(self, agent_api, shop_admin, conversation):
        assert action(agent_api, conversation, "assign", {"assignee": shop_admin.pk}).json()["assignee"]["id"] == shop_admin.pk
        response = action(agent_api, conversation, "assign", {"assignee": None})
        assert response.status_code == 200 and response.json()["assignee"] is None
        assert Conversation.objects.get(pk=conversation.pk).assignee is None
        assert InboxEvent.objects.filter(payload__op="assign").count() == 2

    def test_only_shop_staff_can_be_assigned(self, agent_api, outsider, conversation):
        response = action(agent_api, conversation, "assign", {"assignee": outsider.pk})
        assert response.status_code == 400
        assert response.json() == {"detail": "Conversations can only be assigned to shop staff."}
        assert not InboxEvent.objects.exists()

    @pytest.mark.parametrize("body", [{}, {"assignee": "somebody"}, {"assignee": True}, {"assignee": 1.5}])
    def test_bad_input_is_a_400(self, agent_api, conversation, body):
        assert action(agent_api, conversation, "assign", body).status_code == 400

    def test_an_unknown_conversation_is_a_404(self, agent_api, messenger_channel):
        assert agent_api.post("/api/v1/conversations/999999/assign/", {"assignee": "me"}, format="json").status_code == 404


class StarTests:
    def test_star_with_a_due_time(self, agent_api, conversation):
        due = (timezone.now() + dt.timedelta(hours=3)).replace(microsecond=0)
        response = action(agent_api, conversation, "star", {"starred": True, "due_at": due.isoformat()})
        assert response.status_code == 200, response.content
        assert response.json()["starred"] is True
        assert dt.datetime.fromisoformat(response.json()["star_due_at"]) == due
        stored = Conversation.objects.get(pk=conversation.pk)
        assert stored.starred and stored.star_due_at == due
        assert last_event("star")["conversation"]["starred"] is True

    def test_unstar_clears_the_due_time(self, agent_api, conversation):
        action(agent_api, conversation, "star", {"starred": True, "due_at": "2030-01-01T09:00:00+08:00"})
        response = action(agent_api, conversation, "star", {"starred": False})
        assert response.json()["starred"] is False and response.json()["star_due_at"] is None

    def test_a_due_time_without_a_star_is_a_400(self, agent_api, conversation):
        response = action(agent_api, conversation, "star", {"starred": False, "due_at": "2030-01-01T09:00:00+08:00"})
        assert response.status_code == 400
        assert response.json() == {"detail": "Only a starred conversation can have a due time."}

    def test_a_due_time_needs_its_offset(self, agent_api, conversation):
        response = action(agent_api, conversation, "star", {"starred": True, "due_at": "2030-01-01T09:00:00"})
        assert response.status_code == 400
        assert "due_at" in response.json()
        assert not Conversation.objects.get(pk=conversation.pk).starred

    def test_starred_is_required(self, agent_api, conversation):
        assert action(agent_api, conversation, "star", {}).status_code == 400


class ReadTests:
    def test_read_then_unread(self, agent_api, conversation):
        response = action(agent_api, conversation, "read", {"read": True})
        assert response.status_code == 200 and response.json()["unread_count"] == 0
        assert last_event("read")["conversation"]["unread_count"] == 0

        response = action(agent_api, conversation, "read", {"read": False})
        assert response.json()["unread_count"] == 1
        assert Conversation.objects.get(pk=conversation.pk).unread_count == 1

    def test_read_is_required(self, agent_api, conversation):
        assert action(agent_api, conversation, "read", {}).status_code == 400


class NoteTests:
    def test_set_and_clear(self, agent_api, conversation):
        response = action(agent_api, conversation, "note", {"note": "  Prefers 7-11 pickup  "})
        assert response.status_code == 200 and response.json()["note"] == "Prefers 7-11 pickup"
        assert last_event("note")["conversation"]["note"] == "Prefers 7-11 pickup"
        assert action(agent_api, conversation, "note", {"note": ""}).json()["note"] == ""

    def test_a_note_over_5000_characters_is_a_400(self, agent_api, conversation):
        response = action(agent_api, conversation, "note", {"note": "x" * 5001})
        assert response.status_code == 400
        assert "5000" in response.json()["detail"]
        assert Conversation.objects.get(pk=conversation.pk).note == ""


@pytest.mark.django_db(transaction=True)
class PublishTests:
    def test_each_action_reaches_open_inboxes_after_commit(self, agent_api, agent, conversation):
        layer = get_channel_layer()
        inbox = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(events.STAFF_GROUP, inbox)

        async def receive():
            return await asyncio.wait_for(layer.receive(inbox), timeout=5)

        try:
            for name, body in [("assign", {"assignee": "me"}), ("star", {"starred": True}), ("read", {"read": True}), ("note", {"note": "n"})]:
                assert action(agent_api, conversation, name, body).status_code == 200
                message = async_to_sync(receive)()
                event = message["event"]
                assert (message["type"], event["type"], event["op"]) == ("inbox.event", "conversation", name)
                assert event["seq"] == InboxEvent.objects.latest("pk").pk
                assert event["conversation"]["id"] == conversation.pk
        finally:
            async_to_sync(layer.group_discard)(events.STAFF_GROUP, inbox)
