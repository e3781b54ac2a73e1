"""Binding chats to members: pick an existing member, create one, unbind."""
import pytest

from customers import services
from customers.errors import DuplicateCustomer
from customers.models import ContactBinding, Customer, CustomerAuditEntry
from inbox.errors import ApplicationError
from inbox.models import InboxEvent

pytestmark = pytest.mark.django_db


class BindContactTests:
    def test_bind_to_an_existing_member(self, make_customer, make_conversation, agent):
        customer = make_customer("Mei")
        conversation = make_conversation("Mei FB")
        binding = services.bind_contact(contact=conversation.contact, customer=customer, actor=agent)
        assert binding.customer == customer and binding.bound_by == agent
        assert CustomerAuditEntry.objects.filter(customer=customer, action="bind").exists()
        event = InboxEvent.objects.order_by("pk").last().payload
        assert (event["type"], event["op"], event["conversation_ids"]) == ("customer", "bind", [conversation.pk])

    def test_binding_again_to_the_same_member_changes_nothing(self, make_customer, make_conversation):
        customer = make_customer("Mei")
        contact = make_conversation().contact
        first = services.bind_contact(contact=contact, customer=customer, actor=None)
        assert services.bind_contact(contact=contact, customer=customer, actor=None) == first

    def test_a_bound_chat_must_be_unbound_before_binding_elsewhere(self, make_customer, make_conversation):
        contact = make_conversation().contact
        services.bind_contact(contact=contact, customer=make_customer("A"), actor=None)
        with pytest.raises(ApplicationError, match="already bound"):
            services.bind_contact(contact=contact, customer=make_customer("B"), actor=None)

    def test_one_member_may_have_chats_on_several_channels(self, make_customer, make_conversation, line_channel):
        customer = make_customer("Mei")
        services.bind_contact(contact=make_conversation().contact, customer=customer, actor=None)
        services.bind_contact(contact=make_conversation(channel=line_channel).contact, customer=customer, actor=None)
        assert customer.bindings.count() == 2

    def test_details_typed_for_the_chat_fill_only_the_members_blanks(self, make_customer, make_conversation):
        customer = make_customer("", email="mei@x.tw")
        customer.name = ""
        customer.save()
        contact = make_conversation().contact
        services.bind_contact(contact=contact, customer=customer, actor=None, name="Mei", email="other@x.tw", phone="0912345678")
        customer.refresh_from_db()
        assert (customer.name, customer.email, customer.phone) == ("Mei", "mei@x.tw", "+886912345678")

    def test_details_for_the_chat_that_belong_to_a_third_member_are_refused(self, make_customer, make_conversation):
        customer = make_customer("A", email="a@x.tw")
        make_customer("C", phone="0912345678")
        with pytest.raises(DuplicateCustomer):
            services.bind_contact(contact=make_conversation().contact, customer=customer, actor=None, phone="0912345678")
        assert not ContactBinding.objects.exists()


class BindNewCustomerTests:
    def test_creates_with_the_chat_name_and_binds(self, make_conversation, agent):
        conversation = make_conversation("小美")
        customer = services.bind_new_customer(contact=conversation.contact, email="Mei@X.tw", actor=agent)
        assert (customer.name, customer.email, customer.source) == ("小美", "mei@x.tw", "inbox")
        assert conversation.contact.customer_binding.customer == customer

    def test_a_clash_creates_nothing(self, make_customer, make_conversation):
        existing = make_customer("Mei", phone="0912345678")
        contact = make_conversation().contact
        with pytest.raises(DuplicateCustomer) as info:
            services.bind_new_customer(contact=contact, phone="+886912345678", actor=None)
        assert info.value.matches == [existing]
        assert Customer.objects.count() == 1 and not ContactBinding.objects.exists()

    def test_an_already_bound_chat_is_refused(self, make_customer, make_conversation):
        contact = make_conversation().contact
        services.bind_contact(contact=contact, customer=make_customer("A"), actor=None)
        with pytest.raises(ApplicationError, match="already bound"):
            services.bind_new_customer(contact=contact, phone="0922000000", actor=None)


class UnbindContactTests:
    def test_unbinding_frees_the_chat_and_deletes_nothing_else(self, make_customer, make_conversation, agent):
        customer = make_customer("Mei")
        services.add_address(customer=customer, actor=None, recipient_name="Mei", street="忠孝東路 1 號")
        contact = make_conversation().contact
        services.bind_contact(contact=contact, customer=customer, actor=None)
        assert services.unbind_contact(contact=contact, actor=agent) == customer
        assert not ContactBinding.objects.exists()
        assert Customer.objects.filter(pk=customer.pk).exists() and customer.addresses.count() == 1
        assert CustomerAuditEntry.objects.filter(customer=customer, action="unbind", actor=agent).exists()
        event = InboxEvent.objects.order_by("pk").last().payload
        assert event["op"] == "unbind" and event["conversation_ids"] == [contact.conversation.pk]

    def test_unbinding_a_free_chat_is_an_error_for_people(self, make_conversation):
        with pytest.raises(ApplicationError, match="not bound"):
            services.unbind_contact(contact=make_conversation().contact, actor=None)
