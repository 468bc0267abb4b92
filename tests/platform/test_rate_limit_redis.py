"""The rate limit kept in Redis: one bucket shared by every worker, on the local Redis server.

Skipped with the reason when no Redis answers on 127.0.0.1:6379 (set BLASON_TEST_REDIS_URL to use
another); each test uses keys of its own and deletes them.
"""
from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any, Iterator

import pytest

from app import create_app
from app.runtime import runtime
from app.platform.rate_limit import RateLimiter, RedisRateLimiter
from tests.conftest import JWT_PEM, KEK

redis = pytest.importorskip("redis")
URL = os.environ.get("BLASON_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture()
def prefix() -> Iterator[str]:
    client = redis.Redis.from_url(URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis server at {URL} ({type(exc).__name__})")
    name = f"blason:test:{uuid.uuid4().hex}:"
    yield name
    for key in client.scan_iter(match=name + "*"):
        client.delete(key)


def _limiter(prefix: str, burst: int, per_minute: float) -> RedisRateLimiter:
    return RedisRateLimiter(redis.Redis.from_url(URL), burst, per_minute, prefix=prefix)


def test_two_workers_spend_from_one_bucket(prefix: str) -> None:
    first, second = _limiter(prefix, 3, 1), _limiter(prefix, 3, 1)  # two processes, one Redis
    assert [first.take("198.51.100.1"), second.take("198.51.100.1"), first.take("198.51.100.1")] == [None] * 3
    wait = second.take("198.51.100.1")
    assert wait is not None and 55 < wait <= 60  # one token a minute: nearly a minute to wait
    assert first.take("198.51.100.2") is None  # another client has a bucket of its own


def test_the_bucket_refills_and_expires(prefix: str) -> None:
    limiter = _limiter(prefix, 1, 600)  # ten tokens a second
    assert limiter.take("c") is None
    wait = limiter.take("c")
    assert wait is not None and 0 < wait <= 0.1
    time.sleep(wait + 0.02)
    assert limiter.take("c") is None
    ttl = redis.Redis.from_url(URL).pttl(prefix + "c")
    assert 0 < ttl <= 1200  # gone once it would be full again: no key kept per client forever


def test_an_unreachable_redis_lets_requests_through_and_says_so(caplog: Any) -> None:
    limiter = RedisRateLimiter.from_url("redis://127.0.0.1:1/0", 1, 1)  # nothing listens on port 1
    with caplog.at_level(logging.WARNING, logger="app.platform.rate_limit"):
        assert limiter.take("c") is None and limiter.take("c") is None
    assert [r.getMessage() for r in caplog.records].count(
        "rate limit store unreachable, requests allowed: ConnectionError") == 1


def test_the_setting_chooses_the_shared_limiter(tmp_path, prefix: str) -> None:  # type: ignore[no-untyped-def]
    settings = {"ENV": "testing", "INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                "SECRET_KEY": "x", "JWT_PRIVATE_KEY": JWT_PEM, "KEY_ENCRYPTION_KEYS": KEK}
    assert isinstance(runtime(create_app(settings)).verify_limiter, RateLimiter)
    shared = runtime(create_app({**settings, "RATE_LIMIT_REDIS_URL": URL})).verify_limiter
    assert isinstance(shared, RedisRateLimiter) and shared.take(f"{prefix}x") is None
    redis.Redis.from_url(URL).delete(shared.prefix + f"{prefix}x")


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = {"ENV": "testing", "INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                "SECRET_KEY": "x", "JWT_PRIVATE_KEY": JWT_PEM, "KEY_ENCRYPTION_KEYS": KEK}
    for proxies, second_visitor in ((1, 200), (0, 429)):
        app = create_app({**settings, "TRUSTED_PROXIES": proxies})
        runtime(app).verify_limiter = RateLimiter(1, 1)
        client = app.test_client()

        def send(visitor: str) -> int:
            return client.post("/api/v1/verify", json={"credential": "x"},
                               headers={"X-Forwarded-For": visitor}).status_code

        assert send("203.0.113.9") == 200
        assert send("203.0.113.9") == 429
        # Without a trusted proxy the header is anyone's to write: everyone is the proxy's address.
        assert send("198.51.100.4") == second_visitor
