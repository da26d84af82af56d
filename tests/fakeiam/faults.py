"""Armed faults: the next `count` requests of an operation misbehave in a chosen way.

Kinds:
  status             answer {"status": N} with a Huawei-style body, without doing the operation
  throttle           answer 429 (Retry-After when "retry_after" is given), without doing it
  drop               close the connection without doing anything or answering
  drop_after_commit  do the operation and commit it, then close without answering
                     (the lost create response: the key exists, its secret is gone)
  delay              do the operation, then wait "seconds" before answering
  hold               wait up to "seconds" BEFORE doing the operation; a client that hangs up
                     meanwhile abandons the request, which is then never done (api.py watches
                     the request's socket): "the client went away before the server acted",
                     where delay is "after the server acted"
A fault fires on every matching request whatever its outcome would be, and several faults
armed for one operation fire in the order they were armed.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

from . import errors, operations

STATUS, THROTTLE, DROP, DROP_AFTER_COMMIT, DELAY = "status", "throttle", "drop", "drop_after_commit", "delay"
HOLD = "hold"
KINDS = (STATUS, THROTTLE, DROP, DROP_AFTER_COMMIT, DELAY, HOLD)
TIMED = frozenset({DELAY, HOLD})  # the kinds that need "seconds"
ANY_OPERATION = "*"
ANSWERS_INSTEAD = frozenset({STATUS, THROTTLE})  # an error answer replaces the operation


@dataclass
class Fault:
    operation: str
    kind: str
    remaining: int
    status: int | None = None
    retry_after: float | None = None
    seconds: float | None = None
    code: str | None = None
    message: str | None = None

    def error(self) -> errors.ApiError:
        if self.kind == THROTTLE:
            headers = {} if self.retry_after is None else {"Retry-After": _header_number(self.retry_after)}
            message = self.message or "The throttling threshold has been reached: policy user over ratelimit"
            return errors.huawei(429, self.code or "APIG.0308", message, headers)
        assert self.status is not None
        return errors.huawei(self.status, self.code or "IAM.0006",
                             self.message or f"{errors.title(self.status)} (fault injected by fakeiam).")


def _header_number(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


class FaultError(ValueError):
    """A fault specification that does not make sense."""


def _number(spec: dict[str, Any], name: str, *, required: bool = False) -> float | None:
    value = spec.get(name)
    if value is None:
        if required:
            raise FaultError(f"this fault kind needs {name!r}")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise FaultError(f"{name!r} must be a non-negative number")
    return value


def parse(spec: Any) -> Fault:
    if not isinstance(spec, dict):
        raise FaultError("a fault is a JSON object")
    allowed = {"operation", "kind", "count", "status", "retry_after", "seconds", "code", "message"}
    if set(spec) - allowed:
        raise FaultError(f"unknown field(s) {sorted(set(spec) - allowed)}")
    operation, kind, count = spec.get("operation"), spec.get("kind"), spec.get("count", 1)
    if operation != ANY_OPERATION and operation not in operations.ALL:
        raise FaultError(f"operation must be '*' or one of {sorted(operations.ALL)}")
    if kind not in KINDS:
        raise FaultError(f"kind must be one of {list(KINDS)}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise FaultError("count must be a positive integer")
    status = spec.get("status")
    if kind == STATUS and (isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599):
        raise FaultError("a status fault needs 'status' from 400 to 599")
    return Fault(
        operation=operation,
        kind=kind,
        remaining=count,
        status=status if kind == STATUS else None,
        retry_after=_number(spec, "retry_after") if kind == THROTTLE else None,
        seconds=_number(spec, "seconds", required=True) if kind in TIMED else None,
        code=spec.get("code"),
        message=spec.get("message"),
    )


class FaultBoard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def take(self, operation: str) -> Fault | None:
        """The fault for this request, if any; each take uses up one of its count."""
        with self._lock:
            for fault in self._armed:
                if fault.operation in (operation, ANY_OPERATION):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._armed.remove(fault)
                    return fault
        return None

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(fault) for fault in self._armed]
