"""Property: whatever two members hold, merging one into the other loses no order, no address (current or
already archived by an earlier merge) and no credit ledger entry, and the balances add up.

Database-backed (orders placed through `orders.services.place_order`, everything else through the customers
services); each Hypothesis example runs in a transaction that is rolled back. Bounded to stay in seconds.
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers import services
from customers.models import MAX_ADDRESSES, Address, CreditEntry, Customer, CustomerAuditEntry
from orders.models import Order
from tests.db import in_rollback

pytestmark = pytest.mark.django_db


member_side = st.fixed_dictionaries(
    {
        "grants": st.lists(st.integers(min_value=1, max_value=3000), max_size=3),
        "spend": st.integers(min_value=0, max_value=2000),
        "orders": st.lists(st.integers(min_value=1, max_value=5000), max_size=2),  # their amounts
        "addresses": st.integers(min_value=0, max_value=MAX_ADDRESSES),
    }
)


class MergeKeepsEverythingTests:
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(
        a_side=member_side,
        b_side=member_side,
        # An earlier merge into one of them (of a member with this many addresses) leaves archived history.
        history=st.tuples(st.sampled_from(["a", "b", None]), st.integers(min_value=0, max_value=MAX_ADDRESSES)),
    )
    def test_a_merge_never_loses_an_order_an_address_or_a_credit_entry(
        self, make_conversation, place_order, a_side, b_side, history
    ):
        def example():
            members = {"a": services.create_customer(phone="0911000001"), "b": services.create_customer(phone="0911000002")}
            for key, side in (("a", a_side), ("b", b_side)):
                member = members[key]
                for amount in side["grants"]:
                    services.adjust_credit(customer=member, amount=amount, reason="gift", actor=None)
                spend = min(side["spend"], sum(side["grants"]))
                if spend:
                    services.adjust_credit(customer=member, amount=-spend, reason="used", actor=None)
                if side["orders"]:
                    chat = make_conversation()
                    services.bind_contact(contact=chat.contact, customer=member, actor=None)
                    for amount in side["orders"]:
                        place_order(chat, amount=amount)
                for n in range(side["addresses"]):
                    services.add_address(customer=member, actor=None, recipient_name=key, street=f"{key} {n}")
            owner, earlier_addresses = history
            if owner is not None:
                earlier = services.create_customer(phone="0911000003")
                services.adjust_credit(customer=earlier, amount=70, reason="earlier", actor=None)
                for n in range(earlier_addresses):
                    services.add_address(customer=earlier, actor=None, recipient_name="c", street=f"c {n}")
                members[owner] = services.merge_customers(target=members[owner], source=earlier, actor=None)

            orders = set(Order.objects.values_list("pk", flat=True))
            entries = dict(CreditEntry.objects.values_list("pk", "amount"))
            archived = dict(Address.objects.filter(archived_at__isnull=False).values_list("pk", "archived_at"))
            current = list(Address.objects.filter(archived_at__isnull=True).order_by("-created_at", "-pk").values_list("pk", flat=True))
            balances = sum(Customer.objects.values_list("credit_balance", flat=True))
            b_id = members["b"].pk

            a = services.merge_customers(target=members["a"], source=members["b"], actor=None)

            assert list(Customer.objects.values_list("pk", flat=True)) == [a.pk]
            assert set(a.orders.values_list("pk", flat=True)) == orders
            assert dict(a.credit_entries.values_list("pk", "amount")) == entries
            a.refresh_from_db()
            assert a.credit_balance == balances == sum(entries.values()) >= 0
            # Every address is kept: those archived earlier stay archived as they were; of the current ones,
            # the newest five stay current (one of them the default) and the rest join the history.
            assert set(a.addresses.values_list("pk", flat=True)) == set(archived) | set(current)
            assert dict(a.addresses.filter(pk__in=archived).values_list("pk", "archived_at")) == archived
            still_current = set(a.addresses.filter(archived_at__isnull=True).values_list("pk", flat=True))
            assert still_current == set(current[:MAX_ADDRESSES])
            assert a.addresses.filter(archived_at__isnull=True, is_default=True).count() == (1 if current else 0)
            # The audit entry says what moved.
            merge = CustomerAuditEntry.objects.filter(action="merge", merged_customer_id=b_id).get()
            assert merge.data["moved"]["other"].get("orders.Order", 0) == len(b_side["orders"])

        in_rollback(example)
