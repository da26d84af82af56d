"""An in-memory IAM user and credentials file that the real executor runs against in unit tests.

It keeps the rules the executor must respect, so that a wrong plan or a wrong executor fails
loudly instead of passing: at most two keys, every API call signed by an active key of this
user (or by an identity outside it), a verify only with a secret somebody holds, a store
only into a file, the journal opened before any create. It records who signed each call.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils._models import ACTIVE, AccessKey, NewAccessKey
from ansible_collections.keywarden.iam.plugins.module_utils._planner import (
    KEY_LIMIT,
    PHASE_CREATING,
    PHASE_PENDING,
    PHASE_STORED,
    PHASE_VERIFIED,
    JournalFacts,
    Step,
)

OUTSIDE = "ELSEWHERE"  # a signing key that is not one of this user's (an administrator's)


@dataclass
class MemoryIam:
    user_id: str
    keys: dict
    now: datetime
    signer: str | None
    file_key: str | None = None
    has_file: bool = True
    previous_file_key: str | None = None
    journal: JournalFacts | None = None
    claim_map: dict = field(default_factory=dict)
    # What the run did, for the assertions: (operation, key id, signer).
    calls: list = field(default_factory=list)
    secrets_held: set = field(default_factory=set)
    # Faults: operation name -> exception to raise once.
    faults: dict = field(default_factory=dict)
    counter: int = 0

    # -- the cloud --------------------------------------------------------------------------

    def _call(self, operation: str, key_id: str | None = None) -> None:
        fault = self.faults.pop(operation, None)
        if self.signer != OUTSIDE:
            signer = self.keys.get(self.signer or "")
            if signer is None or signer.status != ACTIVE:
                raise errors.failure(operation, f"signed with {self.signer}, which is not an active key",
                                     errors.AuthenticationFailed)
        self.calls.append((operation, key_id, self.signer))
        if fault is not None:
            raise fault

    def delete_key(self, access_key_id: str) -> None:
        self._call("delete", access_key_id)
        self.keys.pop(access_key_id, None)

    def update_key(self, access_key_id: str, *, status, description) -> AccessKey:
        self._call("update", access_key_id)
        key = self.keys[access_key_id]
        key = replace(key, status=status or key.status,
                      description=description if description is not None else key.description)
        self.keys[access_key_id] = key
        return key

    def create_key(self, description) -> NewAccessKey:
        assert self.journal is not None and self.journal.phase == PHASE_CREATING, "a create outside a journal"
        self._call("create")
        if len(self.keys) >= KEY_LIMIT:
            raise errors.failure("create", "akSkNumExceed", errors.KeyLimitExceeded)
        self.counter += 1
        self.now += timedelta(seconds=1)
        key = AccessKey(f"NEW{self.counter}", self.user_id, ACTIVE, self.now, description or "")
        self.keys[key.access_key_id] = key
        return NewAccessKey(key, secret_access_key=f"secret-of-{key.access_key_id}")

    def list_keys(self) -> list:
        self._call("list")
        return sorted(self.keys.values(), key=lambda key: (key.created, key.access_key_id))

    def verify(self, access_key_id: str) -> None:
        assert access_key_id in self.secrets_held or access_key_id == self.file_key, "verify without the secret"
        key = self.keys.get(access_key_id)
        self.calls.append(("verify", access_key_id, access_key_id))
        if key is None or key.status != ACTIVE:
            raise errors.failure("verify", "the key does not work", errors.AuthenticationFailed)
        if self.journal is not None:
            self.journal = replace(self.journal, phase=PHASE_VERIFIED)

    def sign_with(self, access_key_id: str) -> None:
        assert access_key_id in self.secrets_held or access_key_id == self.file_key, "signing without the secret"
        self.signer = access_key_id

    def claims(self):
        return self.claim_map

    # -- the controller ---------------------------------------------------------------------

    def begin(self, step: Step) -> JournalFacts:
        assert self.journal is None, "a second journal over an open one"
        self.previous_file_key = self.file_key
        self.journal = JournalFacts(run_id="run", phase=PHASE_CREATING, started=self.now,
                                    window=timedelta(minutes=5), keys_seen=frozenset(step.keys_seen),
                                    replaced=step.access_key_id, retire=step.retire or "deactivate",
                                    has_file=self.has_file,
                                    # as the real backend: the file's previous version is kept if there was one
                                    previous_kept=self.has_file and self.file_key is not None)
        return self.journal

    def store(self, new_key: NewAccessKey) -> None:
        fault = self.faults.pop("store", None)
        if fault is not None:
            raise fault
        self.secrets_held.add(new_key.key.access_key_id)
        if self.has_file:
            self.file_key = new_key.key.access_key_id
        fault = self.faults.pop("store_after_write", None)  # the file is written, the journal's mark fails
        if fault is not None:
            raise fault
        self.journal = replace(self.journal, phase=PHASE_STORED, new_key=new_key.key.access_key_id)

    def held_key_id(self) -> str | None:
        return self.file_key if self.has_file else None

    def adopt(self, access_key_id: str) -> None:
        assert self.file_key == access_key_id
        self.journal = replace(self.journal, phase=PHASE_STORED, new_key=access_key_id)

    def end(self) -> None:
        self.journal = None

    def undo_store(self):
        self.file_key = self.previous_file_key
        return self.file_key

    def rewrite(self) -> None:
        self.calls.append(("rewrite", self.file_key, None))

    def chmod(self, mode: int) -> None:
        self.calls.append(("chmod", mode, None))

    def clean(self) -> None:
        self.calls.append(("clean", None, None))

    def pend(self, access_key_id: str, status: str) -> None:
        assert self.journal is not None, "a pending retirement outside a journal"
        self.journal = replace(self.journal, phase=PHASE_PENDING, replaced=access_key_id,
                               pending_since=self.journal.pending_since or self.now,
                               deactivated_at=self.now if status == "inactive" else None, rolling_back=False)

    def rollback(self):
        self.journal = replace(self.journal, rolling_back=True)  # recorded before the file goes back
        self.file_key = self.journal.replaced
        return self.file_key
