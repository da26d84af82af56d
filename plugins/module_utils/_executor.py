# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Carry out a key plan step by step, in the order that loses nothing.

Private to the keywarden.iam collection: the interface may change without notice.

Each step is performed through ``KeyOperations`` (the cloud and the controller's files), then
folded into the world with the planner's own ``simulate``, so the executor's view of the keys
is the one check mode predicts, with the real ids.

What keeps a key from being lost is the journal, not this module: a rotation is recorded before
its create, its new secret reaches the disk before anything else, and any run settles what an
interrupted one left (see _planner.settle_journal). Here, while the process lives, a failure
is undone as far as it must be:
- a create's answer is lost: list the keys, delete what this rotation provably created, try once more;
- storing the secret fails: delete the new key again;
- the new key does not work: put the previous credentials file back, delete the new key;
- retiring the old key fails: both keys stay working and the journal stays open, so the next
  run finishes the retirement.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping, Protocol

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils._models import ACTIVE, INACTIVE, AccessKey, NewAccessKey
from ansible_collections.keywarden.iam.plugins.module_utils._planner import (
    ADOPT,
    BEGIN,
    CHMOD,
    CLEAN,
    CREATE,
    DELETE,
    END,
    NEW_KEY_PLACEHOLDER,
    PEND,
    PHASE_CREATING,
    RESTORE,
    REWRITE,
    ROLLBACK,
    SIGN_WITH,
    STORE,
    UPDATE,
    VERIFY,
    Claim,
    JournalFacts,
    Plan,
    Step,
    World,
    changes_anything,
    lost_create_candidates,
    simulate,
)


class KeyOperations(Protocol):
    """What the executor needs from the cloud and the controller: one method per kind of step."""

    def delete_key(self, access_key_id: str) -> None: ...

    def update_key(self, access_key_id: str, *, status: str | None, description: str | None) -> AccessKey: ...

    def create_key(self, description: str | None) -> NewAccessKey: ...

    def list_keys(self) -> list[AccessKey]: ...

    def begin(self, step: Step) -> JournalFacts: ...

    def store(self, new_key: NewAccessKey) -> None: ...

    def adopt(self, access_key_id: str) -> None: ...

    def verify(self, access_key_id: str) -> None: ...

    def sign_with(self, access_key_id: str) -> None: ...

    def end(self) -> None: ...

    def undo_store(self) -> str | None:
        """Put the file back as it was before the rotation; the key it holds then (None: no file)."""

    def held_key_id(self) -> str | None:
        """The access key id the credentials file holds now, read from disk (None: no file, or no key in it).

        Raises when the file cannot be read: the caller then cannot rule out that it holds a key.
        """

    def rewrite(self) -> None: ...

    def chmod(self, mode: int) -> None: ...

    def clean(self) -> None: ...

    def pend(self, access_key_id: str, status: str) -> None: ...

    def rollback(self) -> str | None:
        """Put the file's previous version back (as undo_store does); the key it holds then."""

    def claims(self) -> Mapping[str, Claim]: ...


@dataclass
class Outcome:
    """What a run did: the steps it carried out (with real ids) and the world after them."""

    world: World
    done: list = field(default_factory=list)
    new_key: NewAccessKey | None = None

    @property
    def changed(self) -> bool:
        return changes_anything(self.done)


def counts(steps) -> dict:
    """The ids a list of steps creates, deletes, deactivates, activates or describes, for results."""
    ids: dict = {"created": [], "deleted": [], "deactivated": [], "activated": [], "updated": []}
    for step in steps:
        if step.kind == CREATE:
            ids["created"].append(step.access_key_id or NEW_KEY_PLACEHOLDER)
        elif step.kind == DELETE:
            ids["deleted"].append(step.access_key_id)
        elif step.kind == UPDATE:
            if step.status == INACTIVE:
                ids["deactivated"].append(step.access_key_id)
            elif step.status == ACTIVE:
                ids["activated"].append(step.access_key_id)
            if step.description is not None:
                ids["updated"].append(step.access_key_id)
    # A key created and deleted again within one run (an undo) was not created after all.
    undone = set(ids["created"]) & set(ids["deleted"])
    return {name: [i for i in values if i not in undone] for name, values in ids.items()}


class RunFailed(Exception):
    """A step failed; ``outcome`` says what had been done, the message what to do next."""

    def __init__(self, message: str, outcome: Outcome, cause: errors.IamError | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.outcome = outcome
        self.cause = cause


def execute_plan(plan: Plan, world: World, ops: KeyOperations) -> Outcome:
    """Carry out ``plan`` from ``world``; raise RunFailed with what was done when a step fails."""
    return _Execution(ops, Outcome(world)).run(plan.steps)


class _Execution:
    def __init__(self, ops: KeyOperations, outcome: Outcome) -> None:
        self.ops = ops
        self.outcome = outcome
        self.journal: JournalFacts | None = None
        # Whether this execution opened the journal itself (BEGIN). One it found open belongs to an
        # interrupted run: only the steps that settle it may close it, never a failure of this run.
        self.opened_journal = False
        self.new_key: NewAccessKey | None = None
        # True from a create whose answer was lost until what it made is known to be deleted:
        # until then the journal must stay open, so that the next run can finish the job.
        self.create_uncertain = False

    def run(self, steps) -> Outcome:
        for step in steps:
            step = self._real(step)
            try:
                self._perform(step)
            except _Undone as undone:
                raise RunFailed(_with_progress(undone.message, self.outcome), self.outcome, undone.cause) from None
            except errors.IamError as error:
                raise RunFailed(self._stop(step, error.message), self.outcome, error) from None
            except errors.TaskError as error:  # a file or journal that could not be written
                raise RunFailed(self._stop(step, error.message), self.outcome) from None
        return self.outcome

    def _real(self, step: Step) -> Step:
        """The step with the created key's real id in place of the placeholder."""
        if step.access_key_id == NEW_KEY_PLACEHOLDER and self.new_key is not None:
            return replace(step, access_key_id=self.new_key.key.access_key_id)
        return step

    def _done(self, step: Step, new_key: AccessKey | None = None) -> None:
        self.outcome.world = simulate(self.outcome.world, step, new_key=new_key)
        self.outcome.done.append(step)

    def _perform(self, step: Step) -> None:
        ops, kind = self.ops, step.kind
        if kind == BEGIN:
            self.journal = ops.begin(step)
            self.opened_journal = True
        elif kind == DELETE:
            ops.delete_key(step.access_key_id or "")
        elif kind == UPDATE:
            ops.update_key(step.access_key_id or "", status=step.status, description=step.description)
        elif kind == CREATE:
            self.new_key = self._create(step)
            self.outcome.new_key = self.new_key
            self._done(replace(step, access_key_id=self.new_key.key.access_key_id), self.new_key.key)
            return
        elif kind == STORE:
            self._store()
        elif kind == ADOPT:
            ops.adopt(step.access_key_id or "")
        elif kind == VERIFY:
            self._verify(step.access_key_id or "")
        elif kind == SIGN_WITH:
            ops.sign_with(step.access_key_id or "")
        elif kind == END:
            ops.end()
        elif kind == REWRITE:
            ops.rewrite()
        elif kind == CHMOD:
            ops.chmod(step.mode or 0o600)
        elif kind == CLEAN:
            ops.clean()
        elif kind == PEND:
            ops.pend(step.access_key_id or "", step.status or ACTIVE)
        elif kind == ROLLBACK:
            step = replace(step, access_key_id=ops.rollback())
        else:
            raise ValueError(f"unknown step kind {kind!r}")
        self._done(step)

    def _create(self, step: Step) -> NewAccessKey:
        """Create a key; when the answer is lost, delete what this rotation provably made and try once more."""
        try:
            return self.ops.create_key(step.description)
        except errors.CreateOutcomeUnknown:
            self.create_uncertain = True
            self._delete_lost()
        try:
            return self.ops.create_key(step.description)
        except errors.CreateOutcomeUnknown as error:
            self.create_uncertain = True
            self._delete_lost()
            raise errors.failure(
                "create an access key", f"the answer to the create request was lost twice ({error.message}); the keys "
                "those requests made were deleted again, so no key is left whose secret nobody holds. Run the task "
                "again", errors.CreateOutcomeUnknown) from None

    def _delete_lost(self) -> None:
        if self.journal is None:  # never: a plan opens the journal before it creates
            raise ValueError("a create without a journal cannot be reconciled")
        candidates = lost_create_candidates(self.journal, self.ops.list_keys(), self.ops.claims(),
                                            self.outcome.world.signing_key)
        for key in candidates:
            self.ops.delete_key(key.access_key_id)
            # Simulated too, so the world never lists a key that is gone.
            self._done(Step(DELETE, "the answer to its create request was lost", access_key_id=key.access_key_id))
        self.create_uncertain = False

    def _store(self) -> None:
        if self.new_key is None:  # never: a plan stores only a key it created
            raise ValueError("a store step without a created key")
        try:
            self.ops.store(self.new_key)
        except Exception as error:
            new_id = self.new_key.key.access_key_id
            if self._may_hold(new_id):
                # The write got as far as the file (a failure after the rename: the journal's mark,
                # a flush): deleting the key now would leave the file holding a deleted key.
                raise _Undone(
                    f"The secret of the new access key {new_id} reached the credentials file, but storing it failed "
                    f"afterwards: {_safe(error)}. The key was kept and the journal keeps the rotation open: the next "
                    "run of this task adopts and verifies it.") from None
            undo = self._delete_again(new_id)  # the file does not hold it: nobody holds the secret
            raise _Undone(f"Failed to store the secret of the new access key {new_id}: {_safe(error)}. {undo}") \
                from None

    def _may_hold(self, access_key_id: str) -> bool:
        """Whether the credentials file may hold ``access_key_id`` now: yes when it cannot be read."""
        try:
            return self.ops.held_key_id() == access_key_id
        except Exception:  # an unreadable file may hold it, so it must not be deleted
            return True

    def _verify(self, access_key_id: str) -> None:
        try:
            self.ops.verify(access_key_id)
        except errors.IamError as error:
            try:
                restored_key = self.ops.undo_store()
            except Exception as restore_error:
                # The file keeps the new key; the journal stays open, so the next run verifies it again.
                raise _Undone(
                    f"The access key {access_key_id} did not work: {error.message} It was kept, because the previous "
                    f"credentials file could not be put back ({_safe(restore_error)}); the next run checks it again.",
                    error) from None
            self._done(Step(RESTORE, "put the previous credentials file back", access_key_id=restored_key))
            undo = self._delete_again(access_key_id)
            raise _Undone(f"The access key {access_key_id} did not work: {error.message} The previous credentials "
                          f"file was put back. {undo}", error) from None

    def _delete_again(self, access_key_id: str) -> str:
        """Undo a key whose secret nobody will hold; then the rotation is over and the journal closed."""
        try:
            self.ops.delete_key(access_key_id)
        except errors.IamError as error:
            return (f"The key {access_key_id} could not be deleted again ({error.message}); the journal keeps the "
                    "rotation open, so the next run of this task deletes it.")
        self._done(Step(DELETE, "undo: nobody holds its secret", access_key_id=access_key_id))
        self.ops.end()
        self._done(Step(END, "close the journal: the rotation was undone"))
        return f"The key {access_key_id} was deleted again, so no key exists whose secret nobody holds."

    def _stop(self, step: Step, message: str) -> str:
        """The failure message for ``step``; a rotation that created nothing yet is abandoned cleanly."""
        if self.create_uncertain:
            message += (" A key may have been created: the journal keeps the rotation open, so the next run of this "
                        "task finds that key and deletes it.")
        elif self.outcome.world.journal_phase == PHASE_CREATING and step.kind != BEGIN and self.opened_journal:
            # Nothing was created (or what was created is already deleted again): close the journal.
            try:
                self.ops.end()
                self._done(Step(END, "close the journal: the rotation was abandoned"))
            except errors.TaskError:
                pass  # the next run finds the journal and closes it
        elif self.outcome.world.journal_phase == PHASE_CREATING:
            message += " The journal of the interrupted rotation stays open: the next run of this task settles it."
        elif self.outcome.world.journal_phase is not None:
            message += (" The new key is stored and the journal keeps the rotation open: the next run of this task "
                        "finishes it.")
        return _with_progress(message, self.outcome)


class _Undone(Exception):
    def __init__(self, message: str, cause: errors.IamError | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause


def _with_progress(message: str, outcome: Outcome) -> str:
    done = [f"{label} {', '.join(ids)}" for label, ids in counts(outcome.done).items() if ids and label != "updated"]
    return message + (f" Done before the failure: {'; '.join(done)}." if done else " Nothing was changed.")


def _safe(error: BaseException) -> str:
    # Store and restore errors come from our own file code, whose messages never carry file
    # content; still, keep just the message, not a repr with arguments.
    return str(error) or type(error).__name__
