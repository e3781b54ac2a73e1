"""Staff sign-in throttling by client address, beside django-axes's lock per username.

django-axes locks a username after 5 wrong passwords from one address (config/settings.py). That doesn't slow
password spraying: one address trying a common password against many usernames, a few guesses each. So
failed sign-ins are also counted per client address (an IPv6 address by its /64), whatever the username, and
after `SIGNIN_FAILURES_PER_ADDRESS` (30 in 15 minutes by default) the address's next sign-ins are refused with a
429 until the window ends. A whole office behind one address signs in without trouble: successful sign-ins
are not counted, and 30 wrong passwords in a quarter of an hour is not a morning's typos.

The counter is django-ratelimit's, in the default cache. With the cache down (Redis) nothing is counted and
nobody is refused: axes's lock, kept in the database, still holds. A failure is counted when it has happened
(so successes never are): attempts sent all at once each pass the check before any is counted, so a burst
can overshoot the limit by as many attempts as the server runs at once; the next ones are refused.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)

GROUP = "signin-failures"


def _failures(request, *, count: bool) -> dict | None:
    """This window's failures from the request's address (one more if `count`), or None with the cache down."""
    try:
        return get_usage(request, group=GROUP, key="ip", rate=settings.SIGNIN_FAILURES_PER_ADDRESS, increment=count)
    except Exception:  # redis and other backends raise their own types
        logger.warning("sign-in failures not counted: the cache is unavailable", exc_info=True)
        return None


def _over_limit(request) -> bool:
    usage = _failures(request, count=False)
    return usage is not None and usage["count"] >= usage["limit"]


def count_failure(sender, credentials=None, request=None, **kwargs) -> None:
    """`user_login_failed` receiver: one more failure for the request's address."""
    if request is not None:
        _failures(request, count=True)


def signin_paths() -> set[str]:
    return {reverse("login"), reverse("admin:login")}


class SignInThrottleMiddleware:
    """Refuses sign-in attempts (POSTs to the staff or admin sign-in form) from an address over its limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path in signin_paths() and _over_limit(request):
            logger.warning("sign-in refused: too many failures from %s", request.META.get("REMOTE_ADDR"))
            return render(request, "registration/locked_out.html", {"by_address": True}, status=429)
        return self.get_response(request)
