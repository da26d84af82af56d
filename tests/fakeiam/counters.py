"""Request counters per operation, for tests and benchmarks that count API calls.

Every request routed to an operation counts, whatever its outcome (refused, faulted or
served): the question they answer is "how many calls did the client make".
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from . import operations


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_operation: Counter[str] = Counter()

    def record(self, operation: str) -> None:
        with self._lock:
            self._by_operation[operation] += 1

    def reset(self) -> None:
        with self._lock:
            self._by_operation.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            by_operation = dict(self._by_operation)
        return {
            "by_operation": by_operation,
            "writes": sum(n for op, n in by_operation.items() if op in operations.WRITES),
            "total": sum(by_operation.values()),
        }
