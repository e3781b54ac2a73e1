"""The order's status pipeline: one table of allowed moves, checked in one function.

awaiting confirmation -> confirmed -> paid -> shipped -> completed; cancelled from anywhere before
shipping. Cash-on-pickup/delivery orders go confirmed -> shipped (they are paid on delivery).
"""
from __future__ import annotations

from django.utils.translation import gettext as _

from orders.models import OrderStatus as S

ALLOWED: dict[str, frozenset[str]] = {
    S.AWAITING_CONFIRMATION: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.PAID, S.SHIPPED, S.CANCELLED}),
    S.PAID: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}


class IllegalTransition(ValueError):
    pass


def check_transition(current: str, target: str) -> None:
    """Raise IllegalTransition unless the table allows current -> target."""
    if target not in ALLOWED.get(current, frozenset()):
        raise IllegalTransition(
            _("An order that is %(current)s can't become %(target)s.") % {"current": S(current).label, "target": S(target).label}
        )
