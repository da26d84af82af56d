# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An exclusive lock per credentials file, so that two runs never work on one file at once.

Private to the keywarden.iam collection.

Without it, two runs that both find a user's file empty would both create a key, and the
second write would leave the first key with a secret that nobody holds. With it, the second run
waits, then reads the file the first one wrote, and converges. The lock is advisory (flock) on
``.<file>.lock`` beside the file, and the kernel drops it if the process dies, so a crashed run
never leaves a stale lock behind; the empty lock file itself stays.
"""

from __future__ import annotations

import fcntl
import os
import time
from typing import Callable

DEFAULT_LOCK_TIMEOUT = 300.0
POLL_INTERVAL = 0.1


class FileLockTimeout(Exception):
    """Another run held the lock for longer than we wait."""


class FileLock:
    def __init__(self, path: str, *, timeout: float = DEFAULT_LOCK_TIMEOUT,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        directory, name = os.path.split(path)
        # Hidden, like the temporary files: group_vars/ and host_vars/ loaders skip it.
        self.path = os.path.join(directory, f".{name}.lock")
        self._target = path
        self._timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        deadline = self._clock() + self._timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._fd = fd
                return
            except BlockingIOError:
                if self._clock() >= deadline:
                    os.close(fd)
                    raise FileLockTimeout(
                        f"Another run has been working on {self._target} for over {self._timeout:.0f} seconds "
                        f"(it holds {self.path}); run this task again once that run has finished."
                    ) from None
                self._sleep(POLL_INTERVAL)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *_exc_info) -> None:
        self.release()
