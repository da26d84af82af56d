# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a file atomically and privately, with an optional backup. Private to keywarden.iam.

Controller-only. Meant for files that hold secrets (even vault-encrypted ones): every file this
creates is mode 0600 from its first byte, whatever the umask, and a reader sees either the old
content or the new, never a partial file.
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import time

# O_EXCL: never open a file someone else created (or a symlink planted) under our name.
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


class AtomicWriteError(Exception):
    """A credentials file could not be checked or written; the message names the path and why."""


def check_writable(path: str) -> None:
    """Fail early, before any API call, if ``path`` cannot be written.

    Checks that the parent directory exists and is writable and that ``path`` is not a
    directory. Raises AtomicWriteError.
    """
    target = _resolve(path)
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        raise AtomicWriteError(f"Cannot write {path}: it is a directory")
    if not os.path.isdir(directory):
        raise AtomicWriteError(f"Cannot write {path}: the directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise AtomicWriteError(f"Cannot write {path}: the directory {directory} is not writable")


def write_atomic(path: str, data: bytes, *, mode: int = 0o600, backup: bool = False) -> str | None:
    """Replace ``path`` with ``data``; return the backup's path, if one was made.

    A symlink at ``path`` is followed, so the link stays and its target gets the new content.
    With ``backup``, an existing file is first copied beside it as
    ``<name>.<YYYYmmddTHHMMSS>.<pid>~`` (UTC), mode 0600. Raises AtomicWriteError; on failure the
    original file is untouched and no temporary file or new backup is left behind.
    """
    target = _resolve(path)
    backup_path = _backup(path, target) if backup and os.path.exists(target) else None
    try:
        _replace(target, data, mode)
    except OSError as exc:
        if backup_path is not None:
            _remove_quietly(backup_path)  # the original is untouched, so its copy is clutter
        raise AtomicWriteError(f"Failed to write {path}: {_reason(exc)}") from exc
    try:
        _fsync_directory(os.path.dirname(target))
    except OSError as exc:
        raise AtomicWriteError(f"Wrote {path}, but could not flush its directory to disk: {_reason(exc)}") from exc
    return backup_path


def _resolve(path: str) -> str:
    return os.path.realpath(os.fspath(path))


def _replace(target: str, data: bytes, mode: int) -> None:
    # The temporary file sits in the target's directory: os.replace is atomic only within one
    # file system. The leading dot keeps it out of globs such as group_vars/*.
    temporary = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.{secrets.token_hex(8)}.tmp")
    _write_new(temporary, data, mode)
    try:
        os.replace(temporary, target)
    except BaseException:
        _remove_quietly(temporary)
        raise


def _write_new(path: str, data: bytes, mode: int) -> None:
    """Create ``path``, which must not exist, holding ``data``, then set ``mode``.

    The file is created 0600 (less if the umask says so; the descriptor stays writable), so no
    one else can read it while the data goes in; ``mode`` applies only once it is complete.
    """
    descriptor = os.open(path, _CREATE_FLAGS, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
            os.fchmod(descriptor, mode)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except BaseException:
        _remove_quietly(path)
        raise


def _backup(path: str, target: str) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    base = f"{target}.{stamp}.{os.getpid()}"
    try:
        with open(target, "rb") as handle:
            content = handle.read()
        counter = 0
        while True:
            # Two writes in one second from one process must not clobber the first backup,
            # which may hold a key that is still in use.
            candidate = f"{base}~" if counter == 0 else f"{base}.{counter}~"
            try:
                _write_new(candidate, content, 0o600)
            except FileExistsError:
                counter += 1
                continue
            return candidate
    except OSError as exc:
        raise AtomicWriteError(f"Failed to back up {path} before writing it: {_reason(exc)}") from exc


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable: without it a crash can bring back the old file.
    descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    except OSError as exc:
        # Some file systems cannot fsync a directory; the rename is done either way.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(descriptor)


def _remove_quietly(path: str) -> None:
    # Cleanup after a failure: the first error is the one worth reporting.
    with contextlib.suppress(OSError):
        os.unlink(path)


def _reason(exc: OSError) -> str:
    # strerror leaves out the file name, which for the temporary file would only confuse
    return exc.strerror or str(exc)
