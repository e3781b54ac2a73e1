"""Creating and editing members: normalized unique logins and the three outcomes of an edit."""
import pytest

from customers import services
from customers.errors import DuplicateCustomer
from customers.models import Customer, CustomerAuditEntry
from inbox.errors import ApplicationError
from inbox.models import InboxEvent

pytestmark = pytest.mark.django_db


class CreateCustomerTests:
    def test_details_are_stored_normalized(self, agent):
        customer = services.create_customer(name="  Mei   Lin ", email=" Mei@Example.COM ", phone="0912-345-678", actor=agent)
        assert (customer.name, customer.email, customer.phone) == ("Mei Lin", "mei@example.com", "+886912345678")
        entry = CustomerAuditEntry.objects.get(customer=customer)
        assert entry.action == "create" and entry.actor == agent

    def test_an_email_or_a_phone_is_enough_but_one_is_needed(self):
        assert services.create_customer(email="a@b.tw").phone == ""
        assert services.create_customer(phone="0911111111").email == ""
        with pytest.raises(ApplicationError, match="email address or a phone number"):
            services.create_customer(name="Nobody")

    def test_invalid_details_are_refused_for_people(self):
        with pytest.raises(ApplicationError, match="valid phone number"):
            services.create_customer(phone="12")
        with pytest.raises(ApplicationError, match="valid email"):
            services.create_customer(email="nope")

    def test_the_same_phone_written_differently_is_a_duplicate(self, make_customer):
        existing = make_customer("Mei", phone="+886 912 345 678")
        with pytest.raises(DuplicateCustomer) as info:
            services.create_customer(name="Other", phone="886912345678")
        assert info.value.outcome == "duplicate"
        assert info.value.matches == [existing]
        assert info.value.fields == {"phone": existing.pk}
        assert Customer.objects.count() == 1

    def test_email_of_one_member_and_phone_of_another_must_be_reentered(self, make_customer):
        by_email = make_customer("A", email="a@x.tw", phone="0911000001")
        by_phone = make_customer("B", phone="0911000002")
        with pytest.raises(DuplicateCustomer) as info:
            services.create_customer(email="A@X.TW", phone="0911-000-002")
        assert info.value.outcome == "reenter"
        assert {c.pk for c in info.value.matches} == {by_email.pk, by_phone.pk}

    def test_tags_are_created_once_case_insensitively(self):
        first = services.create_customer(phone="0911000003", tags=["VIP", "vip ", "團購"])
        second = services.create_customer(phone="0911000004", tags=["Vip"])
        assert sorted(first.tags.values_list("name", flat=True)) == ["VIP", "團購"]
        assert list(second.tags.values_list("name", flat=True)) == ["VIP"]


class UpdateCustomerTests:
    def test_updated_when_nobody_else_has_the_details(self, make_customer, make_conversation, agent, messenger_channel):
        customer = make_customer("Mei", phone="0912345678")
        conversation = make_conversation("Mei")
        services.bind_contact(contact=conversation.contact, customer=customer, actor=agent)
        before = InboxEvent.objects.count()
        updated = services.update_customer(customer=customer, actor=agent, phone="0912 000 111", email="MEI@x.tw", notes="likes red")
        assert (updated.phone, updated.email, updated.notes) == ("+886912000111", "mei@x.tw", "likes red")
        entry = CustomerAuditEntry.objects.filter(customer=customer, action="update").get()
        assert entry.data["changes"]["phone"] == {"from": "+886912345678", "to": "+886912000111"}
        event = InboxEvent.objects.order_by("pk").last().payload
        assert InboxEvent.objects.count() == before + 1
        assert event["type"] == "customer" and event["op"] == "update" and event["conversation_ids"] == [conversation.pk]

    def test_a_member_keeps_its_own_details_without_a_clash(self, make_customer):
        customer = make_customer("Mei", phone="0912345678")
        assert services.update_customer(customer=customer, actor=None, phone="+886912345678").phone == "+886912345678"

    def test_duplicate_when_another_member_has_the_phone(self, make_customer):
        mine = make_customer("Mine", phone="0911000010")
        other = make_customer("Other", phone="0911000011")
        with pytest.raises(DuplicateCustomer) as info:
            services.update_customer(customer=mine, actor=None, phone="0911-000-011", name="Changed")
        assert info.value.outcome == "duplicate" and info.value.matches == [other]
        mine.refresh_from_db()
        assert (mine.phone, mine.name) == ("+886911000010", "Mine")  # nothing changed

    def test_reenter_when_email_and_phone_belong_to_two_members(self, make_customer):
        mine = make_customer("Mine", phone="0911000010")
        make_customer("A", email="a@x.tw")
        make_customer("B", phone="0911000012")
        with pytest.raises(DuplicateCustomer) as info:
            services.update_customer(customer=mine, actor=None, email="a@x.tw", phone="0911000012")
        assert info.value.outcome == "reenter"

    def test_a_member_keeps_at_least_one_login(self, make_customer):
        customer = make_customer("Mei", phone="0912345678")
        with pytest.raises(ApplicationError, match="needs an email address or a phone number"):
            services.update_customer(customer=customer, actor=None, phone="")

    def test_tier_tags_and_notes(self, make_customer, tiers):
        customer = make_customer("Mei")
        services.update_customer(customer=customer, actor=None, tier=tiers["gold"], tags=["VIP", "回購"], notes="n")
        customer.refresh_from_db()
        assert customer.tier == tiers["gold"]
        assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "回購"]
        services.update_customer(customer=customer, actor=None, tags=[])
        assert customer.tags.count() == 0

    def test_too_many_tags_or_long_notes_are_refused(self, make_customer):
        customer = make_customer("Mei")
        with pytest.raises(ApplicationError):
            services.update_customer(customer=customer, actor=None, tags=[f"t{i}" for i in range(21)])
        with pytest.raises(ApplicationError):
            services.update_customer(customer=customer, actor=None, notes="x" * 2001)

    def test_a_member_merged_away_meanwhile_is_reported(self, make_customer):
        gone = make_customer("Gone")
        stale = Customer.objects.get(pk=gone.pk)
        services.merge_customers(target=make_customer("Kept"), source=gone, actor=None)
        with pytest.raises(ApplicationError, match="merged into another"):
            services.update_customer(customer=stale, actor=None, name="x")
