"""A per-client token bucket, for public endpoints anyone may call (POST /verify)."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

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
