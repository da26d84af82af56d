"""Generated situations, planned and then carried out by the real executor against an in-memory IAM.

"Check mode predicts the real run" is proven here against the executor itself: the world that
the plan's simulation predicts (what check mode and diff show) is the world the executor leaves.
Every promise of the planner is checked on the real run: at most two keys at every step, never a
key whose secret nobody holds, never the signing key or the replaced key deleted to make room,
never a key in use, every call signed by an active key, the journal closed, and idempotence.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils._executor import RunFailed, counts, execute_plan
from ansible_collections.keywarden.iam.plugins.module_utils._models import ACTIVE, INACTIVE, AccessKey
from ansible_collections.keywarden.iam.plugins.module_utils._planner import (
    BEGIN,
    CLEAN,
    CREATE,
    DELETE,
    IN_FLIGHT,
    KEY_LIMIT,
    NEW_KEY_PLACEHOLDER,
    PENDING_CHOICES,
    PHASE_CREATING,
    PHASE_PENDING,
    PHASE_STORED,
    PHASE_VERIFIED,
    RETIRE_CHOICES,
    ROOM_CHOICES,
    ROTATE_CHOICES,
    STORE,
    Claim,
    FactsNeeded,
    FileFacts,
    JournalFacts,
    KeyRequest,
    Owner,
    PlanError,
    Situation,
    World,
    plan_keys,
    simulate_plan,
)
from tests.unit.plugins.module_utils.memory_iam import OUTSIDE, MemoryIam
from tests.unit.plugins.module_utils.test_planner import NOW, USER

AGES = st.sampled_from([0.001, 0.5, 3, 10, 89, 91, 200, 400])


@st.composite
def situations(draw):
    count = draw(st.integers(0, KEY_LIMIT))
    keys = []
    for index in range(count):
        age = draw(AGES)
        used = draw(st.one_of(st.none(), st.sampled_from([0, 1, 6, 7, 30, 500])))
        # A key made minutes ago by an interrupted rotation is active: nobody else knows it yet.
        status = ACTIVE if age < 0.002 else draw(st.sampled_from([ACTIVE, INACTIVE]))
        keys.append(AccessKey(f"K{index}", USER, status,
                              NOW - timedelta(days=age + index / 1000), draw(st.sampled_from(["", "d"])),
                              None if used is None else NOW - timedelta(days=min(used, age))))
    ids = [key.access_key_id for key in keys]
    active = [key.access_key_id for key in keys if key.status == ACTIVE]
    signing = draw(st.sampled_from([None, OUTSIDE] + active))
    has_file = draw(st.booleans())
    file_key = draw(st.sampled_from([None, "GONE"] + ids)) if has_file else None
    journal = None
    if draw(st.integers(0, 3)) == 0 and keys:
        phase = draw(st.sampled_from([PHASE_CREATING, PHASE_STORED, PHASE_VERIFIED]))
        # A key younger than the rotation is the one it created; the others it had seen.
        newest = max(keys, key=lambda key: key.created)
        young = now_young(newest)
        seen = [key for key in ids if key != newest.access_key_id] if young else ids
        new_key = newest.access_key_id if phase != PHASE_CREATING and young else None
        started = newest.created - timedelta(seconds=30) if young else NOW - timedelta(minutes=2)
        journal = JournalFacts(run_id="r", phase=phase, started=started, window=timedelta(minutes=5),
                               keys_seen=frozenset(seen), replaced=draw(st.sampled_from([None] + ids)),
                               retire=draw(st.sampled_from(RETIRE_CHOICES)), new_key=new_key, has_file=has_file)
    elif has_file and len(keys) == KEY_LIMIT and draw(st.booleans()):
        # A complete rotation whose old key waits for retirement: the file holds the new key.
        old, new = draw(st.permutations(ids))
        # old: a rollback interrupted half-way (the journal says so), or a file put back by hand
        file_key = draw(st.sampled_from([new, new, old]))
        rolling_back = draw(st.booleans())
        deactivated = NOW - timedelta(days=draw(st.sampled_from([1, 8]))) if draw(st.booleans()) else None
        journal = JournalFacts(run_id="r", phase=PHASE_PENDING, started=NOW - timedelta(days=2),
                               window=timedelta(minutes=5), keys_seen=frozenset({old}), replaced=old,
                               retire="pending", new_key=new, has_file=True,
                               pending_since=NOW - timedelta(days=draw(st.sampled_from([0.001, 1, 3]))),
                               deactivated_at=deactivated, previous_kept=draw(st.booleans()),
                               rolling_back=rolling_back)
    claims = {}
    if ids and draw(st.integers(0, 4)) == 0:
        claims[draw(st.sampled_from(ids))] = Claim("held by /creds/other.yml", in_flight=draw(st.booleans()))
    request = KeyRequest(
        state=draw(st.sampled_from(["present", "present", "present", "absent"])),
        access_key_id=draw(st.one_of(st.none(), st.sampled_from(ids))) if ids else None,
        status=draw(st.sampled_from([None, None, ACTIVE, INACTIVE])),
        description=draw(st.sampled_from([None, "", "d", "x"])),
        rotate=draw(st.sampled_from(ROTATE_CHOICES)),
        max_age_days=draw(st.sampled_from([None, 1, 90, 365])),
        retire=draw(st.sampled_from(RETIRE_CHOICES)),
        make_room=draw(st.sampled_from(ROOM_CHOICES)),
        idle_days=draw(st.sampled_from([0, 7, 45])),
        verify=draw(st.booleans()),
        allow_self_lockout=draw(st.booleans()),
        has_secret_destination=has_file or draw(st.booleans()),
        retire_pending=draw(st.sampled_from(PENDING_CHOICES)),
        unused_since=draw(st.sampled_from([None, NOW - timedelta(days=2), NOW - timedelta(minutes=1)])),
        quiet_period=draw(st.sampled_from([timedelta(0), timedelta(minutes=15)])),
        grace_period=draw(st.sampled_from([timedelta(0), timedelta(days=7)])),
    )
    owner = None
    if file_key == "GONE":
        owner = Owner("GONE", draw(st.sampled_from([None, USER, "someone-else"])))
    return keys, signing, has_file, file_key, journal, claims, request, owner


def now_young(key: AccessKey) -> bool:
    return NOW - key.created < timedelta(minutes=3)


def plan_with_facts(facts: Situation, request: KeyRequest, iam: MemoryIam):
    """Plan, answering the planner's questions the way the backend does (show calls)."""
    for _question in range(3):
        result = plan_keys(facts, request)
        if not isinstance(result, FactsNeeded):
            return result, facts
        if result.owner_of:
            facts = replace(facts, owner=Owner(result.owner_of, None))
        if result.last_use_of:
            keys = tuple(key if key.access_key_id not in result.last_use_of or key.last_used is not None
                         else replace(key, last_used=key.created) for key in facts.keys)
            facts = replace(facts, keys=keys)
    raise AssertionError("the planner kept asking for facts")


@settings(max_examples=int(os.environ.get("KEYWARDEN_PLAN_EXAMPLES", "3000")), deadline=None)
@given(situations())
def test_check_mode_predicts_what_the_executor_does_and_every_promise_holds(case):
    keys, signing, has_file, file_key, journal, claims, request, owner = case
    facts = Situation(user_id=USER, keys=tuple(keys), now=NOW, signing_key=signing,
                      file=FileFacts(path="/creds/u.yml", access_key_id=file_key) if has_file else None,
                      journal=journal, claims=claims, owner=owner)
    iam = MemoryIam(USER, {key.access_key_id: key for key in keys}, NOW, signing or OUTSIDE, file_key=file_key,
                    has_file=has_file, journal=journal, claim_map=dict(claims))
    try:
        plan, facts = plan_with_facts(facts, request, iam)
    except PlanError as refusal:
        assert str(refusal)  # a refusal always explains itself, and changes nothing
        return
    before = {key.access_key_id: key for key in facts.keys}  # with the last uses the planner asked for
    predicted = simulate_plan(World.of(facts), plan.steps, now=NOW)
    try:
        outcome = execute_plan(plan, World.of(facts), iam)
    except RunFailed as failure:
        raise AssertionError(f"{failure.message}\nplan: {plan.describe()}") from None

    # 1. The prediction is the run, the created key's placeholder aside.
    created = counts(outcome.done)["created"]
    rename = {NEW_KEY_PLACEHOLDER: created[0]} if created else {}
    assert shape(predicted, rename) == shape(outcome.world, {})
    assert {k.access_key_id: (k.status, k.description) for k in outcome.world.keys} == \
           {k: (v.status, v.description) for k, v in iam.keys.items()}
    # The journal is closed, or holds the old key of a complete rotation pending retirement.
    assert outcome.world.file_key == iam.file_key
    assert outcome.world.journal_phase == (iam.journal.phase if iam.journal else None)
    assert outcome.world.journal_phase in (None, PHASE_PENDING)

    # 2. Never a key whose secret nobody holds: every key the run made is in the file or the result.
    for access_key_id in created:
        assert access_key_id in iam.secrets_held
        if has_file:
            assert iam.file_key == access_key_id or access_key_id not in iam.keys
    # The interrupted rotation's key survives only if its secret reached the file. (A pending
    # retirement's rotation was complete: its new key reached the file and may have been delivered.)
    if journal is not None and journal.phase != PHASE_PENDING:
        for key_id in set(iam.keys) - set(journal.keys_seen) - set(created):
            assert key_id in (iam.file_key, file_key, signing) or key_id in claims, key_id

    # 3. Deletions only of keys that were safe to delete.
    deleted = counts(outcome.done)["deleted"]
    for key_id in deleted:
        if key_id not in before or request.state == "absent":
            continue
        key = before[key_id]
        settled = journal is not None and key_id not in journal.keys_seen
        retired = journal is not None and key_id == journal.replaced or \
            request.retire == "delete" and key_id == facts.file.access_key_id if facts.file else False
        if settled or retired or key_id == request.access_key_id:
            continue
        assert key_id != signing, "the signing key was deleted to make room"
        if key.status == ACTIVE:
            assert NOW - key.created >= IN_FLIGHT, "a key that may be another run's was deleted"
            assert not (claims.get(key_id) and claims[key_id].in_flight), "a key in flight was deleted"
            if request.make_room != "oldest":
                assert request.make_room == "idle" and key.days_since_last_use(NOW) >= request.idle_days
    # A pending retirement (no new rotation, no key named): the new key, perhaps already in use where
    # it was delivered, goes only in a rollback the task asks for or one that began (never for a
    # file put back by hand); the pending key only once the new key works from the file, and never
    # while another file holds it.
    if journal is not None and journal.phase == PHASE_PENDING and request.state == "present" and not created:
        if journal.new_key in deleted and request.access_key_id != journal.new_key:
            assert journal.rolling_back or request.retire_pending == "rollback", "the new key was deleted"
        if journal.replaced in deleted and request.access_key_id != journal.replaced and request.status != INACTIVE:
            assert journal.new_key in iam.keys and iam.keys[journal.new_key].status == ACTIVE, \
                "the pending key was deleted while its replacement does not work"
            assert iam.file_key == journal.new_key, "the pending key was deleted while the file does not hold the new"
            assert journal.replaced not in claims, "a pending key another file holds was deleted"
    # The replaced key (the one the rotation's BEGIN records) never goes before its replacement is stored.
    done = [(step.kind, step.access_key_id) for step in outcome.done]
    begin = next((step for step in outcome.done if step.kind == BEGIN), None)
    if begin is not None and begin.access_key_id and created and (DELETE, begin.access_key_id) in done:
        assert done.index((DELETE, begin.access_key_id)) > done.index((STORE, created[0]))

    # 4. The signing key is locked out only when the task says so, or by a self-rotation that
    #    switched to the new key first: every call was signed by an active key (MemoryIam checks).
    if signing and signing != OUTSIDE and not request.allow_self_lockout and request.state == "present":
        gone = signing not in iam.keys or iam.keys[signing].status != ACTIVE
        assert not gone or iam.signer != signing

    # 5. Idempotence: planned again on the result, nothing is left to do.
    if request.rotate != "always" and not (request.state == "absent" and request.access_key_id is None
                                           and not deleted):
        again_facts = Situation(user_id=USER, keys=tuple(iam.keys.values()), now=NOW, signing_key=iam.signer,
                                file=FileFacts(path="/creds/u.yml", access_key_id=iam.file_key) if has_file else None,
                                claims=claims)
        try:
            again, _facts = plan_with_facts(again_facts, request, iam)
        except PlanError:
            return  # e.g. make room is refused now that another key is in use: still nothing to do
        creates = [step for step in again.steps if step.kind == CREATE]
        if not (has_file is False and creates):  # without a file, "present" cannot know the key it made
            assert again.steps == (), again.describe()
        # 6. With the journal carried too, reruns settle: a pending retirement may move on once the
        #    task's own change lets it (a key it activated), but never runs forever (a PEND each time).
        for _rerun in range(3):
            if iam.signer != OUTSIDE and (iam.signer not in iam.keys or iam.keys[iam.signer].status != ACTIVE):
                return  # the task locked itself out (allow_self_lockout): no rerun can sign a request
            facts = replace(again_facts, keys=tuple(iam.keys.values()), signing_key=iam.signer, journal=iam.journal,
                            file=FileFacts(path="/creds/u.yml", access_key_id=iam.file_key) if has_file else None)
            try:
                again, facts = plan_with_facts(facts, request, iam)
            except PlanError:
                return
            if not again.steps or (has_file is False and any(step.kind == CREATE for step in again.steps)):
                return
            execute_plan(again, World.of(facts), iam)
        raise AssertionError(f"reruns never settle: {again.describe()}")


def shape(world: World, rename: dict) -> list:
    return sorted((rename.get(k.access_key_id, k.access_key_id), k.status, k.description) for k in world.keys)


def test_a_lost_create_answer_deletes_only_the_key_this_rotation_made():
    keys = [AccessKey("CUR", USER, ACTIVE, NOW - timedelta(days=100))]
    iam = MemoryIam(USER, {key.access_key_id: key for key in keys}, NOW, OUTSIDE, file_key="CUR")
    real_create = iam.create_key
    made = []

    def create_then_lose(description):
        if not made:
            made.append(real_create(description))
            # Another run on another controller creates a key at the same moment; it is not ours.
            other = AccessKey("OTHER", USER, ACTIVE, NOW + timedelta(minutes=30))
            iam.keys[other.access_key_id] = other
            raise errors.failure("create", "connection dropped", errors.CreateOutcomeUnknown)
        iam.keys.pop("OTHER")  # it went away again, so there is room for the retry
        return real_create(description)

    iam.create_key = create_then_lose
    facts = Situation(user_id=USER, keys=tuple(keys), now=NOW, signing_key=OUTSIDE,
                      file=FileFacts(path="/c.yml", access_key_id="CUR"))
    plan = plan_keys(facts, KeyRequest(rotate="always", has_secret_destination=True))
    outcome = execute_plan(plan, World.of(facts), iam)
    lost = made[0].key.access_key_id
    assert ("delete", lost, OUTSIDE) in iam.calls
    assert not any(call[:2] == ("delete", "OTHER") for call in iam.calls)
    assert iam.file_key == outcome.new_key.key.access_key_id != lost


def rotation_failing_at(fault: str) -> tuple:
    """A rotation of CUR (the file's key) whose store fails with ``fault``: (the failure, MemoryIam)."""
    keys = [AccessKey("CUR", USER, ACTIVE, NOW - timedelta(days=100))]
    iam = MemoryIam(USER, {key.access_key_id: key for key in keys}, NOW, OUTSIDE, file_key="CUR",
                    faults={fault: OSError(28, "No space left on device")})
    facts = Situation(user_id=USER, keys=tuple(keys), now=NOW, signing_key=OUTSIDE,
                      file=FileFacts(path="/c.yml", access_key_id="CUR"))
    try:
        execute_plan(plan_keys(facts, KeyRequest(rotate="always", has_secret_destination=True)), World.of(facts), iam)
    except RunFailed as failure:
        return failure, iam
    raise AssertionError("the store fault did not fail the run")


def test_a_failed_store_deletes_the_new_key_and_closes_the_journal():
    failure, iam = rotation_failing_at("store")
    assert "No space left on device" in failure.message and "was deleted again" in failure.message
    assert set(iam.keys) == {"CUR"} and iam.file_key == "CUR" and iam.journal is None
    assert counts(failure.outcome.done)["created"] == []


def test_a_store_that_fails_after_the_file_is_written_keeps_the_key_for_the_next_run_to_adopt():
    # The file holds the new key (the failure came after the rename: the journal's mark, a flush):
    # deleting the key would leave the file holding a deleted key and the old secret gone.
    failure, iam = rotation_failing_at("store_after_write")
    assert "reached the credentials file" in failure.message and "adopts and verifies it" in failure.message
    new = iam.file_key
    assert new != "CUR" and new in iam.keys and iam.journal is not None and iam.journal.phase == PHASE_CREATING
    # The next run adopts and verifies it, then retires the replaced key.
    settled = Situation(user_id=USER, keys=tuple(iam.keys.values()), now=NOW, signing_key=OUTSIDE,
                        file=FileFacts(path="/c.yml", access_key_id=iam.file_key), journal=iam.journal)
    execute_plan(plan_keys(settled, KeyRequest(has_secret_destination=True)), World.of(settled), iam)
    assert iam.file_key == new and iam.keys[new].status == ACTIVE and iam.journal is None


def test_a_failure_before_settling_leaves_an_interrupted_rotation_open():
    # A killed run's journal (creating, its key K made): this run's first step (removing what the
    # killed run left beside the file) fails. Closing the journal then would forget K for good.
    keys = [AccessKey("CUR", USER, ACTIVE, NOW - timedelta(days=100)),
            AccessKey("K", USER, ACTIVE, NOW - timedelta(minutes=1))]
    journal = JournalFacts(run_id="killed", phase=PHASE_CREATING, started=NOW - timedelta(minutes=2),
                           window=timedelta(minutes=5), keys_seen=frozenset({"CUR"}), replaced="CUR",
                           retire="deactivate", has_file=True)
    iam = MemoryIam(USER, {key.access_key_id: key for key in keys}, NOW, OUTSIDE, file_key="CUR", journal=journal)
    facts = Situation(user_id=USER, keys=tuple(keys), now=NOW, signing_key=OUTSIDE, journal=journal,
                      file=FileFacts(path="/c.yml", access_key_id="CUR", leftovers=(".c.yml.0123456789abcdef.tmp",)))
    plan = plan_keys(facts, KeyRequest(has_secret_destination=True))
    assert plan.steps[0].kind == CLEAN

    def failing_clean():
        raise errors.TaskError("Cannot remove .c.yml.0123456789abcdef.tmp")

    iam.clean = failing_clean
    try:
        execute_plan(plan, World.of(facts), iam)
    except RunFailed as failure:
        assert "stays open" in failure.message
    else:
        raise AssertionError("the clean fault did not fail the run")
    assert iam.journal == journal and "K" in iam.keys  # the next run settles it: K is deleted then


def test_a_failed_retirement_keeps_the_journal_open_for_the_next_run():
    keys = [AccessKey("CUR", USER, ACTIVE, NOW - timedelta(days=100))]
    iam = MemoryIam(USER, {key.access_key_id: key for key in keys}, NOW, OUTSIDE, file_key="CUR",
                    faults={"update": errors.failure("update", "HTTP 500", errors.ServerError)})
    facts = Situation(user_id=USER, keys=tuple(keys), now=NOW, signing_key=OUTSIDE,
                      file=FileFacts(path="/c.yml", access_key_id="CUR"))
    plan = plan_keys(facts, KeyRequest(rotate="always", has_secret_destination=True))
    try:
        execute_plan(plan, World.of(facts), iam)
    except RunFailed as failure:
        assert "the next run of this task finishes it" in failure.message
    assert iam.journal is not None and iam.journal.phase == PHASE_VERIFIED and iam.keys["CUR"].status == ACTIVE
    # The next run settles it: the replaced key is retired, the journal closed.
    settled = Situation(user_id=USER, keys=tuple(iam.keys.values()), now=NOW, signing_key=OUTSIDE,
                        file=FileFacts(path="/c.yml", access_key_id=iam.file_key), journal=iam.journal)
    plan = plan_keys(settled, KeyRequest(has_secret_destination=True))
    execute_plan(plan, World.of(settled), iam)
    assert iam.keys["CUR"].status == INACTIVE and iam.journal is None


def test_without_the_switch_a_settled_self_rotation_would_lock_the_task_out():
    # The signing key is retired while settling, then the task changes the new key's description:
    # that request must be signed with the new key (MemoryIam refuses an inactive signer).
    keys = [AccessKey("CUR", USER, ACTIVE, NOW - timedelta(days=100)),
            AccessKey("K", USER, ACTIVE, NOW - timedelta(minutes=1))]
    journal = JournalFacts(run_id="r", phase=PHASE_VERIFIED, started=NOW - timedelta(minutes=2),
                           window=timedelta(minutes=5), keys_seen=frozenset({"CUR"}), replaced="CUR",
                           retire="deactivate", new_key="K")
    iam = MemoryIam(USER, {key.access_key_id: key for key in keys}, NOW, "CUR", file_key="K", journal=journal)
    facts = Situation(user_id=USER, keys=tuple(keys), now=NOW, signing_key="CUR",
                      file=FileFacts(path="/c.yml", access_key_id="K"), journal=journal)
    plan = plan_keys(facts, KeyRequest(has_secret_destination=True, description="rotated"))
    execute_plan(plan, World.of(facts), iam)
    assert iam.calls[-1] == ("update", "K", "K")
    assert iam.keys["CUR"].status == INACTIVE and iam.keys["K"].description == "rotated"
