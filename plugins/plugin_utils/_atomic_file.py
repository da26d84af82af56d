# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write, read, keep and restore a file atomically and privately. Private to keywarden.iam.

Controller-only. Meant for files that hold secrets (even vault-encrypted ones): every file this
creates is mode 0600 from its first byte, whatever the umask, and a reader sees either the old
content or the new, never a partial file.

The controller often runs as root, in directories other users may reach. So nothing here follows
a symbolic link at the path it is given (callers pass the path ``_safe_path.resolve_destination``
resolved and checked), nothing replaces or opens anything but a regular file, and nothing waits
on a FIFO: a planted link or special file is refused with an UnsafePathError instead.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import threading
import time

from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError

# O_EXCL: never open a file someone else created (or a symlink planted) under our name.
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: if a FIFO slips in between the check and the open, the open returns at once
# (and fstat then refuses it) instead of waiting forever for a writer.
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# What a hard link may fail with where the file system cannot link (or not this file): copy instead.
_NO_HARD_LINK = {errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}


class AtomicWriteError(TaskError):
    """A credentials file could not be checked, read or written; the message names the path and why."""


class UnsafePathError(AtomicWriteError):
    """A path is not one to trust with a secret (a link someone else could have planted, a device...)."""


def check_writable(path: str) -> None:
    """Fail early, before any API call, if ``path`` cannot be written.

    Checks that the parent directory exists and is writable and that ``path`` is not a
    directory. Raises AtomicWriteError. Kept for compatibility: ``_safe_path.resolve_destination``
    checks this and more, and should be used instead.
    """
    target = os.path.realpath(os.fspath(path))
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        raise AtomicWriteError(f"Cannot write {path}: it is a directory")
    if not os.path.isdir(directory):
        raise AtomicWriteError(f"Cannot write {path}: the directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise AtomicWriteError(f"Cannot write {path}: the directory {directory} is not writable")


def write_atomic(path: str, data: bytes, *, mode: int = 0o600, backup: bool = False,
                 durable: bool = True) -> str | None:
    """Replace ``path`` with ``data``; return the backup's path, if one was made.

    ``path`` must not be a symbolic link, nor anything but a regular file if it exists: either is
    refused with UnsafePathError, untouched. (A link swapped in after this check is replaced, not
    followed: a rename never follows one.) With ``backup``, an existing file is first copied
    beside it as ``<name>.<YYYYmmddTHHMMSS>.<pid>~`` (UTC), mode 0600. Raises AtomicWriteError; on
    failure the original file is untouched and no temporary file or new backup is left behind.

    ``durable=False`` skips both flushes to disk (the data's and the rename's): only for a file
    whose loss or staleness after a crash is harmless, because its readers can tell (a fingerprint
    names the hash of the bytes it describes). Readers still see the old content or the new.
    """
    _check_mode(mode)
    path = os.fspath(path)
    exists = _existing_regular(path, "write") is not None
    backup_path = _backup(path) if backup and exists else None
    try:
        _replace(path, data, mode, durable=durable)
    except OSError as exc:
        if backup_path is not None:
            _remove_quietly(backup_path)  # the original is untouched, so its copy is clutter
        raise AtomicWriteError(f"Failed to write {path}: {_reason(exc)}") from exc
    if not durable:
        return backup_path
    try:
        _fsync_directory(_directory_of(path))
    except OSError as exc:
        raise AtomicWriteError(f"Wrote {path}, but could not flush its directory to disk: {_reason(exc)}") from exc
    return backup_path


def set_mode(path: str, mode: int) -> bool:
    """Give the existing regular file ``path`` the permission bits ``mode``; return whether they changed.

    Changes the file through a descriptor opened without following a link, so a link swapped in
    never passes the change on to its target. A file with other hard links (a version kept by
    ``link_previous``, or another file linked here) is not changed in place, which would change
    it under every name: it is replaced by a copy with the new mode, as ``write_atomic`` would.
    Raises ValueError for a mode with setuid, setgid or sticky bits, UnsafePathError for a link
    or a special file, AtomicWriteError otherwise.
    """
    _check_mode(mode)
    path = os.fspath(path)
    missing = AtomicWriteError(f"Cannot change the mode of {path}: it does not exist; run the task again")
    if _existing_regular(path, "change the mode of") is None:
        raise missing
    try:
        descriptor = _open_regular(path, "change the mode of")
    except FileNotFoundError:
        raise missing from None
    try:
        status = os.fstat(descriptor)
        if stat.S_IMODE(status.st_mode) == mode:
            return False
        if status.st_nlink > 1:
            _replace(path, _read_all(descriptor), mode)
            _fsync_directory(_directory_of(path))
        else:
            os.fchmod(descriptor, mode)
        return True
    except OSError as exc:
        raise AtomicWriteError(f"Cannot change the mode of {path}: {_reason(exc)}") from exc
    finally:
        os.close(descriptor)


def read_regular(path: str) -> bytes | None:
    """The bytes of the regular file ``path``; None when it does not exist.

    Never follows a link at ``path`` and never waits on a FIFO or opens a device: those are refused
    with UnsafePathError. Raises AtomicWriteError when the file cannot be read.
    """
    path = os.fspath(path)
    if _existing_regular(path, "read") is None:
        return None
    try:
        descriptor = _open_regular(path, "read")
    except FileNotFoundError:
        return None  # removed since the check: as good as never there
    try:
        return _read_all(descriptor)
    except OSError as exc:
        raise AtomicWriteError(f"Cannot read {path}: {_reason(exc)}") from exc
    finally:
        os.close(descriptor)


def _read_all(descriptor: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(descriptor, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def link_previous(path: str, keep_path: str) -> bool:
    """Keep the current version of ``path`` as ``keep_path``; False when ``path`` does not exist.

    A hard link when the file system allows one, else a private copy (O_EXCL, made 0600 and
    then given the file's permission bits). Either way ``keep_path`` keeps these bytes after
    ``write_atomic`` replaces ``path`` (it renames a new file in, it never writes in place), so
    ``restore_previous`` can put them back (``set_mode``, too, copies rather than change a file
    with two names). A stale ``keep_path`` is replaced atomically. Raises UnsafePathError for a
    link or special file at ``path``, AtomicWriteError otherwise.
    """
    path, keep_path = os.fspath(path), os.fspath(keep_path)
    original = _existing_regular(path, "keep the previous version of")
    if original is None:
        return False
    kept = _lstat_or_none(keep_path)
    if kept is not None and stat.S_ISREG(kept.st_mode) and os.path.samestat(kept, original):
        return True  # already kept (a run killed after linking): renaming a link onto itself would do nothing
    directory = _directory_of(keep_path)
    temporary = _temporary_name(keep_path)
    try:
        try:
            _hard_link(path, temporary, original)
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINK:
                raise
            content = read_regular(path)
            if content is None:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT)) from exc
            _write_new(temporary, content, stat.S_IMODE(original.st_mode))
        try:
            os.replace(temporary, keep_path)
        except BaseException:
            _remove_quietly(temporary)
            raise
        _fsync_directory(directory)
    except OSError as exc:
        raise AtomicWriteError(
            f"Failed to keep the previous version of {path} as {keep_path}: {_reason(exc)}; "
            "nothing was changed, check that its directory is writable and run the task again"
        ) from exc
    return True


# The shape of every temporary name this module writes: ``.<name>.<hex>.tmp`` (``_temporary_name``;
# the journal's and the previous version's names start with two dots, see leftover_temporaries).
_TEMPORARY_HEX_BYTES = 8
_TEMPORARY_SUFFIX_LENGTH = len(f".{'0' * 2 * _TEMPORARY_HEX_BYTES}.tmp")
_TEMPORARY_NAME = re.compile(r"\..*\.[0-9a-f]{" + str(2 * _TEMPORARY_HEX_BYTES) + r"}\.tmp\Z", re.DOTALL)


def temporary_names(directory: str) -> tuple | None:
    """The names in ``directory`` shaped like one of our temporary files (None if it cannot be read)."""
    try:
        entries = os.listdir(directory or ".")
    except OSError:
        return None
    return tuple(sorted(entry for entry in entries if _TEMPORARY_NAME.match(entry)))


class TemporaryListings:
    """One ``temporary_names`` listing per directory, shared by every file of one task.

    A batch keeps thousands of files in one directory; listing it once per file made the whole
    batch quadratic. Sharing one listing is safe because a leftover of a file is only ever made
    by a write to that file, under its lock: one found here is checked again under that lock (it
    may be gone). One that another run leaves after the listing, killed while this task was
    under way, is found by the next run; if that run was killed in a rotation, its journal is
    still open, and the caller lists the directory afresh (``SecretDestination.leftovers``).
    """

    def __init__(self) -> None:
        self._names: dict = {}
        self._guard = threading.Lock()

    def names(self, directory: str) -> tuple | None:
        with self._guard:  # one listing per directory, even when many threads ask at once
            names = self._names.get(directory)
            if names is None:
                names = temporary_names(directory)
                if names is not None:  # a directory that could not be read is tried again by the next file
                    self._names[directory] = names
            return names


def leftover_temporaries(path: str, listings: TemporaryListings | None = None) -> list:
    """The temporary files that an interrupted write of ``path`` may have left beside it.

    ``write_atomic`` writes ``.<name>.<16 hex>.tmp`` and renames it; a process killed in between
    leaves it (a complete vault-encrypted file, perhaps of a key deleted since). The same holds
    for the journal (``..<name>.journal.<hex>.tmp``) and the kept previous version
    (``..<name>.previous.<hex>.tmp``). Only regular files of this user or root count: the caller
    holds the file's lock, so no write of ours can be under way. ``listings``: the task's shared
    directory listings, instead of a listing of its own.
    """
    directory, name = os.path.split(os.fspath(path))
    names = listings.names(directory) if listings is not None else temporary_names(directory)
    # Every name in ``names`` ends in ".<hex>.tmp"; what comes before says whose it is.
    stems = {f".{name}", f"..{name}.journal", f"..{name}.previous", f"..{name}.fingerprint"}
    found = []
    for entry in names or ():
        if entry[:-_TEMPORARY_SUFFIX_LENGTH] not in stems:
            continue
        candidate = os.path.join(directory, entry)
        status = _lstat_or_none(candidate)
        if status is not None and stat.S_ISREG(status.st_mode) and status.st_uid in (os.geteuid(), 0):
            found.append(candidate)
    return found


def restore_previous(keep_path: str, path: str) -> None:
    """Put the version ``link_previous`` kept at ``keep_path`` back at ``path``, atomically.

    ``keep_path`` is gone afterwards. Raises UnsafePathError when ``keep_path`` is not a regular
    file, AtomicWriteError when it is missing or cannot be moved.
    """
    path, keep_path = os.fspath(path), os.fspath(keep_path)
    if _existing_regular(keep_path, "restore from", advice=f"check {path} by hand") is None:
        raise AtomicWriteError(
            f"Cannot put {path} back as it was: its previous version {keep_path} is gone; "
            f"check {path} by hand"
        )
    try:
        os.replace(keep_path, path)
    except OSError as exc:
        raise AtomicWriteError(
            f"Cannot put {path} back as it was: {_reason(exc)}; its previous version is still in "
            f"{keep_path}, move it back by hand"
        ) from exc
    try:
        for directory in dict.fromkeys((_directory_of(path), _directory_of(keep_path))):
            _fsync_directory(directory)
    except OSError as exc:
        raise AtomicWriteError(f"Put {path} back, but could not flush its directory to disk: {_reason(exc)}") from exc


def remove_durably(path: str) -> bool:
    """Remove ``path`` and flush its directory; False when there was nothing to remove.

    A link at ``path`` is removed itself (unlink never follows one). Raises AtomicWriteError.
    """
    path = os.fspath(path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise AtomicWriteError(f"Cannot remove {path}: {_reason(exc)}; remove it by hand") from exc
    try:
        _fsync_directory(_directory_of(path))
    except OSError as exc:
        raise AtomicWriteError(f"Removed {path}, but could not flush its directory to disk: {_reason(exc)}") from exc
    return True


def _check_mode(mode: int) -> None:
    # setuid/setgid/sticky on a credentials file is never meant: a typo such as 4600 for 0600
    if mode & ~0o777:
        raise ValueError(f"mode {mode:#o} has bits beyond rwx for user, group and others")


_ADVICE = "set credentials_file to the path of a regular file (the real file, not a link to it)"


def _existing_regular(path: str, doing: str, *, advice: str = _ADVICE) -> os.stat_result | None:
    """lstat ``path``: None when missing, its stat when a regular file; refuse anything else.

    Only lstat, so a FIFO is never opened (it would block) and a device never touched.
    """
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AtomicWriteError(f"Cannot {doing} {path}: {_reason(exc)}") from exc
    _require_regular(path, status, doing, advice)
    return status


def _require_regular(path: str, status: os.stat_result, doing: str, advice: str = _ADVICE) -> None:
    if stat.S_ISLNK(status.st_mode):
        raise UnsafePathError(
            f"Refusing to {doing} {path}: it is a symbolic link, which is never followed here (another user "
            f"could have planted or swapped it); {advice}"
        )
    if not stat.S_ISREG(status.st_mode):
        kind = file_kind(status.st_mode)
        raise UnsafePathError(f"Refusing to {doing} {path}: it is {kind}, not a regular file; {advice}")


def file_kind(mode: int) -> str:
    """``mode``'s file type in words, with an article, for messages."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISREG, "a regular file"),
    )
    return next((words for test, words in kinds if test(mode)), "a special file")


def _open_regular(path: str, doing: str) -> int:
    """A read-only descriptor on the regular file ``path``, checked after opening (fstat).

    FileNotFoundError passes through; every other failure becomes AtomicWriteError.
    """
    try:
        descriptor = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link swapped in since the lstat
            raise UnsafePathError(
                f"Refusing to {doing} {path}: it is a symbolic link, which is never followed here; {_ADVICE}"
            ) from exc
        raise AtomicWriteError(f"Cannot {doing} {path}: {_reason(exc)}") from exc
    try:
        _require_regular(path, os.fstat(descriptor), doing)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def _hard_link(path: str, link: str, original: os.stat_result) -> None:
    """Hard-link ``path`` as ``link``, which must not exist, and make sure it is the file checked."""
    os.link(path, link, follow_symlinks=False)  # a link swapped in is linked itself, never its target
    try:
        linked = os.lstat(link)
        if (linked.st_dev, linked.st_ino) != (original.st_dev, original.st_ino):
            raise UnsafePathError(f"Refusing to keep the previous version of {path}: it changed while being kept; "
                                  "run the task again")
    except BaseException:
        _remove_quietly(link)
        raise


def _replace(target: str, data: bytes, mode: int, *, durable: bool = True) -> None:
    # The temporary file sits in the target's directory: os.replace is atomic only within one
    # file system.
    temporary = _temporary_name(target)
    _write_new(temporary, data, mode, durable=durable)
    try:
        os.replace(temporary, target)
    except BaseException:
        _remove_quietly(temporary)
        raise


def _temporary_name(target: str) -> str:
    # The leading dot keeps it out of globs such as group_vars/*.
    return os.path.join(_directory_of(target),
                        f".{os.path.basename(target)}.{secrets.token_hex(_TEMPORARY_HEX_BYTES)}.tmp")


def _write_new(path: str, data: bytes, mode: int, *, durable: bool = True) -> None:
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
            if durable:
                os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except BaseException:
        _remove_quietly(path)
        raise


def _backup(path: str) -> str | None:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    base = f"{path}.{stamp}.{os.getpid()}"
    content = read_regular(path)
    if content is None:
        return None  # removed since the check: nothing left to keep
    try:
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


def _directory_of(path: str) -> str:
    # dirname("creds") is "", which os.open cannot take
    return os.path.dirname(path) or os.curdir


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable: without it a crash can bring back the old file.
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
    except OSError as exc:
        # Some file systems cannot fsync a directory; the rename is done either way.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(descriptor)


def _lstat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _remove_quietly(path: str) -> None:
    # Cleanup after a failure: the first error is the one worth reporting.
    with contextlib.suppress(OSError):
        os.unlink(path)


def _reason(exc: OSError) -> str:
    # strerror leaves out the file name, which for the temporary file would only confuse
    return exc.strerror or str(exc)
