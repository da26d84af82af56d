# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rotation journal: a write-ahead record of a rotation, durable across a killed process.

Private to the keywarden.iam collection.

Before a rotation creates a key it records, beside the credentials file (``.<name>.journal``),
what it saw and what it is about to do: the user, the account, the endpoint, a run id, the IAM
clock, the keys it saw, the key it replaces and how. It records the new key's id once the
secret is on disk, and that the key works once verified; it removes the record when done.
Each write is atomic and fsynced (file and directory), so after SIGKILL or a power cut the
record says exactly how far the rotation got. No secret is ever in it.

While a rotation is open, the credentials file's previous version is kept beside it as
``.<name>.previous`` (a hard link to the old file, so the same vault-encrypted bytes, never
decrypted), so that a new key that does not work can be undone even by a later run.

The next run that touches the file (or the user) reads the journal first and settles it; see
``_planner.settle_journal``. A run that writes its secret only into the task result keeps its
journal in the controller's state directory instead (see ``_user_state``).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ansible_collections.keywarden.iam.plugins.module_utils._models import INACTIVE, format_timestamp, parse_timestamp
from ansible_collections.keywarden.iam.plugins.module_utils._planner import (
    PHASE_CREATING,
    PHASE_PENDING,
    PHASE_STORED,
    PHASE_VERIFIED,
    JournalFacts,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import (
    AtomicWriteError,
    read_regular,
    remove_durably,
    write_atomic,
)

FORMAT_VERSION = 1
_PHASES = (PHASE_CREATING, PHASE_STORED, PHASE_VERIFIED, PHASE_PENDING)


class JournalError(AtomicWriteError):
    """The journal cannot be read or written; the rotation must not go on without it."""


@dataclass(frozen=True)
class Scope:
    """Whose rotation a journal records: it must match before a run settles it."""

    endpoint: str
    domain_id: str
    user_id: str


def journal_path_for(credentials_path: str) -> str:
    directory, name = os.path.split(credentials_path)
    return os.path.join(directory, f".{name}.journal")


def previous_path_for(credentials_path: str) -> str:
    directory, name = os.path.split(credentials_path)
    return os.path.join(directory, f".{name}.previous")


def new_run_id() -> str:
    return secrets.token_hex(6)


class Journal:
    """The journal of one credentials file (or of one user, for runs that keep no file)."""

    def __init__(self, path: str, scope: Scope, *, credentials_path: str | None) -> None:
        self.path = path
        self.scope = scope
        self.credentials_path = credentials_path
        self._record: dict | None = None

    def read(self) -> JournalFacts | None:
        """The unfinished rotation recorded here, if any. Refuses a journal of another user."""
        try:
            data = read_regular(self.path)
        except AtomicWriteError as error:
            raise JournalError(f"Cannot read the rotation journal {self.path}: {error}") from None
        if data is None:
            self._record = None
            return None
        record = self._parse(data)
        recorded = Scope(record["endpoint"], record["domain_id"], record["user_id"])
        if recorded != self.scope:
            raise JournalError(
                f"{self.path} records an unfinished rotation of user {recorded.user_id} (account "
                f"{recorded.domain_id}, {recorded.endpoint}), not of user {self.scope.user_id}: run the task that "
                f"manages that user's key with this file first, so that it settles the rotation. Nothing was changed.")
        self._record = record
        return facts_of(record)

    @property
    def is_open(self) -> bool:
        return self._record is not None

    @property
    def previous_kept(self) -> bool:
        """Whether the open rotation kept the file's previous version (False: there was no file)."""
        return bool(self._record and self._record.get("previous_kept"))

    def begin(self, *, run_id: str, started: datetime, window: timedelta, keys_seen, replaced: str | None,
              retire: str, previous_kept: bool, fmt: str | None, vars_prefix: str | None) -> JournalFacts:
        """Record a rotation that is about to create a key (durably, before the create is sent)."""
        record = {
            "version": FORMAT_VERSION,
            "run_id": run_id,
            "endpoint": self.scope.endpoint,
            "domain_id": self.scope.domain_id,
            "user_id": self.scope.user_id,
            "credentials_file": self.credentials_path,
            "format": fmt,
            "vars_prefix": vars_prefix,
            "started": format_timestamp(started),
            "window_seconds": int(window.total_seconds()),
            "keys_seen": sorted(keys_seen),
            "replaced": replaced,
            "retire": retire,
            "phase": PHASE_CREATING,
            "new_key": None,
            "previous_kept": previous_kept,
            # For a person reading the file after a crash; never used to decide anything.
            "controller": {"host": socket.gethostname(), "pid": os.getpid(),
                           "time": format_timestamp(datetime.now(timezone.utc))},
        }
        self._write(record)
        return facts_of(record)

    def mark(self, phase: str, new_key: str | None = None) -> None:
        """Record how far the open rotation got: its new key is stored, or verified."""
        if self._record is None:
            raise JournalError(f"no open rotation in {self.path} to mark {phase}")
        record = dict(self._record, phase=phase)
        if new_key is not None:
            record["new_key"] = new_key
        self._write(record)

    def mark_rolling_back(self) -> None:
        """Record that a rollback begins, before it puts the previous file back.

        Only this record lets the next run tell a rollback interrupted after restoring the file
        (finish it: delete the new key) from a file someone put back by hand (keep both keys).
        """
        if self._record is None:
            raise JournalError(f"no open rotation in {self.path} to roll back")
        self._write(dict(self._record, rolling_back=True))

    def pend(self, access_key_id: str, status: str, now: datetime) -> None:
        """The rotation is complete and ``access_key_id`` waits to be retired (it is ``status`` now).

        The record stays (with the file's previous version, for a rollback) until the key is gone.
        """
        if self._record is None:
            raise JournalError(f"no open rotation in {self.path} to record a pending retirement in")
        # A pending retirement recorded anew: no rollback is under way (one interrupted before it
        # put the file back did not happen).
        record = dict(self._record, phase=PHASE_PENDING, replaced=access_key_id, rolling_back=False)
        record.setdefault("pending_since", None)
        record["pending_since"] = record["pending_since"] or format_timestamp(now)
        # Deactivated now (a key the planner saw active, or one it found inactive with no time
        # recorded): the grace period counts from here. A time kept from an earlier deactivation
        # would delete a key reactivated since at once.
        record["deactivated_at"] = format_timestamp(now) if status == INACTIVE else None
        self._write(record)

    def end(self) -> None:
        """The rotation is complete or abandoned: remove the record, then the kept previous file.

        In that order: a previous file without a journal is clutter the next rotation replaces;
        a journal without its previous file could not undo a new key that does not work.
        """
        try:
            remove_durably(self.path)
            if self.credentials_path:
                remove_durably(previous_path_for(self.credentials_path))
        except AtomicWriteError as error:
            raise JournalError(f"Cannot close the rotation journal {self.path}: {error}") from None
        self._record = None

    def _write(self, record: dict) -> None:
        data = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")
        try:
            write_atomic(self.path, data, mode=0o600)
        except AtomicWriteError as error:
            raise JournalError(
                f"Cannot write the rotation journal {self.path}, which must record a rotation before it creates a "
                f"key: {error}. Nothing was created.") from None
        self._record = record

    def _parse(self, data: bytes) -> dict:
        try:
            record = json.loads(data.decode("utf-8"))
            if record.get("version") != FORMAT_VERSION or record.get("phase") not in _PHASES:
                raise ValueError("unknown version or phase")
            facts_of(record)  # every field it needs is there and well-formed
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            raise JournalError(
                f"{self.path} is not a rotation journal this version of keywarden.iam can read. It records a rotation "
                "that was interrupted: check the user's keys (keywarden.iam.access_key_info), then move the file "
                "away. Nothing was changed.") from None
        return record


def facts_of(record: dict) -> JournalFacts:
    return JournalFacts(
        run_id=str(record["run_id"]),
        phase=str(record["phase"]),
        started=parse_timestamp(str(record["started"])),
        window=timedelta(seconds=int(record["window_seconds"])),
        keys_seen=frozenset(str(key) for key in record["keys_seen"]),
        replaced=record.get("replaced"),
        retire=str(record["retire"]),
        new_key=record.get("new_key"),
        has_file=bool(record.get("credentials_file")),
        pending_since=_moment(record.get("pending_since")),
        deactivated_at=_moment(record.get("deactivated_at")),
        previous_kept=bool(record.get("previous_kept")),
        rolling_back=bool(record.get("rolling_back")),
    )


def _moment(value) -> datetime | None:
    return parse_timestamp(str(value)) if value else None
