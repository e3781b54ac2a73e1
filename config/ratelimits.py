"""Counters of requests per client address in Django's cache (django-ratelimit), for the sign-in throttle
(`inbox/signin.py`) and the customer's order page (`orders/public.py`).

A limit only makes abuse costlier, so it fails open: with the cache down (Redis) nothing is counted, nobody is
limited and a warning is logged. Only the cache's own failures are caught; a mistake in the limit's settings
(an unreadable rate, say) still fails loudly.
"""
from __future__ import annotations

import logging

from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What Django's cache backends raise when their server is unreachable: redis-py's errors for RedisCache,
# socket errors (OSError) for the others.
CACHE_ERRORS = (RedisError, OSError)


def usage(request, *, group: str, rate: str, count: bool) -> dict | None:
    """This window's figures for the request's address in `group` (after one more if `count`): django-ratelimit's
    dict (`count`, `limit`, `should_limit`, `time_left`), or None with the cache down."""
    try:
        return get_usage(request, group=group, key="ip", rate=rate, increment=count)
    except CACHE_ERRORS:
        logger.warning("rate limit %s not counted: the cache is unavailable", group, exc_info=True)
        return None


def over_limit(request, *, group: str, rate: str) -> bool:
    """True once the request's address went over `rate` in `group`, not counting this request."""
    figures = usage(request, group=group, rate=rate, count=False)
    return figures is not None and figures["count"] >= figures["limit"]


def count_and_check(request, *, group: str, rate: str) -> bool:
    """Count this request; True once its address went over `rate` in `group` (this request included)."""
    figures = usage(request, group=group, rate=rate, count=True)
    return figures is not None and bool(figures["should_limit"])
