"""Shared helpers for the reliability tests: waiting, and pointing Celery at a broker of our choosing."""
from __future__ import annotations

import os
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

from kombu import pools as kombu_pools

from config.celery import app as celery_app

# The reliability tests' broker lives in its own Redis database, so a short visibility timeout or a killed
# worker can never touch the tasks of another test run sharing the server.
RELIABILITY_REDIS_DB = 14


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def isolated_broker_url() -> str:
    """REDIS_URL with the reliability tests' own database number."""
    parts = urlsplit(os.environ["REDIS_URL"])
    return urlunsplit((parts.scheme, parts.netloc, f"/{RELIABILITY_REDIS_DB}", parts.query, parts.fragment))


def unique_queue() -> str:
    return f"reliability-{uuid.uuid4().hex[:12]}"


def use_broker(url: str, *, queue: str | None = None, transport_options: dict | None = None) -> None:
    """Point the (already configured) Celery app at `url`, dropping pooled connections to the old one."""
    celery_app.conf.broker_url = url
    celery_app.conf.broker_transport_options = transport_options or {}
    if queue:
        celery_app.conf.task_default_queue = queue
    # kombu keeps its pools in a registry keyed by connection URL: close and forget them all.
    kombu_pools.reset()
    celery_app._pool = None
    # The AMQP helper caches its queues, router and producer pool: let it be rebuilt from the new conf.
    celery_app.__dict__.pop("amqp", None)
