"""The concurrency campaign: a few rounds per scenario inside make test, 50 with make chaos."""

from __future__ import annotations

import os

from tests.chaos.concurrency import SCENARIOS, campaign

ROUNDS = int(os.environ.get("KEYWARDEN_CONCURRENCY_ROUNDS", "5"))
SEED = int(os.environ.get("KEYWARDEN_CONCURRENCY_SEED", "11"))
TRACE = os.environ.get("KEYWARDEN_CONCURRENCY_TRACE") == "1"


def test_concurrent_runs_keep_every_invariant():
    report = campaign(rounds=ROUNDS, seed=SEED)
    if TRACE:
        print("\n" + "\n".join(report.trace))
    print("\n" + report.summary())
    cells = report.cells.values()
    for scenario in SCENARIOS:
        for lost in (False, True):
            assert report.cell(scenario, lost).rounds == ROUNDS, (scenario, lost)
    assert sum(cell.raced for cell in cells) >= sum(cell.rounds for cell in cells) // 2, \
        "too few rounds had their runs overlap in time to call it a race"
    assert sum(cell.answers_lost for (_scenario, lost), cell in report.cells.items() if lost) >= ROUNDS, \
        "too few create answers were lost to mean anything"
    assert report.violations == [], report.summary()
