"""Staff sign-in throttling by client address, beside django-axes's lock per username.

django-axes locks a username after 5 wrong passwords from one address (config/settings.py). That doesn't slow
password spraying: one address trying a common password against many usernames, a few guesses each. So
failed sign-ins are also counted per client address (an IPv6 address by its /64), whatever the username, and
after `SIGNIN_FAILURES_PER_ADDRESS` (30 in 15 minutes by default) the address's next sign-ins are refused with a
429 until the window ends. A whole office behind one address signs in without trouble: successful sign-ins
are not counted, and 30 wrong passwords in a quarter of an hour is not a morning's typos.

The counter is django-ratelimit's, in the default cache (`config/ratelimits.py`). With the cache down (Redis)
nothing is counted and nobody is refused: axes's lock, kept in the database, still holds. A failure is counted when it has happened
(so successes never are): attempts sent all at once each pass the check before any is counted, so a burst
can overshoot the limit by as many attempts as the server runs at once; the next ones are refused.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse

from config import ratelimits

logger = logging.getLogger(__name__)

GROUP = "signin-failures"


def _over_limit(request) -> bool:
    return ratelimits.over_limit(request, group=GROUP, rate=settings.SIGNIN_FAILURES_PER_ADDRESS)


def count_failure(sender, credentials=None, request=None, **kwargs) -> None:
    """`user_login_failed` receiver: one more failure for the request's address."""
    if request is not None:
        ratelimits.usage(request, group=GROUP, rate=settings.SIGNIN_FAILURES_PER_ADDRESS, count=True)


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
