"""The credentials_check module as Ansible runs it: its result, its failure, and that the secret
read from the file is registered with no_log_values so that Ansible masks it anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("ansible.module_utils.testing", reason="patch_module_args needs ansible-core 2.19+")

from ansible.module_utils.testing import patch_module_args

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials, render
from ansible_collections.keywarden.iam.plugins.modules import credentials_check

BOB_AK = "AGR8TBVH47YCZV10V76F"
BOB_SK = "8JaAiBSnmW7wim38GmtdnjabKQk3oARRRUOqPs7Y"
BOB_ID = "c5f43f21f19448e4ae2f751b3d1d739d"
DOMAIN_ID = "c49760f83a274c19af982f4278e7576b"


def run_module(args: dict, capsys) -> tuple[int, dict]:
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        credentials_check.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_success(iam, tmp_path: Path, capsys) -> None:
    path = tmp_path / "iam.env"
    path.write_text(render("env", Credentials(BOB_AK, BOB_SK, user_id=BOB_ID, domain_id=DOMAIN_ID)))
    code, result = run_module({"path": str(path), "format": "env", "iam_endpoint": iam.url,
                               "_ansible_check_mode": True}, capsys)
    assert code == 0
    assert result["changed"] is False and result["verified"] is True
    assert result["access_key_id"] == BOB_AK and result["user_id"] == BOB_ID and result["domain_id"] == DOMAIN_ID
    assert result["format"] == "env" and result["server_time"].endswith("Z")
    assert BOB_SK not in json.dumps(result)


def test_failure_keeps_the_key_id_and_masks_the_secret(iam, tmp_path: Path, capsys, monkeypatch) -> None:
    path = tmp_path / "iam.env"
    path.write_text(render("env", Credentials(BOB_AK, "wrong-secret-wrong-secret", domain_id=DOMAIN_ID)))
    seen = []
    original = credentials_check.fail_with

    def spy(module, error, **result):
        seen.extend(module.no_log_values)
        original(module, error, **result)

    monkeypatch.setattr(credentials_check, "fail_with", spy)
    code, result = run_module({"path": str(path), "format": "env", "iam_endpoint": iam.url, "retries": 0}, capsys)
    assert code == 1 and result["failed"] is True and result["verified"] is False
    assert result["access_key_id"] == BOB_AK and result["path"] == str(path)
    assert result["msg"].startswith(f"Failed to verify {path}: IAM did not accept the key {BOB_AK}")
    assert result["error"]["status"] == 401
    assert "wrong-secret-wrong-secret" in seen  # Ansible masks it wherever it might appear
    assert "wrong-secret-wrong-secret" not in json.dumps(result)


def test_a_missing_file(tmp_path: Path, capsys) -> None:
    code, result = run_module({"path": str(tmp_path / "nope"), "format": "yaml"}, capsys)
    assert code == 1 and "access_key_id" not in result
    assert result["msg"] == (f"Failed to verify {tmp_path / 'nope'}: the file does not exist. Deliver the credentials "
                             "to this host first (keywarden.iam.fleet_credentials), or correct path.")


def test_credentials_options_are_not_accepted(tmp_path: Path, capsys) -> None:
    code, result = run_module({"path": str(tmp_path / "f"), "format": "env", "access_key": BOB_AK}, capsys)
    assert code == 1 and "Unsupported parameters" in result["msg"]
