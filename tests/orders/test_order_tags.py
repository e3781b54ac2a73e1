"""The shop's saved order tags: managed in the Django admin and the API, offered in the quick-order panel
to pick; typed tags keep working and can be saved for reuse; an order has at most 10 tags of 30 characters."""
from __future__ import annotations

import unicodedata

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from orders import selectors, services
from orders.errors import OrderInvalid
from orders.models import OrderTag

pytestmark = pytest.mark.django_db


class SaveOrderTagTests:
    def test_spaces_collapsed_and_saving_twice_returns_the_same_tag(self, agent):
        tag = services.save_order_tag(name="  早鳥   優惠 ", actor=agent)
        assert (tag.name, tag.created_by) == ("早鳥 優惠", agent)
        assert services.save_order_tag(name="早鳥 優惠", actor=agent) == tag
        assert services.save_order_tag(name="vip", actor=agent) == services.save_order_tag(name="VIP", actor=agent)
        assert OrderTag.objects.count() == 2

    def test_thirty_characters_at_most(self, agent):
        assert services.save_order_tag(name="字" * 30, actor=agent).name == "字" * 30
        with pytest.raises(OrderInvalid, match="at most 30"):
            services.save_order_tag(name="字" * 31, actor=agent)

    @pytest.mark.parametrize("name", ["", "   ", None, 5, ["VIP"]])
    def test_empty_or_not_text_refused(self, agent, name):
        with pytest.raises(OrderInvalid):
            services.save_order_tag(name=name, actor=agent)
        assert not OrderTag.objects.exists()

    def test_the_shop_keeps_a_bounded_list(self, agent):
        OrderTag.objects.bulk_create(OrderTag(name=f"t{i}") for i in range(services.MAX_SAVED_TAGS))
        with pytest.raises(OrderInvalid, match="saved tags"):
            services.save_order_tag(name="one more", actor=agent)
        assert services.save_order_tag(name="T1", actor=agent).name == "t1"  # an existing one is still fine

    def test_deleting_a_saved_tag_leaves_orders_alone(self, bound, agent, worked_draft):
        tag = services.save_order_tag(name="VIP", actor=agent)
        order = services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        services.delete_order_tag(tag=tag, actor=agent)
        order.refresh_from_db()
        assert order.tags == ["VIP"] and selectors.saved_order_tags() == []

    @settings(max_examples=30, deadline=None)
    @given(st.text(max_size=40))
    def test_whatever_is_typed_is_saved_normalised_or_refused(self, name):
        # Normalised: words joined by single spaces, control characters (NUL...) left out.
        expected = " ".join("".join(ch for ch in name if unicodedata.category(ch) != "Cc" or ch.isspace()).split())
        try:
            tag = services.save_order_tag(name=name, actor=None)
        except OrderInvalid:
            assert not expected or len(expected) > 30
            return
        assert tag.name == expected or tag.name.lower() == expected.lower()
        assert 0 < len(tag.name) <= 30
        assert "\x00" not in tag.name

    def test_a_nul_typed_into_a_tag_is_left_out_not_a_database_error(self):
        assert services.save_order_tag(name="V\x00IP", actor=None).name == "VIP"


class OrderTagLimitTests:
    def test_ten_tags_saved_and_typed_together(self, bound, agent, worked_draft):
        for name in ("VIP", "急件", "預購"):
            services.save_order_tag(name=name, actor=agent)
        worked_draft["tags"] = ["VIP", "急件", "預購"] + [f"typed {i}" for i in range(7)]
        order = services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert len(order.tags) == 10 and order.tags[:3] == ["VIP", "急件", "預購"]

    def test_eleven_refused_in_the_draft_and_the_order(self, bound, agent, agent_api, worked_draft):
        worked_draft["tags"] = [f"t{i}" for i in range(11)]
        response = agent_api.put(
            f"/api/v1/conversations/{bound.conversation.pk}/order-draft/", {"data": worked_draft, "version": 0}, format="json"
        )
        assert response.status_code == 400 and "at most 10 tags" in response.json()["detail"]
        response = agent_api.post("/api/v1/orders/", {"conversation_id": bound.conversation.pk, "draft": worked_draft}, format="json")
        assert response.status_code == 400 and "tags" in response.json()["errors"]

    def test_a_tag_over_thirty_characters_refused(self, bound, agent, worked_draft):
        worked_draft["tags"] = ["x" * 31]
        with pytest.raises(OrderInvalid) as caught:
            services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        assert "30 characters" in caught.value.errors["tags"]


class OrderTagApiTests:
    def test_list_and_save(self, agent_api):
        assert agent_api.get("/api/v1/order-tags/").json() == []
        response = agent_api.post("/api/v1/order-tags/", {"name": " 團購  "}, format="json")
        assert response.status_code == 201 and response.json()["name"] == "團購"
        agent_api.post("/api/v1/order-tags/", {"name": "VIP"}, format="json")
        assert [t["name"] for t in agent_api.get("/api/v1/order-tags/").json()] == ["VIP", "團購"]

    @pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 31}, {"name": ["VIP"]}, {"name": None}])
    def test_bad_input_is_400(self, agent_api, body):
        assert agent_api.post("/api/v1/order-tags/", body, format="json").status_code == 400
        assert not OrderTag.objects.exists()

    def test_only_administrators_delete(self, agent_api, django_user_model):
        from rest_framework.test import APIClient

        tag = OrderTag.objects.create(name="VIP")
        assert agent_api.get(f"/api/v1/order-tags/{tag.pk}/").json()["name"] == "VIP"
        assert agent_api.delete(f"/api/v1/order-tags/{tag.pk}/").status_code == 403
        boss = APIClient()
        boss.force_login(django_user_model.objects.create_superuser(username="boss"))
        assert boss.delete(f"/api/v1/order-tags/{tag.pk}/").status_code == 204
        assert not OrderTag.objects.exists()
        assert boss.delete(f"/api/v1/order-tags/{tag.pk}/").status_code == 404
        assert boss.get(f"/api/v1/order-tags/{2**64}/").status_code == 404

    def test_outsiders_refused(self, outsider_api):
        assert outsider_api.get("/api/v1/order-tags/").status_code == 403
        assert outsider_api.post("/api/v1/order-tags/", {"name": "x"}, format="json").status_code == 403


class OrderTagAdminTests:
    @pytest.fixture
    def boss(self, client, django_user_model):
        user = django_user_model.objects.create_superuser(username="boss")
        client.force_login(user)
        return user

    def test_added_in_the_admin_with_who_added_it(self, client, boss):
        response = client.post(reverse("admin:orders_ordertag_add"), {"name": "  門市  自取 "})
        assert response.status_code == 302
        tag = OrderTag.objects.get()
        assert (tag.name, tag.created_by) == ("門市 自取", boss)

    def test_a_second_tag_differing_only_in_case_is_refused(self, client, boss):
        OrderTag.objects.create(name="VIP")
        response = client.post(reverse("admin:orders_ordertag_add"), {"name": "vip"})
        assert response.status_code == 200 and "already saved" in response.content.decode()
        assert OrderTag.objects.count() == 1


class PanelTests:
    def test_offers_the_saved_tags_not_recent_orders_tags(self, agent_api, agent, bound, worked_draft):
        worked_draft["tags"] = ["typed once"]
        services.place_order(conversation=bound.conversation, actor=agent, draft=worked_draft)
        services.save_order_tag(name="VIP", actor=agent)
        html = agent_api.get(f"/orders/quick-order/{bound.conversation.pk}/").content.decode()
        assert 'data-testid="qo-saved-tag" data-tag="VIP"' in html
        assert 'data-tag="typed once"' not in html

    def test_says_how_to_get_saved_tags_when_there_are_none(self, agent_api, bound):
        html = agent_api.get(f"/orders/quick-order/{bound.conversation.pk}/").content.decode()
        assert 'data-testid="qo-no-saved-tags"' in html

    def test_saved_tags_are_escaped(self, agent_api, agent, bound):
        OrderTag.objects.create(name='"><script>x</script>')
        html = agent_api.get(f"/orders/quick-order/{bound.conversation.pk}/").content.decode()
        assert "<script>x</script>" not in html
