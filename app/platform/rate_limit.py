"""Rate limits for the doors anyone may knock at: POST /verify, the /verify form, POST /dossiers/verify, sign-in.

Built on the ``limits`` library, with its moving-window strategy. A limit is set as a burst and a
rate (``burst`` requests at once, ``per_minute`` on average), and becomes a window of ``burst``
hits over ``window_seconds(burst, per_minute) = ceil(60 × burst / per_minute)`` seconds: a client
may send ``burst`` requests at once and ``per_minute`` a minute in the long run, as with a token
bucket. What differs is the refill: a spent window frees a place when its oldest hit grows older
than the window, not one token every ``60 / per_minute`` seconds, so after a full burst the wait
(Retry-After) is up to one window. A refused request spends nothing.

The hits are kept by limits' memory storage (each process counts on its own) or by its Redis
storage when a URL is given, so that every worker and host spends from the same window. If Redis
cannot be reached the request is allowed and a warning logged (at most once a minute): the
public verifier and sign-in stay up, and the reverse proxy's limit still applies.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

KEY_PREFIX = "blason:rate"
# A rate of zero never refills: the burst is then counted over a day.
WINDOW_WITHOUT_REFILL = 24 * 3600


def window_seconds(burst: int, per_minute: float) -> int:
    """The moving window that allows ``burst`` hits at once and ``per_minute`` on average."""
    if per_minute <= 0:
        return WINDOW_WITHOUT_REFILL
    return max(1, math.ceil(60 * burst / per_minute))


def open_storage(redis_url: str | None) -> Storage:
    """Redis storage when a URL is given (shared by every worker), else this process's memory."""
    if redis_url:
        # Short timeouts: a slow Redis must not hold a request; its errors come as StorageError.
        return RedisStorage(
            redis_url, key_prefix=KEY_PREFIX, wrap_exceptions=True, socket_timeout=0.5, socket_connect_timeout=0.5
        )
    return ForgetfulMemoryStorage()


class ForgetfulMemoryStorage(MemoryStorage):
    """limits' memory storage, forgetting the clients whose window is over.

    limits 5 empties a moving window's list when its hits expire but keeps the key, so one key per
    client address or e-mail hash ever seen would stay until the process ends. At most once every
    ``SWEEP_EVERY`` seconds, the keys whose hits have all expired are dropped.
    """

    SWEEP_EVERY = 60.0

    def __init__(self) -> None:
        super().__init__()
        self._swept = time.monotonic()

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if time.monotonic() - self._swept >= self.SWEEP_EVERY:
            self.forget_idle()
        return super().acquire_entry(key, limit, expiry, amount)

    def forget_idle(self) -> None:
        """Drop every key whose hits have all expired."""
        self._swept = time.monotonic()
        now = time.time()
        for key, events in list(self.events.items()):
            if events and events[0].expiry > now:  # the newest hit comes first
                continue
            with self.locks[key]:
                events = self.events.get(key, [])
                if not events or events[0].expiry <= now:
                    self.events.pop(key, None)
            self.locks.pop(key, None)


class RateLimit:
    """``burst`` requests at once and ``per_minute`` on average per client, as a moving window.

    ``name`` keeps the limits apart in a shared storage (Redis keys ``blason:rate:<name>/<client>/…``).
    Without a storage, the limit counts in this process's memory, on its own.
    """

    def __init__(self, burst: int, per_minute: float, *, name: str = "verify", storage: Storage | None = None) -> None:
        self.burst, self.per_minute, self.name = burst, per_minute, name
        self.window = window_seconds(burst, per_minute)
        self.storage = storage if storage is not None else ForgetfulMemoryStorage()
        self._item = RateLimitItemPerSecond(burst, self.window, namespace=name)
        self._limiter = MovingWindowRateLimiter(self.storage)
        self._warned = -math.inf

    def take(self, client: str) -> int | None:
        """Spend one request; None when allowed, else the whole seconds to wait (Retry-After, at least 1)."""
        try:
            if self._limiter.hit(self._item, client):
                return None
            reset = self._limiter.get_window_stats(self._item, client).reset_time
        except StorageError as exc:  # Redis unreachable or failing: fail open, say so
            if time.monotonic() - self._warned > 60:
                self._warned = time.monotonic()
                log.warning("rate limit store unreachable, requests allowed: %s", type(exc.storage_error).__name__)
            return None
        return max(1, math.ceil(reset - time.time()))


@dataclass
class LoginLimits:
    """Sign-in attempts: a limit per client address, and one per account whether it exists or not.

    Checked before the password is hashed, so a throttled attempt costs no argon2 work. The account
    is keyed by the SHA-256 of the normalised e-mail (no address kept in clear): an unknown e-mail
    is throttled exactly like a known one, so the answer never tells whether it exists.
    """

    account: RateLimit
    address: RateLimit

    def take(self, email: str, address: str) -> int | None:
        """Spend one attempt; None when allowed, else the whole seconds to wait."""
        wait = self.address.take(address)
        if wait is not None:
            return wait
        return self.account.take(hashlib.sha256(email.strip().lower().encode()).hexdigest())


def verify_limit(redis_url: str | None, burst: int, per_minute: float) -> RateLimit:
    """The verifier's limit per client IP (POST /verify, the /verify form, POST /dossiers/verify)."""
    return RateLimit(burst, per_minute, name="verify", storage=open_storage(redis_url))


def login_limits(redis_url: str | None, *, account: tuple[int, float], address: tuple[int, float]) -> LoginLimits:
    """The sign-in limits, ``(burst, per_minute)`` each, sharing one storage."""
    storage = open_storage(redis_url)
    return LoginLimits(
        account=RateLimit(*account, name="login-account", storage=storage),
        address=RateLimit(*address, name="login-address", storage=storage),
    )
