"""The quick-order panel fragment: what it offers (never hidden methods, at most 5 saved addresses) and
what it says when it can't be used (no member bound, assigned to someone else)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def panel(client, conversation):
    return client.get(f"/orders/quick-order/{conversation.pk}/")


class QuickOrderPanelTests:
    def test_offers_visible_methods_only(self, agent_api, bound, worked_catalog):
        html = panel(agent_api, bound.conversation).content.decode()
        assert "7-11 取貨" in html and "新竹物流" in html
        assert "全家 (隱藏)" not in html and "隱藏的付款" not in html
        assert 'data-customer="%d"' % bound.customer.pk in html and 'data-editable="1"' in html

    def test_saved_addresses_five_at_most(self, agent_api, bound, agent):
        from customers import services as customer_services
        from inbox.errors import ApplicationError

        for i in range(5):
            customer_services.add_address(customer=bound.customer, actor=agent, recipient_name="陳小美", street=f"信義路 {i} 號")
        with pytest.raises(ApplicationError):
            customer_services.add_address(customer=bound.customer, actor=agent, recipient_name="陳小美", street="第六個地址")
        html = panel(agent_api, bound.conversation).content.decode()
        assert html.count('data-testid="qo-address"') == 1 and all(f"信義路 {i} 號" in html for i in range(5))

    def test_limits_are_in_the_page(self, agent_api, bound):
        html = panel(agent_api, bound.conversation).content.decode()
        assert 'data-max-tags="10"' in html and 'data-max-discounts="5"' in html and 'maxlength="200"' in html

    def test_assigned_to_someone_else_says_so(self, agent_api, bound, django_user_model):
        bound.conversation.assignee = django_user_model.objects.create_user(username="bob")
        bound.conversation.save()
        html = panel(agent_api, bound.conversation).content.decode()
        assert 'data-editable="0"' in html and "assigned to bob" in html

    def test_no_member_bound_gives_a_hint(self, agent_api, messenger_channel):
        from tests import factories

        html = panel(agent_api, factories.conversation(messenger_channel)).content.decode()
        assert 'data-testid="qo-no-customer"' in html

    def test_says_before_the_order_is_made_that_its_link_cant_be_sent_past_messengers_24_hours(self, agent_api, bound):
        from inbox.models import Conversation

        assert 'data-testid="qo-link-blocked"' not in panel(agent_api, bound.conversation).content.decode()  # wrote 5 minutes ago
        Conversation.objects.filter(pk=bound.conversation.pk).update(last_inbound_at=timezone.now() - dt.timedelta(hours=30))
        html = panel(agent_api, bound.conversation).content.decode()
        assert 'data-testid="qo-link-blocked"' in html
        assert "Ask the customer to write to you first" in html and "24 hours" in html

    def test_a_line_chat_without_a_reply_token_warns_the_link_is_a_paid_message(self, agent_api, line_channel, agent):
        from customers import services as customer_services
        from tests import factories

        conversation = factories.conversation(line_channel, name="Ling")  # no reply token: a push, counted in the quota
        customer = customer_services.create_customer(name="林小玲", phone="0922333444", actor=agent)
        customer_services.bind_contact(contact=conversation.contact, customer=customer, actor=agent)
        html = panel(agent_api, conversation).content.decode()
        assert 'data-testid="qo-link-billed"' in html and 'data-testid="qo-link-blocked"' not in html

    def test_escapes_user_text(self, agent_api, bound):
        bound.customer.name = "<script>x</script>"
        bound.customer.save()
        html = panel(agent_api, bound.conversation).content.decode()
        assert "<script>x</script>" not in html

    def test_staff_only_and_unknown(self, outsider_api, agent_api, bound):
        assert panel(outsider_api, bound.conversation).status_code == 403
        assert agent_api.get("/orders/quick-order/999999/").status_code == 404
