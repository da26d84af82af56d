"""Never lose a key: each situation in which the rotation used to lose a key or a secret, reproduced.

One test (or a few) per numbered item of the issue's "Why", through real ansible-playbook runs
against the local server. The interrupted jobs (item 2) are the kill campaign
(test_kill_campaign.py); concurrent runs at scale are the concurrency campaign (tests/chaos).
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import ADMIN

NOW_USED = 0


def keys(iam, user):
    """The user's keys as a user compares them: not their last use, which every signed request moves."""
    return {key["access"]: {k: v for k, v in key.items() if k != "last_use_time"} for key in iam.keys_of(user)}


def yaml_creds(key, user, *, user_id=None) -> str:
    fields = {"iam_access_key": key["access"], "iam_secret_key": key["secret"], "iam_user_name": user}
    if user_id:
        fields["iam_user_id"] = user_id
    return "---\n" + "".join(f'{name}: "{value}"\n' for name, value in fields.items())


def fingerprint(path: Path):
    info = path.lstat()
    return info.st_ino, info.st_mtime_ns, stat.S_IMODE(info.st_mode), path.read_bytes()


# ---- 1. Early retire at the limit --------------------------------------------------------------

def test_the_key_being_replaced_is_not_deleted_to_make_room(workdir, iam):
    # The task signs with A, the file holds B, both active and old. Before, B was deleted first
    # ("retired early"); a lost create then left the user with only A, and the file with a deleted key.
    iam.add_user("dave", keys=[{"age_days": 300}, {"age_days": 200, "last_use_age_days": 100}])
    a, b = iam.keys_of("dave")
    creds = workdir.path / "dave.yml"
    workdir.write_vaulted(creds, yaml_creds(b, "dave"))
    before_file, before_keys = fingerprint(creds), keys(iam, "dave")
    iam.inject_fault("create_credential", "drop_after_commit")
    iam.reset_counters()
    # dave rotates his own key (no user named: the caller's), signing with A.
    run = workdir.run(rotate="when_older", max_age=90, credentials_file=str(creds),
                      auth_ak=a["access"], auth_sk=a["secret"])
    assert run.rc != 0
    message = run.result()["msg"]
    assert "none is safe to retire" in message and "Nothing was changed" in message
    assert f"{b['access']} (active, 200 days old" in message and "the key being replaced" in message
    assert f"{a['access']} (active, 300 days old" in message and "this task signs its requests with it" in message
    assert iam.counters()["writes"] == 0
    assert keys(iam, "dave") == before_keys and fingerprint(creds) == before_file


# ---- 3. Two runs, one user, different files ---------------------------------------------------

def test_files_of_one_user_keep_their_keys_and_a_third_file_fails_clearly(workdir, iam):
    # Before, run one after the other, two playbooks that each kept a file for the same user deleted
    # each other's key on every run, both saying "changed".
    iam.add_user("erin", keys=[{"age_days": 100, "last_use_age_days": 60, "description": "erin idle"}])
    first, second, third = (workdir.path / f"erin-{n}.yml" for n in ("first", "second", "third"))
    assert workdir.run(user_name="erin", credentials_file=str(first), **ADMIN).rc == 0
    run = workdir.run(user_name="erin", credentials_file=str(second), **ADMIN)
    assert run.rc == 0, run.output
    assert [k["description"] for k in iam.keys_of("erin")].count("erin idle") == 0  # the idle key made room
    held = {yaml.safe_load(workdir.decrypt(path))["iam_access_key"] for path in (first, second)}
    assert held == set(keys(iam, "erin"))
    for path in (first, second, first, second):
        again = workdir.run(user_name="erin", credentials_file=str(path), **ADMIN)
        assert again.rc == 0 and again.result()["changed"] is False, again.output
    iam.advance_clock(days=30)  # the keys are idle now, but other files hold them
    iam.reset_counters()
    refused = workdir.run(user_name="erin", credentials_file=str(third), **ADMIN)
    assert refused.rc != 0 and iam.counters()["writes"] == 0
    message = refused.result()["msg"]
    assert "none is safe to retire" in message
    assert f"held by {first}" in message and f"held by {second}" in message
    assert not third.exists()


@pytest.mark.parametrize("old_key", ["delete", "deactivate"])
def test_rotating_one_copy_of_a_file_keeps_the_key_the_other_copy_holds(workdir, iam, old_key):
    # Found by the concurrency campaign: a copied credentials file held the same key, and rotating
    # one copy retired the key the other still held.
    original, copy = workdir.path / "bob.yml", workdir.path / "bob-copy.yml"
    assert workdir.run(user_name="bob", credentials_file=str(original), **ADMIN).rc == 0
    copy.write_bytes(original.read_bytes())
    copy.chmod(0o600)
    assert workdir.run(user_name="bob", credentials_file=str(copy), **ADMIN).result()["changed"] is False
    held = yaml.safe_load(workdir.decrypt(copy))["iam_access_key"]
    run = workdir.run(user_name="bob", rotate="always", old_key=old_key, credentials_file=str(original),
                      make_room="oldest", **ADMIN)
    assert run.rc == 0, run.output
    assert f"{held} stays active although old_key is {old_key}: held by {copy}" in run.result()["plan"][-1]
    assert keys(iam, "bob")[held]["status"] == "active"


def test_a_key_another_run_may_still_be_storing_is_not_deleted(workdir, iam):
    # A key created minutes ago, by a run on another controller that this one cannot see, is kept,
    # even with make_room=oldest: the rotation fails instead.
    iam.add_user("fred", keys=[{"age_days": 100}])
    creds = workdir.path / "fred.yml"
    workdir.write_vaulted(creds, yaml_creds(iam.keys_of("fred")[0], "fred"))
    other_controllers_key = iam.add_key("fred")  # created now, unused, held by no file known here
    run = workdir.run(user_name="fred", rotate="always", credentials_file=str(creds), make_room="oldest", **ADMIN)
    assert run.rc != 0 and "another run may still be storing it" in run.result()["msg"]
    assert other_controllers_key["access"] in keys(iam, "fred")
    iam.advance_clock(seconds=11 * 60)  # no longer in flight: now it may go
    run = workdir.run(user_name="fred", rotate="always", credentials_file=str(creds), make_room="oldest", **ADMIN)
    assert run.rc == 0 and run.result()["deleted"] == [other_controllers_key["access"]]


# ---- 4. In-use keys deleted by default ---------------------------------------------------------

def test_a_key_used_yesterday_survives_and_an_idle_one_makes_room(workdir, iam):
    # The demo: before, make room deleted "alice laptop" (the oldest), used yesterday.
    run = workdir.run(user_name="alice", credentials_file=str(workdir.path / "alice.yml"), **ADMIN)
    assert run.rc == 0, run.output
    descriptions = [key["description"] for key in iam.keys_of("alice")]
    assert "alice laptop" in descriptions and "alice old ci" not in descriptions
    assert any("last used 125 days ago" in step for step in run.result()["plan"])


def test_when_every_key_is_in_use_nothing_changes_and_the_way_out_is_named(workdir, iam):
    laptop = iam.keys_of("alice")[0]
    iam.advance_clock(days=3)
    # The old CI key is used again today (a signed request with it), the laptop 4 days ago.
    old_ci = iam.keys_of("alice")[1]
    assert workdir.run("access_key_info.yml", auth_ak=old_ci["access"], auth_sk=old_ci["secret"]).rc == 0
    before = keys(iam, "alice")
    run = workdir.run(check=True, user_name="alice", credentials_file=str(workdir.path / "alice.yml"), **ADMIN)
    assert run.rc != 0  # check mode predicts the refusal
    run = workdir.run(user_name="alice", credentials_file=str(workdir.path / "alice.yml"), **ADMIN)
    assert run.rc != 0
    message = run.result()["msg"]
    assert f"{laptop['access']} (active, 203 days old, last used 4 days ago: in use" in message
    assert "last used today" in message and "make_room: oldest" in message
    assert keys(iam, "alice") == before
    forced = workdir.run(user_name="alice", credentials_file=str(workdir.path / "alice.yml"), make_room="oldest",
                         **ADMIN)
    assert forced.rc == 0 and forced.result()["deleted"] == [laptop["access"]]


# ---- 5. Other people's data in the file ---------------------------------------------------------

@pytest.mark.parametrize("fmt", ["env", "csv", "obsutil", "sdk_profile", "yaml"])
def test_a_file_holding_another_users_key_is_refused(workdir, iam, fmt):
    creds = workdir.path / f"alice.{fmt}"
    assert workdir.run(user_name="alice", credentials_file=str(creds), credentials_format=fmt, **ADMIN).rc == 0
    before_file, before_bob = fingerprint(creds), keys(iam, "bob")
    run = workdir.run(user_name="bob", credentials_file=str(creds), credentials_format=fmt, **ADMIN)
    assert run.rc != 0
    assert "refusing to overwrite another user's credentials" in run.result()["msg"]
    assert fingerprint(creds) == before_file and keys(iam, "bob") == before_bob


def test_a_hand_made_file_of_another_user_is_recognised_with_the_show_call(workdir, iam):
    # No metadata in the file: the key is missing from bob's list, and show says it is alice's.
    laptop = iam.keys_of("alice")[0]
    creds = workdir.path / "handmade.env"
    workdir.write_vaulted(creds, f"HUAWEICLOUD_SDK_AK={laptop['access']}\nHUAWEICLOUD_SDK_SK={laptop['secret']}\n")
    before = fingerprint(creds)
    run = workdir.run(user_name="bob", credentials_file=str(creds), credentials_format="env", **ADMIN)
    assert run.rc != 0 and f"of user {iam.user('alice')['id']}" in run.result()["msg"]
    assert fingerprint(creds) == before


def test_rotation_keeps_every_other_variable_of_a_vaulted_vars_file(workdir, iam):
    creds = workdir.path / "vault.yml"
    others = ("# shared team secrets\ndb_password: \"s3cr3t\"\nsmtp:\n  host: mail.example.com\n  port: 25\n"
              "allowed: [a, b]\n")
    workdir.write_vaulted(creds, others)
    for _run in range(2):  # a first key, then a rotation
        run = workdir.run(user_name="bob", rotate="always", credentials_file=str(creds), **ADMIN)
        assert run.rc == 0, run.output
    text = workdir.decrypt(creds)
    assert text.startswith(others)
    loaded = yaml.safe_load(text)
    assert loaded["db_password"] == "s3cr3t" and loaded["smtp"] == {"host": "mail.example.com", "port": 25}
    assert loaded["iam_access_key"] == run.result()["created"][0]


def test_rotation_keeps_every_other_setting_of_an_obsutil_config(workdir, iam):
    creds = workdir.path / "obsutilconfig"
    settings = ("endpoint=https://obs.eu-de.otc.t-systems.com\nproxyUrl=http://proxy:3128\nconnectTimeout=30\n"
                "socketTimeout=60\n")
    workdir.write_vaulted(creds, settings)
    for _run in range(2):
        run = workdir.run(user_name="bob", rotate="always", credentials_file=str(creds), credentials_format="obsutil",
                          **ADMIN)
        assert run.rc == 0, run.output
    text = workdir.decrypt(creds)
    for line in settings.splitlines():
        assert line in text.splitlines()
    assert f"ak={run.result()['created'][0]}" in text


# ---- 6. Hostile paths (the tests run as root, like AWX and cron) ---------------------------------

NOBODY = 65534


@pytest.fixture
def root_only(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to plant files of another user")
    return tmp_path


def test_a_symlink_planted_by_another_user_is_not_followed(workdir, iam, root_only):
    victim = workdir.path / "root-owned.conf"
    victim.write_text("precious\n")
    victim.chmod(0o644)
    link = workdir.path / "bob.yml"
    link.symlink_to(victim)
    os.lchown(link, NOBODY, NOBODY)
    before = fingerprint(victim)
    iam.reset_counters()
    run = workdir.run(user_name="bob", credentials_file=str(link), **ADMIN)
    assert run.rc != 0 and "uid 65534" in run.result()["msg"]
    assert fingerprint(victim) == before and os.stat(victim).st_uid == 0
    assert iam.counters()["total"] == 0


def test_a_dangling_symlink_of_another_user_creates_nothing(workdir, iam, root_only):
    secret_dir = workdir.path / "root-only"
    secret_dir.mkdir(mode=0o700)
    link = workdir.path / "bob.yml"
    link.symlink_to(secret_dir / "planted.yml")
    os.lchown(link, NOBODY, NOBODY)
    run = workdir.run(user_name="bob", credentials_file=str(link), **ADMIN)
    assert run.rc != 0 and list(secret_dir.iterdir()) == []


def test_a_symlink_planted_at_the_lock_path_is_refused(workdir, iam, root_only):
    victim = workdir.path / "victim"
    victim.write_text("untouched\n")
    (workdir.path / ".bob.yml.lock").symlink_to(victim)
    run = workdir.run(user_name="bob", credentials_file=str(workdir.path / "bob.yml"), **ADMIN)
    assert run.rc != 0 and "lock" in run.result()["msg"]
    assert victim.read_text() == "untouched\n"


def test_two_symlinks_to_one_file_take_one_lock(workdir, iam, root_only):
    # Before: two locks, so two concurrent runs created two keys and one became an active orphan.
    real = workdir.path / "real.yml"
    links = [workdir.path / "link-a.yml", workdir.path / "link-b.yml"]
    for link in links:
        link.symlink_to(real)
    for _round in range(4):
        iam.reset()
        iam.add_user("gina")
        real.unlink(missing_ok=True)
        runs: list = [None, None]
        threads = [threading.Thread(target=lambda i=i: runs.__setitem__(i, workdir.run(
            user_name="gina", credentials_file=str(links[i]), diff=False, **ADMIN))) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(run.rc == 0 for run in runs), [run.output[-2000:] for run in runs]
        assert sorted(run.result()["changed"] for run in runs) == [False, True]
        held = yaml.safe_load(workdir.decrypt(real))
        assert [key["access"] for key in iam.keys_of("gina")] == [held["iam_access_key"]]


@pytest.mark.parametrize("special", ["device", "fifo"])
def test_a_device_or_fifo_is_never_the_destination(workdir, iam, root_only, special):
    # A device node of the test's own (a twin of /dev/null), never the machine's: code with this bug
    # replaces the device by a regular file, and did so to /dev/null once.
    path = workdir.path / f"bob.{special}"
    if special == "fifo":
        os.mkfifo(path)
    else:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    iam.reset_counters()
    run = workdir.run(user_name="bob", credentials_file=str(path), **ADMIN)  # a FIFO used to hang here
    assert run.rc != 0 and "not a regular file" in run.result()["msg"]
    assert iam.counters()["total"] == 0
    kind = stat.S_ISFIFO if special == "fifo" else stat.S_ISCHR
    assert kind(os.lstat(path).st_mode)


def test_mode_is_enforced_on_an_existing_file_and_special_bits_refused(workdir, iam):
    creds = workdir.path / "bob.yml"
    assert workdir.run(user_name="bob", credentials_file=str(creds), **ADMIN).rc == 0
    creds.chmod(0o644)
    check = workdir.run(check=True, user_name="bob", credentials_file=str(creds), **ADMIN)
    assert check.result()["changed"] is True and stat.S_IMODE(creds.stat().st_mode) == 0o644
    run = workdir.run(user_name="bob", credentials_file=str(creds), **ADMIN)
    assert run.rc == 0 and run.result()["changed"] is True and run.result()["credentials_file_changed"] is True
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert workdir.run(user_name="bob", credentials_file=str(creds), **ADMIN).result()["changed"] is False
    refused = workdir.run(user_name="bob", credentials_file=str(creds), file_mode="04600", **ADMIN)
    assert refused.rc != 0 and "setuid" in refused.result()["msg"]


# ---- 7. Batch and bounds -----------------------------------------------------------------------

@pytest.mark.parametrize("task", [{"access_key_id": "self", "status": "inactive"},
                                  {"access_key_id": "self", "state": "absent"}])
def test_the_signing_key_is_locked_out_only_when_the_task_says_so(workdir, iam, task):
    bob = iam.keys_of("bob")[0]
    auth = {"auth_ak": bob["access"], "auth_sk": bob["secret"]}
    task = {**task, "access_key_id": bob["access"]}
    run = workdir.run(**task, **auth)
    assert run.rc != 0 and "allow_self_lockout" in run.result()["msg"]
    assert keys(iam, "bob")[bob["access"]]["status"] == "active"
    allowed = workdir.run(**task, allow_self_lockout=True, **auth)
    assert allowed.rc == 0 and allowed.result()["changed"] is True
