"""Errors the inbox's services raise for people (shown as-is in the UI and the API)."""
from __future__ import annotations


class ApplicationError(Exception):
    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class SendRefused(ApplicationError):
    """The platform's rules don't allow this send now; `extra["window"]` holds the decision."""
