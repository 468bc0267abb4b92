"""The rate limit kept in Redis: one window shared by every worker, on the local Redis server.

Runs against the Redis at 127.0.0.1:6379 (database 15; set BLASON_TEST_REDIS_URL to use another)
and is skipped, with the reason, only when none answers there. Each test uses limit names of its
own and deletes their keys.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app import create_app
from app.platform.rate_limit import KEY_PREFIX, ForgetfulMemoryStorage, RateLimit, open_storage, verify_limit
from app.runtime import runtime
from tests.conftest import JWT_PEM, KEK

redis = pytest.importorskip("redis")
URL = os.environ.get("BLASON_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture()
def name() -> Iterator[str]:
    client = redis.Redis.from_url(URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis server at {URL} ({type(exc).__name__})")
    name = f"test-{uuid.uuid4().hex}"
    yield name
    for key in client.scan_iter(match=f"{KEY_PREFIX}:{name}/*"):
        client.delete(key)


def _limit(name: str, burst: int, per_minute: float) -> RateLimit:
    return RateLimit(burst, per_minute, name=name, storage=open_storage(URL))


def test_two_workers_spend_from_one_window(name: str) -> None:
    first, second = (_limit(name, 3, 3), _limit(name, 3, 3))  # two processes, one Redis; a 60 s window
    assert [first.take("198.51.100.1"), second.take("198.51.100.1"), first.take("198.51.100.1")] == [None] * 3
    wait = second.take("198.51.100.1")
    assert wait is not None and 59 <= wait <= 60  # the first of the three leaves the window in a minute
    assert first.take("198.51.100.2") is None  # another client has a window of its own
    keys = [key.decode() for key in redis.Redis.from_url(URL).scan_iter(match=f"{KEY_PREFIX}:{name}/*")]
    assert sorted(keys) == [f"{KEY_PREFIX}:{name}/198.51.100.{n}/3/60/second" for n in (1, 2)]


def test_the_window_frees_places_and_its_key_expires(name: str) -> None:
    limit = _limit(name, 1, 60)  # one a second
    assert limit.take("c") is None
    assert limit.take("c") == 1
    time.sleep(1.05)
    assert limit.take("c") is None
    ttl = redis.Redis.from_url(URL).ttl(f"{KEY_PREFIX}:{name}/c/1/1/second")
    assert 0 < ttl <= 1  # gone once the window is over: no key kept per client forever


def test_an_unreachable_redis_lets_requests_through_and_says_so(caplog: Any) -> None:
    limit = verify_limit("redis://127.0.0.1:1/0", 1, 1)  # nothing listens on port 1
    with caplog.at_level(logging.WARNING, logger="app.platform.rate_limit"):
        assert limit.take("c") is None and limit.take("c") is None
    assert [r.getMessage() for r in caplog.records].count(
        "rate limit store unreachable, requests allowed: ConnectionError"
    ) == 1


def test_the_setting_chooses_the_shared_storage(tmp_path, name: str) -> None:  # type: ignore[no-untyped-def]
    settings = {
        "ENV": "testing",
        "INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "SECRET_KEY": "x",
        "JWT_PRIVATE_KEY": JWT_PEM,
        "KEY_ENCRYPTION_KEYS": KEK,
    }
    alone = runtime(create_app(settings))
    assert isinstance(alone.verify_limiter.storage, ForgetfulMemoryStorage)
    assert isinstance(alone.login_limits.account.storage, ForgetfulMemoryStorage)
    shared = runtime(create_app({**settings, "RATE_LIMIT_REDIS_URL": URL}))
    for limit in (shared.verify_limiter, shared.login_limits.account, shared.login_limits.address):
        assert type(limit.storage).__name__ == "RedisStorage" and limit.storage.check()
    assert (shared.verify_limiter.burst, shared.verify_limiter.per_minute, shared.verify_limiter.window) == (20, 30, 40)
    client = f"{name}-client"
    assert shared.verify_limiter.take(client) is None
    key = f"{KEY_PREFIX}:verify/{client}/20/40/second"
    assert redis.Redis.from_url(URL).llen(key) == 1
    redis.Redis.from_url(URL).delete(key)


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = {
        "ENV": "testing",
        "INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "SECRET_KEY": "x",
        "JWT_PRIVATE_KEY": JWT_PEM,
        "KEY_ENCRYPTION_KEYS": KEK,
    }
    for proxies, second_visitor in ((1, 200), (0, 429)):
        app = create_app({**settings, "TRUSTED_PROXIES": proxies})
        runtime(app).verify_limiter = RateLimit(1, 1)
        client = app.test_client()

        def send(visitor: str, client: Any = client) -> int:
            return client.post(
                "/api/v1/verify", json={"credential": "x"}, headers={"X-Forwarded-For": visitor}
            ).status_code

        assert send("203.0.113.9") == 200
        assert send("203.0.113.9") == 429
        # Without a trusted proxy the header is anyone's to write: everyone is the proxy's address.
        assert send("198.51.100.4") == second_visitor
