"""Flow (C) under concurrency: two agents confirming the same member at once, or an edit of the chat's
member in flight, leave both records whole (the merge's row locks, PostgreSQL only)."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from customers import services
from customers.errors import CustomerGone
from customers.models import ContactBinding, CreditEntry, Customer
from inbox.models import Contact, Conversation
from tests.customers.services.test_merge_concurrency import WAIT, Worker, consistent, hold_open, still_waiting
from tests.orders.public.factories import make_order

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite serializes all writes"),
]


def chat_with_two_members(channel):
    """A chat bound to a member just created for it, whose live-stream order has an existing member's phone."""
    existing = services.create_customer(name="陳小美", phone="0912345678")
    fresh = services.create_customer(name="Fan", email="fan@x.tw")
    services.adjust_credit(customer=existing, amount=100, reason="gift", actor=None)
    services.adjust_credit(customer=fresh, amount=50, reason="welcome", actor=None)
    contact = Contact.objects.create(channel=channel, platform_user_id="race-1", display_name="Fan")
    conversation = Conversation.objects.create(channel=channel, contact=contact)
    services.bind_contact(contact=contact, customer=fresh, actor=None)
    make_order(conversation=conversation, recipient={"name": "小美", "phone": "0912-345-678"})
    return contact, existing, fresh


class ConfirmOrderCustomerConcurrencyTests:
    def test_two_agents_confirming_at_once_merge_once(self, messenger_channel):
        contact, existing, fresh = chat_with_two_members(messenger_channel)
        barrier = threading.Barrier(2)

        def confirm():
            barrier.wait(WAIT)
            return services.confirm_order_customer(contact=contact, customer=existing, actor=None)

        first, second = Worker(confirm), Worker(confirm)
        first.start(), second.start()
        first.finish(), second.finish()
        errors = [w.error for w in (first, second)]
        assert sum(e is None for e in errors) >= 1, errors
        assert all(e is None or isinstance(e, CustomerGone) for e in errors), errors
        assert [w.result[1] for w in (first, second) if w.error is None].count("merged") == 1
        merged = consistent(existing.pk)
        assert merged.credit_balance == 150 and CreditEntry.objects.filter(customer=merged).count() == 2
        assert not Customer.objects.filter(pk=fresh.pk).exists()
        assert ContactBinding.objects.get(contact=contact).customer_id == existing.pk

    def test_a_confirmation_waits_for_an_edit_of_the_chats_member_and_keeps_it(self, messenger_channel):
        contact, existing, fresh = chat_with_two_members(messenger_channel)
        started, release = threading.Event(), threading.Event()
        edit = Worker(hold_open(lambda: services.adjust_credit(customer=fresh, amount=-20, reason="spent", actor=None), started, release))
        edit.start()
        assert started.wait(WAIT)
        confirm = Worker(lambda: services.confirm_order_customer(contact=contact, customer=existing, actor=None))
        confirm.start()
        assert still_waiting(confirm), "the merge must wait for the chat's member's row lock"
        release.set()
        assert edit.finish().error is None and confirm.finish().error is None
        assert confirm.result[1] == "merged"
        assert consistent(existing.pk).credit_balance == 130
