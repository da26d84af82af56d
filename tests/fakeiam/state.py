"""The store: one World behind one lock, the data clock, the issued-secrets log, and persistence
after each change.

Operations (credentials.py, directory.py, sessions.py) take the lock for their whole
read-check-write, so concurrent requests see the same serial order a single server would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from . import errors
from .clock import Clock
from .issued import IssuedSecrets, secrets_of
from .model import Account, Agency, Caller, Key, User, World
from .seed import dump_world, load_world


class Store:
    def __init__(self, clock: Clock, persist: Callable[[dict[str, Any]], None] | None = None):
        self._lock = threading.RLock()
        self.clock = clock
        self.world = World()
        self._persist = persist
        self.issued = IssuedSecrets()

    @contextmanager
    def transaction(self) -> Iterator[World]:
        """Hold the lock; callers that change the world call changed() before leaving."""
        with self._lock:
            yield self.world

    def now(self) -> datetime:
        """The data clock: what "now" means for create_time, last_use_time and every expiry."""
        return self.clock.now()

    def load(self, seed: dict[str, Any]) -> None:
        """Replace everything with the seed (raises SeedError and keeps the old world if invalid)."""
        world = load_world(seed, datetime.now(timezone.utc))
        with self._lock:
            self.world = world
            self.clock.set_offset(world.clock_offset_seconds)
            self.issued.record(*secrets_of(world))
            self.changed()

    def dump(self) -> dict[str, Any]:
        with self._lock:
            self.world.clock_offset_seconds = self.clock.offset_seconds
            return dump_world(self.world)

    def changed(self) -> None:
        if self._persist is not None:
            self._persist(self.dump())

    # Lookups scoped to the caller's account: anything of another account is "not found",
    # so a caller cannot learn that another account's user or key exists.

    def account_of(self, caller: Caller) -> Account:
        return self.world.accounts[caller.domain_id]

    def user_in_account(self, caller: Caller, user_id: str) -> User:
        user = self.world.users.get(user_id)
        if user is None or user.domain_id != caller.domain_id:
            raise errors.not_found("user", user_id)
        return user

    def key_in_account(self, caller: Caller, access: str) -> Key:
        key = self.world.keys.get(access)
        if key is None or self.world.users[key.user_id].domain_id != caller.domain_id:
            raise errors.not_found("credential", access)
        return key

    def agency(self, agency_id: str) -> Agency:
        return self.world.agencies[agency_id]
