"""Finding members as the agent types (email, phone in any spelling, name) and the back office's list."""
import pytest
from django.utils import timezone

from customers import selectors, services
from inbox.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(make_customer, tiers):
    mei = make_customer("陳小美", email="mei@example.com", phone="0912345678", tier=tiers["gold"], tags=["VIP"])
    ming = make_customer("王小明", email="ming@example.com", phone="0987654321")
    amy = make_customer("Amy Lin", email="amy@shop.tw", phone="0911222333")
    return {"mei": mei, "ming": ming, "amy": amy}


def names(rows):
    return [c.name for c in rows]


class CustomerSearchTests:
    @pytest.mark.parametrize("typed", ["0912-345-678", "+886 912 345 678", "886912345678", "0912345", "912 345"])
    def test_a_phone_in_any_spelling_or_partly_typed(self, shop, typed):
        assert names(selectors.customer_search(q=typed)) == ["陳小美"]

    @pytest.mark.parametrize("typed", ["MEI@example.com", " mei@", "mei@exa"])
    def test_an_email_case_insensitively_or_partly_typed(self, shop, typed):
        assert names(selectors.customer_search(q=typed)) == ["陳小美"]

    def test_by_name_beyond_the_reference(self, shop):
        assert names(selectors.customer_search(q="小")) == []  # one character is too little
        assert set(names(selectors.customer_search(q="小美"))) == {"陳小美"}
        assert names(selectors.customer_search(q="amy lin")) == ["Amy Lin"]

    def test_exact_login_match_first_and_a_limit(self, shop, make_customer):
        make_customer("mei@example.community fan", email="x@y.tw")
        rows = selectors.customer_search(q="mei@example.com")
        assert rows[0] == shop["mei"]
        assert len(selectors.customer_search(q="example", limit=1)) == 1

    def test_odd_input_finds_nothing_instead_of_failing(self, shop):
        for typed in ["", " ", "%", "_", "'; drop table", "+", "@@", "0" * 500]:
            assert isinstance(selectors.customer_search(q=typed), list)


class CustomerListTests:
    def test_search_by_tag_and_filters(self, shop, tiers):
        assert names(selectors.customer_list(q="vip")) == ["陳小美"]
        assert names(selectors.customer_list(tier_id=tiers["gold"].pk)) == ["陳小美"]
        assert names(selectors.customer_list(tag="VIP")) == ["陳小美"]
        assert len(selectors.customer_list(q="example.com")) == 2

    def test_has_orders_until_orders_exist(self, shop):
        assert list(selectors.customer_list(has_orders=True)) == []
        assert len(selectors.customer_list(has_orders=False)) == 3


class ContactSuggestionTests:
    def test_details_written_in_the_chat_are_offered_once_with_their_owner(self, shop, make_conversation):
        conversation = make_conversation("Fan")
        for text in ["我的電話 0912-345-678", "email: New@Mail.tw", "還是 0912345678"]:
            Message.objects.create(
                conversation=conversation, channel=conversation.channel, direction="inbound", source="customer",
                text=text, state="received", platform_timestamp=timezone.now(),
            )
        found = selectors.contact_suggestions(conversation=conversation, customer=None)
        assert [(s.kind, s.value) for s in found] == [("phone", "+886912345678"), ("email", "new@mail.tw")]
        assert found[0].customer == shop["mei"] and found[1].customer is None

    def test_details_the_bound_member_has_are_not_offered(self, shop, make_conversation):
        conversation = make_conversation("Fan")
        Message.objects.create(
            conversation=conversation, channel=conversation.channel, direction="inbound", source="customer",
            text="0912345678 / mei@example.com", state="received", platform_timestamp=timezone.now(),
        )
        assert selectors.contact_suggestions(conversation=conversation, customer=shop["mei"]) == []

    def test_the_shops_own_messages_are_not_scanned(self, make_conversation):
        conversation = make_conversation("Fan")
        Message.objects.create(
            conversation=conversation, channel=conversation.channel, direction="outbound", source="staff",
            text="call us at 02 2712 3456", state="sent", platform_timestamp=timezone.now(),
        )
        assert selectors.contact_suggestions(conversation=conversation, customer=None) == []


class OtherSelectorTests:
    def test_order_history_is_empty_until_orders_exist(self, shop):
        assert selectors.order_history(customer=shop["mei"], now=timezone.now()) == []

    def test_ledger_shows_the_balance_after_each_entry(self, shop):
        services.adjust_credit(customer=shop["mei"], amount=100, reason="a", actor=None)
        services.adjust_credit(customer=shop["mei"], amount=-30, reason="b", actor=None)
        shop["mei"].refresh_from_db()
        rows = selectors.credit_ledger(shop["mei"])
        assert [(r["entry"].amount, r["balance_after"]) for r in rows] == [(-30, 70), (100, 100)]
