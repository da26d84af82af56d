# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Carry out a key plan step by step, in the order that loses nothing.

Private to the keywarden.iam collection: the interface may change without notice.

For a new key: create -> store the secret -> verify the key -> then the steps that retire the
key it replaces. Each failure is undone as far as it must be so that no key exists whose
secret nobody holds:
- the create's answer is lost: list the keys, delete the orphan, try once more;
- storing the secret fails: delete the new key again;
- the new key does not work: put the previous credentials file back, delete the new key.
A failure after that (retiring the old key) leaves both keys working and says so.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._models import ACTIVE, INACTIVE, AccessKey, NewAccessKey
from ansible_collections.keywarden.iam.plugins.module_utils._planner import CREATE, DELETE, UPDATE, Plan, Step
from ansible_collections.keywarden.iam.plugins.module_utils._signer import SigningKey

DEFAULT_VERIFY_TIMEOUT = 60
VERIFY_INTERVAL = 2.0


class SecretSink(Protocol):
    """Where a new secret goes. ``store`` must be all-or-nothing; ``restore`` undoes it."""

    def store(self, new_key: NewAccessKey) -> None: ...

    def restore(self) -> None: ...


@dataclass
class Outcome:
    """What a run did, step by step, for the task result (ids only, never a secret)."""

    keys: list[AccessKey]
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    new_key: NewAccessKey | None = None

    @property
    def changed(self) -> bool:
        return bool(self.created or self.deleted or self.deactivated or self.activated or self.updated)


class RunFailed(Exception):
    """A step failed; ``outcome`` says what had been done, the message what to do next."""

    def __init__(self, message: str, outcome: Outcome, cause: errors.IamError | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.outcome = outcome
        self.cause = cause


class KeyVerifier(Protocol):
    def __call__(self, new_key: NewAccessKey) -> None: ...


def execute_plan(
    client: IamClient,
    user_id: str,
    keys: list[AccessKey],
    plan: Plan,
    *,
    sink: SecretSink | None,
    verify: KeyVerifier | None,
) -> Outcome:
    """Run ``plan``; raise RunFailed with what was done when a step fails."""
    state = {key.access_key_id: key for key in keys}
    outcome = Outcome(keys=list(keys))
    auth_key = client.settings.auth_access_key
    try:
        for step in plan.steps:
            if step.action == CREATE:
                new_key = _create_store_verify(client, user_id, step, set(state), sink, verify, outcome)
                state[new_key.key.access_key_id] = new_key.key
                if auth_key and any(s.access_key_id == auth_key for s in plan.steps if s is not step):
                    # Self-rotation: the key this task signs with is about to be retired, and the new
                    # one is proven to work, so sign the remaining steps with the new one.
                    client = client.with_signing_key(SigningKey(new_key.key.access_key_id, new_key.secret_access_key))
            elif step.action == DELETE:
                _delete(client, step.access_key_id or "")
                state.pop(step.access_key_id or "", None)
                outcome.deleted.append(step.access_key_id or "")
            elif step.action == UPDATE:
                state[step.access_key_id or ""] = _update(client, state[step.access_key_id or ""], step, outcome)
    except errors.IamError as error:
        outcome.keys = _sorted(state.values())
        raise RunFailed(_with_progress(error.message, outcome), outcome, error) from None
    outcome.keys = _sorted(state.values())
    return outcome


def _create_store_verify(client, user_id, step, known_ids, sink, verify, outcome) -> NewAccessKey:
    new_key = _create_reconciling(client, user_id, step.description, known_ids)
    outcome.created.append(new_key.key.access_key_id)
    outcome.new_key = new_key
    new_id = new_key.key.access_key_id
    if sink is not None:
        try:
            sink.store(new_key)
        except Exception as error:  # any failure to store means nobody holds the secret
            undo = _delete_again(client, new_id, outcome)
            raise RunFailed(f"Failed to store the secret of the new access key {new_id}: {_safe(error)}. {undo}",
                            outcome) from None
    if verify is not None:
        try:
            verify(new_key)
        except errors.IamError as error:
            restored = _restore(sink)
            undo = _delete_again(client, new_id, outcome) if restored is None else (
                f"The new key {new_id} was kept because the previous credentials file could not be put back "
                f"({restored}); the file holds the new key's secret.")
            raise RunFailed(f"The new access key {new_id} did not work: {error.message} {undo}", outcome,
                            error) from None
    return new_key


def _create_reconciling(client: IamClient, user_id: str, description: str | None, known_ids: set) -> NewAccessKey:
    """Create a key; when the answer is lost, delete whatever the lost create made and try once more."""
    try:
        return client.create_key(user_id, description)
    except errors.CreateOutcomeUnknown:
        _delete_orphans(client, user_id, known_ids)
    try:
        return client.create_key(user_id, description)
    except errors.CreateOutcomeUnknown as error:
        _delete_orphans(client, user_id, known_ids)
        raise errors.failure(
            f"create an access key for user {user_id}",
            f"the answer to the create request was lost twice ({error.message}); any key those requests made was "
            "deleted again, so nothing changed. Run the task again", errors.CreateOutcomeUnknown) from None


def _delete_orphans(client: IamClient, user_id: str, known_ids: set) -> None:
    for key in client.list_keys(user_id):
        if key.access_key_id not in known_ids:
            _delete(client, key.access_key_id)


def _delete(client: IamClient, access_key_id: str) -> None:
    with contextlib.suppress(errors.NotFound):  # already gone, which is what the step wanted
        client.delete_key(access_key_id)


def _delete_again(client: IamClient, new_id: str, outcome: Outcome) -> str:
    try:
        _delete(client, new_id)
    except errors.IamError as error:
        return (f"The new key {new_id} could not be deleted again ({error.message}); delete it by hand: "
                "its secret is not stored anywhere.")
    outcome.created.remove(new_id)
    outcome.new_key = None
    return f"The new key {new_id} was deleted again, so no key exists whose secret nobody holds."


def _restore(sink: SecretSink | None) -> str | None:
    """Put the previous credentials back; the reason it failed, or None when it worked."""
    if sink is None:
        return None
    try:
        sink.restore()
    except Exception as error:
        return _safe(error)
    return None


def _update(client: IamClient, key: AccessKey, step: Step, outcome: Outcome) -> AccessKey:
    updated = client.update_key(key.access_key_id, status=step.status, description=step.description)
    # The update answer may leave fields out; keep what we knew for those.
    merged = AccessKey(key.access_key_id, key.user_id, updated.status or key.status, key.created,
                       step.description if step.description is not None else key.description, key.last_used)
    if step.status == INACTIVE:
        outcome.deactivated.append(key.access_key_id)
    elif step.status == ACTIVE:
        outcome.activated.append(key.access_key_id)
    if step.description is not None:
        outcome.updated.append(key.access_key_id)
    return merged


def _with_progress(message: str, outcome: Outcome) -> str:
    done = []
    for label, ids in (("created", outcome.created), ("deleted", outcome.deleted),
                       ("deactivated", outcome.deactivated), ("activated", outcome.activated)):
        if ids:
            done.append(f"{label} {', '.join(ids)}")
    return message + (f" Done before the failure: {'; '.join(done)}." if done else " Nothing was changed.")


def _safe(error: BaseException) -> str:
    # Store and restore errors come from our own file code, whose messages never carry
    # file content; still, keep just the message, not a repr with arguments.
    return str(error) or type(error).__name__


def _sorted(keys) -> list:
    return sorted(keys, key=lambda key: (key.created, key.access_key_id))


def make_verifier(
    client: IamClient,
    *,
    timeout: float = DEFAULT_VERIFY_TIMEOUT,
    interval: float = VERIFY_INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> KeyVerifier:
    """A check that a new key works: it signs a harmless read (list its own keys) with it.

    A new key can take a moment to reach every IAM node, so an authentication failure is tried
    again until ``timeout``; any other error ends the check at once.
    """

    def verify(new_key: NewAccessKey) -> None:
        probe = client.with_signing_key(SigningKey(new_key.key.access_key_id, new_key.secret_access_key))
        deadline = clock() + timeout
        while True:
            try:
                probe.list_keys()
                return
            except errors.AuthenticationFailed:
                if clock() + interval > deadline:
                    raise
                sleep(interval)

    return verify
