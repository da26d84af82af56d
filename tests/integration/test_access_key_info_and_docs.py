"""access_key_info through ansible-playbook, and the modules' documentation through ansible-doc."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.integration.conftest import ADMIN, BIN, INSTALLED


def test_lists_by_name_by_id_and_the_caller(workdir, iam):
    by_name = workdir.run("access_key_info.yml", user_name="alice", **ADMIN)
    assert by_name.rc == 0, by_name.output
    keys = by_name.result("access_key_info")["access_keys"]
    assert [k["description"] for k in keys] == ["alice laptop", "alice old ci"]
    assert [k["age_days"] for k in keys] == [200, 130]
    by_id = workdir.run("access_key_info.yml", user_id=iam.user("bob")["id"], **ADMIN)
    assert by_id.result("access_key_info")["user_id"] == iam.user("bob")["id"]
    mine = workdir.run("access_key_info.yml", **ADMIN)
    assert mine.result("access_key_info")["user_id"] == iam.user("admin")["id"]


def test_ages_follow_the_cloud_clock(workdir, iam):
    iam.advance_clock(days=10)
    run = workdir.run("access_key_info.yml", user_name="alice", **ADMIN)
    assert [k["age_days"] for k in run.result("access_key_info")["access_keys"]] == [210, 140]


def test_forbidden_is_explained(workdir, iam):
    bob = iam.user("bob")["keys"][0]
    run = workdir.run("access_key_info.yml", user_name="alice", auth_ak=bob["access"], auth_sk=bob["secret"])
    assert run.rc != 0
    assert "Security Administrator" in run.result("access_key_info")["msg"]


@pytest.mark.parametrize("module", ["keywarden.iam.access_key", "keywarden.iam.access_key_info"])
def test_ansible_doc_renders(module):
    completed = subprocess.run([str(BIN / "ansible-doc"), module], capture_output=True, text=True, check=False,
                               env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(INSTALLED)})
    assert completed.returncode == 0, completed.stderr
    assert "EXAMPLES" in completed.stdout and "iam_endpoint" in completed.stdout
