"""One fakeiam instance: the store, the gateway, plus the test-side knobs (faults, counters, latency)."""

from __future__ import annotations

import json
import threading
from functools import partial
from pathlib import Path
from typing import Any

from . import persistence
from .clock import Clock
from .counters import Counters
from .faults import FaultBoard
from .gateway import Gateway
from .requestlog import RequestLog
from .state import Store


class FakeIamApp:
    def __init__(self, seed: dict[str, Any], state_file: Path | None = None):
        self.seed = seed
        self.clock = Clock()
        self.store = Store(self.clock, partial(persistence.save, state_file) if state_file else None)
        self.gateway = Gateway()
        self.faults = FaultBoard()
        self.counters = Counters()
        self.requests = RequestLog()
        self._latency_lock = threading.Lock()
        self._latency_ms = 0.0
        saved = persistence.load(state_file) if state_file else None
        # A state file from an earlier run wins over the seed: that is what makes it survive restarts.
        self.store.load(saved if saved is not None else seed)

    @classmethod
    def from_files(cls, seed_path: Path, state_file: Path | None) -> FakeIamApp:
        with seed_path.open(encoding="utf-8") as stream:
            return cls(json.load(stream), state_file)

    @property
    def latency_ms(self) -> float:
        with self._latency_lock:
            return self._latency_ms

    def set_latency(self, ms: float) -> None:
        with self._latency_lock:
            self._latency_ms = ms

    def reset(self, seed: dict[str, Any] | None = None) -> None:
        """Back to the start seed (or the given one): clock, skew, propagation delay, faults, counters
        and latency too, and the request log. The issued-secrets log stays: a leak hunt collects
        across resets."""
        self.store.load(seed if seed is not None else self.seed)
        self.gateway.reset()
        self.faults.clear()
        self.counters.reset()
        self.requests.clear()
        self.set_latency(0)
