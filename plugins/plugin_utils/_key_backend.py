# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One user's access keys for one run of access_key: the facts the planner needs, and the steps.

Private to the keywarden.iam collection: the interface may change without notice.

``KeyBackend`` is built from the IAM client, the secret destination (the vaulted file and/or
result), the controller's state for the user (lock, index, journals) and the typed request.
It gathers the ``Situation`` (keys, the IAM clock, the file, the journal, other runs' claims),
answers the planner's questions (last use, the owner of a key missing from the list) with show
calls, and carries out each kind of step for the executor (``_executor.KeyOperations``).
The caller holds the file's lock and the user's lock around all of it.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any, Callable, Mapping, Sequence

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials
from ansible_collections.keywarden.iam.plugins.module_utils._models import AccessKey, NewAccessKey
from ansible_collections.keywarden.iam.plugins.module_utils._planner import (
    ADOPT,
    NEW_KEY_PLACEHOLDER,
    PHASE_STORED,
    PHASE_VERIFIED,
    REWRITE,
    SIGN_WITH,
    STORE,
    VERIFY,
    Claim,
    FactsNeeded,
    FileFacts,
    JournalFacts,
    KeyRequest,
    Owner,
    Plan,
    Situation,
    Step,
    plan_keys,
)
from ansible_collections.keywarden.iam.plugins.module_utils._signer import SigningKey
from ansible_collections.keywarden.iam.plugins.plugin_utils._file_fingerprint import CredentialFacts
from ansible_collections.keywarden.iam.plugins.plugin_utils._journal import Journal, journal_path_for, new_run_id
from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import SecretDestination
from ansible_collections.keywarden.iam.plugins.plugin_utils._user_state import UserState

VERIFY_INTERVAL = 2.0
# How long after its journal entry a rotation's create requests may still land: two attempts,
# each with every retry and back-off, and a margin for a slow IAM.
_BACKOFF_CEILING = 20


class KeyBackend:
    def __init__(self, *, client: IamClient, user_id: str, user_name: str | None, request: KeyRequest,
                 destination: SecretDestination | None, state: UserState, verify_timeout: int,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.user_id = user_id
        self.user_name = user_name
        self.request = request
        self.destination = destination
        self.state = state
        self.verify_timeout = verify_timeout
        self._sleep = sleep
        self._clock = clock
        store = destination.store if destination else None
        self.journal: Journal = (Journal(journal_path_for(store.path), state.scope, credentials_path=store.path)
                                 if store else state.fileless_journal())
        self._claims: Mapping[str, Claim] = {}
        self._leftovers: list = []
        self._new_key: NewAccessKey | None = None
        self.vaulted_secret: Any = None

    # ---- facts ---------------------------------------------------------------------------------

    def plan(self) -> tuple[Plan, Situation]:
        """The plan for this user, with every fact the planner asked for."""
        situation = self._situation()
        for _question in range(3):  # at most: the owner of the file's key, then last uses
            result = plan_keys(situation, self.request)
            if isinstance(result, Plan):
                return result, situation
            situation = self._answer(situation, result)
        raise RuntimeError("the planner kept asking for facts")  # never: each answer is final

    def _situation(self) -> Situation:
        keys = self.client.list_keys(self.user_id)
        now = self.client.server_now()
        journal = self.journal.read()
        own_path = self.destination.store.path if self.destination and self.destination.store else None
        self._claims = self.state.claims(own_path, keys)
        return Situation(user_id=self.user_id, keys=tuple(keys), now=now, domain_id=self.client.domain_id(),
                         signing_key=self.client.settings.auth_access_key,
                         file=self._file_facts(journal_open=journal is not None), journal=journal,
                         claims=self._claims)

    def _file_facts(self, *, journal_open: bool) -> FileFacts | None:
        destination = self.destination
        if destination is None or destination.store is None:
            return None
        stored = destination.stored_facts
        outdated = stored is not None and not destination.is_current(self.facts_for(stored.access_key_id))
        self._leftovers = destination.leftovers(journal_open=journal_open)
        return FileFacts(path=destination.path or "", access_key_id=stored.access_key_id if stored else None,
                         user_id=stored.user_id if stored else None, domain_id=stored.domain_id if stored else None,
                         mode=destination.current_mode, wanted_mode=destination.store.mode, outdated=outdated,
                         leftovers=tuple(os.path.basename(path) for path in self._leftovers))

    def _answer(self, situation: Situation, needed: FactsNeeded) -> Situation:
        facts: dict = {"keys": situation.keys, "owner": situation.owner}
        if needed.owner_of:
            try:
                shown = self.client.show_key(needed.owner_of)
            except errors.NotFound:
                facts["owner"] = Owner(needed.owner_of, None)
            else:
                facts["owner"] = Owner(needed.owner_of, shown.user_id)
                if shown.user_id == self.user_id:  # the list lagged behind: it is the user's key after all
                    facts["keys"] = (*situation.keys, shown)
        if needed.last_use_of:
            facts["keys"] = tuple(self._with_last_use(key) if key.access_key_id in needed.last_use_of else key
                                  for key in facts["keys"])
        return replace(situation, **facts)

    def _with_last_use(self, key: AccessKey) -> AccessKey:
        # The API reports a key never used with its creation time; be as tolerant if it says nothing.
        return replace(key, last_used=self.client.show_key(key.access_key_id).last_used or key.created)

    def credentials_for(self, access_key_id: str, secret_access_key: str) -> Credentials:
        """What the file records for a key of this user: whose it is, in which account."""
        return self.facts_for(access_key_id).with_secret(secret_access_key)

    def facts_for(self, access_key_id: str) -> CredentialFacts:
        """``credentials_for`` without the secret."""
        stored = self.destination.stored_facts if self.destination else None
        # A task that names the user by id does not know the name; keep the one the file has.
        name = self.user_name or (stored.user_name if stored and stored.user_id in (None, self.user_id) else None)
        return CredentialFacts(access_key_id, user_id=self.user_id, user_name=name, domain_id=self.client.domain_id())

    def prepare(self, steps: Sequence[Step]) -> None:
        """Before the first step: decrypt the file if a step needs its secret or its text.

        A run that changes nothing, or writes a new key into a file that holds nothing else, never
        decrypts it; any other is stopped here, before anything has changed, when the play's vault
        secrets cannot open the file.
        """
        destination = self.destination
        if destination is None or destination.store is None:
            return
        needs_secret = any(self._reads_stored_secret(step) for step in steps)
        needs_text = any(step.kind == STORE for step in steps) and not destination.renders_anew
        if needs_secret or needs_text:
            destination.load()

    @staticmethod
    def _reads_stored_secret(step: Step) -> bool:
        """Whether a step needs the secret the file holds now (a key made earlier, not this run)."""
        if step.kind in (REWRITE, ADOPT):
            return True
        return step.kind in (VERIFY, SIGN_WITH) and step.access_key_id != NEW_KEY_PLACEHOLDER

    # ---- the steps (_executor.KeyOperations) --------------------------------------------------

    def claims(self) -> Mapping[str, Claim]:
        return self._claims

    def list_keys(self) -> list:
        return self.client.list_keys(self.user_id)

    def delete_key(self, access_key_id: str) -> None:
        with contextlib.suppress(errors.NotFound):  # already gone, which is what the step wanted
            self.client.delete_key(access_key_id)

    def update_key(self, access_key_id: str, *, status: str | None, description: str | None) -> AccessKey:
        return self.client.update_key(access_key_id, status=status, description=description)

    def create_key(self, description: str | None) -> NewAccessKey:
        self._new_key = self.client.create_key(self.user_id, description)
        return self._new_key

    def begin(self, step: Step) -> JournalFacts:
        destination = self.destination
        # The previous file stays reachable while the rotation is open, so a later run can undo it.
        previous_kept = bool(destination and destination.keep_previous())
        settings = self.client.settings
        window = timedelta(seconds=2 * (settings.retries + 1) * (settings.timeout + _BACKOFF_CEILING) + 60)
        store = destination.store if destination else None
        return self.journal.begin(
            run_id=new_run_id(), started=self.client.server_now(), window=window, keys_seen=step.keys_seen,
            replaced=step.access_key_id, retire=step.retire or "", previous_kept=previous_kept,
            fmt=store.fmt if store else None, vars_prefix=store.vars_prefix if store else None)

    def store(self, new_key: NewAccessKey) -> None:
        """The new secret to disk (vault-encrypted, fsynced) before anything else, then the journal."""
        destination = self._destination()
        creds = self.credentials_for(new_key.key.access_key_id, new_key.secret_access_key)
        destination.write(creds)
        if destination.return_secret:
            self.vaulted_secret = destination.vaulted(new_key.secret_access_key)
        self.journal.mark(PHASE_STORED, new_key.key.access_key_id)

    def adopt(self, access_key_id: str) -> None:
        self.journal.mark(PHASE_STORED, access_key_id)

    def verify(self, access_key_id: str) -> None:
        """Sign a harmless read with the key, retrying while a new key propagates; then note it works.

        A new key can take a moment to reach every IAM node, so an authentication failure is tried
        again until verify_timeout; any other error ends the check at once.
        """
        probe = self.client.with_signing_key(self._signing_key(access_key_id))
        deadline = self._clock() + self.verify_timeout
        while True:
            try:
                probe.list_keys()
                break
            except errors.AuthenticationFailed:
                if self._clock() + VERIFY_INTERVAL > deadline:
                    raise
                self._sleep(VERIFY_INTERVAL)
        if self.journal.is_open:
            self.journal.mark(PHASE_VERIFIED)

    def sign_with(self, access_key_id: str) -> None:
        self.client = self.client.with_signing_key(self._signing_key(access_key_id))

    def end(self) -> None:
        self.journal.end()

    def undo_store(self) -> str | None:
        restored = self._destination().undo(previous_kept=self.journal.previous_kept)
        return restored.access_key_id if restored else None

    def held_key_id(self) -> str | None:
        """What the file holds on disk now, whatever this run believes it wrote (decrypted afresh)."""
        store = self.destination.store if self.destination else None
        if store is None:
            return None  # a secret meant only for the task result, which never arrives after a failure
        creds = store.read().creds
        return creds.access_key_id if creds else None

    def rewrite(self) -> None:
        destination = self._destination()
        stored = destination.stored
        if stored is not None:  # the planner rewrites only a file that holds the kept key
            destination.write(self.credentials_for(stored.access_key_id, stored.secret_access_key))

    def chmod(self, mode: int) -> None:
        self._destination().chmod(mode)

    def clean(self) -> None:
        self._destination().remove(self._leftovers)

    def pend(self, access_key_id: str, status: str) -> None:
        self.journal.pend(access_key_id, status, self.client.server_now())

    def rollback(self) -> str | None:
        self.journal.mark_rolling_back()  # first: a file back without this record was put back by hand
        restored = self._destination().undo(previous_kept=True)
        return restored.access_key_id if restored else None

    def _destination(self) -> SecretDestination:
        if self.destination is None:  # never: the planner plans file steps only for a destination
            raise errors.TaskError("this step needs a credentials file or return_secret, and the task has neither")
        return self.destination

    def _signing_key(self, access_key_id: str) -> SigningKey:
        """The key and secret this run holds for ``access_key_id``: just created, or in the file."""
        if self._new_key is not None and self._new_key.key.access_key_id == access_key_id:
            return SigningKey(access_key_id, self._new_key.secret_access_key)
        stored = self.destination.stored if self.destination else None
        if stored is not None and stored.access_key_id == access_key_id:
            return SigningKey(access_key_id, stored.secret_access_key)
        raise errors.failure(f"sign with access key {access_key_id}", "this run does not hold its secret",
                             errors.AuthenticationFailed)
