"""access_key batch mode: many users in one task, concurrently, each with its own file and fate."""

from __future__ import annotations

from tests.integration.conftest import ADMIN


def test_batch_rotates_each_user_into_its_own_file_and_reports_failures_apart(workdir, iam):
    template = str(workdir.path / "{user_name}.yml")
    (workdir.path / "bob.yml").write_text("plaintext: not ours\n")  # bob's file must be refused
    run = workdir.run(users=["alice", "bob", "nobody", "admin"], credentials_file=template, rotate="when_older",
                      max_age=90, **ADMIN)
    assert run.rc != 0
    result = run.result()
    by_user = {r["user_name"]: r for r in result["results"]}
    assert [r["user_name"] for r in result["results"]] == ["alice", "bob", "nobody", "admin"]
    assert by_user["alice"]["changed"] and by_user["alice"]["created"]
    assert "not vault-encrypted" in by_user["bob"]["msg"]
    assert "Failed to find IAM user 'nobody': no user has that name" in by_user["nobody"]["msg"]
    assert by_user["admin"]["created"]  # the admin's file held nothing yet
    assert result["summary"] == {"users": 4, "failed": 2, "changed": 2, "created": 2, "deleted": 1,
                                 "deactivated": 0, "activated": 0, "duplicates": 0}
    # alice's idle old CI key made room; her laptop key, used yesterday, is kept.
    assert [k["description"] for k in iam.keys_of("alice")][0] == "alice laptop"
    assert "2 of 4 users failed (bob, nobody)" in result["msg"]
    held = workdir.decrypt(workdir.path / "alice.yml")
    assert by_user["alice"]["created"][0] in held
    assert (workdir.path / "bob.yml").read_text() == "plaintext: not ours\n"


def test_batch_no_op_costs_one_request_per_user(workdir, iam):
    template = str(workdir.path / "{user_id}.csv")
    ids = [iam.user(name)["id"] for name in ("alice", "bob", "admin")]
    assert workdir.run(user_ids=ids, credentials_file=template, credentials_format="csv", **ADMIN).rc == 0
    iam.reset_counters()
    again = workdir.run(user_ids=ids, credentials_file=template, credentials_format="csv", **ADMIN)
    assert again.rc == 0 and again.result()["changed"] is False
    counters = iam.counters()
    assert counters["writes"] == 0
    # One list per user, plus the one-off account lookup of the run.
    assert counters["by_operation"]["list_credentials"] == len(ids)
    assert counters["total"] == len(ids) + 1


def test_batch_backs_off_together_when_throttled(workdir, iam):
    iam.inject_fault("list_credentials", "throttle", count=3, retry_after=1)
    run = workdir.run(users=["alice", "bob", "admin"], **ADMIN)
    assert run.rc == 0, run.output
    assert iam.counters()["by_operation"]["list_credentials"] == 6


def test_batch_needs_a_file_per_user(workdir, iam):
    iam.reset_counters()
    run = workdir.run(users=["alice", "bob"], credentials_file=str(workdir.path / "shared.yml"), **ADMIN)
    assert run.rc != 0 and "{user_name} or {user_id}" in run.result()["msg"]
    assert iam.counters()["total"] == 0


def test_batch_check_mode_and_diff(workdir, iam):
    template = str(workdir.path / "{user_name}.env")
    run = workdir.run(check=True, users=["alice", "bob"], credentials_file=template, credentials_format="env",
                      **ADMIN)
    assert run.rc == 0
    assert run.result()["summary"]["created"] == 2 and iam.counters()["writes"] == 0
    assert not list(workdir.path.glob("*.env"))
    assert "--- before: access keys of user" in run.output


def test_the_same_user_named_twice_is_handled_once(workdir, iam):
    # Why #7 of "Never lose a key": [bob, bob] (or a name and the same user's id) was processed
    # twice at once: two keys created, one of them deleted again.
    bob_id = iam.user("bob")["id"]
    template = str(workdir.path / "{user_id}.yml")
    run = workdir.run(users=["bob", "bob"], user_ids=[bob_id], credentials_file=template, **ADMIN)
    assert run.rc == 0, run.output
    result = run.result()
    assert [r.get("duplicate", False) for r in result["results"]] == [False, True, True]
    assert all("handled once" in r["msg"] for r in result["results"][1:])
    assert result["summary"]["duplicates"] == 2 and result["summary"]["created"] == 1
    assert len(iam.keys_of("bob")) == 2
    held = workdir.decrypt(workdir.path / f"{bob_id}.yml")
    assert result["results"][0]["created"][0] in held
