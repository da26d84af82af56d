"""The key planner, without any server: one scenario per rule.

The generated situations, run through the real executor, are in test_plan_execution.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.keywarden.iam.plugins.module_utils._models import ACTIVE, INACTIVE, AccessKey
from ansible_collections.keywarden.iam.plugins.module_utils._planner import (
    ADOPT,
    BEGIN,
    CREATE,
    DELETE,
    END,
    IN_FLIGHT,
    NEW_KEY_PLACEHOLDER,
    PEND,
    PHASE_CREATING,
    PHASE_PENDING,
    PHASE_STORED,
    PHASE_VERIFIED,
    REWRITE,
    ROLLBACK,
    ROOM_INACTIVE,
    ROOM_OLDEST,
    SIGN_WITH,
    STORE,
    UPDATE,
    VERIFY,
    CHMOD,
    CLEAN,
    Claim,
    FactsNeeded,
    FileFacts,
    JournalFacts,
    KeyRequest,
    Owner,
    Plan,
    PlanError,
    Situation,
    World,
    plan_keys,
    simulate_plan,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
USER = "user-1"
ROTATE = KeyRequest(rotate="when_older", max_age_days=90, has_secret_destination=True)


def key(key_id: str, age_days: float, status: str = ACTIVE, description: str = "", used_days_ago: float | None = None):
    last_used = None if used_days_ago is None else NOW - timedelta(days=used_days_ago)
    return AccessKey(key_id, USER, status, NOW - timedelta(days=age_days), description, last_used)


def situation(keys, *, file_key=None, file=True, signing=None, **extra) -> Situation:
    facts = FileFacts(path="/creds/u.yml", access_key_id=file_key) if file else None
    return Situation(user_id=USER, keys=tuple(keys), now=NOW, signing_key=signing, file=facts, **extra)


def shape(plan: Plan) -> list:
    return [(step.kind, step.access_key_id, step.status) for step in plan.steps]


def test_present_with_fresh_stored_key_does_nothing():
    plan = plan_keys(situation([key("A", 10)], file_key="A"), ROTATE)
    assert plan.steps == () and plan.kept_key_id == "A"


def test_rotation_at_the_limit_retires_the_oldest_inactive_key_first():
    plan = plan_keys(situation([key("OLD", 200, INACTIVE), key("CUR", 120)], file_key="CUR"), ROTATE)
    assert shape(plan) == [(BEGIN, "CUR", None), (DELETE, "OLD", None), (CREATE, None, None),
                           (STORE, NEW_KEY_PLACEHOLDER, None), (VERIFY, NEW_KEY_PLACEHOLDER, None),
                           (UPDATE, "CUR", INACTIVE), (END, None, None)]


def test_the_replaced_key_is_never_deleted_before_its_replacement_is_stored():
    # Why #1: the task signs with A, the file holds B. Before, B was deleted first, "retired early".
    keys = [key("A", 300), key("B", 200, used_days_ago=100)]
    with pytest.raises(PlanError) as refused:
        plan_keys(situation(keys, file_key="B", signing="A"), ROTATE)
    message = str(refused.value)
    assert "none is safe to retire" in message and "Nothing was changed" in message
    assert "A (active, 300 days old" in message and "this task signs its requests with it" in message
    assert "B (active, 200 days old" in message and "the key being replaced" in message


def test_an_active_key_in_use_is_kept_and_an_idle_one_makes_room():
    # Why #4, the demo: "alice laptop" was used yesterday, "alice old ci" 125 days ago.
    keys = [key("LAPTOP", 200, description="alice laptop", used_days_ago=1),
            key("OLDCI", 130, description="alice old ci", used_days_ago=125)]
    plan = plan_keys(situation(keys), ROTATE)
    deleted = [step for step in plan.steps if step.kind == DELETE]
    assert [step.access_key_id for step in deleted] == ["OLDCI"]
    assert "last used 125 days ago" in deleted[0].reason


def test_a_key_used_yesterday_is_never_deleted_by_default():
    keys = [key("LAPTOP", 200, used_days_ago=1), key("DESK", 130, used_days_ago=3)]
    with pytest.raises(PlanError, match=r"LAPTOP .*last used 1 day ago: in use \(idle_days is 7\).*make_room: oldest"):
        plan_keys(situation(keys), ROTATE)


def test_last_use_is_asked_for_only_when_it_decides():
    keys = [key("A", 200), key("B", 130)]
    assert plan_keys(situation(keys), ROTATE) == FactsNeeded(last_use_of=("A", "B"))
    # a no-op, or room from an inactive key, needs no last use
    assert plan_keys(situation([key("A", 10)], file_key="A"), ROTATE).steps == ()
    assert isinstance(plan_keys(situation([key("A", 200, INACTIVE), key("B", 130)]), ROTATE), Plan)


def test_make_room_oldest_ignores_last_use_and_inactive_only_refuses_active_keys():
    keys = [key("LAPTOP", 200, used_days_ago=1), key("DESK", 130, used_days_ago=1)]
    plan = plan_keys(situation(keys), KeyRequest(has_secret_destination=True, make_room=ROOM_OLDEST))
    assert [s.access_key_id for s in plan.steps if s.kind == DELETE] == ["LAPTOP"]
    with pytest.raises(PlanError, match="make_room is inactive"):
        plan_keys(situation(keys), KeyRequest(has_secret_destination=True, make_room=ROOM_INACTIVE))


def test_a_young_active_key_may_be_another_runs_and_is_never_deleted_to_make_room():
    young = key("YOUNG", (IN_FLIGHT - timedelta(minutes=1)).total_seconds() / 86400, used_days_ago=30)
    keys = [key("OLD", 100, used_days_ago=1), young]
    for make_room in ("idle", "oldest"):
        with pytest.raises(PlanError, match="another run may still be storing it"):
            plan_keys(situation(keys, file_key="OLD"),
                      KeyRequest(rotate="always", has_secret_destination=True, make_room=make_room))


def test_keys_other_files_hold_are_kept_unless_make_room_is_oldest():
    keys = [key("MINE", 100, used_days_ago=30), key("THEIRS", 50, used_days_ago=30)]
    claims = {"THEIRS": Claim("held by /creds/other.yml", in_flight=False)}
    with pytest.raises(PlanError, match="held by /creds/other.yml"):
        plan_keys(situation(keys, file_key="MINE", claims=claims),
                  KeyRequest(rotate="always", has_secret_destination=True))
    plan = plan_keys(situation(keys, file_key="MINE", claims=claims),
                     KeyRequest(rotate="always", has_secret_destination=True, make_room=ROOM_OLDEST))
    assert [s.access_key_id for s in plan.steps if s.kind == DELETE] == ["THEIRS"]
    in_flight = {"THEIRS": Claim("created by an unfinished rotation of /creds/other.yml", in_flight=True)}
    with pytest.raises(PlanError, match="unfinished rotation"):
        plan_keys(situation(keys, file_key="MINE", claims=in_flight),
                  KeyRequest(rotate="always", has_secret_destination=True, make_room=ROOM_OLDEST))


def test_self_rotation_signs_the_retirement_with_the_new_key():
    plan = plan_keys(situation([key("SELF", 100)], file_key="SELF", signing="SELF"), ROTATE)
    assert shape(plan)[-3:] == [(SIGN_WITH, NEW_KEY_PLACEHOLDER, None), (UPDATE, "SELF", INACTIVE), (END, None, None)]


@pytest.mark.parametrize("retire", ["deactivate", "delete"])
def test_a_replaced_key_another_file_holds_is_not_retired(retire):
    # Found by the concurrency campaign: a copied credentials file held the same key, and rotating
    # one copy retired the key the other still held.
    claims = {"CUR": Claim("held by /creds/copy.yml", in_flight=False)}
    plan = plan_keys(situation([key("CUR", 120)], file_key="CUR", claims=claims),
                     KeyRequest(rotate="always", retire=retire, has_secret_destination=True))
    assert [s.access_key_id for s in plan.steps if s.kind in (DELETE, UPDATE)] == []
    assert "CUR stays active although old_key is" in plan.steps[-1].describe()
    assert "held by /creds/copy.yml" in plan.steps[-1].describe()


def test_max_age_counts_whole_days_as_the_compliance_rule_does():
    # Why #7: a key 90 days and 23 hours old is 90 whole days old: compliant, and not rotated.
    almost = [key("A", 90 + 23 / 24)]
    assert plan_keys(situation(almost, file_key="A"), ROTATE).steps == ()
    assert plan_keys(situation([key("A", 91)], file_key="A"), ROTATE).creates_key


def test_new_key_without_destination_is_refused():
    with pytest.raises(PlanError, match="nowhere to go"):
        plan_keys(situation([], file=False), KeyRequest())


def test_a_file_key_missing_from_the_list_is_confirmed_with_the_show_call():
    # Why #5: another user's key in this user's file was taken as "no longer exists".
    keys = [key("A", 5)]
    assert plan_keys(situation(keys, file_key="X"), ROTATE) == FactsNeeded(owner_of="X")
    gone = plan_keys(situation(keys, file_key="X", owner=Owner("X", None)), ROTATE)
    assert "X, which no longer exists" in next(step for step in gone.steps if step.kind == CREATE).reason
    with pytest.raises(PlanError, match="holds access key X of user someone-else"):
        plan_keys(situation(keys, file_key="X", owner=Owner("X", "someone-else")), ROTATE)


def test_a_file_of_another_account_is_refused_although_show_cannot_see_it():
    # The show call answers "not found" for another account's key, which would read as "gone".
    facts = Situation(user_id=USER, keys=(key("A", 5),), now=NOW, domain_id="mine",
                      file=FileFacts(path="/creds/u.yml", access_key_id="X", domain_id="theirs"),
                      owner=Owner("X", None))
    with pytest.raises(PlanError, match="of account theirs, not of user user-1 of account mine"):
        plan_keys(facts, ROTATE)


def test_a_file_that_records_another_user_is_refused_without_a_call():
    facts = Situation(user_id=USER, keys=(key("A", 5),), now=NOW,
                      file=FileFacts(path="/creds/u.env", access_key_id="X", user_id="someone-else"))
    with pytest.raises(PlanError, match="refusing to overwrite another user's credentials"):
        plan_keys(facts, ROTATE)


@pytest.mark.parametrize("request_", [KeyRequest(access_key_id="SELF", status=INACTIVE),
                                      KeyRequest(access_key_id="SELF", state="absent"),
                                      KeyRequest(state="absent"), KeyRequest(status=INACTIVE)])
def test_locking_out_the_signing_key_needs_allow_self_lockout(request_):
    # Why #7: the task's own identity was locked out without a word.
    keys = [key("SELF", 10), key("OTHER", 20)]
    with pytest.raises(PlanError, match="allow_self_lockout"):
        plan_keys(situation(keys, file=False, signing="SELF"), request_)
    allowed = plan_keys(situation(keys, file=False, signing="SELF"),
                        KeyRequest(**{**request_.__dict__, "allow_self_lockout": True}))
    assert any(step.access_key_id == "SELF" for step in allowed.steps)


def test_status_and_description_of_a_named_key():
    keys = [key("A", 5, description="old")]
    request = KeyRequest(access_key_id="A", status=INACTIVE, description="new")
    plan = plan_keys(situation(keys, file=False), request)
    assert [(s.kind, s.status, s.description) for s in plan.steps] == [(UPDATE, INACTIVE, "new")]
    after = simulate_plan(World.of(situation(keys, file=False)), plan.steps, now=NOW)
    assert plan_keys(situation(after.keys, file=False), request).steps == ()


def test_unknown_named_key_and_rotating_a_named_key_are_errors():
    with pytest.raises(PlanError, match="does not exist"):
        plan_keys(situation([key("A", 5)], file=False), KeyRequest(access_key_id="B"))
    with pytest.raises(PlanError, match="leave access_key_id out to rotate"):
        plan_keys(situation([key("A", 100)]), KeyRequest(access_key_id="A", rotate="always",
                                                         has_secret_destination=True))


def test_rotation_carries_the_description_over():
    plan = plan_keys(situation([key("A", 100, description="ci deployer")], file_key="A"),
                     KeyRequest(rotate="always", has_secret_destination=True))
    assert next(s for s in plan.steps if s.kind == CREATE).description == "ci deployer"


def test_what_an_interrupted_write_left_is_removed_first():
    # The kill campaign found it: a run killed between writing the temporary file and renaming it
    # left a complete vaulted file (of a key deleted since) that no run removed.
    facts = Situation(user_id=USER, keys=(key("A", 5),), now=NOW,
                      file=FileFacts(path="/c.yml", access_key_id="A", leftovers=(".c.yml.0123456789abcdef.tmp",)))
    plan = plan_keys(facts, ROTATE)
    assert [s.kind for s in plan.steps] == [CLEAN] and plan.changed
    assert ".c.yml.0123456789abcdef.tmp" in plan.steps[0].describe()


def test_an_outdated_file_is_rewritten_and_a_wrong_mode_corrected():
    facts = Situation(user_id=USER, keys=(key("A", 5),), now=NOW,
                      file=FileFacts(path="/c.yml", access_key_id="A", mode=0o644, outdated=True))
    assert [s.kind for s in plan_keys(facts, ROTATE).steps] == [REWRITE]
    facts = Situation(user_id=USER, keys=(key("A", 5),), now=NOW,
                      file=FileFacts(path="/c.yml", access_key_id="A", mode=0o644))
    plan = plan_keys(facts, ROTATE)
    assert [(s.kind, s.mode) for s in plan.steps] == [(CHMOD, 0o600)] and plan.changed


# ---- settling what an interrupted run left --------------------------------------------------------

def journal(phase, *, seen=("OLD", "CUR"), replaced="CUR", new_key=None, started=NOW - timedelta(minutes=1),
            retire="deactivate", has_file=True):
    return JournalFacts(run_id="r1", phase=phase, started=started, window=timedelta(minutes=5),
                        keys_seen=frozenset(seen), replaced=replaced, retire=retire, new_key=new_key,
                        has_file=has_file)


def new(key_id="K", minutes_ago=0.5):
    return AccessKey(key_id, USER, ACTIVE, NOW - timedelta(minutes=minutes_ago))


def test_a_key_created_before_a_kill_whose_secret_never_reached_the_file_is_deleted():
    facts = situation([key("CUR", 120), new()], file_key="CUR", journal=journal(PHASE_CREATING))
    plan = plan_keys(facts, ROTATE)
    assert shape(plan)[:2] == [(DELETE, "K", None), (END, None, None)]
    assert "never reached a file" in plan.steps[0].reason
    # ... and then the rotation the task asks for runs anew, in the same plan.
    assert shape(plan)[2][0] == BEGIN and plan.creates_key


def test_a_key_whose_secret_reached_the_file_is_adopted_verified_and_the_old_key_retired():
    facts = situation([key("CUR", 120), new()], file_key="K", journal=journal(PHASE_CREATING))
    plan = plan_keys(facts, ROTATE)
    assert shape(plan) == [(ADOPT, "K", None), (VERIFY, "K", None), (UPDATE, "CUR", INACTIVE), (END, None, None)]


def test_reconcile_only_what_is_ours():
    # Why #3: every key the run had not listed was deleted, another run's new key included.
    started = NOW - timedelta(minutes=2)
    ours, seen = new("OURS", minutes_ago=1), new("CUR", minutes_ago=3)
    claimed = new("CLAIMED", minutes_ago=1)      # within the window, but another file here holds it
    too_late = new("LATE", minutes_ago=-10)      # created after the window: not this rotation's
    claims = {"CLAIMED": Claim("held by /creds/other.yml", in_flight=False)}
    for other in (claimed, too_late):
        facts = situation([seen, ours, other], file_key="CUR",
                          journal=journal(PHASE_CREATING, seen=("CUR",), started=started), claims=claims)
        plan = plan_keys(facts, KeyRequest(has_secret_destination=True))
        assert [s.access_key_id for s in plan.steps if s.kind == DELETE] == ["OURS"]


def test_a_stored_key_is_verified_and_a_verified_one_only_finishes_the_retirement():
    facts = situation([key("CUR", 120), new()], file_key="K", journal=journal(PHASE_STORED, new_key="K"))
    assert shape(plan_keys(facts, ROTATE)) == [(VERIFY, "K", None), (UPDATE, "CUR", INACTIVE), (END, None, None)]
    facts = situation([key("CUR", 120), new()], file_key="K", journal=journal(PHASE_VERIFIED, new_key="K"))
    assert shape(plan_keys(facts, ROTATE)) == [(UPDATE, "CUR", INACTIVE), (END, None, None)]


def test_a_retirement_already_done_before_the_kill_is_not_repeated():
    facts = situation([key("CUR", 120, INACTIVE), new()], file_key="K", journal=journal(PHASE_VERIFIED, new_key="K"))
    assert shape(plan_keys(facts, ROTATE)) == [(END, None, None)]


def test_a_new_key_nobody_holds_is_deleted_when_the_file_was_put_back():
    facts = situation([key("CUR", 120), new()], file_key="CUR", journal=journal(PHASE_STORED, new_key="K"))
    assert shape(plan_keys(facts, ROTATE))[:2] == [(DELETE, "K", None), (END, None, None)]


def test_a_secret_that_went_only_into_a_lost_task_result_is_deleted():
    facts = situation([key("CUR", 120), new()], file=False,
                      journal=journal(PHASE_STORED, new_key="K", has_file=False))
    plan = plan_keys(facts, KeyRequest(has_secret_destination=True, rotate="always"))
    assert shape(plan)[:2] == [(DELETE, "K", None), (END, None, None)]


def test_settling_a_self_rotation_signs_with_the_adopted_key():
    facts = situation([key("CUR", 120), new()], file_key="K", signing="CUR",
                      journal=journal(PHASE_VERIFIED, new_key="K"))
    assert shape(plan_keys(facts, ROTATE)) == [(SIGN_WITH, "K", None), (UPDATE, "CUR", INACTIVE), (END, None, None)]


def test_a_journal_left_before_any_create_is_just_closed():
    facts = situation([key("CUR", 120)], file_key="CUR", journal=journal(PHASE_CREATING, seen=("CUR",)))
    plan = plan_keys(facts, KeyRequest(has_secret_destination=True))
    assert shape(plan) == [(END, None, None)]
    assert simulate_plan(World.of(facts), plan.steps, now=NOW).journal_phase is None


# ---- a key pending retirement (old_key=pending, then retire_pending) ---------------------------------

def pending_journal(*, deactivated_at=None, previous_kept=True, rolling_back=False):
    return JournalFacts(run_id="r1", phase=PHASE_PENDING, started=NOW - timedelta(days=1), window=timedelta(minutes=5),
                        keys_seen=frozenset({"OLD"}), replaced="OLD", retire="pending", new_key="NEW",
                        pending_since=NOW - timedelta(hours=2), deactivated_at=deactivated_at,
                        previous_kept=previous_kept, rolling_back=rolling_back)


def pending_situation(old_used_minutes_ago=None, *, old_status=ACTIVE, file_key="NEW", **journal):
    used = None if old_used_minutes_ago is None else old_used_minutes_ago / 1440
    keys = [key("OLD", 100, old_status, used_days_ago=used), key("NEW", 0.1)]
    return situation(keys, file_key=file_key, journal=pending_journal(**journal))


def test_a_rotation_with_old_key_pending_keeps_the_old_key_active_and_records_it():
    plan = plan_keys(situation([key("OLD", 120)], file_key="OLD"),
                     KeyRequest(rotate="always", retire="pending", has_secret_destination=True))
    assert shape(plan)[-2:] == [(VERIFY, NEW_KEY_PLACEHOLDER, None), (PEND, "OLD", ACTIVE)]
    assert not any(step.kind == END for step in plan.steps)  # the journal stays, holding the pending key


def test_when_unused_waits_for_the_quiet_period_then_retires():
    since = NOW - timedelta(minutes=10)
    request = KeyRequest(has_secret_destination=True, retire_pending="when_unused", unused_since=since,
                         quiet_period=timedelta(minutes=15))
    assert plan_keys(pending_situation(), request) == FactsNeeded(last_use_of=("OLD",))
    waiting = plan_keys(pending_situation(old_used_minutes_ago=20), request)
    assert waiting.steps == () and waiting.pending.state == "waiting"
    assert waiting.pending.retire_after == since + timedelta(minutes=15)
    later = replace(request, quiet_period=timedelta(minutes=5))
    retired = plan_keys(pending_situation(old_used_minutes_ago=20), later)
    assert shape(retired) == [(UPDATE, "OLD", INACTIVE), (PEND, "OLD", INACTIVE)]
    assert retired.pending.state == "retiring"


def test_a_key_in_constant_use_is_in_use_even_over_a_short_quiet_period():
    # Found by the zero-downtime test: with a 5 s margin, a key used 3.7 s after unused_since
    # counted as unused over a 3 s quiet period, and was deactivated under a running service.
    since = NOW - timedelta(seconds=5)
    request = KeyRequest(has_secret_destination=True, retire_pending="when_unused", unused_since=since,
                         quiet_period=timedelta(seconds=3))
    facts = situation([key("OLD", 100, used_days_ago=1.3 / 86400), key("NEW", 0.1)], file_key="NEW",
                      journal=pending_journal())
    plan = plan_keys(facts, request)
    assert plan.steps == () and plan.pending.state == "in_use"


def test_a_pending_key_used_after_delivery_stays_and_says_since_when():
    # A consumer that never reloaded keeps signing with the old key: it is never cut off.
    request = KeyRequest(has_secret_destination=True, retire_pending="when_unused",
                         unused_since=NOW - timedelta(minutes=30), quiet_period=timedelta(0))
    plan = plan_keys(pending_situation(old_used_minutes_ago=1), request)
    assert plan.steps == () and plan.pending.state == "in_use"
    assert "still in use: last used" in plan.pending.reason


def test_an_inactive_pending_key_is_deleted_after_the_grace_period_and_the_journal_closed():
    request = KeyRequest(has_secret_destination=True, retire_pending="when_unused", grace_period=timedelta(days=7))
    early = plan_keys(pending_situation(old_status=INACTIVE, deactivated_at=NOW - timedelta(days=3)), request)
    assert early.steps == () and early.pending.state == "inactive"
    late = plan_keys(pending_situation(old_status=INACTIVE, deactivated_at=NOW - timedelta(days=8)), request)
    assert shape(late) == [(DELETE, "OLD", None), (END, None, None)]


def test_the_old_key_stays_while_the_key_that_replaced_it_does_not_work():
    # Found by the property tests: retiring it would have left the user without a working key.
    facts = situation([key("OLD", 100, used_days_ago=5), key("NEW", 0.1, INACTIVE)], file_key="NEW",
                      journal=pending_journal())
    plan = plan_keys(facts, KeyRequest(has_secret_destination=True, retire_pending="now"))
    assert plan.steps == () and plan.pending.state == "blocked"


def test_rollback_puts_the_previous_file_back_and_deletes_the_new_key():
    request = KeyRequest(has_secret_destination=True, retire_pending="rollback")
    plan = plan_keys(pending_situation(), request)
    assert shape(plan) == [(ROLLBACK, "OLD", None), (DELETE, "NEW", None), (END, None, None)]
    # ... a rollback killed after putting the file back is finished by the next run, whatever it asks
    half = plan_keys(pending_situation(file_key="OLD", rolling_back=True), KeyRequest(has_secret_destination=True))
    assert shape(half) == [(DELETE, "NEW", None), (END, None, None)]
    with pytest.raises(PlanError, match="was not kept"):
        plan_keys(pending_situation(previous_kept=False), request)


def test_an_inactive_pending_key_is_not_deleted_while_its_replacement_does_not_work():
    # "never retired while the key that replaced it is not an active key in the file": deleting
    # after the grace period counts too.
    keys = [key("OLD", 100, INACTIVE), key("NEW", 0.1, INACTIVE)]
    facts = situation(keys, file_key="NEW", journal=pending_journal(deactivated_at=NOW - timedelta(days=30)))
    plan = plan_keys(facts, KeyRequest(has_secret_destination=True, retire_pending="now"))
    assert plan.steps == () and plan.pending.state == "blocked"


@pytest.mark.parametrize("choice", ["now", "when_unused"])
def test_a_pending_key_another_file_holds_is_never_retired(choice):
    claims = {"OLD": Claim("held by /creds/copy.yml", in_flight=False)}
    facts = replace(pending_situation(old_used_minutes_ago=60 * 24 * 30), claims=claims)
    plan = plan_keys(facts, KeyRequest(has_secret_destination=True, retire_pending=choice,
                                       unused_since=NOW - timedelta(days=1), quiet_period=timedelta(0)))
    assert plan.steps == () and plan.pending.state == "blocked" and "/creds/copy.yml" in plan.pending.reason
    inactive = replace(pending_situation(old_status=INACTIVE, deactivated_at=NOW - timedelta(days=30)),
                       claims=claims)
    assert plan_keys(inactive, KeyRequest(has_secret_destination=True)).steps == ()


def test_a_rollback_never_deletes_a_new_key_another_file_holds():
    claims = {"NEW": Claim("held by /creds/copy.yml", in_flight=False)}
    with pytest.raises(PlanError, match="which is held by /creds/copy.yml"):
        plan_keys(replace(pending_situation(), claims=claims),
                  KeyRequest(has_secret_destination=True, retire_pending="rollback"))
    half = plan_keys(replace(pending_situation(file_key="OLD", rolling_back=True), claims=claims),
                     KeyRequest(has_secret_destination=True))
    assert half.steps == () and half.pending.state == "blocked"


@pytest.mark.parametrize("choice", ["never", "when_unused", "now"])
def test_a_file_put_back_by_hand_while_a_key_is_pending_keeps_both_keys(choice):
    # Found in review: the file holding the pending key again was taken for an interrupted
    # rollback, and the new key, which the fleet may already use, was deleted. No rollback was
    # started (the journal says so), so nothing is deleted until a task asks for one.
    request = KeyRequest(has_secret_destination=True, retire_pending=choice, unused_since=NOW - timedelta(days=1),
                         quiet_period=timedelta(0))
    plan = plan_keys(pending_situation(file_key="OLD", old_used_minutes_ago=60 * 24 * 30), request)
    assert plan.steps == () and plan.pending.state == "blocked"
    assert "no rollback was started" in plan.pending.reason and "NEW" in plan.pending.reason


def test_a_rollback_asked_for_once_the_file_is_back_reactivates_the_old_key_and_deletes_the_new():
    request = KeyRequest(has_secret_destination=True, retire_pending="rollback")
    plan = plan_keys(pending_situation(file_key="OLD", old_status=INACTIVE), request)
    assert shape(plan) == [(UPDATE, "OLD", ACTIVE), (DELETE, "NEW", None), (END, None, None)]


def test_a_new_rotation_supersedes_a_pending_retirement():
    plan = plan_keys(pending_situation(old_used_minutes_ago=60 * 24 * 30),
                     KeyRequest(rotate="always", retire="pending", has_secret_destination=True))
    kinds = [step.kind for step in plan.steps]
    assert kinds[:2] == [END, BEGIN] and DELETE in kinds  # the old pending key, idle, makes room
    assert plan.pending.state == "superseded"


def test_a_rollback_that_never_reached_the_file_is_forgotten_so_a_later_hand_restore_keeps_both_keys():
    # Found in review: the flag of a rollback killed before the restore stayed in the journal
    # through runs that wrote nothing, and a file put back by hand weeks later was then taken for
    # that rollback's, and the new key deleted.
    stale = plan_keys(pending_situation(rolling_back=True), KeyRequest(has_secret_destination=True))
    assert shape(stale) == [(PEND, "OLD", ACTIVE)] and stale.pending.state == "waiting"


def test_a_pending_key_reactivated_since_its_deactivation_gets_a_fresh_grace_period():
    # Found in review: the journal kept the first deactivation's time, so once the key was
    # reactivated (a rollback, or by hand) and deactivated again, it was deleted at once.
    reactivated = pending_situation(deactivated_at=NOW - timedelta(days=30))  # OLD is active again
    plan = plan_keys(reactivated, KeyRequest(has_secret_destination=True, retire_pending="now",
                                             grace_period=timedelta(days=7)))
    assert shape(plan) == [(PEND, "OLD", ACTIVE), (UPDATE, "OLD", INACTIVE), (PEND, "OLD", INACTIVE)]


@pytest.mark.parametrize("choice", ["never", "now", "rollback"])
def test_a_rollback_killed_after_deleting_the_new_key_is_closed_by_the_next_run(choice):
    # Found in review: with the file back and the new key gone, every run was blocked for good.
    keys = [key("OLD", 100)]
    facts = situation(keys, file_key="OLD", journal=pending_journal(rolling_back=True))
    plan = plan_keys(facts, KeyRequest(has_secret_destination=True, retire_pending=choice))
    assert shape(plan) == [(END, None, None)]


def test_a_key_deactivated_by_hand_after_a_rollback_that_never_reached_the_file_waits_a_whole_grace_period():
    facts = pending_situation(old_status=INACTIVE, rolling_back=True, deactivated_at=NOW - timedelta(days=30))
    plan = plan_keys(facts, KeyRequest(has_secret_destination=True, grace_period=timedelta(days=7)))
    assert shape(plan) == [(PEND, "OLD", INACTIVE)] and plan.pending.state == "inactive"


def test_an_inactive_pending_key_with_a_zero_grace_period_is_deleted_at_once_even_with_no_time_noted():
    # Found in review: with no deactivation time noted, it took a second run.
    facts = pending_situation(old_status=INACTIVE, rolling_back=True, deactivated_at=NOW - timedelta(days=30))
    plan = plan_keys(facts, KeyRequest(has_secret_destination=True, grace_period=timedelta(0)))
    assert shape(plan)[-2:] == [(DELETE, "OLD", None), (END, None, None)]


def test_an_undone_rotation_closed_for_a_rollback_leaves_the_previous_key_working():
    # Found in review: the journal was closed with the file holding an inactive key.
    facts = situation([key("OLD", 100, INACTIVE)], file_key="OLD", journal=pending_journal(rolling_back=True))
    plan = plan_keys(facts, KeyRequest(has_secret_destination=True, retire_pending="rollback"))
    assert shape(plan) == [(UPDATE, "OLD", ACTIVE), (END, None, None)]


def test_deleting_the_pending_key_closes_its_journal_so_a_rerun_changes_nothing():
    plan = plan_keys(pending_situation(), KeyRequest(state="absent", has_secret_destination=True))
    assert shape(plan)[-1] == (END, None, None)


@pytest.mark.parametrize("rotate", ["always", "when_older"])
def test_a_rollback_that_would_rotate_again_at_once_is_refused(rotate):
    # Found by the property test's reruns: each run rolled back, then rotated the old key again.
    request = KeyRequest(has_secret_destination=True, retire_pending="rollback", rotate=rotate, max_age_days=1)
    with pytest.raises(PlanError, match="run the rollback with rotate=never"):
        plan_keys(pending_situation(), request)


def test_a_task_that_keeps_the_pending_key_active_is_not_undone_by_its_retirement():
    # Found by the property test's reruns: every run deactivated it, then activated it again.
    request = KeyRequest(has_secret_destination=True, access_key_id="OLD", status=ACTIVE, retire_pending="now")
    plan = plan_keys(pending_situation(), request)
    assert plan.steps == () and plan.pending.state == "blocked" and "keeps it active" in plan.pending.reason
