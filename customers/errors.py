"""Errors the customers services raise for people. All are `inbox.errors.ApplicationError`s, so every
API and page that already turns those into a 400 keeps working; a clash of login details is a 409."""
from __future__ import annotations

from inbox.errors import ApplicationError


class DuplicateCustomer(ApplicationError):
    """The email or phone typed belongs to another member.

    `outcome` is what the agent can do:
    - "duplicate": both (or the one) clashing details belong to one member: offer to merge with it
      ("update binding");
    - "reenter": the email belongs to one member and the phone to another: the details must be re-entered.
    `matches` are the clashing members; `fields` maps "email"/"phone" to the id of the member that has it.
    """

    DUPLICATE = "duplicate"
    REENTER = "reenter"

    def __init__(self, message: str, *, outcome: str, matches: list, fields: dict[str, int]):
        super().__init__(message, extra={"outcome": outcome, "fields": fields})
        self.outcome = outcome
        self.matches = matches
        self.fields = fields


class CustomerGone(ApplicationError):
    """The member was merged into another (or deleted) while someone was looking at it."""
