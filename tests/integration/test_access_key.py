"""keywarden.iam.access_key end to end: ansible-playbook against the local IAM-compatible server.

Every run's output, log and recorded results are searched for every secret the server ever
issued (see conftest.py), so each test here is also a leak test at -vvvv.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from tests.integration.conftest import ADMIN

FAULTS_DIR = Path(__file__).resolve().parent / "fault_injection"


def server_keys(iam, user):
    return {k["access"]: k for k in iam.keys_of(user)}


def key_shape(iam, user):
    """The keys as a user would compare them: id, status, description (not last use)."""
    return sorted((k["access"], k["status"], k.get("description", "")) for k in iam.keys_of(user))


def file_credentials(workdir, path):
    return yaml.safe_load(workdir.decrypt(path))


def assert_nothing_lost(iam, user, before_ids, workdir, path):
    """At most two keys; each either existed before the run or has its secret in the file."""
    keys = server_keys(iam, user)
    assert len(keys) <= 2
    held = file_credentials(workdir, path) if path.exists() else {}
    for access, key in keys.items():
        if access not in before_ids:
            assert held.get("iam_access_key") == access and held.get("iam_secret_key") == key["secret"], (
                f"{access} exists but nobody holds its secret")


def test_rotation_twice_then_no_change(workdir, iam):
    creds = workdir.path / "alice.yml"
    old = server_keys(iam, "alice")
    first = workdir.run(user_name="alice", rotate="when_older", max_age=90, credentials_file=str(creds), **ADMIN)
    assert first.rc == 0, first.output
    result = first.result()
    assert result["changed"] is True
    assert len(result["created"]) == 1 and len(result["deleted"]) == 1
    assert "akSkNumExceed" not in first.output
    now = server_keys(iam, "alice")
    new_id = result["created"][0]
    assert set(now) == (set(old) - set(result["deleted"])) | {new_id}
    # The file decrypts to exactly what the server holds, and only its owner can read it.
    held = file_credentials(workdir, creds)
    assert held["iam_access_key"] == new_id and held["iam_secret_key"] == now[new_id]["secret"]
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert creds.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")

    before_file = creds.stat()
    state = workdir.path / "ansible-home" / "keywarden" / "users"
    before_state = {path.name: path.stat().st_mtime_ns for path in state.iterdir()}
    assert any(name.endswith(".json") for name in before_state)  # the index knows which file holds the key
    iam.reset_counters()
    second = workdir.run(user_name="alice", rotate="when_older", max_age=90, credentials_file=str(creds), **ADMIN)
    assert second.rc == 0, second.output
    assert second.result()["changed"] is False
    assert iam.counters()["writes"] == 0
    after_file = creds.stat()
    assert (after_file.st_ino, after_file.st_mtime_ns) == (before_file.st_ino, before_file.st_mtime_ns)
    # Nothing else was written either: no journal, and the controller's index is as it was.
    assert not list(workdir.path.glob(".alice.yml.journal")) and not list(workdir.path.glob(".alice.yml.previous"))
    assert {path.name: path.stat().st_mtime_ns for path in state.iterdir()} == before_state


def test_check_mode_changes_nothing_and_reports_the_plan(workdir, iam):
    creds = workdir.path / "alice.csv"
    shape = key_shape(iam, "alice")
    iam.reset_counters()
    run = workdir.run(check=True, user_name="alice", rotate="when_older", max_age=90, credentials_file=str(creds),
                      credentials_format="csv", **ADMIN)
    assert run.rc == 0, run.output
    result = run.result()
    assert result["changed"] is True and result["credentials_file_changed"] is True
    assert result["created"] == ["(new)"] and len(result["deleted"]) == 1
    assert any("create a new access key" in step for step in result["plan"])
    assert iam.counters()["writes"] == 0
    assert key_shape(iam, "alice") == shape
    assert not creds.exists()
    # Diff mode shows metadata only: the ids are there, secrets are not (checked for every run).
    assert result["created"] == ["(new)"]
    assert "before" in result["diff"] and "(new)" in str(result["diff"]["after"])


def test_check_mode_on_an_existing_file_leaves_it_byte_identical(workdir, iam):
    creds = workdir.path / "bob.env"
    assert workdir.run(user_name="bob", credentials_file=str(creds), credentials_format="env",
                       **ADMIN).rc == 0
    content = creds.read_bytes()
    iam.advance_clock(days=40)
    shape = key_shape(iam, "bob")
    run = workdir.run(check=True, user_name="bob", rotate="when_older", max_age=30, credentials_file=str(creds),
                      credentials_format="env", **ADMIN)
    assert run.rc == 0 and run.result()["changed"] is True
    assert creds.read_bytes() == content and key_shape(iam, "bob") == shape


def test_limit_retires_the_oldest_inactive_key_and_never_the_key_in_use(workdir, iam):
    bob_key = next(iter(server_keys(iam, "bob").values()))
    iam.add_key("bob", age_days=200, status="inactive", description="left from last rotation")
    inactive = [k for k in server_keys(iam, "bob") if k != bob_key["access"]][0]
    creds = workdir.path / "bob.yml"
    run = workdir.run(credentials_file=str(creds), auth_ak=bob_key["access"], auth_sk=bob_key["secret"])
    assert run.rc == 0, run.output
    result = run.result()
    assert result["deleted"] == [inactive]
    assert bob_key["access"] in server_keys(iam, "bob")
    assert "akSkNumExceed" not in run.output


def test_self_rotation_of_the_key_the_play_runs_with(workdir, iam):
    creds = workdir.path / "bob.yml"
    # Bob gets a key into his file first (the admin does it), then rotates it himself from that file.
    assert workdir.run(user_name="bob", credentials_file=str(creds), old_key="delete", **ADMIN).rc == 0
    first = file_credentials(workdir, creds)
    iam.advance_clock(days=100)
    run = workdir.run("self_rotation.yml", credentials_file=str(creds), max_age=90)
    assert run.rc == 0, run.output
    result = run.result()
    second = file_credentials(workdir, creds)
    assert second["iam_access_key"] != first["iam_access_key"]
    keys = server_keys(iam, "bob")
    assert keys[first["iam_access_key"]]["status"] == "inactive"  # the grace period
    assert keys[second["iam_access_key"]]["status"] == "active"
    assert result["deactivated"] == [first["iam_access_key"]]
    again = workdir.run("self_rotation.yml", credentials_file=str(creds), max_age=90)
    assert again.rc == 0 and again.result()["changed"] is False


def test_return_secret_is_vaulted_and_usable_later(workdir, iam):
    run = workdir.run(user_name="alice", return_secret=True, rotate="always", old_key="delete", **ADMIN)
    assert run.rc == 0, run.output
    result = run.result()
    assert result["secret_access_key"] == "<redacted>"  # never in plain text, even at -vvvv
    # ...yet a later task reads it as the 40-character secret (see the playbook's assert); the
    # task is skipped when there is no secret, so it must have run.
    later = [entry for entry in run.results if entry["task"] == "use the vaulted secret in a later task"]
    assert [entry["status"] for entry in later] == ["ok"]


def test_no_vault_secret_fails_before_any_api_call(workdir, iam):
    iam.reset_counters()
    run = workdir.run(user_name="alice", rotate="always", credentials_file=str(workdir.path / "x.yml"),
                      vault_args=[], **ADMIN)
    assert run.rc != 0
    assert "No vault secret is loaded" in run.result()["msg"]
    assert iam.counters()["total"] == 0


def test_two_vault_ids_without_a_choice_are_refused(workdir, iam):
    other = workdir.path / "other-password"
    other.write_text("another\n")
    iam.reset_counters()
    args = ["--vault-id", f"prod@{workdir.vault_password_file}", "--vault-id", f"dev@{other}"]
    run = workdir.run(user_name="alice", credentials_file=str(workdir.path / "x.yml"), vault_args=args, **ADMIN)
    assert run.rc != 0 and "set the vault_id option" in run.result()["msg"]
    assert iam.counters()["total"] == 0
    chosen = workdir.run(user_name="bob", credentials_file=str(workdir.path / "x.yml"), vault_args=args,
                         vault_id="prod", **ADMIN)
    assert chosen.rc == 0, chosen.output
    assert (workdir.path / "x.yml").read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;prod")


def test_plaintext_file_is_refused_and_left_alone(workdir, iam):
    creds = workdir.path / "plain.yml"
    creds.write_text("iam_access_key: SOMETHING\n")
    iam.reset_counters()
    run = workdir.run(user_name="bob", credentials_file=str(creds), **ADMIN)
    assert run.rc != 0 and "not vault-encrypted" in run.result()["msg"]
    assert creds.read_text() == "iam_access_key: SOMETHING\n"
    assert iam.counters()["total"] == 0


def test_no_destination_refuses_to_create(workdir, iam):
    run = workdir.run(user_name="alice", rotate="always", **ADMIN)
    assert run.rc != 0 and "nowhere to go" in run.result()["msg"]


# ---- a failure injected at each step -----------------------------------------------------------

def rotate_bob(workdir, creds, **extra):
    return workdir.run(user_name="bob", rotate="always", credentials_file=str(creds), **{**ADMIN, **extra})


def test_lost_create_answer_is_reconciled(workdir, iam):
    creds = workdir.path / "bob.yml"
    before = set(server_keys(iam, "bob"))
    iam.inject_fault("create_credential", "drop_after_commit")
    run = rotate_bob(workdir, creds)
    assert run.rc == 0, run.output
    assert iam.counters()["by_operation"]["create_credential"] == 2
    assert_nothing_lost(iam, "bob", before, workdir, creds)


def test_create_failing_twice_leaves_nothing_behind(workdir, iam):
    creds = workdir.path / "bob.yml"
    before = set(server_keys(iam, "bob"))
    iam.inject_fault("create_credential", "drop_after_commit", count=2)
    run = rotate_bob(workdir, creds)
    assert run.rc != 0 and "lost twice" in run.result()["msg"]
    assert set(server_keys(iam, "bob")) == before and not creds.exists()
    assert rotate_bob(workdir, creds).rc == 0


def test_file_write_failure_deletes_the_new_key(workdir, iam):
    creds = workdir.path / "bob.yml"
    before = set(server_keys(iam, "bob"))
    run = rotate_bob(workdir, creds, env={"PYTHONPATH": str(FAULTS_DIR), "KEYWARDEN_FAIL_WRITES_TO": str(creds)})
    assert run.rc != 0
    message = run.result()["msg"]
    assert "No space left on device" in message and "was deleted again" in message
    assert set(server_keys(iam, "bob")) == before
    assert not creds.exists() and not list(workdir.path.glob(".bob.yml.*.tmp"))  # no temp file left behind
    assert rotate_bob(workdir, creds).rc == 0


def test_new_key_that_never_works_is_undone(workdir, iam):
    creds = workdir.path / "bob.yml"
    assert rotate_bob(workdir, creds).rc == 0
    content = creds.read_bytes()
    before = set(server_keys(iam, "bob"))
    iam.set_propagation_delay(60)
    run = rotate_bob(workdir, creds, verify_timeout=3)
    result = run.result()
    assert run.rc != 0 and "did not work" in result["msg"] and "was deleted again" in result["msg"]
    # The inactive key retired to make room stays retired; the new key is gone, nothing else moved.
    assert result["deleted"] and result["created"] == []
    assert set(server_keys(iam, "bob")) == before - set(result["deleted"])
    assert creds.read_bytes() == content  # the previous file is back, byte for byte
    iam.set_propagation_delay(0)
    assert rotate_bob(workdir, creds).rc == 0


def test_verify_waits_for_propagation(workdir, iam):
    creds = workdir.path / "bob.yml"
    iam.set_propagation_delay(3)
    run = rotate_bob(workdir, creds, verify_timeout=30)
    assert run.rc == 0, run.output


def test_retire_failure_keeps_both_keys_and_the_rerun_finishes_the_retirement(workdir, iam):
    creds = workdir.path / "bob.yml"
    assert rotate_bob(workdir, creds, old_key="delete").rc == 0
    old_id = file_credentials(workdir, creds)["iam_access_key"]
    before = set(server_keys(iam, "bob"))
    iam.inject_fault("update_credential", "status", count=10, status=500)
    run = rotate_bob(workdir, creds)
    assert run.rc != 0
    message = run.result()["msg"]
    assert "Done before the failure: created" in message and "the next run of this task finishes it" in message
    assert_nothing_lost(iam, "bob", before, workdir, creds)
    assert server_keys(iam, "bob")[old_id]["status"] == "active"
    iam.clear_faults()
    # A plain rerun (no rotation asked) finishes what the journal says was left: the old key goes inactive.
    rerun = workdir.run(user_name="bob", credentials_file=str(creds), **ADMIN)
    assert rerun.rc == 0 and rerun.result()["deactivated"] == [old_id]
    assert server_keys(iam, "bob")[old_id]["status"] == "inactive"
    again = workdir.run(user_name="bob", credentials_file=str(creds), **ADMIN)
    assert again.rc == 0 and again.result()["changed"] is False


def test_make_room_failure_changes_nothing(workdir, iam):
    creds = workdir.path / "alice.yml"
    shape = key_shape(iam, "alice")
    iam.inject_fault("delete_credential", "status", count=10, status=500)
    run = workdir.run(user_name="alice", credentials_file=str(creds), **ADMIN)
    assert run.rc != 0 and "Nothing was changed" in run.result()["msg"]
    assert key_shape(iam, "alice") == shape and not creds.exists()


def test_formats_hold_the_exact_secret(workdir, iam):
    for fmt in ("csv", "env", "sdk_profile", "obsutil"):
        # A user each: files of one user must not take each other's keys (see test_two_files_of_one_user...).
        user = f"user-{fmt.replace('_', '-')}"
        iam.add_user(user)
        creds = workdir.path / f"{user}.{fmt}"
        run = workdir.run(user_name=user, rotate="always", old_key="delete", credentials_file=str(creds),
                          credentials_format=fmt, **ADMIN)
        assert run.rc == 0, run.output
        new_id = run.result()["created"][0]
        secret = server_keys(iam, user)[new_id]["secret"]
        text = workdir.decrypt(creds)
        assert new_id in text and secret in text
        assert stat.S_IMODE(os.stat(creds).st_mode) == 0o600


def test_file_with_the_right_key_but_old_metadata_is_rewritten_once(workdir, iam):
    creds = workdir.path / "bob.yml"
    bob_id = iam.user("bob")["id"]
    assert workdir.run(user_id=bob_id, credentials_file=str(creds), **ADMIN).rc == 0
    first = file_credentials(workdir, creds)
    assert "iam_user_name" not in first  # named by id: the file does not know bob's name yet
    iam.reset_counters()
    named = workdir.run(user_name="bob", credentials_file=str(creds), **ADMIN)
    result = named.result()
    assert named.rc == 0 and result["changed"] is True and result["credentials_file_changed"] is True
    assert any("in the current format" in step for step in result["plan"])
    assert iam.counters()["writes"] == 0  # same key, only the file changes
    second = file_credentials(workdir, creds)
    assert second["iam_user_name"] == "bob" and second["iam_access_key"] == first["iam_access_key"]
    before = creds.stat()
    again = workdir.run(user_name="bob", credentials_file=str(creds), **ADMIN)
    assert again.rc == 0 and again.result()["changed"] is False
    assert (creds.stat().st_ino, creds.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
