"""A per-client token bucket, for public endpoints anyone may call (POST /verify, the /verify form, sign-in).

``RateLimiter`` counts in this process; ``RedisRateLimiter`` keeps the buckets in Redis, so that
every worker process (and every host) spends from the same bucket. Both answer ``take(client)``.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

class RateLimiter:
    """A token bucket per client: ``burst`` requests at once, refilled at ``per_minute``.

    In-process, so each worker process counts on its own (N workers allow N times the rate);
    a reverse proxy in front should rate-limit too. At most ``max_clients`` buckets are kept,
    the least recently seen dropped first.
    """

    def __init__(self, burst: int, per_minute: float, *, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 10000) -> None:
        self.burst, self.rate, self.clock, self.max_clients = burst, per_minute / 60.0, clock, max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float | None:
        """Spend one token; return None when allowed, else the seconds until the next token."""
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            if allowed:
                return None
            return (1.0 - tokens) / self.rate if self.rate > 0 else 60.0


# One bucket per key, as a hash of (tokens, last refill in microseconds of the server's clock):
# refilled, spent and written back in one atomic script, expiring once it would be full again.
_TAKE = """
local burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil then tokens, at = burst, now end
tokens = math.min(burst, tokens + (now - at) / 1000000 * rate)
local wait = -1
if tokens >= 1 then tokens = tokens - 1 elseif rate > 0 then wait = (1 - tokens) / rate else wait = 60 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(((burst - tokens) / math.max(rate, 0.000001) + 1) * 1000))
return tostring(wait)
"""
log = logging.getLogger(__name__)


class RedisRateLimiter:
    """The same token bucket, kept in Redis and shared by every process that uses ``prefix``.

    If Redis cannot be reached the request is allowed and a warning logged (at most once a
    minute): the public verifier stays up, and the reverse proxy's limit still applies.
    """

    def __init__(self, client: Any, burst: int, per_minute: float, *, prefix: str = "blason:rate:verify:") -> None:
        self.client, self.burst, self.rate, self.prefix = client, burst, per_minute / 60.0, prefix
        self._script = client.register_script(_TAKE)
        self._warned = 0.0

    @classmethod
    def from_url(cls, url: str, burst: int, per_minute: float, *,
                 prefix: str = "blason:rate:verify:") -> RedisRateLimiter:
        import redis  # only where configured

        return cls(redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5), burst, per_minute,
                   prefix=prefix)

    def take(self, client: str) -> float | None:
        """Spend one token; return None when allowed, else the seconds until the next token."""
        try:
            wait = float(self._script(keys=[self.prefix + client], args=[self.burst, self.rate]))
        except Exception as exc:  # noqa: BLE001 - any Redis failure: fail open, say so
            if time.monotonic() - self._warned > 60:
                self._warned = time.monotonic()
                log.warning("rate limit store unreachable, requests allowed: %s", type(exc).__name__)
            return None
        return None if wait < 0 else wait


@dataclass
class LoginLimits:
    """Sign-in attempts: a bucket per client address, and one per account whether it exists or not.

    Checked before the password is hashed, so a throttled attempt costs no argon2 work. The account
    bucket is keyed by the SHA-256 of the normalised e-mail (no address kept in clear): an unknown
    e-mail is throttled exactly like a known one, so the answer never tells whether it exists.
    """

    account: RateLimiter | RedisRateLimiter
    address: RateLimiter | RedisRateLimiter

    def take(self, email: str, address: str) -> float | None:
        """Spend one attempt; return None when allowed, else the seconds until the next one."""
        wait = self.address.take(address)
        if wait is not None:
            return wait
        return self.account.take(hashlib.sha256(email.strip().lower().encode()).hexdigest())
