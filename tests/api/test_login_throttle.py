"""Sign-in throttling: per account and per client address, checked before any password is hashed."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app import config
from app.platform.rate_limit import KEY_PREFIX, ForgetfulMemoryStorage, LoginLimits, RateLimit
from app.runtime import login_limits, runtime
from tests.api.support import assert_problem
from tests.conftest import JWT_PEM, KEK, PASSWORD

LOGIN = "/api/v1/auth/login"
REDIS_URL = os.environ.get("BLASON_TEST_LOGIN_REDIS_URL", "redis://127.0.0.1:6379/3")


@pytest.fixture()
def hashes(app, monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """Every password check the service performs (each one an argon2id hash)."""
    passwords = runtime(app).passwords
    seen: list[str] = []
    real = passwords.verify

    def counting(stored: str | None, password: str) -> bool:
        seen.append(password)
        return real(stored, password)

    monkeypatch.setattr(passwords, "verify", counting)
    return seen


def limits(
    app,
    account: tuple[int, float] = (1000, 1000),  # type: ignore[no-untyped-def]
    address: tuple[int, float] = (1000, 1000),
) -> None:
    runtime(app).login_limits = LoginLimits(
        account=RateLimit(*account, name="login-account"), address=RateLimit(*address, name="login-address")
    )


def login(client, email: str, password: str = PASSWORD, address: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_forty_wrong_passwords_cost_five_hashes_with_the_default_limits(app, client, make_person, hashes):
    runtime(app).login_limits = login_limits(runtime(app).settings)  # fresh windows, default sizes
    email = make_person().email
    codes = [login(client, email, f"essai {i}").status_code for i in range(40)]
    assert codes == [401] * 5 + [429] * 35
    assert len(hashes) == 5
    r = login(client, email)  # the right password waits too: the bucket is the account's
    body = assert_problem(r, 429)
    assert body["type"].endswith("/too-many-requests") and "Trop de tentatives" in body["detail"]
    # The account's window (5 over 100 s) is spent, and so is the address's (20 over 120 s): the
    # forty attempts spent it too. Its first place comes back 120 s after the first attempt.
    assert 110 <= int(r.headers["Retry-After"]) <= 120
    assert len(hashes) == 5


def test_an_unknown_e_mail_is_throttled_exactly_like_a_known_one(app, client, make_person, hashes):
    limits(app, account=(2, 1))
    known, unknown = make_person().email, f"personne-{uuid.uuid4().hex[:8]}@example.org"
    answers = []
    for email in (known, unknown):
        assert [login(client, email, "faux").status_code for _ in range(2)] == [401, 401]
        answers.append(login(client, email, "faux"))
    assert [r.status_code for r in answers] == [429, 429]
    assert answers[0].get_json() == answers[1].get_json()
    assert answers[0].headers["Retry-After"] == answers[1].headers["Retry-After"] == "120"  # 2 over 120 s
    assert sorted(answers[0].headers.keys()) == sorted(answers[1].headers.keys())
    assert len(hashes) == 4


def test_failures_on_one_account_do_not_block_another_account(app, client, make_person):
    limits(app, account=(3, 1), address=(10, 1))
    victim, other = make_person().email, make_person().email
    assert [login(client, victim, "faux", address=f"203.0.113.{i}").status_code for i in range(4)] == [
        401,
        401,
        401,
        429,
    ]  # from anywhere: the bucket is the account's
    assert login(client, other).status_code == 200


def test_one_address_is_throttled_across_accounts_and_others_are_not(app, client, make_person, hashes):
    limits(app, address=(3, 1))
    emails = [make_person().email for _ in range(4)]
    assert [login(client, email, "faux").status_code for email in emails[:3]] == [401, 401, 401]
    r = login(client, emails[3])
    assert_problem(r, 429)
    assert 175 <= int(r.headers["Retry-After"]) <= 180  # 3 a burst, 1 a minute: a 180 s window
    assert login(client, emails[3], address="198.51.100.7").status_code == 200
    assert len(hashes) == 4


def test_the_settings_size_the_buckets(tmp_path):
    base = {
        "BLASON_ENV": "testing",
        "BLASON_INSTANCE_DIR": str(tmp_path),
        "BLASON_SECRET_KEY": "s",
        "BLASON_JWT_PRIVATE_KEY": JWT_PEM,
        "BLASON_KEY_ENCRYPTION_KEYS": KEK,
    }
    built = login_limits(config.load(base))
    assert isinstance(built.account.storage, ForgetfulMemoryStorage) and built.address.storage is built.account.storage
    assert (built.account.burst, built.account.per_minute, built.account.window) == (5, 3, 100)
    assert (built.address.burst, built.address.per_minute, built.address.window) == (20, 10, 120)
    built = login_limits(
        config.load({**base, "BLASON_LOGIN_ACCOUNT_RATE_BURST": "2", "BLASON_LOGIN_ADDRESS_RATE_PER_MINUTE": "30"})
    )
    assert (built.account.burst, built.account.window) == (2, 40) and built.address.window == 40
    for name, value in (
        ("BLASON_LOGIN_ACCOUNT_RATE_BURST", "0"),
        ("BLASON_LOGIN_ADDRESS_RATE_PER_MINUTE", "-1"),
        ("BLASON_LOGIN_ADDRESS_RATE_BURST", "beaucoup"),
    ):
        with pytest.raises(config.ConfigError, match=name):
            config.load({**base, name: value})


@pytest.fixture()
def redis_keys() -> Iterator[Any]:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis server at {REDIS_URL} ({type(exc).__name__})")
    created: list[str] = []
    yield created
    for key in client.scan_iter(match=f"{KEY_PREFIX}:login-*"):
        if key.decode().split("/")[1] in created:
            client.delete(key)


def test_with_redis_every_worker_spends_from_the_same_sign_in_buckets(tmp_path, redis_keys):
    settings = config.load(
        {
            "BLASON_ENV": "testing",
            "BLASON_INSTANCE_DIR": str(tmp_path),
            "BLASON_SECRET_KEY": "s",
            "BLASON_JWT_PRIVATE_KEY": JWT_PEM,
            "BLASON_KEY_ENCRYPTION_KEYS": KEK,
            "BLASON_RATE_LIMIT_REDIS_URL": REDIS_URL,
            "BLASON_LOGIN_ACCOUNT_RATE_BURST": "2",
            "BLASON_LOGIN_ADDRESS_RATE_BURST": "3",
        }
    )
    first, second = login_limits(settings), login_limits(settings)  # two worker processes
    assert {type(limit.storage).__name__ for limit in (first.account, first.address)} == {"RedisStorage"}
    email, address = f"redis-{uuid.uuid4().hex}@example.org", f"test-{uuid.uuid4().hex}"
    redis_keys.extend([address, hashlib.sha256(email.encode()).hexdigest()])  # removed afterwards
    assert first.take(email, address) is None and second.take(email.upper(), address) is None
    wait = first.take(email, address)  # the account's third attempt, whichever worker receives it
    assert wait is not None and 39 <= wait <= 40  # 2 a burst, 3 a minute: a 40 s window
    other = f"redis-{uuid.uuid4().hex}@example.org"
    redis_keys.append(hashlib.sha256(other.encode()).hexdigest())
    assert second.take(other, address) is not None  # the address's bucket (3) is spent as well
