"""Errors the orders services and selectors raise for people (shown as-is by the API)."""
from __future__ import annotations


class OrdersError(Exception):
    """`message` for people; `errors` maps a field (or a line, e.g. "variant:12") to what is wrong with it."""

    def __init__(self, message, *, errors: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.errors = errors or {}


class CartInputError(OrdersError):
    """An item, gift or delivery method in the request can't be used (unknown, archived, hidden)."""


class OrderInvalid(OrdersError):
    """The order as drafted breaks a rule (tags, note, delivery, recipient, invoice...): fix and retry (400)."""


class QuickOrderUnavailable(OrdersError):
    """The quick order can't be used in this conversation now, e.g. it is assigned to someone else (403)."""


class OrderConflict(OrdersError):
    """Something the order depends on changed while it was being built: stock, the coupon's uses, the
    customer's credit, or the total shown (409). `reasons` lists each as {"code", "message", "field"}."""

    def __init__(self, message, *, reasons: list[dict] | None = None):
        reasons = reasons or []
        super().__init__(message, errors={r["field"]: r["message"] for r in reasons if r.get("field")})
        self.reasons = reasons


class DraftConflict(OrdersError):
    """The draft changed since it was read, or someone else is editing it (409); `draft` is the current one."""

    def __init__(self, message, *, draft=None):
        super().__init__(message)
        self.draft = draft
