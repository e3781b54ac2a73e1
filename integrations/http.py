"""One way to call a platform: a shared Session, explicit timeouts, typed errors, bounded retries.

Only transient failures (connection errors, timeouts, 5xx, rate limits) are retried, with exponential
backoff (or the platform's Retry-After, capped). A read timeout is retried only for calls that are safe
to repeat (`idempotent=True`: reads, and LINE pushes that carry an X-Line-Retry-Key); a Messenger send
that timed out may have been delivered, so it is reported instead and the echo settles it.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from integrations.base import PlatformError, TransientError

logger = logging.getLogger(__name__)

_session: requests.Session | None = None


def session() -> requests.Session:
    global _session
    if _session is None:
        s = requests.Session()
        adapter = HTTPAdapter(pool_connections=20, pool_maxsize=50, max_retries=0)
        s.mount("https://", adapter)
        s.mount("http://", adapter)
        s.headers["User-Agent"] = "social-inbox/1.0"
        _session = s
    return _session


def backoff_seconds(attempt: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return min(max(retry_after, 0.0), settings.PLATFORM_MAX_RETRY_AFTER_SECONDS)
    return settings.PLATFORM_BACKOFF_SECONDS * (2 ** (attempt - 1))


def retry_after_header(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def call(
    method: str,
    url: str,
    *,
    classify: Callable[[requests.Response], PlatformError | None],
    idempotent: bool,
    **kwargs,
) -> requests.Response:
    """Make the request; return the response when `classify` finds no error, else raise the error."""
    attempts = max(settings.PLATFORM_MAX_ATTEMPTS, 1)
    for attempt in range(1, attempts + 1):
        try:
            response = session().request(method, url, timeout=settings.PLATFORM_TIMEOUT, allow_redirects=False, **kwargs)
        except requests.ConnectTimeout as exc:
            error: PlatformError = TransientError(f"could not connect: {exc.__class__.__name__}")
        except requests.Timeout as exc:
            error = TransientError(f"no answer in time: {exc.__class__.__name__}")
            if not idempotent:
                raise error from exc
        except requests.ConnectionError as exc:
            error = TransientError(f"connection failed: {exc.__class__.__name__}")
        else:
            found = classify(response)
            if found is None:
                return response
            error = found
        if not error.retryable or attempt == attempts:
            raise error
        pause = backoff_seconds(attempt, error.retry_after)
        logger.info("%s %s failed (%s), retry %d in %.2fs", method, url.split("?")[0], error, attempt, pause)
        time.sleep(pause)
    raise AssertionError("unreachable")


def json_or_empty(response: requests.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
