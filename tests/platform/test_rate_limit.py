"""Rate limits on limits' moving window, in this process's memory: burst, average rate, Retry-After, forgetting."""

from __future__ import annotations

import time

import pytest

from app.platform.rate_limit import (
    WINDOW_WITHOUT_REFILL,
    ForgetfulMemoryStorage,
    LoginLimits,
    RateLimit,
    window_seconds,
)


@pytest.mark.parametrize(
    ("burst", "per_minute", "window"),
    [
        (20, 30, 40),  # the verifier's defaults: 20 at once, 30 a minute on average
        (5, 3, 100),  # sign-in per account
        (20, 10, 120),  # sign-in per address
        (1, 600, 1),  # never under a second
        (3, 7, 26),  # rounded up: never more than per_minute on average
        (5, 0, WINDOW_WITHOUT_REFILL),
    ],
)
def test_a_burst_and_a_rate_become_one_window(burst: int, per_minute: float, window: int) -> None:
    assert window_seconds(burst, per_minute) == window


def test_the_burst_passes_then_the_wait_is_the_rest_of_the_window() -> None:
    limit = RateLimit(3, 3)  # three at once, three a minute: a window of 60 s
    assert [limit.take("198.51.100.1") for _ in range(3)] == [None, None, None]
    wait = limit.take("198.51.100.1")
    assert wait is not None and 59 <= wait <= 60
    assert limit.take("198.51.100.2") is None  # another client has a window of its own


def test_a_refused_request_spends_nothing_and_the_window_frees_places() -> None:
    limit = RateLimit(2, 120)  # a window of one second
    assert limit.take("a") is None and limit.take("a") is None
    assert limit.take("a") == 1 and limit.take("a") == 1
    time.sleep(1.05)
    assert limit.take("a") is None and limit.take("a") is None  # both places came back, not one
    assert limit.take("a") == 1


def test_memory_forgets_the_clients_whose_window_is_over(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = ForgetfulMemoryStorage()
    limit = RateLimit(1, 60, storage=storage)  # a window of one second
    for n in range(200):
        limit.take(f"203.0.113.{n}")
    assert len(storage.events) == 200
    time.sleep(1.05)
    monkeypatch.setattr(storage, "SWEEP_EVERY", 0.0)
    assert limit.take("198.51.100.9") is None  # the next request sweeps
    assert [key.split("/")[1] for key in storage.events] == ["198.51.100.9"] and len(storage.locks) <= 1
    assert limit.take("203.0.113.1") is None  # a forgotten client starts afresh


def test_sign_in_spends_the_address_first_and_keys_the_account_by_its_hash() -> None:
    limits = LoginLimits(account=RateLimit(2, 1, name="login-account"), address=RateLimit(3, 1, name="login-address"))
    assert limits.take("Alice@Example.org", "192.0.2.1") is None
    assert limits.take(" alice@example.org ", "192.0.2.2") is None  # the same account, normalised
    assert limits.take("alice@example.org", "192.0.2.1") is not None  # the account's two are spent
    assert limits.take("bob@example.org", "192.0.2.1") is None  # the address's third
    assert limits.take("carol@example.org", "192.0.2.1") is not None  # the address is spent too
    storage = limits.account.storage
    assert isinstance(storage, ForgetfulMemoryStorage) and not any("alice" in key for key in storage.events)
