# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What this controller knows about one IAM user across runs and files: a lock and an index.

Private to the keywarden.iam collection.

Two playbooks (or two tasks of one batch) that manage the same IAM user through different
credentials files must not work on the user's two key slots at once: one would retire or
reconcile away the other's brand-new key. So every run takes a per-user lock, keyed by
(endpoint, account, user id), in a private state directory of the controller, for as long as
it reads, plans and changes the user's keys. The lock is a flock: the kernel drops it when a
run dies, so a killed run never blocks the next one.

Under that lock the run also keeps the user's index: which credentials files on this
controller hold which of the user's keys (with the SHA-256 of the file's bytes when it was
written, so a file changed or removed since is not trusted). A run that must make room never
deletes a key another file holds (unless make_room is oldest), nor one an unfinished rotation
of another file may have created, and it never reconciles such a key away as its own.

The state directory is ``<ANSIBLE_HOME>/keywarden`` (``~/.ansible/keywarden`` by default):
private to the user that runs Ansible (0700, refused if it is a link or anyone else's).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from typing import Mapping, Sequence

from ansible_collections.keywarden.iam.plugins.module_utils._models import AccessKey
from ansible_collections.keywarden.iam.plugins.module_utils._planner import Claim, lost_create_candidates
from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import (
    AtomicWriteError,
    read_regular,
    write_atomic,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._file_lock import FileLock
from ansible_collections.keywarden.iam.plugins.plugin_utils._journal import (
    Journal,
    JournalError,
    Scope,
    journal_path_for,
)


class StateDirectoryError(AtomicWriteError):
    """The controller's state directory cannot be used safely."""


def ensure_private_directory(path: str) -> str:
    """``path`` as a directory only this user can use: created 0700, or checked if it exists."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        status = os.lstat(path)
    except OSError as error:
        raise StateDirectoryError(
            f"Cannot create the keywarden.iam state directory {path}: {error.strerror}. Set ANSIBLE_HOME to a "
            "directory this user can write.") from None
    if not stat.S_ISDIR(status.st_mode):
        raise StateDirectoryError(f"The keywarden.iam state directory {path} is not a directory (a link?): move it "
                                  "away.")
    if status.st_uid != os.geteuid() or status.st_mode & 0o022:
        raise StateDirectoryError(
            f"The keywarden.iam state directory {path} belongs to uid {status.st_uid} or others may write it "
            f"(mode {stat.S_IMODE(status.st_mode):04o}): it holds locks and journals that others must not touch. "
            "Remove it, or give it to this user with mode 0700.")
    return path


@dataclass(frozen=True)
class HeldFile:
    path: str
    access_key_id: str
    sha256: str


class UserState:
    """The per-user lock, index and file-less journal of one (endpoint, account, user)."""

    def __init__(self, state_dir: str, scope: Scope) -> None:
        self.scope = scope
        digest = hashlib.sha256("\0".join((scope.endpoint, scope.domain_id, scope.user_id)).encode()).hexdigest()
        self._directory = os.path.join(state_dir, "users")
        self._base = os.path.join(self._directory, digest[:40])
        self._state_dir = state_dir
        self._lock: FileLock | None = None

    def lock(self) -> None:
        """Wait until no other run on this controller works on this user's keys."""
        ensure_private_directory(self._state_dir)
        ensure_private_directory(self._directory)
        self._lock = FileLock.at(f"{self._base}.lock", description=f"the access keys of user {self.scope.user_id}")
        self._lock.acquire()

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def fileless_journal(self) -> Journal:
        """The journal of a run whose new secret goes only into its task result."""
        return Journal(f"{self._base}.journal", self.scope, credentials_path=None)

    # ---- the index --------------------------------------------------------------------------

    def held_files(self) -> list:
        try:
            data = read_regular(f"{self._base}.json")
        except AtomicWriteError:
            return []  # an unreadable index protects nothing; it is rewritten at the next write
        if not data:
            return []
        try:
            files = json.loads(data.decode("utf-8"))["files"]
            return [HeldFile(path, str(entry["access_key_id"]), str(entry["sha256"])) for path, entry in files.items()]
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            return []

    def record(self, path: str, access_key_id: str | None, content: bytes | None) -> None:
        """Note (under the lock) which key the file at ``path`` holds now; None forgets the file.

        Nothing is written when the index already says so: a run that changes nothing writes nothing.
        """
        known = self.held_files()
        entry = None
        if access_key_id and content is not None:
            entry = HeldFile(path, access_key_id, hashlib.sha256(content).hexdigest())
        current = next((held for held in known if held.path == path), None)
        if current == entry and all(os.path.lexists(held.path) for held in known):
            return
        files = {held.path: {"access_key_id": held.access_key_id, "sha256": held.sha256}
                 for held in known if held.path != path and os.path.lexists(held.path)}
        if entry is not None:
            files[path] = {"access_key_id": entry.access_key_id, "sha256": entry.sha256}
        document = {"endpoint": self.scope.endpoint, "domain_id": self.scope.domain_id,
                    "user_id": self.scope.user_id, "files": files}
        write_atomic(f"{self._base}.json", (json.dumps(document, indent=2, sort_keys=True) + "\n").encode(),
                     mode=0o600)

    def claims(self, own_path: str | None, keys: Sequence[AccessKey]) -> Mapping[str, Claim]:
        """The user's keys that other files and unfinished rotations on this controller depend on."""
        claims: dict = {}
        journals = [(held.path, Journal(journal_path_for(held.path), self.scope, credentials_path=held.path))
                    for held in self.held_files() if held.path != own_path]
        if own_path is not None:
            journals.append(("a run that returned its secret in its task result", self.fileless_journal()))
        for where, journal in journals:
            try:
                facts = journal.read()
            except JournalError:
                facts = None
            if facts is None:
                continue
            reason = f"an unfinished rotation of {where} may still need it (run that task again to settle it)"
            for key_id in (facts.replaced, facts.new_key):
                if key_id:
                    claims[key_id] = Claim(reason, in_flight=True)
            for key in lost_create_candidates(facts, keys, {}, None):
                claims[key.access_key_id] = Claim(reason, in_flight=True)
        for held in self.held_files():
            if held.path == own_path or held.access_key_id in claims:
                continue
            try:
                content = read_regular(held.path)
            except AtomicWriteError:
                continue
            if content is not None and hashlib.sha256(content).hexdigest() == held.sha256:
                claims[held.access_key_id] = Claim(f"held by {held.path}", in_flight=False)
        return claims
