"""The fault campaign: a short one inside make test, the long one with make chaos."""

from __future__ import annotations

import os

from tests.chaos.campaign import campaign

RUNS = int(os.environ.get("KEYWARDEN_CHAOS_RUNS", "25"))
SEED = int(os.environ.get("KEYWARDEN_CHAOS_SEED", "7"))


def test_fault_campaign_keeps_every_invariant():
    report = campaign(runs=RUNS, seed=SEED)
    print("\n" + report.summary())
    assert report.runs == RUNS
    assert sum(report.faults.values()) > RUNS // 3, "the campaign injected too few faults to mean anything"
    assert report.violations == [], report.summary()
