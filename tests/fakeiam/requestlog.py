"""A log of the API requests served, for tests that must prove an order of events.

Each entry: when it was answered (real time and the data clock), the operation, which access key
signed it (None for token or unauthenticated calls), the key it acted on (for show, update,
delete), and the status answered (0: the connection was dropped). The zero-downtime fleet test,
for one, reads it to prove that the old key was deactivated only after its last use.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from typing import Any

_ACCESS = re.compile(r"Access=([^,\s]+)")
MAX_ENTRIES = 200_000


def signer_of(authorization: str | None) -> str | None:
    """The access key id in an SDK-HMAC-SHA256 Authorization header, if any."""
    match = _ACCESS.search(authorization or "")
    return match.group(1) if match else None


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)

    def record(self, *, operation: str, signer: str | None, target: str | None, status: int,
               data_time: str) -> None:
        entry = {"time": time.time(), "data_time": data_time, "operation": operation, "signer": signer,
                 "target": target, "status": status}
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)
