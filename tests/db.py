"""Database helpers shared by tests."""
from __future__ import annotations

from contextlib import contextmanager

from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction


class _Rollback(Exception):
    pass


def in_rollback(fn) -> None:
    """Run `fn` (one Hypothesis example) in a transaction that is rolled back, so examples don't see each other."""
    try:
        with transaction.atomic():
            fn()
            raise _Rollback
    except _Rollback:
        pass


@contextmanager
def wsgi_application():
    """Django's WSGI handler, minus what Django's test client also turns off: closing the database connection
    around each request (it would end the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
