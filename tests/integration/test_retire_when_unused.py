"""access_key old_key=pending and retire_pending: the old key is retired only once nobody uses it.

The steps a zero-downtime fleet rotation is made of, through real ansible-playbook runs: rotate
keeping the old key active (recorded as pending retirement), then retire it when unused since
the delivery, or see it kept while a consumer still uses it, or roll the rotation back.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.integration.conftest import ADMIN


def status(iam, user, key_id):
    keys = {key["access"]: key for key in iam.keys_of(user)}
    return keys[key_id]["status"] if key_id in keys else None


def iam_now(iam) -> str:
    """The IAM clock as unused_since takes it: what a role would record when delivery ends."""
    return iam.clock()["now"]


def held(workdir, path: Path) -> dict:
    return yaml.safe_load(workdir.decrypt(path))


def rotate_pending(workdir, creds):
    run = workdir.run(user_name="bob", rotate="always", old_key="pending", credentials_file=str(creds),
                      make_room="oldest", **ADMIN)
    assert run.rc == 0, run.output
    return run


def test_pending_then_retired_when_unused_then_deleted_after_the_grace_period(workdir, iam):
    creds = workdir.path / "bob.yml"
    assert workdir.run(user_name="bob", credentials_file=str(creds), make_room="oldest", **ADMIN).rc == 0
    old = held(workdir, creds)["iam_access_key"]
    run = rotate_pending(workdir, creds)
    new = run.result()["created"][0]
    assert run.result()["pending_retirement"]["access_key_id"] == old
    assert status(iam, "bob", old) == status(iam, "bob", new) == "active"
    assert (workdir.path / ".bob.yml.journal").exists() and (workdir.path / ".bob.yml.previous").exists()
    assert workdir.run(user_name="bob", credentials_file=str(creds), **ADMIN).result()["changed"] is False

    delivered = iam_now(iam)
    waiting = workdir.run(user_name="bob", credentials_file=str(creds), retire_pending="when_unused",
                          unused_since=delivered, quiet_period=600, **ADMIN)
    assert waiting.rc == 0 and waiting.result()["changed"] is False
    assert waiting.result()["pending_retirement"]["state"] == "waiting"
    iam.advance_clock(seconds=601)
    retired = workdir.run(user_name="bob", credentials_file=str(creds), retire_pending="when_unused",
                          unused_since=delivered, quiet_period=600, **ADMIN)
    assert retired.rc == 0 and retired.result()["deactivated"] == [old]
    assert status(iam, "bob", old) == "inactive" and status(iam, "bob", new) == "active"
    again = workdir.run(user_name="bob", credentials_file=str(creds), retire_pending="when_unused",
                        unused_since=delivered, quiet_period=600, **ADMIN)
    assert again.result()["changed"] is False and again.result()["pending_retirement"]["state"] == "inactive"

    iam.advance_clock(days=8)
    deleted = workdir.run(user_name="bob", credentials_file=str(creds), retire_pending="when_unused", **ADMIN)
    assert deleted.rc == 0 and deleted.result()["deleted"] == [old]
    assert not (workdir.path / ".bob.yml.journal").exists() and not (workdir.path / ".bob.yml.previous").exists()
    final = workdir.run(user_name="bob", credentials_file=str(creds), retire_pending="when_unused", **ADMIN)
    assert final.result()["changed"] is False and "pending_retirement" not in final.result()


def test_a_consumer_still_using_the_old_key_keeps_it_active(workdir, iam):
    creds = workdir.path / "bob.yml"
    assert workdir.run(user_name="bob", credentials_file=str(creds), make_room="oldest", **ADMIN).rc == 0
    old = held(workdir, creds)
    rotate_pending(workdir, creds)
    delivered = iam_now(iam)
    iam.advance_clock(seconds=30)
    # A host that never reloaded signs one more request with the old key.
    assert workdir.run("access_key_info.yml", auth_ak=old["iam_access_key"], auth_sk=old["iam_secret_key"]).rc == 0
    iam.advance_clock(seconds=3600)
    run = workdir.run(user_name="bob", credentials_file=str(creds), retire_pending="when_unused",
                      unused_since=delivered, quiet_period=600, **ADMIN)
    assert run.rc == 0 and run.result()["changed"] is False
    pending = run.result()["pending_retirement"]
    assert pending["state"] == "in_use" and "still in use: last used" in pending["reason"]
    assert status(iam, "bob", old["iam_access_key"]) == "active"
    # Forced, it goes.
    forced = workdir.run(user_name="bob", credentials_file=str(creds), retire_pending="now", **ADMIN)
    assert forced.result()["deactivated"] == [old["iam_access_key"]]


def pending_from_a_fresh_file(workdir, creds):
    """bob's first file, then a rotation with old_key pending: (the first file's bytes, old key, new key)."""
    assert workdir.run(user_name="bob", credentials_file=str(creds), make_room="oldest", **ADMIN).rc == 0
    before = creds.read_bytes()
    old = held(workdir, creds)["iam_access_key"]
    return before, old, rotate_pending(workdir, creds).result()["created"][0]


def test_rollback_restores_the_previous_file_and_deletes_the_new_key(workdir, iam):
    creds = workdir.path / "bob.yml"
    before, old, new = pending_from_a_fresh_file(workdir, creds)
    check = workdir.run(check=True, user_name="bob", credentials_file=str(creds), retire_pending="rollback", **ADMIN)
    assert check.result()["deleted"] == [new] and status(iam, "bob", new) == "active"
    run = workdir.run(user_name="bob", credentials_file=str(creds), retire_pending="rollback", **ADMIN)
    assert run.rc == 0, run.output
    assert run.result()["deleted"] == [new] and status(iam, "bob", new) is None
    assert status(iam, "bob", old) == "active"
    assert creds.read_bytes() == before  # the previous file, byte for byte
    assert not (workdir.path / ".bob.yml.journal").exists()
    again = workdir.run(user_name="bob", credentials_file=str(creds), retire_pending="rollback", **ADMIN)
    assert again.rc == 0 and again.result()["changed"] is False


def test_a_file_put_back_by_hand_while_a_key_is_pending_keeps_both_keys_until_a_rollback(workdir, iam):
    # Found in review: the next run took the restored file for an interrupted rollback and deleted
    # the new key, which a fleet rotation may already have delivered to every host.
    creds = workdir.path / "bob.yml"
    before, old, new = pending_from_a_fresh_file(workdir, creds)
    creds.write_bytes(before)  # restored from a backup, by hand
    run = workdir.run(user_name="bob", credentials_file=str(creds), retire_pending="now", **ADMIN)
    assert run.rc == 0, run.output
    assert run.result()["changed"] is False
    pending = run.result()["pending_retirement"]
    assert pending["state"] == "blocked" and "no rollback was started" in pending["reason"]
    assert status(iam, "bob", new) == "active" and status(iam, "bob", old) == "active"
    # Asked for, the rollback finishes from the file as it is.
    back = workdir.run(user_name="bob", credentials_file=str(creds), retire_pending="rollback", **ADMIN)
    assert back.rc == 0, back.output
    assert back.result()["deleted"] == [new] and status(iam, "bob", new) is None
    assert status(iam, "bob", old) == "active" and creds.read_bytes() == before
    assert not (workdir.path / ".bob.yml.journal").exists()
