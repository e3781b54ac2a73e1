"""The pane fragment and the back-office pages: staff only, escaped, and never a 500 on bad input."""
import json

import pytest
from django.test import Client
from django.utils import timezone

from customers import services
from customers.models import CreditEntry
from inbox.models import Message
from tests.orders.public.factories import make_order

pytestmark = pytest.mark.django_db

EVIL = '<script>alert("x")</script>'


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class PaneTests:
    def test_unbound_chat_shows_the_binding_form_with_the_chat_name(self, make_conversation, agent):
        conversation = make_conversation(EVIL)
        response = signed_in(agent).get(f"/customers/pane/{conversation.pk}/")
        html = response.content.decode()
        assert response.status_code == 200
        assert 'data-state="unbound"' in html and 'data-testid="cust-bind-form"' in html
        assert EVIL not in html and "&lt;script&gt;" in html

    def test_bound_member_shows_details_addresses_credit_and_no_orders(self, make_conversation, make_customer, agent):
        conversation = make_conversation("Mei FB")
        member = make_customer("Mei", email="mei@x.tw", phone="0912345678", tags=["VIP"])
        services.bind_contact(contact=conversation.contact, customer=member, actor=None)
        services.add_address(customer=member, actor=None, recipient_name="Mei", street="忠孝東路 1 號", city="台北市")
        services.adjust_credit(customer=member, amount=1200, reason="gift", actor=None)
        html = signed_in(agent).get(f"/customers/pane/{conversation.pk}/").content.decode()
        assert 'data-state="bound"' in html and "0912 345 678" in html and "mei@x.tw" in html
        assert "NT$1,200" in html and "台北市忠孝東路 1 號" in html and "1 / 5" in html
        assert "No orders yet." in html and 'data-tag="VIP"' in html
        assert f'href="/customers/{member.pk}/"' in html

    def test_emails_and_phones_in_the_chat_are_offered(self, make_conversation, agent):
        conversation = make_conversation("Fan")
        Message.objects.create(
            conversation=conversation, channel=conversation.channel, direction="inbound", source="customer",
            text="我的手機 0912-345-678", state="received", platform_timestamp=timezone.now(),
        )
        html = signed_in(agent).get(f"/customers/pane/{conversation.pk}/").content.decode()
        assert 'data-testid="cust-suggestion"' in html and 'data-value="+886912345678"' in html

    def test_strings_for_the_script_are_translated_and_safe(self, make_conversation, agent):
        html = signed_in(agent).get(f"/customers/pane/{make_conversation().pk}/").content.decode()
        assert '<script id="cust-strings" type="application/json">' in html and '"reenter": "Re-enter"' in html

    def test_the_shops_traditional_chinese(self, make_conversation, make_customer, agent):
        conversation = make_conversation("小美")
        unbound = signed_in(agent).get(f"/customers/pane/{conversation.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hant").content.decode()
        assert "商店會員" in unbound and json.dumps({"reenter": "重新輸入"})[1:-1] in unbound
        services.bind_contact(contact=conversation.contact, customer=make_customer("Mei"), actor=None)
        bound = signed_in(agent).get(f"/customers/pane/{conversation.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hant").content.decode()
        assert "解除會員綁定" in bound and "查看顧客" in bound and "尚無訂單" in bound

    def test_staff_only(self, make_conversation, outsider):
        conversation = make_conversation()
        assert Client().get(f"/customers/pane/{conversation.pk}/").status_code == 302
        assert signed_in(outsider).get(f"/customers/pane/{conversation.pk}/").status_code == 403

    def test_unknown_conversation_is_404(self, agent):
        assert signed_in(agent).get("/customers/pane/999999/").status_code == 404
        assert signed_in(agent).get(f"/customers/pane/{2**70}/").status_code == 404


class PaneOrdersTests:
    """The bound member's past year of orders, and flow (C): members this chat's orders point at."""

    def test_the_past_years_orders_each_linking_to_the_order_page(self, make_conversation, make_customer, place_order, agent):
        conversation = make_conversation("Mei FB")
        member = make_customer("Mei", phone="0912345678")
        services.bind_contact(contact=conversation.contact, customer=member, actor=None)
        recent = place_order(conversation, amount=1280, days_ago=2)
        old = place_order(conversation, amount=999, days_ago=366)
        html = signed_in(agent).get(f"/customers/pane/{conversation.pk}/").content.decode()
        assert html.count('data-testid="cust-order"') == 1 and "No orders yet." not in html
        assert f'href="/orders/{recent.pk}/"' in html and f">{recent.number}</a>" in html and old.number not in html
        assert "NT$1,280" in html and "awaiting customer confirmation" in html
        assert timezone.localtime(recent.created_at).strftime("%Y-%m-%d") in html

    def test_the_pane_and_the_customer_page_cost_the_same_queries_for_many_orders(
        self, make_conversation, make_customer, place_order, agent, django_assert_max_num_queries
    ):
        conversation = make_conversation("Mei FB")
        member = make_customer("Mei", phone="0912345678")
        services.bind_contact(contact=conversation.contact, customer=member, actor=None)
        place_order(conversation)
        client = signed_in(agent)
        pages = [f"/customers/pane/{conversation.pk}/", f"/customers/{member.pk}/", f"/api/v1/customers/{member.pk}/"]
        costs = {}
        for url in pages:
            with django_assert_max_num_queries(40) as few:
                client.get(url)
            costs[url] = len(few.captured_queries)
        for n in range(15):
            place_order(conversation, amount=100 + n, days_ago=n)
        for url in pages:
            with django_assert_max_num_queries(costs[url]):
                response = client.get(url)
            assert response.status_code == 200
        assert client.get(pages[0]).content.decode().count('data-testid="cust-order"') == 16
        assert client.get(pages[1]).content.decode().count('data-testid="customer-order"') == 16
        assert len(client.get(pages[2]).json()["orders"]) == 16

    def test_an_unbound_chat_with_a_live_stream_order_offers_the_existing_member(self, make_conversation, make_customer, agent):
        member = make_customer(EVIL, phone="0912345678")
        conversation = make_conversation("Live buyer")
        order = make_order(conversation=conversation, recipient={"name": "小美", "phone": "0912345678"})
        make_order(conversation=conversation, recipient={"name": EVIL, "phone": "0987000111"})
        html = signed_in(agent).get(f"/customers/pane/{conversation.pk}/").content.decode()
        assert 'data-testid="cust-order-matches"' in html and "Customer details from this chat's orders" in html
        assert html.count('data-testid="cust-order-match"') == 2
        assert f'data-customer="{member.pk}"' in html and f"Order {order.number}:" in html
        assert "View existing customer details" in html and "Same customer: bind" in html
        assert f'href="/customers/{member.pk}/"' in html  # the member's back-office page
        assert 'data-testid="cust-order-match-use"' in html and 'data-phone="+886987000111"' in html  # no member: use them
        assert EVIL not in html

    def test_a_bound_chat_whose_orders_name_another_member_offers_the_merge(self, make_conversation, make_customer, agent):
        existing = make_customer("Existing", phone="0912345678")
        mine = make_customer("Mine", email="mine@x.tw")
        conversation = make_conversation("Mei FB")
        services.bind_contact(contact=conversation.contact, customer=mine, actor=None)
        make_order(conversation=conversation, customer=existing)
        make_order(conversation=conversation, recipient={"name": "Nobody", "phone": "0987000111"})
        html = signed_in(agent).get(f"/customers/pane/{conversation.pk}/").content.decode()
        assert "This chat's orders name another member" in html and "Same customer: merge" in html
        assert html.count('data-testid="cust-order-match"') == 1  # details matching nobody aren't offered once bound
        assert "Mine is merged into Existing" in html
        zh = signed_in(agent).get(f"/customers/pane/{conversation.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hant").content.decode()
        assert "查看已有顧客資料" in zh and "Mine 將合併至 Existing" in zh and "同一位顧客：合併帳號" in zh

    def test_no_section_without_orders(self, make_conversation, agent):
        html = signed_in(agent).get(f"/customers/pane/{make_conversation().pk}/").content.decode()
        assert 'data-testid="cust-order-matches"' not in html


class BackOfficeTests:
    def test_list_search_and_filters(self, make_customer, agent, tiers):
        make_customer("陳小美", phone="0912345678", tier=tiers["gold"], tags=["VIP"])
        make_customer("王小明", email="ming@x.tw")
        client = signed_in(agent)
        assert client.get("/customers/").content.decode().count('data-testid="customer-row"') == 2
        for params in ({"q": "0912-345-678"}, {"q": "VIP"}, {"tier": tiers["gold"].pk}, {"tag": "VIP"}):
            html = client.get("/customers/", params).content.decode()
            assert html.count('data-testid="customer-row"') == 1 and "陳小美" in html, params
        assert "No customers match." in client.get("/customers/", {"has_orders": "yes"}).content.decode()
        for params in ({"tier": "x"}, {"tier": str(2**70)}, {"page": "x"}, {"page": "999"}, {"has_orders": "maybe"},
                       {"q": "%" * 500}, {"q": "mei\x00"}, {"tag": "\x00"}):
            assert client.get("/customers/", params).status_code == 200

    def test_the_list_costs_the_same_queries_for_many_members(self, make_customer, agent, tiers, django_assert_max_num_queries):
        client = signed_in(agent)
        make_customer("first", tier=tiers["gold"], tags=["VIP"])
        with django_assert_max_num_queries(12) as few:
            client.get("/customers/")
        for n in range(20):
            make_customer(f"m{n}", tier=tiers["basic"], tags=["VIP", f"t{n}"])
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get("/customers/").content.decode().count('data-testid="customer-row"') == 21
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert len(client.get("/api/v1/customers/", {"limit": 50}).json()["results"]) == 21

    def test_detail_shows_chats_addresses_ledger_and_history(self, make_customer, make_conversation, agent):
        member = make_customer(EVIL, phone="0912345678")
        services.bind_contact(contact=make_conversation("Mei FB").contact, customer=member, actor=agent)
        services.adjust_credit(customer=member, amount=100, reason="gift", actor=None)
        html = signed_in(agent).get(f"/customers/{member.pk}/").content.decode()
        assert EVIL not in html
        assert 'data-testid="customer-contact"' in html and "Mei FB" in html
        assert html.count('data-testid="credit-entry"') == 1 and 'data-action="bind"' in html
        assert 'data-testid="credit-form"' not in html  # agents see the ledger, not the form

    def test_a_merged_member_redirects_to_the_survivor(self, make_customer, agent):
        kept, gone = make_customer("Kept"), make_customer("Gone")
        gone_id = gone.pk
        services.merge_customers(target=kept, source=gone, actor=None)
        response = signed_in(agent).get(f"/customers/{gone_id}/")
        assert response.status_code == 302 and response["Location"] == f"/customers/{kept.pk}/"
        assert signed_in(agent).get("/customers/999999/").status_code == 404
        assert signed_in(agent).get(f"/customers/{2**70}/").status_code == 404

    def test_an_admin_adjusts_credit_with_a_reason(self, make_customer, shop_admin):
        member = make_customer("Mei")
        client = signed_in(shop_admin)
        response = client.post(f"/customers/{member.pk}/credit/", {"amount": "1,000", "reason": "VIP gift", "expires_on": "2099-12-31"}, follow=True)
        assert "Store credit adjusted." in response.content.decode()
        entry = CreditEntry.objects.get()
        assert entry.amount == 1000 and entry.created_by == shop_admin and entry.expires_at.year == 2099
        for bad in ({"amount": "abc", "reason": "x"}, {"amount": "-5000", "reason": "x"}, {"amount": "10", "reason": ""},
                    {"amount": str(2**70), "reason": "x"}, {"amount": "10", "reason": "\x00"},
                    {"amount": "10", "reason": "x", "expires_on": "soon"}):
            page = client.post(f"/customers/{member.pk}/credit/", bad, follow=True)
            assert page.status_code == 200 and 'class="error"' in page.content.decode(), bad
        member.refresh_from_db()
        assert member.credit_balance == 1000

    def test_agents_and_outsiders_cannot_adjust_credit(self, make_customer, agent, outsider):
        member = make_customer("Mei")
        assert signed_in(agent).post(f"/customers/{member.pk}/credit/", {"amount": "10", "reason": "x"}).status_code == 403
        assert signed_in(outsider).get("/customers/").status_code == 403
        assert Client().get("/customers/").status_code == 302


class AdminTests:
    def test_the_shop_defines_tiers_and_members_are_read_only_there(self, shop_admin, make_customer):
        client = signed_in(shop_admin)
        response = client.post("/admin/customers/membertier/add/", {"name": "VIP", "rank": 3})
        assert response.status_code == 302
        member = make_customer("Mei")
        assert client.get(f"/admin/customers/customer/{member.pk}/change/").status_code == 200  # view only
        assert client.get("/admin/customers/customer/add/").status_code == 403
