# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run of temporary_access_key against the local server: what it fetches, keeps, writes and says.

The server's data clock is moved to age the stored credentials, so these tests also prove that
expiry is judged by the IAM service's clock, not by this machine's.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import settings_from_params
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials, parse
from ansible_collections.keywarden.iam.plugins.module_utils._temporary_key_options import (
    TEMPORARY_KEY_MUTUALLY_EXCLUSIVE,
    TEMPORARY_KEY_REQUIRED_IF,
    temporary_access_key_argument_spec,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._credential_store import (
    CredentialFileError,
    VaultedCredentialFile,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import RunContext, SecretDestination
from ansible_collections.keywarden.iam.plugins.plugin_utils._temporary_key_run import run_temporary_access_key

VAULT = ("default", VaultSecret(b"unit-vault-password"))
ADMIN_KEY = {"access_key": "CVKK734506UOYW5P4XW2", "secret_key": "8iXmKEWTu6IAMHt0vln3mwV3rRFpNLTRrsogxD1X"}
ADMIN_PASSWORD = {"auth_username": "admin", "auth_password": "Admin-Demo-Passw0rd",
                  "auth_domain_name": "keywarden-demo"}
BOB_PASSWORD = {"auth_username": "bob", "auth_password": "Bob-Demo-Passw0rd", "auth_domain_name": "keywarden-demo"}
DOMAIN_ID = "c49760f83a274c19af982f4278e7576b"


def run(iam, *, check_mode=False, diff=True, **args) -> dict:
    validator = ArgumentSpecValidator(temporary_access_key_argument_spec(),
                                      mutually_exclusive=TEMPORARY_KEY_MUTUALLY_EXCLUSIVE,
                                      required_if=TEMPORARY_KEY_REQUIRED_IF)
    validated = validator.validate({"iam_endpoint": iam.url, "retries": 0, **args})
    assert not validated.error_messages, validated.error_messages
    context = RunContext(vault_secrets=[VAULT], default_encrypt_identity=None, check_mode=check_mode, diff=diff,
                         warn=lambda message: None, state_dir=tempfile.mkdtemp(prefix="keywarden-state-"))
    result = run_temporary_access_key(validated.validated_parameters, context)
    assert_no_secret(iam, result)
    return result


def assert_no_secret(iam, result: dict) -> None:
    # Vaulted values are left out: they are ciphertext, and str() would try to decrypt them.
    shown = repr({key: value for key, value in result.items() if key not in ("secret_access_key", "security_token")})
    leaked = [secret for secret in iam.issued_secrets() if secret in shown]
    assert not leaked


def held(path: Path, fmt: str = "yaml") -> Credentials:
    return parse(fmt, VaultLib([VAULT]).decrypt(path.read_bytes()).decode())


def server_temporary_key(iam, access: str) -> dict:
    return next(key for key in iam.state()["temporary_keys"] if key["access"] == access)


def fingerprint(path: Path) -> tuple:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def unvault(value) -> str:
    return VaultLib([VAULT]).decrypt(value._ciphertext).decode()


def test_token_method_writes_the_key_token_and_expiry_then_keeps_them(iam, tmp_path):
    path = tmp_path / "session.yml"
    first = run(iam, credentials_file=str(path), **ADMIN_PASSWORD)
    assert first.get("failed") is not True, first
    assert (first["changed"], first["renewed"], first["method"], first["credentials_file_changed"]) == (
        True, True, "token", True)
    creds = held(path)
    server = server_temporary_key(iam, creds.access_key_id)
    assert (creds.secret_access_key, creds.security_token) == (server["secret"], server["security_token"])
    assert creds.expires_at == server["expires_at"] == first["expires_at"]
    assert (creds.user_id, creds.user_name, creds.domain_id) == (iam.user("admin")["id"], "admin", DOMAIN_ID)
    assert 890 <= first["expires_in"] <= 900
    assert first["diff"]["before"] == {} and first["diff"]["after"]["access_key_id"] == creds.access_key_id

    before = fingerprint(path)
    iam.reset_counters()
    second = run(iam, credentials_file=str(path), **ADMIN_PASSWORD)
    assert (second["changed"], second["renewed"], second["credentials_file_changed"]) == (False, False, False)
    assert second["access_key_id"] == creds.access_key_id and "valid until" in second["reason"]
    assert iam.counters()["writes"] == 0
    # The one request is the clock read, signed with the stored key: no login, no token.
    assert iam.counters()["by_operation"] == {"list_domains": 1}
    assert fingerprint(path) == before
    assert second["diff"]["before"] == second["diff"]["after"]


def test_agency_method_signed_with_an_access_key(iam, tmp_path):
    path = tmp_path / "ops.yml"
    result = run(iam, agency_name="ops-agency", session_user="pipeline", duration_seconds=3600,
                 credentials_file=str(path), **ADMIN_KEY)
    assert result.get("failed") is not True, result
    assert result["method"] == "agency"
    creds = held(path)
    server = server_temporary_key(iam, creds.access_key_id)
    assert server["agency_id"] and server["session_name"] == "pipeline"
    assert (creds.user_id, creds.user_name, creds.domain_id) == (None, "ops-agency", DOMAIN_ID)
    assert 3590 <= result["expires_in"] <= 3600
    iam.reset_counters()
    assert run(iam, agency_name="ops-agency", credentials_file=str(path), **ADMIN_KEY)["changed"] is False
    assert iam.counters()["writes"] == 0


def test_agency_method_with_password_auth_and_an_account_name(iam, tmp_path):
    path = tmp_path / "ops.env"
    result = run(iam, agency_name="ops-agency", agency_domain_name="keywarden-demo", credentials_file=str(path),
                 credentials_format="env", **ADMIN_PASSWORD)
    assert result.get("failed") is not True, result
    creds = held(path, "env")
    assert server_temporary_key(iam, creds.access_key_id)["security_token"] == creds.security_token
    assert creds.domain_id is None  # named by account name: the SDKs look the id up themselves


def test_an_agency_that_does_not_trust_the_caller_is_refused(iam, tmp_path):
    result = run(iam, agency_name="ops-agency", credentials_file=str(tmp_path / "x.yml"), **BOB_PASSWORD)
    assert result["failed"] is True and result["error"]["error_type"] == "Forbidden"
    assert not (tmp_path / "x.yml").exists()


def test_renewed_within_renew_before_by_the_server_clock(iam, tmp_path):
    path = tmp_path / "session.yml"
    first = held_after(iam, path)
    iam.advance_clock(seconds=500)  # 400 s left: more than renew_before
    assert run(iam, credentials_file=str(path), **ADMIN_PASSWORD)["changed"] is False
    iam.advance_clock(seconds=150)  # 250 s left: still valid, but due
    before = fingerprint(path)
    result = run(iam, credentials_file=str(path), **ADMIN_PASSWORD)
    assert result["renewed"] is True and "not more than renew_before" in result["reason"], result
    assert held(path).access_key_id != first.access_key_id and result["access_key_id"] == held(path).access_key_id
    assert fingerprint(path) != before


def test_renewed_after_expiry(iam, tmp_path):
    path = tmp_path / "session.yml"
    first = held_after(iam, path)
    iam.advance_clock(seconds=901)
    result = run(iam, credentials_file=str(path), **ADMIN_PASSWORD)
    assert result["renewed"] is True and f"expired at {first.expires_at}" in result["reason"], result
    renewed = held(path)
    assert renewed.access_key_id != first.access_key_id
    # The new key works where the old one is refused.
    client = IamClient(settings_from_params({"iam_endpoint": iam.url, "access_key": renewed.access_key_id,
                                             "secret_key": renewed.secret_access_key,
                                             "security_token": renewed.security_token}))
    assert client.domain_id() == DOMAIN_ID


def test_renew_before_zero_keeps_credentials_to_the_last_second(iam, tmp_path):
    path = tmp_path / "session.yml"
    held_after(iam, path)
    iam.advance_clock(seconds=880)
    assert run(iam, credentials_file=str(path), renew_before=0, **ADMIN_PASSWORD)["renewed"] is False


def test_force_renews_valid_credentials(iam, tmp_path):
    path = tmp_path / "session.yml"
    first = held_after(iam, path)
    result = run(iam, credentials_file=str(path), force=True, **ADMIN_PASSWORD)
    assert result["renewed"] is True and result["reason"] == "force is set"
    assert held(path).access_key_id != first.access_key_id


def test_credentials_of_another_identity_are_renewed(iam, tmp_path):
    path = tmp_path / "session.yml"
    held_after(iam, path)
    result = run(iam, agency_name="ops-agency", credentials_file=str(path), **ADMIN_KEY)
    assert result["renewed"] is True and "not of ops-agency" in result["reason"]
    assert held(path).user_name == "ops-agency"


def test_a_revoked_key_is_renewed(iam, tmp_path):
    path = tmp_path / "session.yml"
    held_after(iam, path)
    iam.reset()  # the server forgets every temporary key
    result = run(iam, credentials_file=str(path), **ADMIN_PASSWORD)
    assert result["renewed"] is True and "no longer accepts" in result["reason"]


@pytest.mark.parametrize("fmt", ["env", "sdk_profile", "obsutil"])
def test_formats_keep_the_expiry_in_a_comment_and_the_key_while_valid(iam, tmp_path, fmt):
    path = tmp_path / f"session.{fmt}"
    assert run(iam, credentials_file=str(path), credentials_format=fmt, **ADMIN_PASSWORD)["renewed"]
    first = held(path, fmt)
    assert first.expires_at
    again = run(iam, credentials_file=str(path), credentials_format=fmt, **ADMIN_PASSWORD)
    assert again["renewed"] is False and again["changed"] is False
    assert held(path, fmt) == first


def test_check_mode_predicts_without_fetching_or_writing(iam, tmp_path):
    path = tmp_path / "session.yml"
    iam.reset_counters()
    result = run(iam, check_mode=True, credentials_file=str(path), **ADMIN_PASSWORD)
    assert (result["changed"], result["renewed"], result["credentials_file_changed"]) == (True, True, True)
    assert result["access_key_id"] == "(new)" and result["diff"]["after"]["access_key_id"] == "(new)"
    assert result["diff"]["after"]["path"] == str(path)
    assert iam.counters()["total"] == 0 and not path.exists()

    first = held_after(iam, path)
    iam.advance_clock(seconds=700)
    before = fingerprint(path)
    iam.reset_counters()
    due = run(iam, check_mode=True, credentials_file=str(path), **ADMIN_PASSWORD)
    assert due["renewed"] is True and due["diff"]["before"]["access_key_id"] == first.access_key_id
    assert iam.counters()["writes"] == 0 and fingerprint(path) == before and held(path) == first


def test_check_mode_on_valid_credentials_reports_no_change(iam, tmp_path):
    path = tmp_path / "session.yml"
    first = held_after(iam, path)
    result = run(iam, check_mode=True, credentials_file=str(path), **ADMIN_PASSWORD)
    assert (result["changed"], result["access_key_id"]) == (False, first.access_key_id)


def test_return_secret_gives_vaulted_values_new_or_kept(iam, tmp_path):
    path = tmp_path / "session.yml"
    fresh = run(iam, credentials_file=str(path), return_secret=True, **ADMIN_PASSWORD)
    creds = held(path)
    assert unvault(fresh["secret_access_key"]) == creds.secret_access_key
    assert unvault(fresh["security_token"]) == creds.security_token
    kept = run(iam, credentials_file=str(path), return_secret=True, **ADMIN_PASSWORD)
    assert kept["renewed"] is False and unvault(kept["security_token"]) == creds.security_token


def test_without_any_destination_the_task_refuses_before_any_request(iam):
    iam.reset_counters()
    result = run(iam, **ADMIN_PASSWORD)
    assert result["failed"] is True and "credentials_file" in result["msg"]
    assert iam.counters()["total"] == 0


def test_token_method_with_an_access_key_fails_clearly_before_any_request(iam, tmp_path):
    iam.reset_counters()
    result = run(iam, credentials_file=str(tmp_path / "x.yml"), **ADMIN_KEY)
    assert result["failed"] is True and "Password authentication is needed for the token method" in result["msg"]
    assert iam.counters()["total"] == 0


def test_a_file_holding_a_permanent_key_is_never_replaced(iam, tmp_path):
    path = tmp_path / "permanent.yml"
    store = VaultedCredentialFile(path=str(path), fmt="yaml", encrypt_secret=VAULT, vault_secrets=[VAULT])
    store.write(Credentials(ADMIN_KEY["access_key"], ADMIN_KEY["secret_key"]), store.read())
    content = path.read_bytes()
    iam.reset_counters()
    result = run(iam, credentials_file=str(path), **ADMIN_PASSWORD)
    assert result["failed"] is True and "permanent access key" in result["msg"]
    assert path.read_bytes() == content and iam.counters()["total"] == 0


def test_an_expired_temporary_key_as_the_caller_fails_with_the_documented_error(iam, tmp_path):
    session = held_after(iam, tmp_path / "session.yml")
    iam.advance_clock(seconds=901)
    result = run(iam, agency_name="ops-agency", credentials_file=str(tmp_path / "ops.yml"),
                 access_key=session.access_key_id, secret_key=session.secret_access_key,
                 security_token=session.security_token)
    assert result["failed"] is True
    assert result["error"]["error_type"] == "SecurityTokenExpired" and result["error"]["code"] == "IAM.1108"
    assert "security token has expired" in result["msg"] and "temporary_access_key" in result["msg"]


def test_a_temporary_key_of_the_admin_can_obtain_an_agency_key(iam, tmp_path):
    session = held_after(iam, tmp_path / "session.yml")
    result = run(iam, agency_name="ops-agency", credentials_file=str(tmp_path / "ops.yml"),
                 access_key=session.access_key_id, secret_key=session.secret_access_key,
                 security_token=session.security_token)
    assert result.get("failed") is not True, result
    assert held(tmp_path / "ops.yml").user_name == "ops-agency"


def test_a_store_failure_after_the_key_was_issued_reports_a_change(iam, tmp_path, monkeypatch):
    def refuse(_self, _creds):
        raise CredentialFileError("disk full")

    monkeypatch.setattr(SecretDestination, "write", refuse)
    result = run(iam, credentials_file=str(tmp_path / "session.yml"), **ADMIN_PASSWORD)
    assert (result["failed"], result["changed"]) == (True, True)
    assert "was issued but could not be stored" in result["msg"] and "disk full" in result["msg"]


def test_two_runs_at_once_fetch_one_key(iam, tmp_path):
    # The file stays locked from the first read to the write, so the second run reads what the
    # first one wrote and keeps it.
    path = tmp_path / "session.yml"
    iam.reset_counters()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: run(iam, credentials_file=str(path), **ADMIN_PASSWORD), range(2)))
    assert iam.counters()["by_operation"].get("create_security_token") == 1
    assert sorted(result["renewed"] for result in results) == [False, True]
    assert {result["access_key_id"] for result in results} == {held(path).access_key_id}


def held_after(iam, path: Path) -> Credentials:
    """Fetch credentials with the token method into ``path`` and return them."""
    result = run(iam, credentials_file=str(path), **ADMIN_PASSWORD)
    assert result.get("failed") is not True, result
    assert os.path.exists(path)
    return held(path)


@pytest.fixture(autouse=True)
def _no_connection_environment(monkeypatch):
    # The connection options fall back to these; a developer's shell must not change the tests.
    for name in list(os.environ):
        if name.startswith(("HUAWEICLOUD_SDK_", "HW_", "OS_")):
            monkeypatch.delenv(name)
