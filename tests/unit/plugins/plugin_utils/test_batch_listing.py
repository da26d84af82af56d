"""A batch lists a shared directory once, not once per user: per user it made the batch quadratic."""

from __future__ import annotations

import os

from ansible_collections.keywarden.iam.plugins.plugin_utils import _atomic_file


def test_a_batch_lists_its_shared_credentials_directory_once(run, tmp_path, monkeypatch) -> None:
    directory = tmp_path / "creds"
    directory.mkdir()
    listed = []
    real_listdir = os.listdir
    monkeypatch.setattr(_atomic_file.os, "listdir", lambda path: listed.append(path) or real_listdir(path))
    result = run("alice", directory / "unused.yml", user_name=None, users=["alice", "bob"],
                 credentials_file=str(directory / "{user_name}.yml"))
    assert result["summary"]["changed"] == 2
    assert sorted(path.name for path in directory.glob("*.yml")) == ["alice.yml", "bob.yml"]
    assert listed.count(str(directory)) == 1
