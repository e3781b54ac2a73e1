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
