"""Store credit as a ledger: integer TWD, never below zero, grants that expire."""
import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone

from customers import services
from customers.models import CreditEntry, Customer
from inbox.errors import ApplicationError

pytestmark = pytest.mark.django_db


def balance_matches_ledger(customer) -> bool:
    customer.refresh_from_db()
    return customer.credit_balance == sum(customer.credit_entries.values_list("amount", flat=True))


class CreditTests:
    def test_grant_and_spend(self, make_customer, shop_admin):
        customer = make_customer("Mei")
        services.adjust_credit(customer=customer, amount=300, reason="Welcome gift", actor=shop_admin)
        entry = services.adjust_credit(customer=customer, amount=-120, reason="Used on an order", actor=shop_admin, order_id=77)
        assert entry.kind == "spend" and entry.order_id == 77 and entry.created_by == shop_admin
        assert balance_matches_ledger(customer) and customer.credit_balance == 180

    def test_the_balance_never_goes_below_zero(self, make_customer):
        customer = make_customer("Mei")
        services.adjust_credit(customer=customer, amount=50, reason="Gift", actor=None)
        with pytest.raises(ApplicationError, match="can't go below zero: the balance is NT\\$50"):
            services.adjust_credit(customer=customer, amount=-51, reason="Too much", actor=None)
        assert balance_matches_ledger(customer) and customer.credit_balance == 50

    def test_the_database_refuses_a_negative_balance_too(self, make_customer):
        customer = make_customer("Mei")
        with pytest.raises(IntegrityError):
            Customer.objects.filter(pk=customer.pk).update(credit_balance=-1)

    @pytest.mark.parametrize(("amount", "reason"), [(0, "x"), (10, " "), (True, "x"), (1.5, "x")])
    def test_bad_adjustments_are_refused(self, make_customer, amount, reason):
        with pytest.raises(ApplicationError):
            services.adjust_credit(customer=make_customer("Mei"), amount=amount, reason=reason, actor=None)

    def test_spending_takes_from_the_grant_that_expires_first_and_expiry_takes_the_rest(self, make_customer):
        customer = make_customer("Mei")
        now = timezone.now()
        soon = services.adjust_credit(customer=customer, amount=100, reason="Soon", actor=None, expires_at=now + dt.timedelta(days=1), now=now)
        never = services.adjust_credit(customer=customer, amount=100, reason="Never", actor=None, now=now)
        services.adjust_credit(customer=customer, amount=-60, reason="Order", actor=None, now=now)
        soon.refresh_from_db()
        never.refresh_from_db()
        assert (soon.remaining, never.remaining) == (40, 100)
        assert services.expire_credit(now=now + dt.timedelta(days=2)) == 1
        expiry = CreditEntry.objects.get(kind="expiry")
        assert expiry.amount == -40 and expiry.reason == "Expired: Soon"
        assert balance_matches_ledger(customer) and customer.credit_balance == 100
        assert services.expire_credit(now=now + dt.timedelta(days=3)) == 0

    def test_the_hourly_task_writes_off_what_has_expired(self, make_customer):
        from customers.tasks import credit_expire

        customer = make_customer("Mei")
        past = timezone.now() - dt.timedelta(days=10)
        services.adjust_credit(customer=customer, amount=80, reason="Birthday", actor=None, expires_at=past + dt.timedelta(days=1), now=past)
        services.adjust_credit(customer=customer, amount=20, reason="Kept", actor=None, now=past)
        assert credit_expire.delay().get() == 1  # as the beat runs it (eagerly here)
        customer.refresh_from_db()
        assert customer.credit_balance == 20 and balance_matches_ledger(customer)

    def test_an_expiry_must_be_in_the_future_and_aware(self, make_customer):
        customer = make_customer("Mei")
        with pytest.raises(ApplicationError, match="future"):
            services.adjust_credit(customer=customer, amount=10, reason="x", actor=None, expires_at=timezone.now() - dt.timedelta(days=1))
        with pytest.raises(ApplicationError, match="time zone"):
            services.adjust_credit(customer=customer, amount=10, reason="x", actor=None, expires_at=dt.datetime(2030, 1, 1))
