"""The key planner, explored without any server: fixed scenarios and generated ones."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.keywarden.iam.plugins.module_utils._models import ACTIVE, INACTIVE, AccessKey
from ansible_collections.keywarden.iam.plugins.module_utils._planner import (
    CREATE,
    DELETE,
    KEY_LIMIT,
    MAKE_ROOM,
    NEW_KEY_PLACEHOLDER,
    RETIRE,
    RETIRE_CHOICES,
    ROTATE_CHOICES,
    UPDATE,
    KeyRequest,
    Plan,
    PlanError,
    plan_keys,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
USER = "user-1"


def key(key_id: str, age_days: float, status: str = ACTIVE, description: str = "") -> AccessKey:
    return AccessKey(key_id, USER, status, NOW - timedelta(days=age_days), description)


def apply(keys: list, plan: Plan, new_id: str = "NEW") -> list:
    """Run a plan against a list of keys the way the executor would, checking the limit at each step."""
    state = {k.access_key_id: k for k in keys}
    for step in plan.steps:
        if step.action == DELETE:
            del state[step.access_key_id]
        elif step.action == UPDATE:
            current = state[step.access_key_id]
            state[step.access_key_id] = AccessKey(
                current.access_key_id, USER, step.status or current.status, current.created,
                step.description if step.description is not None else current.description)
        elif step.action == CREATE:
            assert len(state) < KEY_LIMIT, "a create would hit akSkNumExceed"
            state[new_id] = AccessKey(new_id, USER, ACTIVE, NOW, step.description or "")
        assert len(state) <= KEY_LIMIT
    return sorted(state.values(), key=lambda k: (k.created, k.access_key_id))


# ---- scenarios -------------------------------------------------------------------------------------

def test_present_with_fresh_stored_key_does_nothing():
    keys = [key("A", 10)]
    plan = plan_keys(keys, KeyRequest(rotate="when_older", max_age_days=90, has_secret_destination=True),
                     now=NOW, stored_access_key_id="A")
    assert plan.steps == ()
    assert plan.kept_key_id == "A"


def test_rotation_at_limit_deletes_oldest_inactive_then_deactivates_replaced():
    keys = [key("OLD", 200, INACTIVE), key("CUR", 120)]
    plan = plan_keys(keys, KeyRequest(rotate="when_older", max_age_days=90, has_secret_destination=True),
                     now=NOW, stored_access_key_id="CUR")
    assert [(s.action, s.access_key_id, s.status) for s in plan.steps] == [
        (DELETE, "OLD", None), (CREATE, None, None), (UPDATE, "CUR", INACTIVE)]
    assert [k.access_key_id for k in apply(keys, plan)] == ["CUR", "NEW"]


def test_two_old_active_keys_without_file_key_retires_oldest_not_in_use():
    keys = [key("A", 300), key("B", 200)]
    plan = plan_keys(keys, KeyRequest(rotate="when_older", max_age_days=90, has_secret_destination=True),
                     now=NOW, auth_access_key_id="B")
    # The file holds nothing yet: a new key is needed; A makes room, B signs this task.
    assert [(s.action, s.access_key_id) for s in plan.steps] == [(DELETE, "A"), (CREATE, None)]


def test_never_retires_the_signing_key_to_make_room():
    keys = [key("AUTH", 300), key("FILE", 200)]
    plan = plan_keys(keys, KeyRequest(rotate="always", has_secret_destination=True),
                     now=NOW, auth_access_key_id="AUTH", stored_access_key_id="FILE")
    deleted = [s.access_key_id for s in plan.steps if s.action == DELETE]
    assert deleted == ["FILE"]  # the replaced key goes early: the only one that is safe


def test_nothing_safe_to_retire_fails_and_changes_nothing():
    keys = [key("AUTH", 300), key("FILE", 200)]
    with pytest.raises(PlanError, match="none can be retired safely"):
        plan_keys(keys, KeyRequest(rotate="always", retire="keep", has_secret_destination=True),
                  now=NOW, auth_access_key_id="AUTH", stored_access_key_id="FILE")


def test_self_rotation_replaces_the_signing_key_after_the_new_one():
    keys = [key("SELF", 100)]
    plan = plan_keys(keys, KeyRequest(rotate="when_older", max_age_days=90, has_secret_destination=True),
                     now=NOW, auth_access_key_id="SELF", stored_access_key_id="SELF")
    assert [(s.action, s.phase, s.access_key_id) for s in plan.steps] == [
        (CREATE, "new_key", None), (UPDATE, RETIRE, "SELF")]


def test_max_age_is_exclusive_not_a_day_early():
    request = KeyRequest(rotate="when_older", max_age_days=90, has_secret_destination=True)
    exactly = [key("A", 90)]
    assert plan_keys(exactly, request, now=NOW, stored_access_key_id="A").steps == ()
    older = [key("A", 90 + 1 / 86400)]
    assert plan_keys(older, request, now=NOW, stored_access_key_id="A").creates_key


def test_new_key_without_destination_is_refused():
    with pytest.raises(PlanError, match="nowhere to go"):
        plan_keys([], KeyRequest(), now=NOW)


def test_file_holding_a_deleted_key_gets_a_new_one():
    plan = plan_keys([key("A", 5)], KeyRequest(has_secret_destination=True), now=NOW, stored_access_key_id="GONE")
    assert plan.creates_key and "GONE" in plan.steps[0].reason


def test_status_and_description_of_a_named_key():
    keys = [key("A", 5, description="old")]
    plan = plan_keys(keys, KeyRequest(access_key_id="A", status=INACTIVE, description="new"), now=NOW)
    assert [(s.action, s.status, s.description) for s in plan.steps] == [(UPDATE, INACTIVE, "new")]
    assert plan_keys(apply(keys, plan), KeyRequest(access_key_id="A", status=INACTIVE, description="new"),
                     now=NOW).steps == ()


def test_unknown_named_key_is_an_error():
    with pytest.raises(PlanError, match="does not exist"):
        plan_keys([key("A", 5)], KeyRequest(access_key_id="B"), now=NOW)


def test_absent_named_and_all():
    keys = [key("A", 5), key("B", 3)]
    assert [s.access_key_id for s in plan_keys(keys, KeyRequest(state="absent", access_key_id="B"), now=NOW).steps] == ["B"]
    assert plan_keys(keys, KeyRequest(state="absent", access_key_id="C"), now=NOW).steps == ()
    with pytest.raises(PlanError, match="signs its requests"):
        plan_keys(keys, KeyRequest(state="absent"), now=NOW, auth_access_key_id="A")


def test_rotation_carries_the_description_over():
    keys = [key("A", 100, description="ci deployer")]
    plan = plan_keys(keys, KeyRequest(rotate="always", has_secret_destination=True), now=NOW, stored_access_key_id="A")
    assert plan.steps[0].description == "ci deployer"


def test_predicted_keys_show_the_new_key_under_a_placeholder():
    keys = [key("OLD", 200, INACTIVE), key("CUR", 120)]
    plan = plan_keys(keys, KeyRequest(rotate="always", has_secret_destination=True), now=NOW, stored_access_key_id="CUR")
    predicted = plan.predicted_keys(keys, user_id=USER, now=NOW)
    assert [(k.access_key_id, k.status) for k in predicted] == [("CUR", INACTIVE), (NEW_KEY_PLACEHOLDER, ACTIVE)]


# ---- generated situations ----------------------------------------------------------------------------

@st.composite
def situations(draw):
    count = draw(st.integers(0, KEY_LIMIT))
    ages = draw(st.lists(st.integers(0, 400), min_size=count, max_size=count, unique=True))
    keys = [key(f"K{i}", age, draw(st.sampled_from([ACTIVE, INACTIVE])), draw(st.sampled_from(["", "d"])))
            for i, age in enumerate(ages)]
    ids = [k.access_key_id for k in keys]
    auth = draw(st.one_of(st.none(), st.sampled_from(ids + ["ELSEWHERE"]) if ids else st.none()))
    # A task can only sign with an active key.
    if auth and auth != "ELSEWHERE" and next(k for k in keys if k.access_key_id == auth).status != ACTIVE:
        auth = None
    stored = draw(st.one_of(st.none(), st.sampled_from(ids + ["GONE"]) if ids else st.just("GONE")))
    request = KeyRequest(
        state=draw(st.sampled_from(["present", "present", "absent"])),
        access_key_id=draw(st.one_of(st.none(), st.sampled_from(ids))) if ids else None,
        status=draw(st.sampled_from([None, ACTIVE, INACTIVE])),
        description=draw(st.sampled_from([None, "", "d", "x"])),
        rotate=draw(st.sampled_from(ROTATE_CHOICES)),
        max_age_days=draw(st.sampled_from([None, 1, 90, 365])),
        retire=draw(st.sampled_from(RETIRE_CHOICES)),
        has_secret_destination=draw(st.booleans()),
    )
    return keys, request, auth, stored


@settings(max_examples=3000, deadline=None)
@given(situations())
def test_generated_plans_keep_every_promise(situation):
    keys, request, auth, stored = situation
    try:
        plan = plan_keys(keys, request, now=NOW, auth_access_key_id=auth, stored_access_key_id=stored)
    except PlanError as error:
        assert str(error)  # a refusal always explains itself
        return
    after = apply(keys, plan)  # also asserts the two-key limit holds after every step

    creates = [s for s in plan.steps if s.action == CREATE]
    assert len(creates) <= 1
    if creates:
        assert request.has_secret_destination, "a key whose secret nobody would hold"
    for step in plan.steps:
        if step.phase == MAKE_ROOM and request.state == "present":
            assert step.access_key_id != auth, "the signing key was retired to make room"
    if request.state == "absent" and not request.access_key_id:
        assert auth not in {k.access_key_id for k in keys} or not plan.steps
    make_room = [s for s in plan.steps if s.phase == MAKE_ROOM and request.state == "present"]
    assert len(make_room) <= 1 and (not make_room or len(keys) == KEY_LIMIT)

    # Never zero working keys by accident: a present task that did not itself ask for a key to be
    # made inactive leaves at least one active key if there was one.
    if request.state == "present" and request.status != INACTIVE and any(k.status == ACTIVE for k in keys):
        assert any(k.status == ACTIVE for k in after)

    # The predicted keys (for diff and check mode) are exactly what the plan produces.
    predicted = plan.predicted_keys(keys, user_id=USER, now=NOW)
    assert sorted((k.status, k.description) for k in predicted) == sorted((k.status, k.description) for k in after)

    # Idempotence: unless rotation is unconditional, planning again on the result changes nothing.
    if request.rotate != "always" and request.state == "present":
        new_stored = "NEW" if creates else stored
        again = plan_keys(after, request, now=NOW, auth_access_key_id=auth, stored_access_key_id=new_stored)
        assert again.steps == (), again.describe()
    if request.state == "absent":
        assert plan_keys(after, request, now=NOW, auth_access_key_id=auth, stored_access_key_id=stored).steps == ()


def test_rotating_a_named_key_is_refused():
    with pytest.raises(PlanError, match="leave access_key_id out to rotate"):
        plan_keys([key("A", 100)], KeyRequest(access_key_id="A", rotate="always", has_secret_destination=True), now=NOW)
