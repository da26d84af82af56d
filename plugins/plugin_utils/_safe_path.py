# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide whether a credentials path is safe to read, lock and write. Private to keywarden.iam.

Controller-only. The controller often runs as root (cron, AWX), and a credentials path may lead
through directories other users can write. Following a link another user planted would let them
aim root's write at any file: its content destroyed, its ownership taken over. So the path is
resolved here once, the way OpenSSH's StrictModes judges a user's files, and every later step
(read, lock, write) works on the resolved real file and follows no link of its own:

- a symbolic link is followed only if it belongs to this user or root and sits in a directory
  that only its owner (this user or root) can change (group/others may write only with the
  sticky bit, and then the link must have no second hard link);
- once a link was followed, no directory from the real file up to ``/`` may be writable by
  group or others without the sticky bit, or another user could swap the file under it;
- the real file, if it exists, must be a regular file of this user or root (checked with lstat
  only: a FIFO is never opened, so it cannot hang the run); if not, its directory must be writable.

The task author's own path is trusted as written when it has no link: they chose that directory.
"""
from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass

from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import (
    AtomicWriteError,
    UnsafePathError,
    file_kind,
)

__all__ = ["MAX_SYMLINKS", "AtomicWriteError", "SafeDestination", "UnsafePathError", "resolve_destination"]

# Linux's own limit (MAXSYMLINKS) for one path lookup
MAX_SYMLINKS = 40

_LINK_ADVICE = "set credentials_file to the real file's path"


@dataclass(frozen=True)
class SafeDestination:
    """A credentials path, checked: read, lock and write ``resolved``; name ``given`` to the user."""

    given: str  # the path as the task wrote it, made absolute
    resolved: str  # the real file: every symbolic link followed (it may not exist yet)
    warnings: tuple[str, ...] = ()  # safe enough to go on, but worth telling the user
    # Check mode only: the first directory on the way that does not exist yet (then nothing is there).
    missing_directory: str | None = None


class _MissingDirectory(Exception):
    def __init__(self, directory: str, rest: list) -> None:
        super().__init__(directory)
        self.directory = directory
        self.rest = rest


def resolve_destination(path: str, *, euid: int | None = None, missing_directory_ok: bool = False) -> SafeDestination:
    """Resolve ``path`` and check it is safe for ``euid`` (default: this process's) to write.

    Raises UnsafePathError when the path is not to be trusted (see the module's rules), and
    AtomicWriteError, its base, when it simply cannot be written (a missing or read-only
    directory). Both messages name the path, say why, and what to do.

    ``missing_directory_ok`` is for check mode, which writes nothing: a directory on the way that
    does not exist yet (an earlier task of the play would create it) means no file is there, with a
    warning, rather than a failure.
    """
    euid = os.geteuid() if euid is None else euid
    given = _absolute(os.fspath(path))
    try:
        resolved, links_followed = _walk(given, euid, missing_directory_ok=missing_directory_ok)
    except _MissingDirectory as missing:
        return SafeDestination(
            given=given, resolved=os.path.join(missing.directory, *missing.rest), missing_directory=missing.directory,
            warnings=(f"The directory {missing.directory} of {given} does not exist yet: check mode counts the "
                      "credentials file as absent. A real run fails unless an earlier task creates it.",))
    if links_followed:
        _check_directory_chain(given, resolved)
    status = _lstat(given, resolved)
    if status is not None:
        _check_target(given, resolved, status, euid)
    directory = os.path.dirname(resolved)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise AtomicWriteError(
            f"Cannot write {given}: the directory {directory} is not writable by this user; "
            "choose a directory it can write for credentials_file"
        )
    return SafeDestination(given=given, resolved=resolved, warnings=_warnings(given, directory))


def _absolute(path: str) -> str:
    # Only "." and empty components go: ".." must wait for the walk, since after a link it
    # climbs from the link's target, not from the directory the path names.
    if not os.path.isabs(path):
        path = os.path.join(os.getcwd(), path)
    return "/" + "/".join(_components(path))


def _components(path: str) -> list[str]:
    return [name for name in path.split("/") if name not in ("", ".")]


def _walk(given: str, euid: int, *, missing_directory_ok: bool = False) -> tuple[str, int]:
    """Resolve ``given`` component by component, like realpath, checking each link before following it.

    Returns the real path (whose last component may not exist) and how many links were followed.
    """
    pending = _components(given)[::-1]  # a stack: the next component is last
    current = "/"  # always a real directory: no link in it
    links_followed = 0
    while pending:
        name = pending.pop()
        if name == "..":
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, name)
        status = _lstat(given, candidate)
        if status is None:
            if pending and missing_directory_ok:
                raise _MissingDirectory(candidate, pending[::-1])
            if pending:
                raise AtomicWriteError(
                    f"Cannot write {given}: the directory {candidate} does not exist; "
                    "create it, or correct credentials_file"
                )
            return candidate, links_followed
        if stat.S_ISLNK(status.st_mode):
            links_followed += 1
            if links_followed > MAX_SYMLINKS:
                raise UnsafePathError(
                    f"Cannot resolve {given}: it leads through more than {MAX_SYMLINKS} symbolic links, "
                    f"most likely a loop (at {candidate}); fix the links, or {_LINK_ADVICE}"
                )
            _check_link(given, candidate, status, current, euid)
            target = _readlink(given, candidate)
            if os.path.isabs(target):
                current = "/"
            pending.extend(reversed(_components(target)))
            continue
        if pending and not stat.S_ISDIR(status.st_mode):
            raise AtomicWriteError(
                f"Cannot write {given}: {candidate} is {file_kind(status.st_mode)}, not a directory; "
                "correct credentials_file"
            )
        current = candidate
    return current, links_followed


def _check_link(given: str, link: str, status: os.stat_result, directory: str, euid: int) -> None:
    """Follow ``link`` only if no one but this user or root could have made or changed it."""
    if status.st_uid not in (euid, 0):
        raise UnsafePathError(
            f"Refusing to use {given}: the symbolic link {link} is owned by {_who(status.st_uid)}, not by this "
            f"user ({_who(euid)}) or root, and a link another user could have planted or swapped is not "
            f"followed; {_LINK_ADVICE}"
        )
    problem = _directory_problem(directory, euid, status)
    if problem:
        raise UnsafePathError(
            f"Refusing to use {given}: the symbolic link {link} is in {directory}, which {problem}, so another "
            f"user could have planted or swapped it, and it is not followed; {_LINK_ADVICE}, or keep the link "
            "in a directory only root or this user can change"
        )


def _directory_problem(directory: str, euid: int, link: os.stat_result) -> str | None:
    """Why another user could have put ``link`` in ``directory`` (a real directory), or None."""
    status = os.lstat(directory)
    if status.st_uid not in (euid, 0):
        return f"is owned by {_who(status.st_uid)}"
    writers = _loose_writers(status.st_mode)
    if writers:
        return f"is writable by {writers} (mode {stat.S_IMODE(status.st_mode):04o}) without the sticky bit"
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and link.st_nlink > 1:
        # Where fs.protected_hardlinks is off, anyone who may add an entry here can hard-link
        # someone else's link (root's own included) into it: a second name is a sign of that.
        return (f"others can write (mode {stat.S_IMODE(status.st_mode):04o}), and the link has "
                f"{link.st_nlink} hard links")
    return None


def _check_directory_chain(given: str, resolved: str) -> None:
    """After following a link: no directory above the real file may let another user swap it."""
    directory = os.path.dirname(resolved)
    while True:
        mode = os.lstat(directory).st_mode
        writers = _loose_writers(mode)
        if writers:
            raise UnsafePathError(
                f"Refusing to use {given}: it leads through a symbolic link to {resolved}, and {directory} is "
                f"writable by {writers} (mode {stat.S_IMODE(mode):04o}) without the sticky bit, so another user "
                f"could swap what the link leads to; remove that permission (chmod go-w {directory}), or set "
                "credentials_file to a file in a private directory"
            )
        if directory == "/":
            return
        directory = os.path.dirname(directory)


def _loose_writers(mode: int) -> str | None:
    """Who besides the owner may rename or delete entries of a directory of this mode, or None.

    The sticky bit limits that to each entry's owner, as in /tmp.
    """
    if mode & stat.S_ISVTX:
        return None
    writers = [who for bit, who in ((stat.S_IWGRP, "its group"), (stat.S_IWOTH, "all users")) if mode & bit]
    return " and ".join(writers) or None


def _check_target(given: str, resolved: str, status: os.stat_result, euid: int) -> None:
    naming = given if resolved == given else f"{given} (which leads to {resolved})"
    if not stat.S_ISREG(status.st_mode):
        raise UnsafePathError(
            f"Refusing to use {naming}: it is {file_kind(status.st_mode)}, not a regular file, and credentials "
            "are only ever written to a regular file; set credentials_file to a file's path"
        )
    if status.st_uid not in (euid, 0):
        raise UnsafePathError(
            f"Refusing to use {naming}: it is owned by {_who(status.st_uid)}; this user ({_who(euid)}) does not "
            "read or replace another user's file. Give it to this user (chown), or choose another credentials_file"
        )


def _warnings(given: str, directory: str) -> tuple[str, ...]:
    mode = os.lstat(directory).st_mode
    if not mode & stat.S_IWOTH:
        return ()
    unless_sticky = "" if mode & stat.S_ISVTX else " and rename or delete them"
    return (
        f"{directory}, the directory of {given}, is writable by all users (mode {stat.S_IMODE(mode):04o}): "
        f"other users can create files beside the credentials{unless_sticky}. A private directory "
        "(mode 0700) is better.",
    )


def _lstat(given: str, path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AtomicWriteError(
            f"Cannot write {given}: cannot examine {path} ({exc.strerror or exc}); "
            "make sure this user can reach it, or correct credentials_file"
        ) from exc


def _readlink(given: str, link: str) -> str:
    try:
        return os.readlink(link)
    except OSError as exc:  # swapped for something else since the lstat
        raise UnsafePathError(
            f"Refusing to use {given}: the symbolic link {link} changed while being checked ({exc.strerror or exc}); "
            "run the task again"
        ) from exc


def _who(uid: int) -> str:
    try:
        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except KeyError:
        return f"uid {uid}"
