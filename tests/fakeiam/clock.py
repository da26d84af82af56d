"""The data clock: real time plus an offset that tests move to age keys and expire tokens.

The signature window does not follow it (see gateway.py): clients sign with real time.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


class Clock:
    def __init__(self, offset_seconds: float = 0.0):
        self._lock = threading.Lock()
        self._offset = offset_seconds

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset

    def set_offset(self, seconds: float) -> None:
        with self._lock:
            self._offset = seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self.offset_seconds)
