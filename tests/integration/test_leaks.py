"""Leak hunt beyond the test playbooks: the demo's own playbook, at -vvvv, with a log file and the
JSON results callback, rotating for real. Workdir.run searches all of it, and the temp
directories, for every secret the server ever issued (see conftest.py)."""

from __future__ import annotations

from tests.integration.conftest import ADMIN, REPO


def test_demo_playbook_leaks_nothing_while_it_rotates(workdir, iam):
    creds = workdir.path / "alice.yml"
    demo_vars = {"demo_iam_url": iam.url, "demo_ca_file": "", "demo_admin_ak": ADMIN["auth_ak"],
                 "demo_admin_sk": ADMIN["auth_sk"], "demo_credentials_file": str(creds)}
    first = workdir.run(str(REPO / "demo" / "rotate.yml"), **demo_vars)
    assert first.rc == 0, first.output
    assert first.result("Rotate alice's key when it is older than 90 days, into her vaulted group_vars")["created"]
    iam.advance_clock(days=100)
    second = workdir.run(str(REPO / "demo" / "rotate.yml"), **demo_vars)
    assert second.rc == 0, second.output
    rotated = second.result("Rotate alice's key when it is older than 90 days, into her vaulted group_vars")
    assert rotated["created"] and rotated["deactivated"]
