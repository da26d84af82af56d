"""The compliance rules and the remediation plan, pure: fixed boundaries and generated situations."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.keywarden.iam.plugins.module_utils import _compliance as c
from ansible_collections.keywarden.iam.plugins.module_utils._inventory import UserKeys, never_used
from ansible_collections.keywarden.iam.plugins.module_utils._models import ACTIVE, INACTIVE, AccessKey

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
ALMOST_A_DAY = timedelta(hours=23, minutes=59, seconds=59)


def key(key_id: str, age: timedelta, *, idle: timedelta | None = None, status: str = ACTIVE,
        user_id: str = "u1") -> AccessKey:
    created = NOW - age
    return AccessKey(key_id, user_id, status, created, last_used=created if idle is None else NOW - idle)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def one_user(*keys: AccessKey, root: bool = False) -> list:
    return [UserKeys("u1", "alice", root, tuple(keys))]


DEFAULTS = c.Thresholds()


def found(users, thresholds=DEFAULTS, rules=c.RULE_IDS) -> set:
    return {(f.rule_id, f.access_key_id, f.observed) for f in c.evaluate(users, NOW, thresholds, rules)}


# ---- each rule at its threshold ---------------------------------------------------------------

@pytest.mark.parametrize("threshold", [0, 1, 45, 90])
def test_key_age_fires_from_the_first_whole_day_past_the_threshold(threshold):
    thresholds = c.Thresholds(max_key_age=threshold)
    used = days(0)
    assert found(one_user(key("K", days(threshold), idle=used)), thresholds) == set()
    assert found(one_user(key("K", days(threshold) + ALMOST_A_DAY, idle=used)), thresholds) == set()
    assert found(one_user(key("K", days(threshold + 1), idle=used)), thresholds) == {
        ("access-keys-rotated", "K", threshold + 1)}


def test_unused_counts_from_the_last_use_or_from_creation_when_never_used():
    thresholds = c.Thresholds(max_unused_days=45)
    assert found(one_user(key("K", days(80), idle=days(45) + ALMOST_A_DAY)), thresholds) == set()
    assert found(one_user(key("K", days(80), idle=days(46))), thresholds) == {("access-keys-last-use-check", "K", 46)}
    never = key("N", days(46))
    assert never_used(never) is True
    assert found(one_user(never), thresholds) == {("access-keys-last-use-check", "N", 46)}
    assert found(one_user(key("N", days(45) + ALMOST_A_DAY)), thresholds) == set()


def test_inactive_keys_linger_counting_from_their_last_use():
    thresholds = c.Thresholds(max_inactive_days=30)
    parked = key("P", days(60), idle=days(30) + ALMOST_A_DAY, status=INACTIVE)
    assert found(one_user(parked), thresholds) == set()
    assert found(one_user(replace(parked, last_used=NOW - days(31))), thresholds) == {
        ("access-keys-inactive-check", "P", 31)}
    # A never-used inactive key counts from its creation.
    assert found(one_user(key("Q", days(31), status=INACTIVE)), thresholds) == {("access-keys-inactive-check", "Q", 31)}


def test_rules_on_use_and_age_judge_active_keys_only_and_inactive_rule_inactive_ones():
    old_idle_inactive = key("I", days(400), idle=days(200), status=INACTIVE)
    assert {rule for rule, _k, _o in found(one_user(old_idle_inactive))} == {"access-keys-inactive-check"}
    old_idle_active = key("A", days(400), idle=days(200))
    assert {rule for rule, _k, _o in found(one_user(old_idle_active))} == {
        "access-keys-rotated", "access-keys-last-use-check"}


def test_without_last_use_data_the_use_rules_stay_silent():
    unknown = replace(key("K", days(400), status=INACTIVE), last_used=None)
    assert never_used(unknown) is None and unknown.days_since_last_use(NOW) is None
    assert found(one_user(unknown)) == set()


def test_one_active_key_keeps_the_most_recently_used():
    recent = key("RECENT", days(50), idle=days(1))
    older_use = key("OLDERUSE", days(10), idle=days(5))
    inactive = key("OFF", days(5), idle=days(1), status=INACTIVE)
    assert found(one_user(recent, older_use, inactive)) == {("iam-user-single-access-key", "OLDERUSE", 2)}
    # Used at the same moment: the newest is kept.
    twin_a, twin_b = key("A", days(20), idle=days(1)), key("B", days(10), idle=days(1))
    assert found(one_user(twin_a, twin_b)) == {("iam-user-single-access-key", "A", 2)}
    assert found(one_user(twin_a, twin_b), c.Thresholds(max_active_keys=2)) == set()


def test_any_key_of_the_root_identity_is_critical():
    keys = (key("R1", days(1), idle=days(0)), key("R2", days(1), idle=days(0), status=INACTIVE))
    findings = c.evaluate(one_user(*keys, root=True), NOW)
    assert [(f.rule_id, f.access_key_id, f.observed, f.threshold, f.severity) for f in findings] == [
        ("iam-root-access-key-check", "R1", 2, 0, "critical"), ("iam-root-access-key-check", "R2", 2, 0, "critical")]
    assert c.evaluate(one_user(*keys, root=False), NOW) == []


def test_a_finding_says_everything_and_the_most_severe_come_first():
    users = [UserKeys("u1", "alice", False, (key("OLD", days(100), idle=days(1)),)),
             UserKeys("u0", None, True, (key("ROOT", days(1), idle=days(0), user_id="u0"),))]
    findings = c.evaluate(users, NOW)
    assert [f.rule_id for f in findings] == ["iam-root-access-key-check", "access-keys-rotated"]
    assert findings[1].as_dict() == {
        "rule_id": "access-keys-rotated", "title": "Active access keys are rotated", "severity": "high",
        "user_id": "u1", "user_name": "alice", "access_key_id": "OLD", "key_status": "active", "observed": 100,
        "threshold": 90, "unit": "days", "message": "access key OLD of alice is 100 days old, more than the 90 allowed"}
    assert "of u0 belongs to the account's root identity" in findings[0].message  # no name: the id
    assert [f.rule_id for f in c.at_or_above(findings, "high")] == [f.rule_id for f in findings]
    assert [f.rule_id for f in c.at_or_above(findings, "critical")] == ["iam-root-access-key-check"]


def test_disabled_rules_find_nothing():
    users = one_user(key("OLD", days(100), idle=days(100)))
    assert {rule for rule, _k, _o in found(users, rules=["access-keys-last-use-check"])} == {
        "access-keys-last-use-check"}
    assert found(users, rules=[]) == set()


def test_summary_counts():
    users = one_user(key("A", days(100), idle=days(1)), key("B", days(10), idle=days(1), status=INACTIVE))
    summary = c.summarize(users, c.evaluate(users, NOW), failures=2)
    assert summary == {
        "users": 1, "keys": 2, "active_keys": 1, "inactive_keys": 1, "compliant_keys": 1, "noncompliant_keys": 1,
        "findings": 1, "by_severity": {"informational": 0, "low": 0, "medium": 0, "high": 1, "critical": 0},
        "by_rule": {rule_id: int(rule_id == "access-keys-rotated") for rule_id in c.RULE_IDS}, "failures": 2}


def test_threshold_problems():
    assert c.Thresholds().problems() == []
    assert c.Thresholds(max_key_age=-1, max_active_keys=0).problems() == [
        "max_key_age must be from 0 to 36500 days, not -1",
        "max_active_keys must be from 1 to 2 (a user holds at most 2 keys), not 0"]
    # Why #7 of "Never lose a key": huge numbers ended in raw overflow errors.
    assert c.Thresholds(max_unused_days=9999999999, max_active_keys=3).problems() == [
        "max_unused_days must be from 0 to 36500 days, not 9999999999",
        "max_active_keys must be from 1 to 2 (a user holds at most 2 keys), not 3"]


def test_max_age_is_the_same_whole_day_rule_as_rotation():
    # Why #7: 90 days 23 hours was rotated by access_key (exact time) and compliant here (whole days).
    almost = key("A", timedelta(days=90, hours=23))
    assert not almost.older_than(NOW, 90) and found(one_user(almost), rules=[c.KEY_AGE]) == set()
    assert key("A", days(91)).older_than(NOW, 90)


# ---- remediation ------------------------------------------------------------------------------

def plan(users, *, age_action=c.DEACTIVATE, protected=(), rules=c.RULE_IDS, thresholds=DEFAULTS):
    findings = c.evaluate(users, NOW, thresholds, rules)
    actions, skipped = c.plan_remediation(users, findings, NOW, thresholds, rule_ids=rules, age_action=age_action,
                                          protected_key_ids=protected)
    return {a.access_key_id: (a.action, a.old_key) for a in actions}, skipped


def test_remediation_per_rule():
    users = [
        UserKeys("root", "acct", True, (key("ROOT", days(1), idle=days(0), user_id="root"),)),
        UserKeys("u1", "alice", False, (key("AGED", days(100), idle=days(1)), key("IDLE", days(50), idle=days(50)))),
        UserKeys("u2", "bob", False, (key("PARKED", days(90), idle=days(40), status=INACTIVE),)),
        UserKeys("u3", "carol", False, (key("STALE", days(100), idle=days(10)),)),
    ]
    actions, skipped = plan(users)
    assert skipped == []
    assert actions == {
        "ROOT": ("delete", None),
        "AGED": ("deactivate", None),          # too old, used yesterday
        "IDLE": ("delete", None),              # unused 50 days: deactivating would leave it lingering at once
        "PARKED": ("delete", None),
        "STALE": ("deactivate", None),
    }
    rotated = plan(users, age_action=c.ROTATE)[0]
    # Only keys whose one finding is their age are rotated; IDLE also breaks two other rules.
    assert rotated["AGED"] == ("rotate", "deactivate") and rotated["STALE"] == ("rotate", "deactivate")
    assert rotated["IDLE"] == ("delete", None)
    # With the inactive-key rule off, nothing lingers, so nothing needs deleting for it.
    relaxed = plan(users, rules=[r for r in c.RULE_IDS if r != "access-keys-inactive-check"])[0]
    assert relaxed["IDLE"] == ("deactivate", None)


def test_a_rotated_key_unused_for_long_is_deleted_once_replaced():
    users = one_user(key("K", days(100), idle=days(40)))
    actions = plan(users, age_action=c.ROTATE, thresholds=c.Thresholds(max_unused_days=60))[0]
    assert actions == {"K": ("rotate", "delete")}


def test_the_signing_key_is_never_remediated():
    users = one_user(key("SIGNER", days(100), idle=days(0)), key("OTHER", days(100), idle=days(60)))
    actions, skipped = plan(users, protected=["SIGNER"])
    assert actions == {"OTHER": ("delete", None)}
    assert [(s["access_key_id"], s["rule_ids"]) for s in skipped] == [("SIGNER", ["access-keys-rotated"])]


@st.composite
def situations(draw):
    thresholds = c.Thresholds(max_key_age=draw(st.integers(0, 120)), max_unused_days=draw(st.integers(0, 120)),
                              max_inactive_days=draw(st.integers(0, 120)), max_active_keys=draw(st.integers(1, 2)))
    users = []
    for index in range(draw(st.integers(1, 4))):
        keys = []
        for number in range(draw(st.integers(0, 2))):
            age = draw(st.integers(0, 400))
            idle = draw(st.integers(0, age))
            status = draw(st.sampled_from([ACTIVE, INACTIVE]))
            keys.append(key(f"K{index}{number}", days(age) + timedelta(hours=draw(st.integers(0, 23))),
                            idle=days(idle), status=status, user_id=f"u{index}"))
        users.append(UserKeys(f"u{index}", f"user{index}", draw(st.booleans()), tuple(keys)))
    rules = draw(st.lists(st.sampled_from(c.RULE_IDS), unique=True))
    keys = [k.access_key_id for u in users for k in u.keys]
    protected = draw(st.lists(st.sampled_from(keys), unique=True, max_size=1)) if keys else []
    return users, thresholds, rules, draw(st.sampled_from(c.AGE_ACTIONS)), protected


def enforce(users, actions) -> list:
    """The users' keys after enforcement, as access_key would leave them."""
    by_key = {action.access_key_id: action for action in actions}
    after = []
    for user in users:
        keys = []
        for current in user.keys:
            action = by_key.get(current.access_key_id)
            if action is None:
                keys.append(current)
            elif action.action == c.DEACTIVATE:
                keys.append(replace(current, status=INACTIVE))
            elif action.action == c.ROTATE:
                # The new key is verified by a signed request, so it is used at once.
                keys.append(AccessKey(f"NEW{current.access_key_id}", user.user_id, ACTIVE, NOW, last_used=NOW))
                if action.old_key == c.DEACTIVATE:
                    keys.append(replace(current, status=INACTIVE))
        after.append(replace(user, keys=tuple(keys)))
    return after


@settings(max_examples=400, deadline=None)
@given(situations())
def test_enforcement_leaves_nothing_for_the_next_run(situation):
    users, thresholds, rules, age_action, protected = situation
    findings = c.evaluate(users, NOW, thresholds, rules)
    actions, skipped = c.plan_remediation(users, findings, NOW, thresholds, rule_ids=rules, age_action=age_action,
                                          protected_key_ids=protected)
    flagged = {f.access_key_id for f in findings}
    assert {a.access_key_id for a in actions} | {s["access_key_id"] for s in skipped} == flagged
    assert all(a.access_key_id not in protected for a in actions)
    remaining = c.evaluate(enforce(users, actions), NOW, thresholds, rules)
    # Only the key the run signs with may still break a rule: enforcement must not touch it.
    assert {f.access_key_id for f in remaining} <= set(protected)
