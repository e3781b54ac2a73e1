"""Merging member B into A: everything moves, nothing is lost, one audit entry says what happened."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers import services
from customers.models import Address, ContactBinding, CreditEntry, Customer, CustomerAuditEntry
from inbox.errors import ApplicationError
from inbox.models import InboxEvent
from tests.db import in_rollback

pytestmark = pytest.mark.django_db


class MergeTests:
    def test_everything_moves_into_the_target(self, make_customer, make_conversation, line_channel, agent, tiers):
        a = make_customer("Amy", email="amy@x.tw", phone="")
        b = services.create_customer(name="B", phone="0912345678", tags=["VIP"], notes="wants invoices", tier=tiers["gold"])
        conv_a, conv_b = make_conversation("A chat"), make_conversation("B chat", channel=line_channel)
        services.bind_contact(contact=conv_a.contact, customer=a, actor=None)
        services.bind_contact(contact=conv_b.contact, customer=b, actor=None)
        services.add_address(customer=b, actor=None, recipient_name="B", street="B street")
        services.adjust_credit(customer=a, amount=100, reason="A gift", actor=None)
        services.adjust_credit(customer=b, amount=50, reason="B gift", actor=None)
        b_id = b.pk

        merged = services.merge_customers(target=a, source=b, actor=agent)

        assert not Customer.objects.filter(pk=b_id).exists()
        assert (merged.name, merged.email, merged.phone) == ("Amy", "amy@x.tw", "+886912345678")  # blanks filled
        assert merged.tier == tiers["gold"] and merged.notes == "wants invoices"
        assert list(merged.tags.values_list("name", flat=True)) == ["VIP"]
        assert merged.credit_balance == 150 and CreditEntry.objects.filter(customer=a).count() == 2
        assert set(ContactBinding.objects.filter(customer=a).values_list("contact_id", flat=True)) == {conv_a.contact_id, conv_b.contact_id}
        assert Address.objects.get().customer_id == a.pk and Address.objects.get().is_default
        entry = CustomerAuditEntry.objects.get(action="merge")
        assert entry.customer_id == a.pk and entry.actor == agent and entry.merged_customer_id == b_id
        assert entry.data["merged"]["phone"] == "+886912345678" and entry.data["moved"]["contacts"] == [conv_b.contact_id]
        # B's own history came along.
        assert CustomerAuditEntry.objects.filter(customer=a, action="bind", data__contact_id=conv_b.contact_id).exists()
        event = InboxEvent.objects.order_by("pk").last().payload
        assert event["op"] == "merge" and event["merged_customer_id"] == b_id
        assert event["conversation_ids"] == sorted([conv_a.pk, conv_b.pk])

    def test_the_target_keeps_its_own_logins(self, make_customer):
        a = make_customer("A", email="a@x.tw", phone="0911000001")
        b = make_customer("B", email="b@x.tw", phone="0911000002")
        merged = services.merge_customers(target=a, source=b, actor=None)
        assert (merged.email, merged.phone) == ("a@x.tw", "+886911000001")
        # B's logins are free again, and recorded on the merge.
        assert CustomerAuditEntry.objects.get(action="merge").data["merged"]["email"] == "b@x.tw"
        services.create_customer(email="b@x.tw")

    def test_details_typed_for_the_merge_are_set_on_the_target(self, make_customer):
        """The pane's "update binding": A's chat typed M's phone and a new email; A merges into M."""
        mine = make_customer("Mine", email="mine@x.tw", phone="0911000001")
        member = make_customer("Member", phone="0911000002")
        merged = services.merge_customers(target=member, source=mine, actor=None, phone="0911-000-002", email="new@x.tw")
        assert (merged.email, merged.phone) == ("new@x.tw", "+886911000002")

    def test_addresses_beyond_five_are_archived_newest_first(self, make_customer):
        a, b = make_customer("A"), make_customer("B")
        made = []
        for n in range(4):
            made.append(services.add_address(customer=a, actor=None, recipient_name="A", street=f"A {n}"))
            made.append(services.add_address(customer=b, actor=None, recipient_name="B", street=f"B {n}"))
        services.merge_customers(target=a, source=b, actor=None)
        current = list(Address.objects.filter(customer=a, archived_at__isnull=True).order_by("-created_at", "-pk"))
        assert [x.pk for x in current] == [x.pk for x in made[::-1][:5]]
        assert Address.objects.filter(customer=a).count() == 8
        assert Address.objects.filter(customer=a, archived_at__isnull=True, is_default=True).count() == 1
        assert current[0].pk != made[0].pk  # A's default was archived: the newest became the default
        assert Address.objects.filter(customer=a, archived_at__isnull=False).count() == 3

    def test_a_member_cannot_be_merged_into_itself_or_twice(self, make_customer):
        a, b = make_customer("A"), make_customer("B")
        with pytest.raises(ApplicationError):
            services.merge_customers(target=a, source=a, actor=None)
        stale = Customer.objects.get(pk=b.pk)
        services.merge_customers(target=a, source=b, actor=None)
        with pytest.raises(ApplicationError, match="no longer exists"):
            services.merge_customers(target=a, source=stale, actor=None)

    def test_a_failed_merge_changes_nothing(self, make_customer, make_conversation):
        a = make_customer("A", phone="0911000001")
        b = make_customer("B", phone="0911000002")
        make_customer("C", email="c@x.tw")
        services.bind_contact(contact=make_conversation().contact, customer=b, actor=None)
        with pytest.raises(ApplicationError):
            services.merge_customers(target=a, source=b, actor=None, email="c@x.tw")
        assert Customer.objects.filter(pk=b.pk).exists() and ContactBinding.objects.get().customer_id == b.pk

    def test_merged_members_are_found_by_their_old_id(self, make_customer):
        from customers.selectors import merged_into

        a, b, c = make_customer("A"), make_customer("B"), make_customer("C")
        b_id, c_id = b.pk, c.pk
        services.merge_customers(target=b, source=c, actor=None)
        services.merge_customers(target=a, source=b, actor=None)
        assert merged_into(c_id) == a.pk and merged_into(b_id) == a.pk and merged_into(a.pk) is None


side = st.fixed_dictionaries(
    {
        "grants": st.lists(st.integers(min_value=1, max_value=5000), max_size=4),
        "spend": st.integers(min_value=0, max_value=3000),
        "chats": st.integers(min_value=0, max_value=2),
        "tags": st.lists(st.sampled_from(["VIP", "團購", "wholesale", "late payer"]), max_size=3),
    }
)


class MergePropertyTests:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(
        a_side=side,
        b_side=side,
        # Who each address is added for, in time order (at most 5 each: a member's own limit).
        address_owners=st.lists(st.sampled_from("ab"), max_size=10).filter(lambda o: o.count("a") <= 5 and o.count("b") <= 5),
    )
    def test_a_merge_never_loses_an_address_a_credit_entry_or_a_chat(self, messenger_channel, make_conversation, a_side, b_side, address_owners):
        def example():
            members = {"a": services.create_customer(phone="0911000001"), "b": services.create_customer(phone="0911000002")}
            for key, spec in (("a", a_side), ("b", b_side)):
                for amount in spec["grants"]:
                    services.adjust_credit(customer=members[key], amount=amount, reason="gift", actor=None)
                spend = min(spec["spend"], sum(spec["grants"]))
                if spend:
                    services.adjust_credit(customer=members[key], amount=-spend, reason="order", actor=None)
                for _ in range(spec["chats"]):
                    services.bind_contact(contact=make_conversation().contact, customer=members[key], actor=None)
                if spec["tags"]:
                    services.update_customer(customer=members[key], actor=None, tags=spec["tags"])
            for n, owner in enumerate(address_owners):
                services.add_address(customer=members[owner], actor=None, recipient_name=owner, street=f"{owner} {n}")
            addresses = set(Address.objects.values_list("pk", flat=True))
            entries = set(CreditEntry.objects.values_list("pk", flat=True))
            chats = set(ContactBinding.objects.values_list("contact_id", flat=True))
            total = sum(Customer.objects.values_list("credit_balance", flat=True))
            newest = list(Address.objects.order_by("-created_at", "-pk").values_list("pk", flat=True))[:5]

            a = services.merge_customers(target=members["a"], source=members["b"], actor=None)

            assert Customer.objects.count() == 1
            assert set(a.addresses.values_list("pk", flat=True)) == addresses
            assert set(a.credit_entries.values_list("pk", flat=True)) == entries
            assert set(a.bindings.values_list("contact_id", flat=True)) == chats
            a.refresh_from_db()
            assert a.credit_balance == total == sum(a.credit_entries.values_list("amount", flat=True)) >= 0
            current = set(a.addresses.filter(archived_at__isnull=True).values_list("pk", flat=True))
            assert current == set(newest)
            assert a.addresses.filter(archived_at__isnull=True, is_default=True).count() == (1 if current else 0)
            assert set(a.tags.values_list("name", flat=True)) == set(a_side["tags"]) | set(b_side["tags"])

        in_rollback(example)
