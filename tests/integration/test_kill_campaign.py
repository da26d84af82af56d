"""The kill campaign (tests/chaos/kills.py) in make test: one killed rotation per step.

Each of the seven steps of a rotation at the two-key limit is interrupted once, the three
signals rotating over the steps (SIGKILL of the whole tree, SIGTERM to ansible-playbook, SIGINT
to its process group); then the task is rerun plainly and every invariant is checked. With
KEYWARDEN_KILL_ROUNDS=N it runs the full matrix instead: N rounds for each step and signal
(make chaos: N=5, 105 rounds).
"""

from __future__ import annotations

import os

from tests.chaos.kills import full_matrix, run_campaign, short_matrix

ROUNDS = int(os.environ.get("KEYWARDEN_KILL_ROUNDS") or 0)


def test_a_rotation_killed_at_any_step_loses_nothing_and_converges(iam, tmp_path):
    rounds = full_matrix(ROUNDS) if ROUNDS else short_matrix()
    report = run_campaign(iam, tmp_path, rounds, log=lambda line: print(line, flush=True))
    print("\n" + report.table(), flush=True)
    assert report.rounds == len(rounds)
    assert {result.round.signal for result in report.results} == {"SIGKILL tree", "SIGTERM parent", "SIGINT group"}
    assert not report.harness_problems, "the campaign could not run as designed:\n" + report.table()
    assert report.violations == 0, report.table()
