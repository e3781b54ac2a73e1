"""Flow (C): confirming that the member a chat's orders point at is the chat's customer."""
import pytest

from customers import services
from customers.models import ContactBinding, Customer, CustomerAuditEntry
from inbox.errors import ApplicationError
from orders.models import Order
from tests.orders.public.factories import make_order

pytestmark = pytest.mark.django_db


class ConfirmOrderCustomerTests:
    def test_an_unbound_chat_is_bound_to_the_member_of_its_live_stream_order(self, make_conversation, make_customer, agent):
        mei = make_customer("陳小美", phone="0912345678")
        chat = make_conversation("Live buyer")
        make_order(conversation=chat, recipient={"name": "小美", "phone": "0912-345-678"})

        customer, outcome = services.confirm_order_customer(contact=chat.contact, customer=mei, actor=agent)

        assert (customer.pk, outcome) == (mei.pk, "bound")
        assert ContactBinding.objects.get(contact=chat.contact).customer_id == mei.pk
        entry = CustomerAuditEntry.objects.get(customer=mei, action="bind")
        assert entry.actor == agent and entry.data["contact_id"] == chat.contact_id

    def test_a_chat_bound_to_another_member_merges_it_into_the_orders_member(
        self, make_conversation, make_customer, place_order, agent
    ):
        """The agent created a member for the chat; its earlier order says it is an existing member."""
        existing = make_customer("陳小美", phone="0912345678")
        chat = make_conversation("Mei FB")
        services.bind_contact(contact=chat.contact, customer=existing, actor=None)
        first = place_order(chat, amount=800)
        services.unbind_contact(contact=chat.contact, actor=None)
        fresh = services.bind_new_customer(contact=chat.contact, email="mei@example.com", actor=agent)
        second = place_order(chat, amount=300)
        fresh_id = fresh.pk

        customer, outcome = services.confirm_order_customer(contact=chat.contact, customer=existing, actor=agent)

        assert (customer.pk, outcome) == (existing.pk, "merged")
        assert not Customer.objects.filter(pk=fresh_id).exists()
        assert ContactBinding.objects.get(contact=chat.contact).customer_id == existing.pk
        assert set(Order.objects.filter(customer=existing).values_list("pk", flat=True)) == {first.pk, second.pk}
        customer.refresh_from_db()
        assert (customer.phone, customer.email) == ("+886912345678", "mei@example.com")  # blanks filled by the merge
        merge = CustomerAuditEntry.objects.get(action="merge")
        assert merge.merged_customer_id == fresh_id and merge.actor == agent
        assert merge.data["moved"]["other"] == {"orders.Order": 1}

    def test_confirming_the_member_already_bound_changes_nothing(self, make_conversation, make_customer, place_order):
        mei = make_customer("Mei")
        chat = make_conversation()
        services.bind_contact(contact=chat.contact, customer=mei, actor=None)
        place_order(chat)
        audit = CustomerAuditEntry.objects.count()
        assert services.confirm_order_customer(contact=chat.contact, customer=mei, actor=None) == (mei, "unchanged")
        assert CustomerAuditEntry.objects.count() == audit

    def test_a_member_the_chats_orders_dont_point_at_is_refused(self, make_conversation, make_customer):
        mei = make_customer("Mei", phone="0912345678")
        stranger = make_customer("Stranger", phone="0987654321")
        chat = make_conversation()
        make_order(conversation=chat, recipient={"name": "小美", "phone": "0912345678"})
        make_order(conversation=make_conversation(), customer=stranger)  # another chat's order
        with pytest.raises(ApplicationError, match="don't point at"):
            services.confirm_order_customer(contact=chat.contact, customer=stranger, actor=None)
        assert not ContactBinding.objects.exists()
        # Bound to Mei, the chat's orders point at no one else: nothing to merge.
        services.bind_contact(contact=chat.contact, customer=mei, actor=None)
        with pytest.raises(ApplicationError, match="don't point at"):
            services.confirm_order_customer(contact=chat.contact, customer=stranger, actor=None)
        assert Customer.objects.count() == 2
