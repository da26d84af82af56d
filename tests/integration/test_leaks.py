"""Leak hunt beyond the test playbooks: the demo's own playbook, at -vvvv, with a log file and the
JSON results callback, rotating for real. Workdir.run searches all of it, and the temp
directories, for every secret the server ever issued (see conftest.py)."""

from __future__ import annotations

from tests.integration.conftest import ADMIN, REPO


ROTATE = "Rotate alice's key when it is older than 90 days, into her vaulted group_vars"


def test_demo_playbooks_leak_nothing_through_the_whole_story(workdir, iam):
    """The demo's steps (make room, refuse while the laptop is in use, retire it, rotate at the limit)."""
    creds = workdir.path / "alice.yml"
    laptop = next(key for key in iam.keys_of("alice") if key["description"] == "alice laptop")
    demo_vars = {"demo_iam_url": iam.url, "demo_ca_file": "", "demo_admin_ak": ADMIN["auth_ak"],
                 "demo_admin_sk": ADMIN["auth_sk"], "demo_laptop_ak": laptop["access"],
                 "demo_laptop_sk": laptop["secret"], "demo_credentials_file": str(creds)}

    def demo(name):
        return workdir.run(str(REPO / "demo" / name), **demo_vars)

    first = demo("rotate.yml")
    assert first.rc == 0, first.output
    assert first.result(ROTATE)["created"] and laptop["access"] not in first.result(ROTATE)["deleted"]
    iam.advance_clock(days=100)
    assert demo("use-laptop.yml").rc == 0
    refused = demo("rotate.yml")
    assert refused.rc != 0 and "none is safe to retire" in refused.result(ROTATE)["msg"]
    assert demo("retire-laptop.yml").rc == 0
    rotated = demo("rotate.yml")
    assert rotated.rc == 0, rotated.output
    assert rotated.result(ROTATE)["deleted"] == [laptop["access"]]
    assert rotated.result(ROTATE)["created"] and rotated.result(ROTATE)["deactivated"]
    assert demo("rotate.yml").result(ROTATE)["changed"] is False
