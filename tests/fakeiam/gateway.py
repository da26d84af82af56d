"""What the API gateway in front of IAM decides on its own: the clock of the signature window,
and when a newly created key becomes usable.

The gateway's clock is real time (clients sign with real time), not the data clock that tests
move to age keys: skew_seconds shifts it only to simulate a client whose clock is off. A new
permanent key is unknown to the gateway for propagation_seconds of real time after its creation,
as on a real cloud, where a new key takes a moment to reach every gateway node.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone


class Gateway:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._skew_seconds = 0.0
        self._propagation_seconds = 0.0
        # Access key -> time.monotonic() at its creation through the API. Seeded keys are not
        # here: they exist before any client could use them.
        self._created: dict[str, float] = {}

    @property
    def skew_seconds(self) -> float:
        with self._lock:
            return self._skew_seconds

    def set_skew(self, seconds: float) -> None:
        with self._lock:
            self._skew_seconds = seconds

    def now(self) -> datetime:
        """The time X-Sdk-Date is checked against."""
        return datetime.now(timezone.utc) + timedelta(seconds=self.skew_seconds)

    @property
    def propagation_seconds(self) -> float:
        with self._lock:
            return self._propagation_seconds

    def set_propagation(self, seconds: float) -> None:
        with self._lock:
            self._propagation_seconds = seconds

    def key_created(self, access: str) -> None:
        with self._lock:
            self._created[access] = time.monotonic()

    def knows(self, access: str) -> bool:
        """False while a key created through the API is still propagating."""
        with self._lock:
            created = self._created.get(access)
            return created is None or time.monotonic() - created >= self._propagation_seconds

    def reset(self) -> None:
        with self._lock:
            self._skew_seconds = 0.0
            self._propagation_seconds = 0.0
            self._created.clear()
