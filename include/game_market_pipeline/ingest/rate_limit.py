"""Client-side rate limit per source: a thread-safe token bucket (the Airflow pool caps concurrency)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping


class TokenBucket:
    def __init__(
        self,
        rate_per_second: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.rate = float(rate_per_second)
        self.capacity = float(max(1, burst))
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every caller of this bucket for `seconds` from now (the API said its quota is low)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                if now < self._paused_until:
                    wait = self._paused_until - now
                else:
                    self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                    self._updated = now
                    if self._tokens >= 1:
                        self._tokens -= 1
                        self.waited_seconds += waited
                        return waited
                    wait = (1 - self._tokens) / self.rate
            self._sleep(wait)
            waited += wait


# --- quota headers -------------------------------------------------------------------------------

# Header names (lower case) that say how many calls are left: X-RateLimit-Remaining and its
# per-window variants (X-RateLimit-Remaining-Minute, -Day, ...), and the IETF draft's RateLimit-Remaining.
_REMAINING_PREFIXES = ("x-ratelimit-remaining", "ratelimit-remaining")
_RESET_NAMES = ("ratelimit-reset", "x-ratelimit-reset")
# The IETF draft's combined field: `RateLimit: limit=100, remaining=50, reset=5`.
_COMBINED = re.compile(r"\b(remaining|reset)\s*=\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_EPOCH_THRESHOLD = 1_000_000_000  # a reset above this is a Unix time, not a number of seconds


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def quota_delay(
    headers: Mapping[str, str], low_water: int = 5, max_pause: float = 300.0, now: float | None = None
) -> float:
    """Seconds to hold the source's calls after a response, from its quota headers (0: go on).

    Few calls left (<= `low_water`): spread them over the time to the window's reset, so the
    quota lasts until it renews; none left: wait for the reset. Without a reset time, none left
    waits a second (the 429 that would follow carries Retry-After, which the retries honour).
    `Retry-After` on a successful response is honoured too. Capped at `max_pause`.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    remaining: list[float] = []
    reset: float | None = None
    for name, value in lowered.items():
        if name.startswith(_REMAINING_PREFIXES) and (n := _number(value)) is not None:
            remaining.append(n)
    for name in _RESET_NAMES:
        if reset is None:
            reset = _number(lowered.get(name))
    for key, value in _COMBINED.findall(lowered.get("ratelimit", "")):
        if key.lower() == "remaining":
            remaining.append(float(value))
        elif reset is None:
            reset = float(value)
    if reset is not None and reset > _EPOCH_THRESHOLD:
        reset = max(0.0, reset - (now if now is not None else time.time()))
    delay = 0.0
    retry_after = _number(lowered.get("retry-after"))
    if retry_after:
        delay = retry_after
    if remaining and min(remaining) <= low_water:
        left = min(remaining)
        if reset is None:
            delay = max(delay, 1.0 if left <= 0 else 0.0)
        else:
            delay = max(delay, reset if left <= 0 else reset / (left + 1))
    return min(max_pause, max(0.0, delay))
