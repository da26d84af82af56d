# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An exclusive lock per credentials file, so that two runs never work on one file at once.

Private to the keywarden.iam collection.

Without it, two runs that both find a user's file empty would both create a key, and the
second write would leave the first key with a secret that nobody holds. With it, the second run
waits, then reads the file the first one wrote, and converges. The lock is advisory (flock) on
``.<file>.lock`` beside the file, and the kernel drops it if the process dies, so a crashed run
never leaves a stale lock behind; the empty lock file itself stays.

Give it the resolved path (``_safe_path.resolve_destination``): two links to one file then take
one lock. The lock file is never reached through a link: as root, opening a planted link with
O_CREAT would create or open any file the link names. ``FileLock.at`` locks any other lock file
the same way, e.g. one in a private state directory.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from typing import Callable, NoReturn

from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError

DEFAULT_LOCK_TIMEOUT = 300.0
POLL_INTERVAL = 0.1

# O_NOFOLLOW: a link at the lock path fails with ELOOP instead of being followed (even a dangling
# one, which O_CREAT would otherwise create). O_NONBLOCK: a FIFO planted there cannot hang the open.
_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class FileLockTimeout(TaskError):
    """Another run held the lock for longer than we wait."""


class LockFileError(TaskError):
    """The lock file is not one to trust (a link, a special file, another user's) or cannot be opened."""


class FileLock:
    """An exclusive flock on ``.<name>.lock`` beside ``path``, or on ``lock_path`` itself.

    Give exactly one of ``path`` (the file to protect) and ``lock_path`` (the lock file; then
    ``description`` says what it protects, for the time-out message). ``FileLock.at`` is the
    short way to the second. ``path`` (the attribute) is always the lock file's path.
    """

    def __init__(self, path: str | None = None, *, lock_path: str | None = None, description: str | None = None,
                 timeout: float = DEFAULT_LOCK_TIMEOUT, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if path is not None and lock_path is None:
            path = os.fspath(path)
            directory, name = os.path.split(path)
            # Hidden, like the temporary files: group_vars/ and host_vars/ loaders skip it.
            lock_path = os.path.join(directory, f".{name}.lock")
            description = description or path
        elif path is not None or lock_path is None:
            raise TypeError("FileLock needs either path or lock_path, not both")
        self.path = os.fspath(lock_path)
        self.description = description or self.path
        self._timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._fd: int | None = None

    @classmethod
    def at(cls, lock_path: str, *, description: str, timeout: float = DEFAULT_LOCK_TIMEOUT,
           clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> FileLock:
        """A lock on the lock file ``lock_path`` itself; ``description`` names what it protects."""
        return cls(lock_path=lock_path, description=description, timeout=timeout, clock=clock, sleep=sleep)

    def acquire(self) -> None:
        """Wait for the lock, up to the time-out. Raises FileLockTimeout or LockFileError."""
        fd = self._open()
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
                        f"Another run has been working on {self.description} for over {self._timeout:.0f} seconds "
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

    def _open(self) -> int:
        """Open (or create, 0600) the lock file, refusing anything but a private regular file."""
        self._refuse_special_file()
        try:
            fd = os.open(self.path, _OPEN_FLAGS, 0o600)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise LockFileError(
                    f"Refusing to lock {self.description}: its lock file {self.path} is a symbolic link, which "
                    "another user may have planted, and it is not followed; remove the link and run the task again"
                ) from None
            raise LockFileError(
                f"Cannot lock {self.description}: its lock file {self.path} could not be created or opened "
                f"({error.strerror or error}); make sure this user can write its directory"
            ) from None
        try:
            self._check_opened(os.fstat(fd))
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _refuse_special_file(self) -> None:
        # lstat first, so that a device found there is never opened (an open may act on a device)
        try:
            status = os.lstat(self.path)
        except OSError:
            return  # missing (it will be created) or unreadable: the open reports the reason
        if not stat.S_ISREG(status.st_mode) and not stat.S_ISLNK(status.st_mode):
            self._refuse("is not a regular file")

    def _check_opened(self, status: os.stat_result) -> None:
        if not stat.S_ISREG(status.st_mode):
            self._refuse("is not a regular file")
        if status.st_uid not in (os.geteuid(), 0):
            self._refuse(f"is owned by uid {status.st_uid}, not by this user or root")
        if status.st_nlink != 1:
            # A hard link planted there could make the lock file another file we would open
            # (and, elsewhere, a file another user can also reach).
            self._refuse(f"has {status.st_nlink} hard links, not one")

    def _refuse(self, why: str) -> NoReturn:
        raise LockFileError(
            f"Refusing to lock {self.description}: its lock file {self.path} {why}; it is not a lock file "
            "this run made, so remove it and run the task again"
        )
