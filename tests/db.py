"""Database helpers shared by tests."""
from __future__ import annotations

from django.db import transaction


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
