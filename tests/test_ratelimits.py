"""The shared rate-limit counters (config/ratelimits.py): they count per client address, fail open only when the
cache itself fails, and a configuration mistake still fails loudly."""
import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from config import ratelimits

DEAD_CACHE = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0",
                          "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}


def request_from(address: str):
    return RequestFactory().get("/", REMOTE_ADDR=address)


def fresh_group() -> str:
    return f"test-{secrets.token_hex(6)}"


def test_counts_per_address_and_limits_past_the_rate():
    group, one, other = fresh_group(), request_from("198.51.100.1"), request_from("198.51.100.2")
    assert [ratelimits.count_and_check(one, group=group, rate="2/m") for _ in range(3)] == [False, False, True]
    assert ratelimits.over_limit(one, group=group, rate="2/m")
    assert not ratelimits.over_limit(other, group=group, rate="2/m")
    assert not ratelimits.count_and_check(other, group=group, rate="2/m")


def test_over_limit_does_not_count():
    group, one = fresh_group(), request_from("198.51.100.3")
    for _ in range(5):
        assert not ratelimits.over_limit(one, group=group, rate="1/m")
    assert ratelimits.usage(one, group=group, rate="1/m", count=False)["count"] == 0


def test_an_ipv4_client_behind_an_ipv6_listener_is_counted_as_itself():
    group = fresh_group()
    ratelimits.count_and_check(request_from("::ffff:198.51.100.4"), group=group, rate="1/m")
    assert ratelimits.over_limit(request_from("198.51.100.4"), group=group, rate="1/m")
    assert not ratelimits.over_limit(request_from("::ffff:198.51.100.5"), group=group, rate="1/m")


def test_with_the_cache_down_nothing_is_counted_and_nobody_is_limited(settings, caplog):
    settings.CACHES = DEAD_CACHE
    one = request_from("198.51.100.6")
    assert ratelimits.usage(one, group="down", rate="1/m", count=True) is None
    assert not ratelimits.count_and_check(one, group="down", rate="1/m")
    assert not ratelimits.over_limit(one, group="down", rate="1/m")
    assert "the cache is unavailable" in caplog.text


def test_a_configuration_mistake_is_not_taken_for_a_cache_outage():
    with pytest.raises((ImproperlyConfigured, ValueError)):
        ratelimits.usage(request_from("198.51.100.7"), group=fresh_group(), rate="0/0s", count=True)
