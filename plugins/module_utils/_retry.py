# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""When to try a request again, and how long to wait. Private to the keywarden.iam collection."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter; a server's Retry-After wins when it sends one."""

    retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        # "Equal jitter": half the ceiling for sure, half at random. The delay still grows with
        # each attempt, yet callers that failed together do not come back together.
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class ThrottleGate:
    """One gate shared by every thread talking to the same API.

    When any thread is told to slow down (HTTP 429), the gate closes for the back-off period
    and every thread waits at it before its next request, instead of N threads each
    hammering an API that has already said it is overloaded.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._resume_at = 0.0

    def hold_for(self, seconds: float) -> None:
        with self._lock:
            self._resume_at = max(self._resume_at, self._clock() + seconds)

    def wait(self) -> float:
        """Block until the gate is open; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                remaining = self._resume_at - self._clock()
            if remaining <= 0:
                return waited
            self._sleep(remaining)
            waited += remaining
