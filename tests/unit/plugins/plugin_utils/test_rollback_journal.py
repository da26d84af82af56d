"""A rollback is recorded in the rotation journal before it puts the previous file back.

Only that record tells the next run a rollback interrupted after restoring the file (finish it:
delete the new key) from a file someone put back by hand (keep both keys: the new one may already
be in use where it was delivered). A process killed at either point is stood in for by an
exception no code of the collection catches.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.keywarden.iam.plugins.plugin_utils import _key_backend, _secret_destination
from tests.chaos.campaign import held


class Killed(BaseException):
    """The process dies here."""


def _journal(path) -> dict:
    return json.loads((path.parent / f".{path.name}.journal").read_text())


def _keys(iam, user) -> dict:
    return {key["access"]: key["status"] for key in iam.keys_of(user)}


def killed_in(run, path, owner, name, **options) -> None:
    """Run the task on ``path``, dying when it calls ``owner.name``."""
    def killed(*_args, **_kwargs):
        raise Killed()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(owner, name, killed)
        with pytest.raises(Killed):
            run("bob", path, **options)


@pytest.fixture
def pending(run, tmp_path):
    """bob rotated with old_key pending: (file, old key, new key, the file's bytes before the rotation)."""
    path = tmp_path / "bob.yml"
    run("bob", path, make_room="oldest")
    old = held(path)["iam_access_key"]
    before = path.read_bytes()
    new = run("bob", path, old_key="pending")["created"][0]
    return path, old, new, before


def test_a_rollback_killed_after_restoring_the_file_is_finished_by_the_next_run(run, iam, pending):
    path, old, new, _before = pending
    killed_in(run, path, _key_backend.KeyBackend, "delete_key", retire_pending="rollback", rotate="never")
    assert held(path)["iam_access_key"] == old and _journal(path)["rolling_back"] is True
    result = run("bob", path, rotate="never")  # asks for nothing: the rollback it finds is finished
    assert result["deleted"] == [new] and new not in _keys(iam, "bob") and _keys(iam, "bob")[old] == "active"


def test_a_rollback_killed_before_restoring_the_file_leaves_the_rotation_as_it_was(run, iam, pending):
    path, old, new, _before = pending
    killed_in(run, path, _secret_destination.SecretDestination, "undo", retire_pending="rollback", rotate="never")
    assert held(path)["iam_access_key"] == new and _journal(path)["rolling_back"] is True
    result = run("bob", path, rotate="never", retire_pending="now")  # the file holds the new key: go on
    assert result["deactivated"] == [old] and _keys(iam, "bob")[new] == "active"
    assert _journal(path)["rolling_back"] is False  # recorded anew: no rollback under way


def test_a_rollback_records_itself_before_the_file_goes_back(run, pending, monkeypatch):
    path, _old, _new, _before = pending
    seen = []
    real_undo = _secret_destination.SecretDestination.undo

    def undo(self, *, previous_kept):
        seen.append(_journal(path).get("rolling_back"))
        return real_undo(self, previous_kept=previous_kept)

    monkeypatch.setattr(_secret_destination.SecretDestination, "undo", undo)
    run("bob", path, retire_pending="rollback", rotate="never")
    assert seen == [True]


def test_a_file_put_back_by_hand_long_after_a_rollback_that_never_reached_it_keeps_the_new_key(run, iam, pending):
    # Found in review: the flag of the killed rollback stayed through runs that wrote nothing, and
    # the file put back by hand later was taken for that rollback's: the new key was deleted.
    path, old, new, before = pending
    killed_in(run, path, _secret_destination.SecretDestination, "undo", retire_pending="rollback", rotate="never")
    run("bob", path, rotate="never")  # the next run forgets the rollback that never happened
    assert _journal(path)["rolling_back"] is False
    path.write_bytes(before)  # restored from a backup, by hand
    result = run("bob", path, rotate="never", retire_pending="when_unused")
    assert result["deleted"] == [] and result["pending_retirement"]["state"] == "blocked"
    assert _keys(iam, "bob") == {old: "active", new: "active"}


def test_a_rollback_killed_after_deleting_the_new_key_is_closed_by_the_next_run(run, iam, pending):
    # Found in review: with the file back and the new key gone, every later run was blocked.
    path, old, _new, _before = pending
    killed_in(run, path, _key_backend.KeyBackend, "end", retire_pending="rollback", rotate="never")
    result = run("bob", path, rotate="never")
    assert not result.get("failed") and not (path.parent / f".{path.name}.journal").exists()
    assert _keys(iam, "bob") == {old: "active"} and held(path)["iam_access_key"] == old


def test_a_pending_key_reactivated_since_its_deactivation_waits_a_whole_grace_period_again(run, iam, pending):
    # Found in review: the journal kept the first deactivation's time, and the key, reactivated by
    # a rollback that never reached the file and deactivated again, was deleted by the next run.
    path, old, _new, _before = pending
    run("bob", path, rotate="never", retire_pending="now", grace_period=7)
    assert _keys(iam, "bob")[old] == "inactive"
    iam.advance_clock(days=10)
    killed_in(run, path, _secret_destination.SecretDestination, "undo", retire_pending="rollback", rotate="never")
    assert _keys(iam, "bob")[old] == "active"  # the rollback reactivated it first
    run("bob", path, rotate="never", retire_pending="now", grace_period=7)
    assert _keys(iam, "bob")[old] == "inactive"
    again = run("bob", path, rotate="never", retire_pending="now", grace_period=7)
    assert again["deleted"] == [] and _keys(iam, "bob")[old] == "inactive"
