"""access_key_info through ansible-playbook, and the modules' documentation through ansible-doc."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.integration.conftest import ADMIN, BIN, INSTALLED


def test_lists_by_name_by_id_and_the_caller(workdir, iam):
    by_name = workdir.run("access_key_info.yml", user_name="alice", **ADMIN)
    assert by_name.rc == 0, by_name.output
    keys = by_name.result("access_key_info")["access_keys"]
    assert [k["description"] for k in keys] == ["alice laptop", "alice old ci"]
    assert [k["age_days"] for k in keys] == [200, 130]
    by_id = workdir.run("access_key_info.yml", user_id=iam.user("bob")["id"], **ADMIN)
    assert by_id.result("access_key_info")["user_id"] == iam.user("bob")["id"]
    mine = workdir.run("access_key_info.yml", **ADMIN)
    assert mine.result("access_key_info")["user_id"] == iam.user("admin")["id"]


def test_ages_follow_the_cloud_clock(workdir, iam):
    iam.advance_clock(days=10)
    run = workdir.run("access_key_info.yml", user_name="alice", **ADMIN)
    assert [k["age_days"] for k in run.result("access_key_info")["access_keys"]] == [210, 140]


def test_forbidden_is_explained(workdir, iam):
    bob = iam.user("bob")["keys"][0]
    run = workdir.run("access_key_info.yml", user_name="alice", auth_ak=bob["access"], auth_sk=bob["secret"])
    assert run.rc != 0
    assert "Security Administrator" in run.result("access_key_info")["msg"]


def test_many_users_at_once_and_one_that_fails(workdir, iam):
    run = workdir.run("access_key_info.yml", users=["alice", "nobody"], user_ids=[iam.user("bob")["id"]], **ADMIN)
    assert run.rc == 0, run.output
    result = run.result("access_key_info")
    # The names were resolved by listing the users, which names bob (given by ID) too.
    assert [user["user_name"] for user in result["users"]] == ["alice", "bob"]
    assert [user["user_id"] for user in result["users"]] == [iam.user("alice")["id"], iam.user("bob")["id"]]
    assert [key["description"] for key in result["access_keys"]] == ["alice laptop", "alice old ci", "bob workstation"]
    assert [(f["user_name"], f["error"]["error_type"], f["error"]["status"]) for f in result["failures"]] == [
        ("nobody", "NotFound", None)]
    assert any("could not be read" in warning and "'nobody'" in warning for warning in result["warnings"])
    assert "user_id" not in result  # several users: no single user_id


def test_all_users_with_last_use_and_never_used(workdir, iam):
    iam.advance_clock(days=10)
    run = workdir.run("access_key_info.yml", all_users=True, **ADMIN)
    keys = {key["description"]: key for key in run.result("access_key_info")["access_keys"]}
    assert {user["user_name"] for user in run.result("access_key_info")["users"]} == {"admin", "alice", "bob"}
    # Seed: the laptop key was used a day before the clock moved, the old CI key 125 days before,
    # bob's key never (the API then reports its creation time as its last use).
    assert (keys["alice laptop"]["days_since_last_use"], keys["alice laptop"]["never_used"]) == (11, False)
    assert (keys["alice old ci"]["days_since_last_use"], keys["alice old ci"]["never_used"]) == (135, False)
    bob = keys["bob workstation"]
    assert (bob["never_used"], bob["days_since_last_use"], bob["age_days"]) == (True, 40, 40)
    assert bob["last_used"] == bob["created"]
    assert keys["admin automation key"]["days_since_last_use"] == 0  # it signs this very run

    # Bob uses his key once (listing his own keys): from then on it is a used key.
    bob_key = iam.keys_of("bob")[0]
    workdir.run("access_key_info.yml", auth_ak=bob_key["access"], auth_sk=bob_key["secret"])
    again = workdir.run("access_key_info.yml", user_name="bob", **ADMIN)
    bob = again.result("access_key_info")["access_keys"][0]
    assert (bob["never_used"], bob["days_since_last_use"], bob["age_days"]) == (False, 0, 40)
    assert bob["last_used"] > bob["created"]


def test_without_last_use_no_key_is_shown(workdir, iam):
    iam.reset_counters()
    run = workdir.run("access_key_info.yml", all_users=True, last_used=False, **ADMIN)
    keys = run.result("access_key_info")["access_keys"]
    assert len(keys) == 4
    assert all(key["last_used"] is None and key["never_used"] is None for key in keys)
    by_operation = iam.counters()["by_operation"]
    assert by_operation.get("show_credential", 0) == 0
    assert by_operation["list_credentials"] == 3  # one per user


def test_a_task_that_reads_no_user_fails(workdir, iam):
    bob = iam.user("bob")["keys"][0]
    run = workdir.run("access_key_info.yml", all_users=True, auth_ak=bob["access"], auth_sk=bob["secret"])
    assert run.rc != 0
    assert "Security Administrator" in run.result("access_key_info")["msg"]
    mixed = workdir.run("access_key_info.yml", all_users=True, users=["alice"], **ADMIN)
    assert mixed.rc != 0
    assert "leave out users" in mixed.result("access_key_info")["msg"]


@pytest.mark.parametrize("module", ["keywarden.iam.access_key", "keywarden.iam.access_key_info",
                                    "keywarden.iam.access_key_compliance"])
def test_ansible_doc_renders(module):
    completed = subprocess.run([str(BIN / "ansible-doc"), module], capture_output=True, text=True, check=False,
                               env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(INSTALLED)})
    assert completed.returncode == 0, completed.stderr
    assert "EXAMPLES" in completed.stdout and "iam_endpoint" in completed.stdout
