# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The key planner: what to do to a user's access keys, as a pure function, and what it does.

Private to the keywarden.iam collection: the interface may change without notice.

``plan_keys`` looks at a ``Situation`` (the user's keys, the credentials file, an unfinished
rotation left in the journal, what other runs on this controller claim, the clock) and the
task's ``KeyRequest``, and returns the ``Plan``: the steps that make the keys match, in the order
that loses nothing. When it needs a fact it was not given (a key's last use, or whose key the
file holds when the user's list lacks it), it returns ``FactsNeeded`` and is asked again.

``simulate`` is the one meaning of every step. Check mode and diff fold it over the plan to
predict the result; the executor folds it over the steps it carries out, with the real ids.
So check mode predicts the real run by construction, and the property tests prove it against
the real executor.

The order that loses nothing, for a new key: open the journal (the write-ahead record of the
rotation) -> make room (only at the two-key limit, and only with a key that is safe to retire)
-> create -> store the secret -> verify the new key -> retire the key it replaces -> close the
journal. An unfinished rotation found in the journal is settled first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Mapping, Sequence

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
# The replaced key stays active, recorded in the journal as pending retirement: a later task
# retires it once nobody uses it any more (retire_pending), or rolls the rotation back.
RETIRE_PENDING = "pending"
RETIRE_CHOICES = (RETIRE_KEEP, RETIRE_DEACTIVATE, RETIRE_DELETE, RETIRE_PENDING)

# What a task does with a key pending retirement (option retire_pending).
PENDING_LEAVE = "never"          # nothing; report it
PENDING_WHEN_UNUSED = "when_unused"   # deactivate it once unused since unused_since, for quiet_period
PENDING_NOW = "now"              # deactivate it now, whoever still uses it
PENDING_ROLLBACK = "rollback"    # put the previous credentials file back and delete the new key
PENDING_CHOICES = (PENDING_LEAVE, PENDING_WHEN_UNUSED, PENDING_NOW, PENDING_ROLLBACK)
DEFAULT_QUIET_PERIOD = timedelta(minutes=15)
DEFAULT_GRACE_PERIOD = timedelta(days=7)

# Which key may go to make room under the two-key limit (option make_room).
ROOM_IDLE = "idle"            # an inactive key, else an active key unused for idle_days
ROOM_OLDEST = "oldest"        # an inactive key, else the oldest key not in use by this task
ROOM_INACTIVE = "inactive"    # only an inactive key
ROOM_CHOICES = (ROOM_IDLE, ROOM_OLDEST, ROOM_INACTIVE)
DEFAULT_IDLE_DAYS = 7

# Another run, on another controller where no lock reaches, may have just created a key and be
# storing or verifying it. A key this young is never deleted to make room.
IN_FLIGHT = timedelta(minutes=10)
# The IAM clock is read from Date headers (whole seconds) and key times carry microseconds.
CLOCK_MARGIN = timedelta(seconds=5)
# A use after unused_since is a use, give or take the whole second a Date header truncates. (A wider
# margin would let a key in constant use look unused over a short quiet period.)
LAST_USE_MARGIN = timedelta(seconds=1)

# Step kinds. Those marked API call the IAM service; the others touch only the controller.
DELETE = "delete"          # API: delete a key
UPDATE = "update"          # API: change a key's status or description
CREATE = "create"          # API: create a key (its secret exists only in this answer)
BEGIN = "begin"            # open the journal: the write-ahead record of a rotation
STORE = "store"            # the new secret into the vaulted file (and result), fsynced
ADOPT = "adopt"            # settle: the file already holds the new key of an interrupted run
VERIFY = "verify"          # API: sign a harmless read with the key in the file
SIGN_WITH = "sign_with"    # sign the remaining requests with the verified key (self-rotation)
END = "end"                # close the journal: the rotation is complete or abandoned
REWRITE = "rewrite"        # the file holds the right key in an outdated shape: write it again
CHMOD = "chmod"            # give the existing file the mode the task asks for
RESTORE = "restore"        # undo a STORE: the previous file is back (the executor's compensation only)
CLEAN = "clean"            # remove what an interrupted write left beside the file (temporary files)
PEND = "pend"              # record the replaced key as pending retirement (status: as it now is)
ROLLBACK = "rollback"      # put the file's previous version (the pending key) back

NEW_KEY_PLACEHOLDER = "(new)"

# Journal phases.
PHASE_CREATING = "creating"   # a create may have been sent; its key is not known to be stored
PHASE_STORED = "stored"       # the new key's secret is on disk; not yet verified
PHASE_VERIFIED = "verified"   # the new key works; the replaced key may still need retiring
PHASE_PENDING = "pending"     # the rotation is complete; the replaced key waits to be retired


class PlanError(TaskError, ValueError):
    """What the task asks cannot be done safely; the message says why and what to do."""


@dataclass(frozen=True)
class KeyRequest:
    """What the task asks for, already validated."""

    state: str = "present"
    access_key_id: str | None = None
    status: str | None = None
    description: str | None = None
    rotate: str = ROTATE_NEVER
    max_age_days: int | None = None
    retire: str = RETIRE_DEACTIVATE
    make_room: str = ROOM_IDLE
    idle_days: int = DEFAULT_IDLE_DAYS
    verify: bool = True
    # Deactivating or deleting the key the task signs with locks the task out: only when asked.
    allow_self_lockout: bool = False
    # A key pending retirement (old_key=pending in an earlier rotation): what to do with it now.
    retire_pending: str = PENDING_LEAVE
    unused_since: datetime | None = None      # default: when it became pending
    quiet_period: timedelta = DEFAULT_QUIET_PERIOD
    grace_period: timedelta = DEFAULT_GRACE_PERIOD
    # True when a new secret has somewhere safe to go (a vaulted file or a vaulted result).
    # Without it the planner never creates a key, since nobody would hold its secret.
    has_secret_destination: bool = False


@dataclass(frozen=True)
class FileFacts:
    """The credentials file, as read under its lock."""

    path: str
    access_key_id: str | None = None   # the key it holds, if any
    user_id: str | None = None         # whose key the file says it holds, if it records that
    domain_id: str | None = None       # in which account, if it records that
    mode: int | None = None            # its permission bits, when it exists
    wanted_mode: int = 0o600
    # Whether writing the kept key again would change the file (another vars_prefix, metadata
    # the file lacks): then it is rewritten once.
    outdated: bool = False
    # Names an interrupted run left beside the file: temporary files, a previous copy without a journal.
    leftovers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Owner:
    """What the show call says of a key the file holds that the user's list lacks."""

    access_key_id: str
    user_id: str | None   # None: no such key any more (404)


@dataclass(frozen=True)
class JournalFacts:
    """An unfinished rotation, as the journal recorded it (no secret in it)."""

    run_id: str
    phase: str
    started: datetime            # the IAM clock when the rotation began
    window: timedelta            # how long its create requests could have been in flight
    keys_seen: frozenset         # the user's key ids when it began
    replaced: str | None         # the key it replaces
    retire: str                  # what becomes of the replaced key
    new_key: str | None = None   # known once stored
    has_file: bool = True        # False: the secret went only into the task result
    # A pending retirement: since when the replaced key waits, and when it was deactivated.
    pending_since: datetime | None = None
    deactivated_at: datetime | None = None
    previous_kept: bool = False  # the file's previous version is kept (for an undo or a rollback)
    rolling_back: bool = False   # a rollback began: recorded before it puts the previous file back


@dataclass(frozen=True)
class Claim:
    """A key another run or credentials file on this controller depends on."""

    reason: str          # "held by /path/x.yml", "created by an unfinished rotation of /path/y.env"
    in_flight: bool      # True: a rotation under way or unfinished; never deleted, whatever make_room says


@dataclass(frozen=True)
class Situation:
    """Everything the planner knows; gathered by the backend, under the file's and the user's locks."""

    user_id: str
    keys: tuple[AccessKey, ...]
    now: datetime
    signing_key: str | None = None
    domain_id: str | None = None   # the user's account
    file: FileFacts | None = None
    journal: JournalFacts | None = None
    claims: Mapping[str, Claim] = field(default_factory=dict)
    owner: Owner | None = None


@dataclass(frozen=True)
class FactsNeeded:
    """The planner needs these facts first: last use (show) of some keys, or the owner of one."""

    last_use_of: tuple[str, ...] = ()
    owner_of: str | None = None


@dataclass(frozen=True)
class Step:
    kind: str
    reason: str
    access_key_id: str | None = None
    status: str | None = None
    description: str | None = None
    mode: int | None = None
    # BEGIN records these: what the rotation saw, what it replaces and how.
    keys_seen: tuple[str, ...] = ()
    retire: str | None = None

    @property
    def calls_api(self) -> bool:
        return self.kind in (DELETE, UPDATE, CREATE, VERIFY)

    def describe(self) -> str:
        key = self.access_key_id
        if self.kind == CREATE:
            return f"create a new access key ({self.reason})"
        if self.kind == DELETE:
            return f"delete access key {key} ({self.reason})"
        if self.kind == UPDATE:
            changes = []
            if self.status is not None:
                changes.append("activate" if self.status == ACTIVE else "deactivate")
            if self.description is not None:
                changes.append("set the description of")
            return f"{' and '.join(changes)} access key {key} ({self.reason})"
        if self.kind == STORE:
            return f"store the secret of {key}, vault-encrypted ({self.reason})"
        if self.kind == ADOPT:
            return f"adopt {key}, whose secret the credentials file already holds ({self.reason})"
        if self.kind == VERIFY:
            return f"verify that {key} works ({self.reason})"
        if self.kind == SIGN_WITH:
            return f"sign the remaining requests with {key} ({self.reason})"
        if self.kind == CHMOD:
            return f"set the mode of the credentials file to {self.mode:04o} ({self.reason})"
        if self.kind == PEND:
            return f"record {key} as pending retirement ({self.reason})"
        if self.kind == ROLLBACK:
            return f"put the previous credentials file back, which holds {key} ({self.reason})"
        return self.reason  # BEGIN, END, REWRITE say it all in their reason


@dataclass(frozen=True)
class Pending:
    """What became, or becomes, of a key pending retirement; for the task result (no secret)."""

    access_key_id: str
    status: str
    state: str                     # waiting, in_use, retiring, deleting, rolling_back, superseded, gone
    reason: str
    since: datetime | None = None
    last_used: datetime | None = None
    retire_after: datetime | None = None

    def as_dict(self) -> dict:
        def stamp(moment: datetime | None) -> str | None:
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None
        return {"access_key_id": self.access_key_id, "status": self.status, "state": self.state,
                "reason": self.reason, "since": stamp(self.since), "last_used": stamp(self.last_used),
                "retire_after": stamp(self.retire_after)}


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    # The key whose secret the destination holds after the run, when it is an existing key
    # (None when the plan creates one, or when there is no destination).
    kept_key_id: str | None = None
    pending: Pending | None = None

    @property
    def changed(self) -> bool:
        return changes_anything(self.steps)

    @property
    def creates_key(self) -> bool:
        return any(step.kind == CREATE for step in self.steps)

    def describe(self) -> list:
        return [step.describe() for step in self.steps]


# ---- the one meaning of every step ----------------------------------------------------------------

@dataclass(frozen=True)
class World:
    """What the steps act on: the user's keys, the key the file holds, the journal, the signer."""

    keys: tuple[AccessKey, ...]
    has_file: bool = False     # False: a new secret goes only into the task result
    file_key: str | None = None
    file_mode: int | None = None
    file_written: bool = False
    journal_phase: str | None = None
    signing_key: str | None = None

    @classmethod
    def of(cls, situation: Situation) -> World:
        file = situation.file
        return cls(keys=_sorted(situation.keys), has_file=file is not None,
                   file_key=file.access_key_id if file else None,
                   file_mode=file.mode if file else None,
                   journal_phase=situation.journal.phase if situation.journal else None,
                   signing_key=situation.signing_key)

    def key(self, access_key_id: str | None) -> AccessKey | None:
        return next((key for key in self.keys if key.access_key_id == access_key_id), None)


def simulate(world: World, step: Step, *, new_key: AccessKey | None = None, now: datetime | None = None) -> World:
    """The world after ``step``. ``new_key`` is the key a CREATE made (else a placeholder at ``now``)."""
    kind, target = step.kind, step.access_key_id
    if kind == DELETE:
        return replace(world, keys=tuple(key for key in world.keys if key.access_key_id != target))
    if kind == UPDATE:
        return replace(world, keys=tuple(_updated(key, step) if key.access_key_id == target else key
                                         for key in world.keys))
    if kind == CREATE:
        if new_key is None:
            if now is None:
                raise ValueError("simulating a create needs the new key or the time")
            new_key = AccessKey(NEW_KEY_PLACEHOLDER, world.keys[0].user_id if world.keys else "", ACTIVE, now,
                                step.description or "")
        return replace(world, keys=_sorted((*world.keys, new_key)))
    if kind == BEGIN:
        return replace(world, journal_phase=PHASE_CREATING)
    if kind in (STORE, ADOPT):
        phase = PHASE_STORED if world.journal_phase else None
        if not world.has_file:
            return replace(world, journal_phase=phase)
        return replace(world, file_key=target, file_written=world.file_written or kind == STORE,
                       journal_phase=phase)
    if kind == VERIFY:
        return replace(world, journal_phase=PHASE_VERIFIED if world.journal_phase else None)
    if kind == SIGN_WITH:
        return replace(world, signing_key=target)
    if kind == END:
        return replace(world, journal_phase=None)
    if kind == REWRITE:
        return replace(world, file_written=True)
    if kind == CHMOD:
        return replace(world, file_mode=step.mode)
    if kind == CLEAN:
        return world  # the leftovers never were the file, nor a key
    if kind == PEND:
        return replace(world, journal_phase=PHASE_PENDING)
    if kind == ROLLBACK:
        return replace(world, file_key=target, file_written=True)
    if kind == RESTORE:
        # The previous file is back byte for byte, as if it had never been written.
        return replace(world, file_key=target, file_written=False)
    raise ValueError(f"unknown step kind {kind!r}")


def changes_anything(steps: Sequence[Step]) -> bool:
    """Whether these steps change anything: verifying a key or signing with it changes nothing."""
    return any(step.kind not in (VERIFY, SIGN_WITH) for step in steps)


def file_changed(world: World, steps: Sequence[Step]) -> bool:
    """Whether these steps, which led to ``world``, wrote or re-moded the credentials file."""
    return world.file_written or any(step.kind == CHMOD for step in steps)


def simulate_plan(world: World, steps: Sequence[Step], *, now: datetime) -> World:
    for step in steps:
        world = simulate(world, step, now=now)
    return world


def _updated(key: AccessKey, step: Step) -> AccessKey:
    return replace(key, status=step.status if step.status is not None else key.status,
                   description=step.description if step.description is not None else key.description)


def _sorted(keys) -> tuple:
    return tuple(sorted(keys, key=lambda key: (key.created, key.access_key_id)))


# ---- planning -------------------------------------------------------------------------------------

def plan_keys(situation: Situation, request: KeyRequest) -> Plan | FactsNeeded:
    """The steps that make the user's keys match ``request``, or the facts still needed to decide."""
    if request.retire_pending == PENDING_ROLLBACK and request.rotate != ROTATE_NEVER:
        # The rollback puts the old key back, which the same task would then rotate away again:
        # every run would roll back and rotate, for ever.
        raise PlanError("retire_pending=rollback undoes the last rotation, and rotate would start another at once: "
                        "run the rollback with rotate=never. Nothing was changed.")
    settle = _clean(situation.file) + settle_journal(situation)
    world = simulate_plan(World.of(situation), settle, now=situation.now)
    pending: Pending | None = None
    if world.journal_phase == PHASE_PENDING and situation.journal is not None:
        decided = _pending_steps(situation, situation.journal, world, request)
        if isinstance(decided, FactsNeeded):
            return decided
        more, pending = decided
        settle += more
        world = simulate_plan(world, more, now=situation.now)
    plan = _plan_task(situation, world, request, settle)
    if isinstance(plan, Plan) and pending is not None:
        if plan.creates_key and world.journal_phase == PHASE_PENDING:
            pending = replace(pending, state="superseded",
                              reason=f"{pending.reason}; a new rotation supersedes the pending retirement")
        plan = replace(plan, pending=pending)
    return plan


def _plan_task(situation: Situation, world: World, request: KeyRequest, settle: tuple) -> Plan | FactsNeeded:
    """What the task asks, planned on the world after settlement."""
    if request.state == "absent":
        main = _plan_absent(world, request)
        closing: tuple = ()
        pending = situation.journal
        after = simulate_plan(world, main.steps, now=situation.now)
        if after.journal_phase == PHASE_PENDING and pending is not None and after.key(pending.replaced) is None:
            # The pending key is deleted as the task says: no retirement is left to wait for (else
            # the next run would close the journal, and a rerun would not be a no-op).
            closing = (Step(END, "close the journal: the key pending retirement is deleted"),)
        return Plan(steps=settle + main.steps + closing)
    if request.access_key_id:
        if request.rotate != ROTATE_NEVER:
            # A rotated key is retired, so a task naming it would rotate again on every rerun.
            raise PlanError(
                "rotate works on the key a task keeps (the one in credentials_file, else the user's newest "
                "active key), not on a key named with access_key_id: leave access_key_id out to rotate."
            )
        focus = world.key(request.access_key_id)
        if focus is None:
            raise PlanError(
                f"Access key {request.access_key_id} does not exist for this user. A key's id is chosen by the "
                "cloud, so it cannot be created on request: leave access_key_id out to create a new key."
            )
    else:
        focus_or_question = _focus_key(situation, world, request)
        if isinstance(focus_or_question, FactsNeeded):
            return focus_or_question
        focus = focus_or_question

    why_new = _reason_for_new_key(focus, request, situation.now, world.file_key)
    if why_new is not None:
        new_key_plan = _plan_new_key(situation, world, request, focus, why_new)
        if isinstance(new_key_plan, FactsNeeded):
            return new_key_plan
        return Plan(steps=settle + new_key_plan.steps)
    # status and description apply to the named key, else to the key in the credentials file,
    # else to every key of the user (so "status: inactive" disables them all, idempotently).
    if request.access_key_id or request.has_secret_destination:
        targets = [focus] if focus else []
    else:
        targets = list(world.keys)
    steps = [step for step in (_adjust_step(target, request) for target in targets) if step]
    _refuse_self_lockout(steps, world.signing_key, request)
    steps = _signing_key_last(steps, world.signing_key) + _file_upkeep(situation.file, world, focus)
    return Plan(steps=settle + tuple(steps), kept_key_id=focus.access_key_id if focus else None)


def _plan_absent(world: World, request: KeyRequest) -> Plan:
    if request.access_key_id:
        targets = [key for key in world.keys if key.access_key_id == request.access_key_id]
        reason = "state is absent"
    else:
        targets = list(world.keys)
        reason = "state is absent for all of the user's keys"
    steps = [Step(DELETE, reason, access_key_id=key.access_key_id) for key in targets]
    _refuse_self_lockout(steps, world.signing_key, request)
    return Plan(steps=tuple(_signing_key_last(steps, world.signing_key)))


def _refuse_self_lockout(steps: Sequence[Step], signing_key: str | None, request: KeyRequest) -> None:
    """Deactivating or deleting the key the task signs with needs allow_self_lockout."""
    if request.allow_self_lockout or not signing_key:
        return
    for step in steps:
        if step.access_key_id == signing_key and (step.kind == DELETE or step.status == INACTIVE):
            what = "delete" if step.kind == DELETE else "deactivate"
            raise PlanError(
                f"This task would {what} access key {signing_key}, the key it signs its requests with, and so lock "
                "itself (and every later task that uses the key) out. Name other keys with access_key_id, sign with "
                "another identity, or set allow_self_lockout: true if that is what you want. Nothing was changed."
            )


def _signing_key_last(steps: Sequence[Step], signing_key: str | None) -> list:
    """A change to the key the task signs with goes last: after it, the task may not sign at all."""
    return sorted(steps, key=lambda step: step.access_key_id == signing_key)


def _focus_key(situation: Situation, world: World, request: KeyRequest) -> AccessKey | FactsNeeded | None:
    """The key the task is about when it names none.

    With a credentials file, the key the file holds (None if it holds none, or one that no
    longer exists: then only a new key can fill it). A key missing from the user's list is
    confirmed with the show call first: it may belong to someone else, whose file this is.
    Without a file, the newest active key, else the newest key.
    """
    file = situation.file
    if file is not None:
        if file.user_id and file.user_id != situation.user_id:
            raise _foreign_file(file.path, file.access_key_id, file.user_id, situation.user_id)
        if file.domain_id and situation.domain_id and file.domain_id != situation.domain_id:
            # The show call cannot see into another account (it says "not found"): the file's record decides.
            raise _foreign_file(file.path, file.access_key_id, f"{file.user_id or '?'} of account {file.domain_id}",
                                f"{situation.user_id} of account {situation.domain_id}")
        if world.file_key is None:
            return None
        held = world.key(world.file_key)
        if held is not None:
            return held
        owner = situation.owner
        if owner is None or owner.access_key_id != world.file_key:
            return FactsNeeded(owner_of=world.file_key)
        if owner.user_id is not None and owner.user_id != situation.user_id:
            raise _foreign_file(file.path, world.file_key, owner.user_id, situation.user_id)
        return None  # gone: the show call says so
    if request.has_secret_destination:
        return None
    active = [key for key in world.keys if key.status == ACTIVE]
    if active:
        return active[-1]
    return world.keys[-1] if world.keys else None


def _foreign_file(path: str, access_key_id: str | None, owner: str, user_id: str) -> PlanError:
    return PlanError(
        f"{path} holds access key {access_key_id} of user {owner}, not of user {user_id}: refusing to overwrite "
        "another user's credentials. Give each user a credentials file of their own. Nothing was changed."
    )


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
    if (request.rotate == ROTATE_WHEN_OLDER and request.max_age_days is not None
            and focus.older_than(now, request.max_age_days)):
        return (f"{focus.access_key_id} is {focus.age_days(now)} days old, older than max_age "
                f"({request.max_age_days} days)")
    return None


def _plan_new_key(situation: Situation, world: World, request: KeyRequest, focus: AccessKey | None,
                  why: str) -> Plan | FactsNeeded:
    if not request.has_secret_destination:
        raise PlanError(
            f"A new access key is needed ({why}), but its secret would have nowhere to go: the cloud shows it only "
            "once. Set credentials_file (or return_secret) so the new secret is stored, vault-encrypted."
        )
    if request.status == INACTIVE:
        raise PlanError(f"A new access key is needed ({why}), but status is inactive: a new key starts active. "
                        "Rotate first, or set status on an existing key with access_key_id.")
    replaced = focus
    steps = []
    if world.journal_phase == PHASE_PENDING:
        # The key still pending retirement is left to the make-room rules like any other key.
        steps.append(Step(END, "close the journal of the earlier rotation: a new rotation supersedes its pending "
                          "retirement"))
    steps.append(Step(BEGIN, "open the journal: record the rotation before anything changes",
                      keys_seen=tuple(key.access_key_id for key in world.keys),
                      access_key_id=replaced.access_key_id if replaced else None, retire=request.retire))
    if len(world.keys) >= KEY_LIMIT:
        victim = _room_victim(situation, world, request, replaced)
        if isinstance(victim, FactsNeeded):
            return victim
        steps.append(Step(DELETE, victim[1], access_key_id=victim[0].access_key_id))
    description = request.description if request.description is not None else (focus.description if focus else None)
    steps.append(Step(CREATE, why, description=description or None))
    steps.append(Step(STORE, "the cloud shows a secret only once", access_key_id=NEW_KEY_PLACEHOLDER))
    if request.verify:
        steps.append(Step(VERIFY, "before anything is retired", access_key_id=NEW_KEY_PLACEHOLDER))
    if replaced is not None and request.retire == RETIRE_PENDING:
        steps.append(Step(PEND, "old_key is pending: it stays active until nobody uses it (retire_pending)",
                          access_key_id=replaced.access_key_id, status=replaced.status))
        return Plan(steps=tuple(steps))
    done = "close the journal: the rotation is complete"
    if replaced is not None:
        retire = _retire_steps(replaced, request.retire, world.signing_key, NEW_KEY_PLACEHOLDER,
                               "old_key is {retire}: it was replaced", situation.claims)
        steps += retire
        done += _kept_for_another_file(replaced, request.retire, retire, situation.claims)
    steps.append(Step(END, done))
    return Plan(steps=tuple(steps))


def _retire_steps(replaced: AccessKey, retire: str, signing_key: str | None, new_key: str, why: str,
                  claims: Mapping[str, Claim]) -> list:
    """Retire the replaced key; first switch the signature to the new key when it is the signing key.

    A replaced key that another credentials file on this controller also holds (a copy of the
    file, say) stays as it is: retiring it would break that file's consumers behind their back.
    """
    if retire in (RETIRE_KEEP, RETIRE_PENDING) or (retire == RETIRE_DEACTIVATE and replaced.status != ACTIVE):
        return []
    if replaced.access_key_id in claims:
        return []
    steps = []
    if replaced.access_key_id == signing_key:
        steps.append(Step(SIGN_WITH, "the key this task signed with is being retired", access_key_id=new_key))
    reason = why.format(retire=retire)
    if retire == RETIRE_DELETE:
        steps.append(Step(DELETE, reason, access_key_id=replaced.access_key_id))
    else:
        steps.append(Step(UPDATE, f"{reason}; kept inactive for a grace period and deleted by the next rotation",
                          access_key_id=replaced.access_key_id, status=INACTIVE))
    return steps


def _kept_for_another_file(replaced: AccessKey, retire: str, retire_steps: list, claims: Mapping[str, Claim]) -> str:
    """What the closing step says when the replaced key was not retired because another file needs it."""
    claim = claims.get(replaced.access_key_id)
    if retire_steps or retire in (RETIRE_KEEP, RETIRE_PENDING) or claim is None:
        return ""
    return f"; {replaced.access_key_id} stays {replaced.status} although old_key is {retire}: {claim.reason}"


def _room_victim(situation: Situation, world: World, request: KeyRequest,
                 replaced: AccessKey | None) -> tuple | FactsNeeded:
    """The one key to delete so that a new key fits under the two-key limit, and why it may go.

    Never the key this task signs with; never the key being replaced (it goes only once its
    replacement is stored and verified); never an active key younger than IN_FLIGHT (another
    run may be storing it) or one a rotation on this controller has in flight. Then, by
    make_room: the oldest inactive key; else (idle) the oldest active key unused for idle_days
    and held by no other credentials file here, or (oldest) the oldest remaining key.
    """
    now = situation.now
    replaced_id = replaced.access_key_id if replaced else None
    blocked = {}
    for key in world.keys:
        claim = situation.claims.get(key.access_key_id)
        if key.access_key_id == world.signing_key:
            blocked[key.access_key_id] = "this task signs its requests with it"
        elif key.access_key_id == replaced_id:
            blocked[key.access_key_id] = "the key being replaced; it is retired only once its replacement works"
        elif key.status == INACTIVE:
            return key, "making room under the two-key limit: the oldest inactive key"
        elif claim is not None and claim.in_flight:
            blocked[key.access_key_id] = claim.reason
        elif now - key.created < IN_FLIGHT:
            minutes = max(0, int((now - key.created).total_seconds() // 60))
            blocked[key.access_key_id] = (f"created {minutes} min ago: another run may still be storing it "
                                          f"(keys younger than {int(IN_FLIGHT.total_seconds() // 60)} min are kept)")
    candidates = [key for key in world.keys if key.access_key_id not in blocked]
    if request.make_room == ROOM_OLDEST and candidates:
        return candidates[0], ("making room under the two-key limit: the oldest key not in use by this task "
                               "(make_room is oldest)")
    if request.make_room == ROOM_INACTIVE:
        for key in candidates:
            blocked[key.access_key_id] = "active, and make_room is inactive"
        raise PlanError(_no_room_message(world.keys, blocked, now, request.make_room))
    # idle: a key another credentials file here holds is in use by definition; the others by last use.
    for key in candidates:
        claim = situation.claims.get(key.access_key_id)
        if claim is not None:
            blocked[key.access_key_id] = claim.reason
    candidates = [key for key in candidates if key.access_key_id not in blocked]
    unknown = tuple(key.access_key_id for key in candidates if key.last_used is None)
    if unknown:
        return FactsNeeded(last_use_of=unknown)
    for key in candidates:
        idle = key.days_since_last_use(now)
        if idle is not None and idle >= request.idle_days:
            return key, (f"making room under the two-key limit: the oldest key not in use, last used {_ago(idle)} "
                         f"(idle_days is {request.idle_days})")
        blocked[key.access_key_id] = f"in use (idle_days is {request.idle_days})"
    raise PlanError(_no_room_message(world.keys, blocked, now, request.make_room))


def _ago(days: int | None) -> str:
    if days is None:
        return "at an unknown time"
    return "today" if days == 0 else ("1 day ago" if days == 1 else f"{days} days ago")


def _no_room_message(keys: Sequence[AccessKey], blocked: Mapping[str, str], now: datetime, make_room: str) -> str:
    held = "; ".join(
        f"{key.access_key_id} ({key.status}, {key.age_days(now)} days old"
        + (f", last used {_ago(key.days_since_last_use(now))}" if key.last_used is not None else "")
        + f": {blocked.get(key.access_key_id, 'kept')})"
        for key in keys
    )
    way_out = "Deactivate or delete one of them yourself (an inactive key is always retired first)"
    if make_room != ROOM_OLDEST:
        way_out += (", or set make_room: oldest to retire the oldest key this task neither signs with nor replaces, "
                    "whatever its last use")
    return (f"The user already holds {KEY_LIMIT} access keys, the most the cloud allows, and none is safe to retire to "
            f"make room for a new one: {held}. {way_out}. Nothing was changed.")


def _adjust_step(key: AccessKey, request: KeyRequest) -> Step | None:
    status = request.status if request.status and request.status != key.status else None
    description = (request.description
                   if request.description is not None and request.description != key.description else None)
    if status is None and description is None:
        return None
    return Step(UPDATE, "differs from the task", access_key_id=key.access_key_id, status=status,
                description=description)


def _file_upkeep(file: FileFacts | None, world: World, focus: AccessKey | None) -> list:
    """Keep the file right when no new key is written: its shape, then its mode."""
    if file is None or world.file_key is None or focus is None or focus.access_key_id != world.file_key:
        return []
    steps = []
    if file.outdated:
        steps.append(Step(REWRITE, f"rewrite {file.path} in the current format"))
    elif file.mode is not None and file.mode != file.wanted_mode:
        steps.append(Step(CHMOD, f"it is {file.mode:04o}", mode=file.wanted_mode))
    return steps


# ---- settling an unfinished rotation --------------------------------------------------------------

def _clean(file: FileFacts | None) -> tuple:
    if file is None or not file.leftovers:
        return ()
    return (Step(CLEAN, f"remove what an interrupted run left beside {file.path}: {', '.join(file.leftovers)}"),)


def lost_create_candidates(journal: JournalFacts, keys: Sequence[AccessKey], claims: Mapping[str, Claim],
                           signing_key: str | None) -> list:
    """The keys that the journal's rotation provably created: reconcile only what is ours.

    A key counts when the rotation had not seen it, it was created within the window in which the
    rotation's create requests could have been in flight (by the IAM clock), and no other run or
    file on this controller claims it. Runs on this controller that touch the user are serialized,
    so within the window no one else here could have made it. The key a task signs with is never
    one: whoever runs the task holds its secret.
    """
    start = journal.started - CLOCK_MARGIN
    end = journal.started + journal.window + CLOCK_MARGIN
    return [key for key in keys
            if key.access_key_id not in journal.keys_seen and start <= key.created <= end
            and key.access_key_id not in claims and key.access_key_id != signing_key]


def settle_journal(situation: Situation) -> tuple:
    """The steps that finish or undo the unfinished rotation in the journal, before anything else."""
    journal = situation.journal
    if journal is None or journal.phase == PHASE_PENDING:
        return ()  # a complete rotation whose old key waits: see _pending_steps
    world = World.of(situation)
    interrupted = f"the rotation of run {journal.run_id} was interrupted"
    steps: list = []
    new_key = journal.new_key
    if journal.phase == PHASE_CREATING:
        candidates = lost_create_candidates(journal, world.keys, situation.claims, world.signing_key)
        adopted = next((key for key in candidates if journal.has_file and key.access_key_id == world.file_key), None)
        for key in candidates:
            if key is not adopted:
                steps.append(Step(DELETE, f"{interrupted} after creating this key; its secret never reached a file",
                                  access_key_id=key.access_key_id))
        if adopted is None:
            steps.append(Step(END, f"close the journal: {interrupted} before it stored a new key"))
            return tuple(steps)
        new_key = adopted.access_key_id
        steps.append(Step(ADOPT, f"{interrupted} after storing it", access_key_id=new_key))
    elif world.key(new_key) is None or not journal.has_file or world.file_key != new_key:
        # The new key is gone, or the file does not hold it (an undo put the old file back; or the
        # secret went only into a task result that never arrived): nobody holds its secret,
        # unless this very task signs with it.
        if world.key(new_key) is not None and new_key != world.signing_key:
            steps.append(Step(DELETE, f"{interrupted}; nobody holds this key's secret", access_key_id=new_key))
        steps.append(Step(END, f"close the journal: {interrupted} and its new key is not in use"))
        return tuple(steps)
    if journal.phase != PHASE_VERIFIED:
        steps.append(Step(VERIFY, f"{interrupted} before it was verified", access_key_id=new_key))
    replaced = world.key(journal.replaced)
    if journal.retire == RETIRE_PENDING and replaced is not None and replaced.access_key_id != new_key:
        steps.append(Step(PEND, f"{interrupted}; old_key is pending", access_key_id=replaced.access_key_id,
                          status=replaced.status))
        return tuple(steps)
    done = f"close the journal: the interrupted rotation of run {journal.run_id} is complete"
    if replaced is not None and replaced.access_key_id != new_key:
        retire = _retire_steps(replaced, journal.retire, world.signing_key, new_key or "",
                               f"{interrupted} before it retired this key (old_key is {{retire}})", situation.claims)
        steps += retire
        done += _kept_for_another_file(replaced, journal.retire, retire, situation.claims)
    steps.append(Step(END, done))
    return tuple(steps)


# ---- a key pending retirement ------------------------------------------------------------------

def _pending_steps(situation: Situation, journal: JournalFacts, world: World,
                   request: KeyRequest) -> tuple | FactsNeeded:
    """What becomes of the key an earlier rotation left pending retirement (old_key=pending).

    It stays active until nobody uses it: ``retire_pending: when_unused`` deactivates it once its
    last use (the show API) is before ``unused_since`` and ``quiet_period`` has passed since then,
    so that the cloud's delayed last-use data has caught up; ``now`` deactivates it whoever uses
    it. An inactive pending key is deleted once ``grace_period`` has passed (at once when that is
    zero), which closes the journal. ``rollback`` puts the previous credentials file back (the
    pending key, reactivated if need be) and deletes the new key. Returns (steps, Pending).
    """
    now = situation.now
    key = world.key(journal.replaced)
    since = journal.pending_since or now
    if key is None:
        steps = (Step(END, f"close the journal: {journal.replaced}, pending retirement, no longer exists"),)
        return steps, Pending(journal.replaced or "", "deleted", "gone", "it no longer exists", since)
    new_key = world.key(journal.new_key)
    if new_key is None and world.file_key == key.access_key_id:
        # The rotation is undone: its key is gone and the file holds the pending key again (a
        # rollback killed after deleting the new key, or both done by hand). Nothing is left to retire;
        # a rollback's key works again, as a finished rollback's does.
        reactivate = _reactivated(key) if journal.rolling_back or request.retire_pending == PENDING_ROLLBACK else ()
        closed = Step(END, "close the journal: the rotation is rolled back")
        return (*reactivate, closed), Pending(key.access_key_id, key.status, "rolling_back",
                                              f"the rotation's new key {journal.new_key} no longer exists", since,
                                              key.last_used)
    # Every way out below deletes or deactivates a key: never one another credentials file on this
    # controller holds (a copy of the file, say), as _retire_steps keeps it for a plain rotation.
    new_claim = situation.claims.get(new_key.access_key_id) if new_key is not None else None
    choice = request.retire_pending
    if world.file_key == key.access_key_id and new_key is not None:
        if not journal.rolling_back and choice != PENDING_ROLLBACK:
            # The file holds the pending key again, yet no rollback began: it was put back by hand
            # (or by another tool), while the new key may already be in use where it was delivered.
            return (), Pending(key.access_key_id, key.status, "blocked",
                               f"kept, and {new_key.access_key_id} too: the credentials file holds this key again, "
                               "but no rollback was started (was the file put back by hand?). To roll back, run with "
                               f"retire_pending: rollback, which deletes {new_key.access_key_id}; to go on with the "
                               f"rotation, put {new_key.access_key_id}'s credentials back into the file",
                               since, key.last_used)
        # A rollback interrupted after putting the file back, or asked for once it is back: finish it.
        if new_claim is not None:
            return (), Pending(key.access_key_id, key.status, "blocked",
                               f"kept: the rollback would delete {new_key.access_key_id}, {new_claim.reason}",
                               since, key.last_used)
        why = (f"the rollback of run {journal.run_id} was interrupted" if journal.rolling_back
               else "retire_pending is rollback")
        steps, pending = _finish_rollback(key, new_key, world, since, why)
        return _reactivated(key) + steps, pending
    if choice == PENDING_ROLLBACK:
        if new_claim is not None:
            raise PlanError(f"Cannot roll back: the rollback deletes {journal.new_key}, which is "
                            f"{new_claim.reason} on this controller. Nothing was changed.")
        return _rollback(journal, key, new_key, world, since)
    # A rollback that never reached the file (the rotation stands), or a pending key reactivated
    # since it was deactivated: the journal's record of either is stale. Decide without it, and
    # first record the pending retirement anew, which forgets both: else a file put back by hand
    # later passes for that rollback's, and a new deactivation for the old one, so that the key is
    # deleted without a grace period (even by a run killed between deactivating and recording it).
    stale = journal.rolling_back or (key.status == ACTIVE and journal.deactivated_at is not None)
    if stale:
        journal = replace(journal, rolling_back=False, deactivated_at=None)
    decided = _retirement(situation, journal, world, request, key, new_key, since)
    if isinstance(decided, FactsNeeded) or not stale:
        return decided
    steps, pending = decided
    renewed = Step(PEND, "record the pending retirement anew", access_key_id=key.access_key_id, status=key.status)
    if not steps or (steps[0].kind, steps[0].access_key_id, steps[0].status) != (PEND, key.access_key_id, key.status):
        steps = (renewed, *steps)
    return steps, pending


def _retirement(situation: Situation, journal: JournalFacts, world: World, request: KeyRequest, key: AccessKey,
                new_key: AccessKey | None, since: datetime) -> tuple | FactsNeeded:
    """Whether the pending key is retired now, as ``retire_pending`` says, once it is safe; (steps, Pending)."""
    now = situation.now
    choice = request.retire_pending
    claim = situation.claims.get(key.access_key_id)
    if claim is not None:
        return (), Pending(key.access_key_id, key.status, "blocked", f"kept: {claim.reason}", since, key.last_used)
    if request.access_key_id == key.access_key_id and request.status == ACTIVE:
        # The task keeps this very key active: retiring it first would have every run deactivate
        # it and the task activate it again.
        return (), Pending(key.access_key_id, key.status, "blocked",
                           "kept: this task names it (access_key_id) and keeps it active (status)", since,
                           key.last_used)
    replacement_works = new_key is not None and new_key.status == ACTIVE and world.file_key == new_key.access_key_id
    if not replacement_works and (key.status == INACTIVE or choice != PENDING_LEAVE):
        # Retiring (or deleting) the old key now would leave no working key: the key that replaced
        # it is gone, inactive, or no longer in the file.
        return (), Pending(key.access_key_id, key.status, "blocked",
                           f"kept: the key that replaced it ({journal.new_key}) is not an active key in the "
                           "credentials file", since, key.last_used)
    if key.status == INACTIVE:
        return _delete_after_grace(journal, key, now, since, request.grace_period)
    if choice == PENDING_LEAVE:
        return (), Pending(key.access_key_id, key.status, "waiting", "pending retirement (retire_pending is never)",
                           since, key.last_used)
    if choice == PENDING_WHEN_UNUSED:
        if key.last_used is None:
            return FactsNeeded(last_use_of=(key.access_key_id,))
        unused_since = request.unused_since or since
        ready_at = unused_since + request.quiet_period
        if key.last_used > unused_since + LAST_USE_MARGIN:
            return (), Pending(key.access_key_id, key.status, "in_use",
                               f"still in use: last used {_moment(key.last_used)}, after {_moment(unused_since)}",
                               since, key.last_used)
        if now < ready_at:
            return (), Pending(key.access_key_id, key.status, "waiting",
                               f"unused since {_moment(unused_since)}; waiting until {_moment(ready_at)}, when the "
                               "cloud's last-use data has caught up (quiet_period)", since, key.last_used, ready_at)
        why = f"unused since {_moment(unused_since)}, and the quiet period has passed"
    else:
        why = "retire_pending is now"
    steps = _retire_pending(key, world, journal, why, request.grace_period)
    state = "deleting" if request.grace_period <= timedelta(0) else "retiring"
    return steps, Pending(key.access_key_id, key.status, state, why, since, key.last_used)


def _retire_pending(key: AccessKey, world: World, journal: JournalFacts, why: str, grace: timedelta) -> tuple:
    steps = []
    if key.access_key_id == world.signing_key and journal.new_key:
        steps.append(Step(SIGN_WITH, "the key this task signs with is being retired", access_key_id=journal.new_key))
    if grace <= timedelta(0):
        steps += [Step(DELETE, f"pending retirement: {why}", access_key_id=key.access_key_id),
                  Step(END, "close the journal: the pending retirement is complete")]
    else:
        steps += [Step(UPDATE, f"pending retirement: {why}; deleted after the grace period",
                       access_key_id=key.access_key_id, status=INACTIVE),
                  Step(PEND, "deactivated, deleted after the grace period", access_key_id=key.access_key_id,
                       status=INACTIVE)]
    return tuple(steps)


def _delete_after_grace(journal: JournalFacts, key: AccessKey, now: datetime, since: datetime,
                        grace: timedelta) -> tuple:
    deactivated = journal.deactivated_at
    if deactivated is None and grace <= timedelta(0):  # no time to wait for: deleted at once, as documented
        steps = (Step(DELETE, "pending retirement: inactive, and the grace period is zero",
                      access_key_id=key.access_key_id),
                 Step(END, "close the journal: the pending retirement is complete"))
        return steps, Pending(key.access_key_id, key.status, "deleting", "inactive, and the grace period is zero",
                              since, key.last_used, now)
    if deactivated is None:  # deactivated by hand, or a run was killed before it noted it: count from now
        noted: tuple = (Step(PEND, "inactive: deleted after the grace period", access_key_id=key.access_key_id,
                             status=INACTIVE),)
        return noted, Pending(key.access_key_id, key.status, "inactive", "inactive, awaiting the grace period",
                              since, key.last_used, now + grace)
    delete_at = deactivated + grace
    if now < delete_at:
        return (), Pending(key.access_key_id, key.status, "inactive",
                           f"inactive since {_moment(deactivated)}; deleted after the grace period", since,
                           key.last_used, delete_at)
    steps = (Step(DELETE, f"pending retirement: inactive since {_moment(deactivated)}, the grace period has passed",
                  access_key_id=key.access_key_id),
             Step(END, "close the journal: the pending retirement is complete"))
    return steps, Pending(key.access_key_id, key.status, "deleting", "the grace period has passed", since,
                          key.last_used, delete_at)


def _rollback(journal: JournalFacts, key: AccessKey, new_key: AccessKey | None, world: World,
              since: datetime) -> tuple:
    if not journal.previous_kept:
        raise PlanError(f"Cannot roll back to {key.access_key_id}: the previous credentials file was not kept (the "
                        "rotation created the file). Nothing was changed.")
    if new_key is None or world.file_key != new_key.access_key_id:
        raise PlanError(f"Cannot roll back to {key.access_key_id}: the credentials file no longer holds the key the "
                        f"rotation made ({journal.new_key}). Nothing was changed.")
    done, _pending = _finish_rollback(key, new_key, world, since, "retire_pending is rollback")
    steps = (*_reactivated(key), Step(ROLLBACK, "retire_pending is rollback", access_key_id=key.access_key_id))
    return steps + done, Pending(key.access_key_id, ACTIVE, "rolling_back",
                                 f"rolled back: {new_key.access_key_id} is deleted", since, key.last_used)


def _reactivated(key: AccessKey) -> tuple:
    """The step that makes the key a rollback goes back to work again, if it is not active."""
    if key.status == ACTIVE:
        return ()
    return (Step(UPDATE, "rollback: the previous key works again", access_key_id=key.access_key_id, status=ACTIVE),)


def _finish_rollback(key: AccessKey, new_key: AccessKey, world: World, since: datetime, why: str) -> tuple:
    if new_key.access_key_id == world.signing_key:
        raise PlanError(f"Cannot roll back: this task signs its requests with {new_key.access_key_id}, the key the "
                        "rollback deletes. Sign with another identity. Nothing was changed.")
    steps = (Step(DELETE, f"{why}: the rotation is rolled back", access_key_id=new_key.access_key_id),
             Step(END, "close the journal: the rotation is rolled back"))
    return steps, Pending(key.access_key_id, key.status, "rolling_back", why, since, key.last_used)


def _moment(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
