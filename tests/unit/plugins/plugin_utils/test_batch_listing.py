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


def test_a_batch_removes_a_leftover_it_finds_through_the_shared_listing(run, tmp_path) -> None:
    directory = tmp_path / "creds"
    directory.mkdir()
    leftover = directory / ".bob.yml.0123456789abcdef.tmp"  # a write killed before its rename
    leftover.write_bytes(b"$ANSIBLE_VAULT;1.1;AES256\n00\n")
    run("alice", directory / "unused.yml", user_name=None, users=["alice", "bob"],
        credentials_file=str(directory / "{user_name}.yml"))
    assert not leftover.exists()


def test_with_its_journal_open_a_file_looks_afresh_for_what_an_interrupted_run_left(tmp_path) -> None:
    # A run killed in a rotation after this task listed the directory: its journal is open, and its
    # temporary file may hold a live secret, so it goes in this run, not the next.
    from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import (
        RunContext,
        SecretDestination,
    )
    from tests.chaos.campaign import VAULT

    context = RunContext(vault_secrets=VAULT, default_encrypt_identity=None, check_mode=False, diff=False,
                         warn=lambda message: None, state_dir=str(tmp_path / "state"))
    destination = SecretDestination.prepare(
        context, credentials_file=str(tmp_path / "bob.yml"), credentials_format="yaml", vars_prefix="iam_",
        mode=0o600, backup=False, vault_id=None, return_secret=False)
    try:
        assert destination.leftovers(journal_open=False) == []  # the task's listing, taken now
        leftover = tmp_path / ".bob.yml.0123456789abcdef.tmp"
        leftover.write_bytes(b"$ANSIBLE_VAULT;1.1;AES256\n00\n")
        assert destination.leftovers(journal_open=False) == []  # the shared listing predates it
        assert destination.leftovers(journal_open=True) == [str(leftover)]
    finally:
        destination.close()
