"""Request counters per operation, for tests and benchmarks that count API calls, and
connection counters, for tests that check that a client reuses its connections.

Every request routed to an operation counts, whatever its outcome (refused, faulted or
served): the question they answer is "how many calls did the client make". Every TCP
connection accepted counts, control calls' included; "api" connections are those that
carried at least one request outside /_control/.
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
        self._connections = 0
        self._api_connections = 0

    def record(self, operation: str) -> None:
        with self._lock:
            self._by_operation[operation] += 1

    def connection_accepted(self) -> None:
        with self._lock:
            self._connections += 1

    def api_connection(self) -> None:
        """A connection carried its first API request."""
        with self._lock:
            self._api_connections += 1

    def reset(self) -> None:
        with self._lock:
            self._by_operation.clear()
            self._connections = 0
            self._api_connections = 0

    def connections(self) -> dict[str, int]:
        with self._lock:
            return {"connections_accepted": self._connections, "api_connections": self._api_connections}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            by_operation = dict(self._by_operation)
        return {
            "by_operation": by_operation,
            "writes": sum(n for op, n in by_operation.items() if op in operations.WRITES),
            "total": sum(by_operation.values()),
        }
