"""Concurrent edits during a merge cannot corrupt either member: row locks, taken in primary-key order.

Each test holds one side's transaction open on purpose and shows the other side waits for it, then sees
its result. Row locks need PostgreSQL (CI runs it via DATABASE_URL); SQLite serializes every write
transaction instead, so there is nothing to race there.
"""
from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from customers import services
from customers.errors import CustomerGone
from customers.models import Address, CreditEntry, Customer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite serializes all writes"),
]

WAIT = 10  # seconds: far more than any step needs, so a deadlock fails the test instead of hanging it


class Worker(threading.Thread):
    """Runs `fn` in its own thread and database connection; keeps its result or exception."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn = fn
        self.result = None
        self.error: BaseException | None = None

    def run(self):
        try:
            self.result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            connections.close_all()

    def finish(self):
        self.join(WAIT)
        assert not self.is_alive(), "deadlocked or stuck"
        return self


def hold_open(fn, started: threading.Event, release: threading.Event):
    """Run `fn` inside a transaction that stays open until `release` is set."""

    def run():
        with transaction.atomic():
            result = fn()
            started.set()
            assert release.wait(WAIT)
        return result

    return run


def still_waiting(worker: Worker) -> bool:
    time.sleep(0.4)
    return worker.is_alive()


def members():
    a = services.create_customer(name="A", phone="0911000001")
    b = services.create_customer(name="B", phone="0911000002")
    services.adjust_credit(customer=a, amount=100, reason="gift", actor=None)
    services.adjust_credit(customer=b, amount=100, reason="gift", actor=None)
    return a, b


def consistent(customer_id: int) -> Customer:
    customer = Customer.objects.get(pk=customer_id)
    assert customer.credit_balance == sum(CreditEntry.objects.filter(customer=customer).values_list("amount", flat=True)) >= 0
    assert Address.objects.filter(customer=customer, archived_at__isnull=True).count() <= 5
    return customer


class MergeConcurrencyTests:
    def test_a_merge_waits_for_an_edit_of_the_source_in_flight_and_keeps_it(self):
        a, b = members()
        started, release = threading.Event(), threading.Event()
        edit = Worker(hold_open(lambda: services.adjust_credit(customer=b, amount=40, reason="late gift", actor=None), started, release))
        edit.start()
        assert started.wait(WAIT)
        merge = Worker(lambda: services.merge_customers(target=a, source=b, actor=None))
        merge.start()
        assert still_waiting(merge), "the merge must wait for the source's row lock"
        release.set()
        assert edit.finish().error is None and merge.finish().error is None
        merged = consistent(a.pk)
        assert merged.credit_balance == 240
        assert CreditEntry.objects.filter(reason="late gift", customer=merged).exists()
        assert not Customer.objects.filter(pk=b.pk).exists()

    def test_an_edit_of_the_source_during_a_merge_waits_then_finds_it_gone(self):
        a, b = members()
        for n in range(3):
            services.add_address(customer=b, actor=None, recipient_name="B", street=f"B {n}")
        started, release = threading.Event(), threading.Event()
        merge = Worker(hold_open(lambda: services.merge_customers(target=a, source=b, actor=None), started, release))
        merge.start()
        assert started.wait(WAIT)
        spend = Worker(lambda: services.adjust_credit(customer=b, amount=-100, reason="spend on B", actor=None))
        address = Worker(lambda: services.add_address(customer=b, actor=None, recipient_name="B", street="late"))
        top_up = Worker(lambda: services.adjust_credit(customer=a, amount=5, reason="top up A", actor=None))
        for worker in (spend, address, top_up):
            worker.start()
        assert still_waiting(spend) and still_waiting(address) and still_waiting(top_up)
        release.set()
        for worker in (merge, spend, address, top_up):
            worker.finish()
        assert merge.error is None and top_up.error is None
        assert isinstance(spend.error, CustomerGone) and isinstance(address.error, CustomerGone)
        merged = consistent(a.pk)
        assert merged.credit_balance == 205
        assert Address.objects.filter(customer=merged).count() == 3

    def test_opposite_merges_at_once_one_wins_without_deadlock(self):
        a, b = members()
        barrier = threading.Barrier(2)

        def merge(target, source):
            def run():
                barrier.wait(WAIT)
                return services.merge_customers(target=target, source=source, actor=None)

            return run

        first, second = Worker(merge(a, b)), Worker(merge(b, a))
        first.start(), second.start()
        first.finish(), second.finish()
        errors = [w.error for w in (first, second)]
        assert sum(e is None for e in errors) == 1, errors
        assert all(e is None or isinstance(e, CustomerGone) for e in errors)
        survivor = Customer.objects.get()
        assert consistent(survivor.pk).credit_balance == 200 and CreditEntry.objects.filter(customer=survivor).count() == 2

    def test_many_edits_racing_a_merge_keep_both_records_whole(self):
        a, b = members()
        barrier = threading.Barrier(7)

        def at_once(fn):
            def run():
                barrier.wait(WAIT)
                return fn()

            return run

        workers = [Worker(at_once(lambda: services.merge_customers(target=a, source=b, actor=None)))]
        workers += [Worker(at_once(lambda: services.adjust_credit(customer=b, amount=-30, reason="spend B", actor=None))) for _ in range(3)]
        workers += [Worker(at_once(lambda: services.adjust_credit(customer=a, amount=-30, reason="spend A", actor=None))) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.finish()
        assert workers[0].error is None
        spent_b = sum(w.error is None for w in workers[1:4])
        assert all(w.error is None or isinstance(w.error, CustomerGone) for w in workers[1:4])
        assert all(w.error is None for w in workers[4:])
        merged = consistent(a.pk)
        assert merged.credit_balance == 200 - 30 * spent_b - 90
