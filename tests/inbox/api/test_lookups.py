"""The channels (tabs) and the staff (assignee picker)."""
import pytest

from integrations.services import messenger_channel_add

pytestmark = pytest.mark.django_db


class ChannelListTests:
    def test_active_channels_in_tab_order_without_secrets(self, agent_api, messenger_channel, line_channel):
        secondary = messenger_channel_add(
            name="Outlet", page_id="104000000000002", app_secret="s", verify_token="v", access_token="t", secondary=True
        )
        retired = messenger_channel_add(
            name="Old page", page_id="104000000000003", app_secret="s", verify_token="v", access_token="t", secondary=True
        )
        retired.is_active = False
        retired.save()

        response = agent_api.get("/api/v1/channels/")
        assert response.status_code == 200
        rows = response.json()
        assert [r["id"] for r in rows] == [line_channel.pk, messenger_channel.pk, secondary.pk]
        assert rows[1] == {
            "id": messenger_channel.pk, "platform": "messenger", "name": "Main page", "is_primary": True, "position": 0,
            "auth_error": "",
        }
        assert "access_token" not in response.content.decode() and "test-app-secret" not in response.content.decode()


class StaffListTests:
    def test_active_admins_and_agents(self, agent_api, agent, other_agent, shop_admin, group_admin, outsider, django_user_model):
        gone = django_user_model.objects.create_user(username="gone")
        gone.groups.set(agent.groups.all())
        gone.is_active = False
        gone.save()

        response = agent_api.get("/api/v1/staff/")
        assert response.status_code == 200
        assert response.json() == [
            {"id": agent.pk, "username": "amy", "name": "Amy Lin"},
            {"id": other_agent.pk, "username": "ben", "name": "ben"},
            {"id": shop_admin.pk, "username": "boss", "name": "boss"},
            {"id": group_admin.pk, "username": "carol", "name": "carol"},
        ]

    def test_a_user_in_both_groups_is_listed_once(self, agent_api, agent, group_admin):
        agent.groups.add(*group_admin.groups.all())
        usernames = [row["username"] for row in agent_api.get("/api/v1/staff/").json()]
        assert usernames == ["amy", "carol"]
