"""Two playbook runs on the same user and credentials file at the same time, 50 times over.

The per-file lock makes the second run wait for the first and then see what it wrote, so the
two-key limit is never exceeded, the file is never corrupt or half-written, and every key on
the server has its secret in the file or existed before.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import yaml

from tests.integration.conftest import ADMIN

ROUNDS = 25  # of each kind below: 50 races in all


def race(workdir, **task):
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda _: workdir.run(diff=False, **task, **ADMIN), range(2)))


def held_key(workdir, path):
    return yaml.safe_load(workdir.decrypt(path))  # raises if the file is corrupt or half-written


def test_two_runs_creating_the_first_key_at_once_make_only_one(workdir, iam):
    path = workdir.path / "carol.yml"
    for _round in range(ROUNDS):
        iam.reset()
        iam.add_user("carol")
        path.unlink(missing_ok=True)
        runs = race(workdir, user_name="carol", credentials_file=str(path))
        assert all(run.rc == 0 for run in runs), [run.output[-2000:] for run in runs]
        assert sorted(run.result()["changed"] for run in runs) == [False, True]  # one made it, one converged
        keys = iam.keys_of("carol")
        held = held_key(workdir, path)
        assert [key["access"] for key in keys] == [held["iam_access_key"]]
        assert keys[0]["secret"] == held["iam_secret_key"]


def test_two_rotations_at_once_stay_within_the_limit_and_lose_nothing(workdir, iam):
    path = workdir.path / "bob.yml"
    assert workdir.run(user_name="bob", credentials_file=str(path), **ADMIN).rc == 0
    for _round in range(ROUNDS):
        before = {key["access"] for key in iam.keys_of("bob")}
        runs = race(workdir, user_name="bob", credentials_file=str(path), rotate="always")
        for run in runs:
            assert run.rc == 0 or "Another run" in run.result().get("msg", ""), run.output[-2000:]
        keys = {key["access"]: key for key in iam.keys_of("bob")}
        assert len(keys) <= 2
        held = held_key(workdir, path)
        assert keys[held["iam_access_key"]]["secret"] == held["iam_secret_key"]
        assert keys[held["iam_access_key"]]["status"] == "active"
        for access in keys:
            # The key the first run made was superseded by the second run's, and deactivated.
            assert access in before or access == held["iam_access_key"] or keys[access]["status"] == "inactive"
