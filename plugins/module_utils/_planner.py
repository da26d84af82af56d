# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The key planner: what to do to a user's access keys, as a pure function.

Private to the keywarden.iam collection: the interface may change without notice.

``plan_keys`` looks at the user's current keys, what the task asks, and the clock, and returns
the steps that would make the keys match, in the order they must run. It makes no request
and touches no file, so check mode prints the plan, diff mode derives from it, and the unit
tests explore it exhaustively. The executor carries the steps out.

The order that loses nothing: make room (only at the two-key limit) -> create -> store the
secret -> verify the new key -> retire the key it replaces -> adjust status or description.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Sequence

from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._models import ACTIVE, INACTIVE, AccessKey

KEY_LIMIT = 2

ROTATE_NEVER = "never"
ROTATE_ALWAYS = "always"
ROTATE_WHEN_OLDER = "when_older"
ROTATE_CHOICES = (ROTATE_NEVER, ROTATE_ALWAYS, ROTATE_WHEN_OLDER)

RETIRE_KEEP = "keep"
RETIRE_DEACTIVATE = "deactivate"
RETIRE_DELETE = "delete"
RETIRE_CHOICES = (RETIRE_KEEP, RETIRE_DEACTIVATE, RETIRE_DELETE)

CREATE = "create"
UPDATE = "update"
DELETE = "delete"

# Phases, in the order the executor runs them.
MAKE_ROOM = "make_room"
NEW_KEY = "new_key"
RETIRE = "retire"
ADJUST = "adjust"

NEW_KEY_PLACEHOLDER = "(new)"


class PlanError(TaskError, ValueError):
    """What the task asks cannot be done safely; the message says why and what to do."""


@dataclass(frozen=True)
class KeyRequest:
    """What the task asks for, already validated by the module's argument spec."""

    state: str = "present"
    access_key_id: str | None = None
    status: str | None = None
    description: str | None = None
    rotate: str = ROTATE_NEVER
    max_age_days: int | None = None
    retire: str = RETIRE_DEACTIVATE
    # True when a new secret has somewhere safe to go (a vaulted file or a vaulted result).
    # Without it the planner never creates a key, since nobody would hold its secret.
    has_secret_destination: bool = False


@dataclass(frozen=True)
class Step:
    action: str
    phase: str
    reason: str
    access_key_id: str | None = None
    status: str | None = None
    description: str | None = None

    def describe(self) -> str:
        if self.action == CREATE:
            return f"create a new access key ({self.reason})"
        if self.action == DELETE:
            return f"delete access key {self.access_key_id} ({self.reason})"
        changes = []
        if self.status is not None:
            changes.append("activate" if self.status == ACTIVE else "deactivate")
        if self.description is not None:
            changes.append("set the description of")
        return f"{' and '.join(changes)} access key {self.access_key_id} ({self.reason})"


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    # The key whose secret the task's destination is meant to hold after the run, when it is an
    # existing key (None when the plan creates one, or when there is no destination).
    kept_key_id: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.steps)

    @property
    def creates_key(self) -> bool:
        return any(step.action == CREATE for step in self.steps)

    def describe(self) -> list:
        return [step.describe() for step in self.steps]

    def predicted_keys(self, keys: Sequence[AccessKey], *, user_id: str, now: datetime) -> list:
        """The keys after the plan has run; a created key appears under a placeholder id."""
        result = {key.access_key_id: key for key in keys}
        for step in self.steps:
            if step.action == DELETE:
                result.pop(step.access_key_id or "", None)
            elif step.action == UPDATE and step.access_key_id in result:
                current = result[step.access_key_id]
                result[step.access_key_id] = replace(
                    current,
                    status=step.status if step.status is not None else current.status,
                    description=step.description if step.description is not None else current.description,
                )
            elif step.action == CREATE:
                result[NEW_KEY_PLACEHOLDER] = AccessKey(
                    access_key_id=NEW_KEY_PLACEHOLDER, user_id=user_id, status=ACTIVE,
                    created=now, description=step.description or "",
                )
        return sorted(result.values(), key=lambda key: (key.created, key.access_key_id))


def plan_keys(
    keys: Sequence[AccessKey],
    request: KeyRequest,
    *,
    now: datetime,
    auth_access_key_id: str | None = None,
    stored_access_key_id: str | None = None,
) -> Plan:
    """The steps that make ``keys`` (one user's) match ``request``.

    ``auth_access_key_id`` is the key this task signs its requests with: never retired to make
    room. ``stored_access_key_id`` is the key whose secret the task's credentials file holds
    now, if it holds one.
    """
    keys = sorted(keys, key=lambda key: (key.created, key.access_key_id))
    if request.state == "absent":
        return _plan_absent(keys, request, auth_access_key_id)
    if request.access_key_id:
        if request.rotate != ROTATE_NEVER:
            # A rotated key is retired, so a task naming it would rotate again on every rerun.
            raise PlanError(
                "rotate works on the key a task keeps (the one in credentials_file, else the user's newest "
                "active key), not on a key named with access_key_id: leave access_key_id out to rotate."
            )
        focus = _find(keys, request.access_key_id)
        if focus is None:
            raise PlanError(
                f"Access key {request.access_key_id} does not exist for this user. A key's id is chosen by the "
                "cloud, so it cannot be created on request: leave access_key_id out to create a new key."
            )
    else:
        focus = _focus_key(keys, stored_access_key_id, request.has_secret_destination)

    why_new = _reason_for_new_key(focus, request, now, stored_access_key_id)
    if why_new is not None:
        return _plan_new_key(keys, request, focus, why_new, auth_access_key_id)
    # status and description apply to the named key, else to the key in the credentials file,
    # else to every key of the user (so "status: inactive" disables them all, idempotently).
    if request.access_key_id or request.has_secret_destination:
        targets = [focus] if focus else []
    else:
        targets = keys
        if request.status == INACTIVE and auth_access_key_id and _find(keys, auth_access_key_id):
            raise PlanError(
                f"status=inactive without access_key_id would deactivate every key of the user, including "
                f"{auth_access_key_id}, which this task signs its requests with. Name the keys with access_key_id."
            )
    steps = tuple(step for step in (_adjust_step(target, request) for target in targets) if step)
    return Plan(steps=steps, kept_key_id=focus.access_key_id if focus else None)


def _plan_absent(keys: list, request: KeyRequest, auth_access_key_id: str | None) -> Plan:
    if request.access_key_id:
        targets = [key for key in keys if key.access_key_id == request.access_key_id]
        reason = "state is absent"
    else:
        targets = keys
        reason = "state is absent for all of the user's keys"
        if auth_access_key_id and _find(keys, auth_access_key_id):
            raise PlanError(
                f"state=absent without access_key_id would delete every key of the user, including "
                f"{auth_access_key_id}, which this task signs its requests with. Name the keys to delete with "
                "access_key_id, or authenticate with another identity."
            )
    return Plan(steps=tuple(Step(DELETE, MAKE_ROOM, reason, access_key_id=key.access_key_id) for key in targets))


def _focus_key(keys: list, stored_access_key_id: str | None, has_destination: bool) -> AccessKey | None:
    """The key the task is about when it names none.

    With a credentials file, that is the key the file holds (None if the file holds no key
    that still exists: then only a new key can fill it). Without one, the newest active key,
    else the newest key.
    """
    if has_destination and stored_access_key_id is not None:
        return _find(keys, stored_access_key_id)
    if has_destination:
        return None
    active = [key for key in keys if key.status == ACTIVE]
    if active:
        return active[-1]
    return keys[-1] if keys else None


def _reason_for_new_key(focus: AccessKey | None, request: KeyRequest, now: datetime,
                        stored_access_key_id: str | None) -> str | None:
    if focus is None:
        if stored_access_key_id:
            return f"the credentials file holds {stored_access_key_id}, which no longer exists"
        if request.has_secret_destination:
            return "the credentials file holds no key yet"
        return "the user has no access key"
    if request.rotate == ROTATE_ALWAYS:
        return f"rotate is always, replacing {focus.access_key_id}"
    if request.rotate == ROTATE_WHEN_OLDER and request.max_age_days is not None:
        age = now - focus.created
        if age > timedelta(days=request.max_age_days):
            return (f"{focus.access_key_id} is {age.days} days old, older than max_age "
                    f"({request.max_age_days} days)")
    return None


def _plan_new_key(keys: list, request: KeyRequest, focus: AccessKey | None, why: str,
                  auth_access_key_id: str | None) -> Plan:
    if not request.has_secret_destination:
        raise PlanError(
            f"A new access key is needed ({why}), but its secret would have nowhere to go: the cloud shows it only "
            "once. Set credentials_file (or return_secret) so the new secret is stored, vault-encrypted."
        )
    if request.status == INACTIVE:
        raise PlanError(f"A new access key is needed ({why}), but status is inactive: a new key starts active. "
                        "Rotate first, or set status on an existing key with access_key_id.")
    steps = []
    replaced = focus
    if len(keys) >= KEY_LIMIT:
        victim = _room_victim(keys, replaced, auth_access_key_id, request.retire)
        steps.append(Step(DELETE, MAKE_ROOM, _room_reason(victim, replaced), access_key_id=victim.access_key_id))
        if replaced is not None and victim.access_key_id == replaced.access_key_id:
            replaced = None
    description = request.description if request.description is not None else (focus.description if focus else None)
    steps.append(Step(CREATE, NEW_KEY, why, description=description or None))
    if replaced is not None:
        if request.retire == RETIRE_DELETE:
            steps.append(Step(DELETE, RETIRE, "old_key is delete: it was replaced",
                              access_key_id=replaced.access_key_id))
        elif request.retire == RETIRE_DEACTIVATE and replaced.status == ACTIVE:
            steps.append(Step(UPDATE, RETIRE, "old_key is deactivate: replaced, kept inactive for a grace period "
                              "and deleted by the next rotation", access_key_id=replaced.access_key_id,
                              status=INACTIVE))
    return Plan(steps=tuple(steps))


def _room_victim(keys: list, replaced: AccessKey | None, auth_access_key_id: str | None, retire: str) -> AccessKey:
    """The one key to delete so that a new key fits under the two-key limit.

    The oldest inactive key first (the usual leftover of a grace period), then the oldest key
    that is neither the one this task signs with nor the one being replaced, then the one
    being replaced (it goes a step early) unless the task wants it kept. Never the signing key.
    """
    replaced_id = replaced.access_key_id if replaced else None
    inactive = [key for key in keys if key.status == INACTIVE and key.access_key_id != auth_access_key_id]
    if inactive:
        return inactive[0]
    others = [key for key in keys if key.access_key_id not in (auth_access_key_id, replaced_id)]
    if others:
        return others[0]
    if replaced is not None and replaced_id != auth_access_key_id and retire != RETIRE_KEEP:
        return replaced
    held = ", ".join(
        f"{key.access_key_id} ({'signs this task' if key.access_key_id == auth_access_key_id else 'old_key=keep'})"
        for key in keys
    )
    raise PlanError(
        f"The user already holds {KEY_LIMIT} access keys, the most the cloud allows, and none can be retired "
        f"safely to make room: {held}. Delete or deactivate one of them first, or run the task with another identity."
    )


def _room_reason(victim: AccessKey, replaced: AccessKey | None) -> str:
    if victim.status == INACTIVE:
        return "making room under the two-key limit: the oldest inactive key"
    if replaced is not None and victim.access_key_id == replaced.access_key_id:
        return "making room under the two-key limit: the key being replaced, retired early"
    return "making room under the two-key limit: the oldest key not in use by this task"


def _adjust_step(key: AccessKey, request: KeyRequest) -> Step | None:
    status = request.status if request.status and request.status != key.status else None
    description = (request.description
                   if request.description is not None and request.description != key.description else None)
    if status is None and description is None:
        return None
    return Step(UPDATE, ADJUST, "differs from the task", access_key_id=key.access_key_id,
                status=status, description=description)


def _find(keys: Sequence[AccessKey], access_key_id: str) -> AccessKey | None:
    for key in keys:
        if key.access_key_id == access_key_id:
            return key
    return None
