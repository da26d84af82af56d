"""Every secret the server ever issued or was seeded with, for leak hunts.

A test that looks for secrets in logs, output or files needs the full list, including the
secrets of keys deleted since and of worlds replaced by a reset, so this log outlives both;
only an explicit clear empties it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from .model import World


class IssuedSecrets:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # A dict as an ordered set: first-issued order, each secret once.
        self._secrets: dict[str, None] = {}

    def record(self, *secrets: str | None) -> None:
        with self._lock:
            for secret in secrets:
                if secret:
                    self._secrets.setdefault(secret)

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self._secrets)

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()


def secrets_of(world: World) -> Iterable[str | None]:
    """The secrets a world holds: passwords, SKs, tokens, temporary SKs and security tokens."""
    for user in world.users.values():
        yield user.password
    for key in world.keys.values():
        yield key.secret
    for token in world.tokens.values():
        yield token.value
    for temporary in world.temporary_keys.values():
        yield temporary.secret
        yield temporary.security_token
