"""Saved replies: every staff member reads, searches and saves them; only admins change or delete them."""
import pytest

from inbox.models import SavedReply

pytestmark = pytest.mark.django_db

URL = "/api/v1/saved-replies/"


@pytest.fixture
def replies():
    return [
        SavedReply.objects.create(shortcut="ship", text="We ship within 2 days by 7-11 or home delivery."),
        SavedReply.objects.create(shortcut="pay", text="Pay by bank transfer; send us the last 5 digits."),
        SavedReply.objects.create(shortcut="size-m", text="Size M fits 160–168 cm."),
    ]


class SavedReplyTests:
    def test_admin_creates(self, admin_api, shop_admin):
        response = admin_api.post(URL, {"shortcut": "thanks", "text": "Thank you! 🙏"}, format="json")
        assert response.status_code == 201, response.content
        assert {k: response.json()[k] for k in ("shortcut", "text", "created_by")} == {
            "shortcut": "thanks", "text": "Thank you! 🙏", "created_by": shop_admin.pk,
        }
        assert SavedReply.objects.get().created_by == shop_admin

    def test_agent_saves_one_and_may_change_or_delete_only_their_own(self, agent_api, agent, replies):
        response = agent_api.post(URL, {"shortcut": "thanks", "text": "Thank yuo!"}, format="json")
        assert response.status_code == 201 and response.json()["created_by"] == agent.pk
        mine = SavedReply.objects.get(shortcut="thanks")
        assert agent_api.patch(f"{URL}{mine.pk}/", {"text": "Thank you!"}, format="json").status_code == 200
        assert SavedReply.objects.get(pk=mine.pk).text == "Thank you!"
        theirs = replies[0]  # no author: the shop's, set by an admin
        assert agent_api.patch(f"{URL}{theirs.pk}/", {"text": "Changed"}, format="json").status_code == 403
        assert agent_api.delete(f"{URL}{theirs.pk}/").status_code == 403
        assert SavedReply.objects.get(pk=theirs.pk).text == replies[0].text
        assert agent_api.delete(f"{URL}{mine.pk}/").status_code == 204

    def test_a_taken_shortcut_is_a_400_that_says_so(self, agent_api, replies):
        response = agent_api.post(URL, {"shortcut": "ship", "text": "Another"}, format="json")
        assert response.status_code == 400 and "shortcut" in response.json()

    def test_agent_lists_in_shortcut_order(self, agent_api, replies):
        response = agent_api.get(URL)
        assert response.status_code == 200
        assert [r["shortcut"] for r in response.json()] == ["pay", "ship", "size-m"]

    @pytest.mark.parametrize(
        ("q", "expected"),
        [("SHI", ["ship"]), ("size", ["size-m"]), ("bank", ["pay"]), ("7-11", ["ship"]), ("S", ["pay", "ship", "size-m"]), ("zzz", [])],
    )
    def test_agent_searches_shortcut_and_text(self, agent_api, replies, q, expected):
        assert [r["shortcut"] for r in agent_api.get(URL, {"q": q}).json()] == expected

    def test_agent_reads_one(self, agent_api, replies):
        response = agent_api.get(f"{URL}{replies[0].pk}/")
        assert response.status_code == 200 and response.json()["shortcut"] == "ship"

    def test_admin_changes_and_deletes(self, admin_api, replies):
        reply = replies[0]
        response = admin_api.patch(f"{URL}{reply.pk}/", {"text": "We ship the same day."}, format="json")
        assert response.status_code == 200
        assert response.json()["text"] == "We ship the same day." and response.json()["shortcut"] == "ship"
        reply.refresh_from_db()
        assert reply.text == "We ship the same day."

        assert admin_api.delete(f"{URL}{reply.pk}/").status_code == 204
        assert not SavedReply.objects.filter(pk=reply.pk).exists()
        assert admin_api.get(f"{URL}{reply.pk}/").status_code == 404

    def test_agent_may_not_change_or_delete(self, agent_api, replies):
        reply = replies[0]
        assert agent_api.patch(f"{URL}{reply.pk}/", {"text": "x"}, format="json").status_code == 403
        assert agent_api.delete(f"{URL}{reply.pk}/").status_code == 403
        reply.refresh_from_db()
        assert reply.text.startswith("We ship within")

    @pytest.mark.parametrize(
        "body",
        [
            {"shortcut": "ship", "text": "again"},  # taken
            {"shortcut": "has space", "text": "x"},
            {"shortcut": "ok", "text": ""},
            {"shortcut": "long", "text": "x" * 2001},
            {"text": "no shortcut"},
        ],
    )
    def test_invalid_replies_are_a_400(self, admin_api, replies, body):
        response = admin_api.post(URL, body, format="json")
        assert response.status_code == 400
        assert SavedReply.objects.count() == 3

    def test_a_unicode_shortcut(self, admin_api):
        assert admin_api.post(URL, {"shortcut": "運費", "text": "滿千免運"}, format="json").status_code == 201

    def test_renaming_to_a_taken_shortcut_is_a_400(self, admin_api, replies):
        assert admin_api.patch(f"{URL}{replies[0].pk}/", {"shortcut": "pay"}, format="json").status_code == 400
        assert admin_api.patch(f"{URL}{replies[0].pk}/", {"shortcut": "ship"}, format="json").status_code == 200
