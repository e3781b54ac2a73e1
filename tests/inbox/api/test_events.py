"""GET /api/v1/events/?since=<seq>: what a browser missed while its socket was away."""
import pytest

from inbox.models import InboxEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


@pytest.fixture
def conversation(messenger_channel, make_conversation):
    return make_conversation(messenger_channel, "Mei", unread_count=2)


class EventListTests:
    def test_events_after_seq_oldest_first(self, agent_api, conversation):
        base = agent_api.post(f"/api/v1/conversations/{conversation.pk}/read/", {"read": True}, format="json")
        assert base.status_code == 200
        first = InboxEvent.objects.latest("pk").pk
        agent_api.post(f"/api/v1/conversations/{conversation.pk}/note/", {"note": "VIP"}, format="json")
        agent_api.post(f"/api/v1/conversations/{conversation.pk}/star/", {"starred": True}, format="json")

        response = agent_api.get(URL, {"since": first})
        assert response.status_code == 200
        results = response.json()["results"]
        assert [(e["type"], e["op"]) for e in results] == [("conversation", "note"), ("conversation", "star")]
        assert [e["seq"] for e in results] == sorted(e["seq"] for e in results) and results[0]["seq"] > first
        assert results[0]["conversation"]["note"] == "VIP"

        assert len(agent_api.get(URL, {"since": 0}).json()["results"]) == 3
        assert agent_api.get(URL, {"since": results[-1]["seq"]}).json() == {"results": []}

    def test_a_gap_that_was_pruned_asks_for_a_reload(self, agent_api, conversation):
        for note in ("a", "b", "c"):
            agent_api.post(f"/api/v1/conversations/{conversation.pk}/note/", {"note": note}, format="json")
        oldest = InboxEvent.objects.order_by("pk").first().pk
        InboxEvent.objects.filter(pk__lte=oldest + 1).delete()

        response = agent_api.get(URL, {"since": oldest})
        assert response.status_code == 410
        assert response.json() == {"detail": "reload"}

    @pytest.mark.parametrize("query", [{}, {"since": "x"}, {"since": -1}])
    def test_since_is_required_and_a_number(self, agent_api, query):
        assert agent_api.get(URL, query).status_code == 400
