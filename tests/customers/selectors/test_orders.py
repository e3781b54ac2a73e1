"""A member's order history (the past year, newest first) and flow (C): members a chat's orders point at."""
import datetime as dt

import pytest
from django.utils import timezone

from customers import selectors, services
from orders import confirmation
from orders.models import Order, OrderStatus
from tests.orders.public.factories import make_order

pytestmark = pytest.mark.django_db


def bound_chat(make_conversation, member, name="Mei FB"):
    conversation = make_conversation(name)
    services.bind_contact(contact=conversation.contact, customer=member, actor=None)
    return conversation


class OrderHistoryTests:
    def test_the_past_years_orders_newest_first_with_number_date_total_status_and_link(
        self, make_conversation, make_customer, place_order, agent
    ):
        mei = make_customer("Mei")
        chat = bound_chat(make_conversation, mei)
        old = place_order(chat, amount=900, days_ago=400)  # more than a year ago: not listed
        month = place_order(chat, amount=300, days_ago=30)
        today = place_order(chat, amount=1250)
        confirmation.change_status(order=month, actor=agent, status=OrderStatus.CANCELLED)
        # Someone else's order is not Mei's.
        place_order(bound_chat(make_conversation, make_customer("Other"), "Other FB"), amount=50)

        rows = selectors.order_history(customer=mei, now=timezone.now())

        assert [r.number for r in rows] == [today.number, month.number]
        assert old.number not in [r.number for r in rows]
        assert [r.total for r in rows] == [1250, 300]
        assert [(r.status, r.status_label) for r in rows] == [
            ("awaiting_confirmation", "awaiting customer confirmation"),
            ("cancelled", "cancelled"),
        ]
        assert [r.url for r in rows] == [f"/orders/{today.pk}/", f"/orders/{month.pk}/"]

    def test_dates_are_the_shops_day_in_taipei(self, make_conversation, make_customer, place_order):
        mei = make_customer("Mei")
        order = place_order(bound_chat(make_conversation, mei))
        # 20:30 UTC is 04:30 the next morning in Taipei (UTC+8).
        late = (timezone.now() - dt.timedelta(days=3)).replace(hour=20, minute=30, second=0, microsecond=0, tzinfo=dt.timezone.utc)
        Order.objects.filter(pk=order.pk).update(created_at=late)

        (row,) = selectors.order_history(customer=mei, now=timezone.now())

        assert row.date == late.date() + dt.timedelta(days=1)
        assert row.created_at.utcoffset() == dt.timedelta(hours=8) and row.created_at == late

    def test_the_year_is_counted_back_from_now(self, make_conversation, make_customer, place_order):
        mei = make_customer("Mei")
        chat = bound_chat(make_conversation, mei)
        place_order(chat, days_ago=200)
        now = timezone.now()
        assert len(selectors.order_history(customer=mei, now=now)) == 1
        assert selectors.order_history(customer=mei, now=now + dt.timedelta(days=170)) == []
        assert len(selectors.order_history(customer=mei, now=now, days=365 * 2)) == 1

    def test_one_query_whatever_the_number_of_orders(self, make_conversation, make_customer, place_order, django_assert_num_queries):
        mei = make_customer("Mei")
        chat = bound_chat(make_conversation, mei)
        for n in range(12):
            place_order(chat, amount=100 + n, days_ago=n)
        with django_assert_num_queries(1):
            rows = selectors.order_history(customer=mei, now=timezone.now())
        assert [r.total for r in rows] == list(range(100, 112))

    def test_a_member_without_orders_has_none(self, make_customer):
        assert selectors.order_history(customer=make_customer("New"), now=timezone.now()) == []


class OrderCustomerMatchTests:
    """Flow (C): an unbound chat whose orders carry a member, or details that are a member's login."""

    def test_the_member_an_earlier_order_of_this_chat_belongs_to(self, make_conversation, make_customer, place_order):
        mei = make_customer("Mei", phone="0911000001")
        chat = bound_chat(make_conversation, mei)
        order = place_order(chat, recipient={"name": "林小美", "phone": "0911-000-001"})
        services.unbind_contact(contact=chat.contact, actor=None)

        (match,) = selectors.order_customer_matches(contact=chat.contact)

        assert (match.customer.pk, match.via, match.order_number, match.order_id) == (mei.pk, "member", order.number, order.pk)
        assert (match.name, match.phone) == ("林小美", "+886911000001") and match.order_url == f"/orders/{order.pk}/"

    def test_a_live_stream_order_whose_recipient_details_are_a_members_login(self, make_conversation, make_customer):
        """Orders that came in without a member (a live stream's), carrying the buyer's phone or email."""
        by_phone = make_customer("Phone member", phone="0912345678")
        by_email = make_customer("Email member", email="ming@example.com")
        chat = make_conversation("Live buyer")
        first = make_order(conversation=chat, recipient={"name": "小美", "phone": "+886 912 345 678"})
        second = make_order(conversation=chat, recipient={"name": "小明", "phone": "", "email": " Ming@Example.com "})
        make_order(conversation=chat, recipient={"name": "Nobody", "phone": "0987-000-111"})
        make_order(conversation=chat, recipient={"name": "Broken", "phone": "not a phone", "email": "nope"})
        make_order(conversation=make_conversation("Someone else"), recipient={"phone": "0912345678"})

        matches = selectors.order_customer_matches(contact=chat.contact)
        assert [(m.customer.pk, m.via, m.order_number) for m in matches] == [
            (by_email.pk, "email", second.number),
            (by_phone.pk, "phone", first.number),
        ]
        assert matches[0].email == "ming@example.com" and matches[1].name == "小美"

        with_details = selectors.order_customer_matches(contact=chat.contact, unmatched=True)
        unmatched = [m for m in with_details if m.customer is None]
        assert [(m.name, m.phone, m.via) for m in unmatched] == [("Nobody", "+886987000111", "")]

    def test_the_bound_member_is_left_out_and_each_member_is_listed_once(self, make_conversation, make_customer, place_order):
        mine = make_customer("Mine", phone="0911000001")
        live = make_customer("Live", phone="0922000002")
        chat = bound_chat(make_conversation, mine)
        place_order(chat, recipient={"name": "Live", "phone": "0922000002"})  # Mine's order, shipped to Live's phone
        make_order(conversation=chat, customer=live, recipient={"name": "Live", "phone": "0922000002"})
        make_order(conversation=chat, recipient={"name": "Live", "phone": "0922 000 002"})

        matches = selectors.order_customer_matches(contact=chat.contact, exclude_customer_id=mine.pk)
        assert [(m.customer.pk, m.via) for m in matches] == [(live.pk, "phone")]
        assert [m.customer.pk for m in selectors.order_customer_matches(contact=chat.contact)] == [live.pk, mine.pk]
        assert selectors.order_customer_match(contact=chat.contact, customer_id=live.pk, exclude_customer_id=mine.pk)
        assert selectors.order_customer_match(contact=chat.contact, customer_id=mine.pk, exclude_customer_id=mine.pk) is None

    def test_a_chat_without_orders_has_no_matches(self, make_conversation, make_customer):
        make_customer("Mei", phone="0912345678")
        assert selectors.order_customer_matches(contact=make_conversation().contact, unmatched=True) == []

    def test_two_queries_whatever_the_number_of_orders(self, make_conversation, make_customer, django_assert_num_queries):
        chat = make_conversation("Live buyer")
        members = [make_customer(f"M{n}", phone=f"09110000{n:02d}") for n in range(8)]
        for member in members:
            make_order(conversation=chat, customer=member, recipient={"phone": member.phone})
        with django_assert_num_queries(3):  # orders, members, their tags (prefetched)
            matches = selectors.order_customer_matches(contact=chat.contact, limit=None, unmatched=True)
        assert len(matches) == 8
