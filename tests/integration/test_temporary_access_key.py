"""keywarden.iam.temporary_access_key end to end: ansible-playbook against the local IAM-compatible server.

Every run's output, log and recorded results are searched for every secret the server ever
issued, temporary secret keys and security tokens included (see conftest.py), so each test here
is also a leak test at -vvvv. The server's data clock is moved to age the stored credentials.
"""

from __future__ import annotations

import stat

import pytest
import yaml

from tests.integration.conftest import ADMIN

TASK = "temporary_access_key"
PLAYBOOK = "temporary_access_key.yml"
PASSWORD = {"auth_username": "admin", "auth_password": "Admin-Demo-Passw0rd", "auth_domain_name": "keywarden-demo"}
DOMAIN_ID = "c49760f83a274c19af982f4278e7576b"


def held(workdir, path) -> dict:
    return yaml.safe_load(workdir.decrypt(path))


def server_temporary_key(iam, access: str) -> dict:
    return next(key for key in iam.state()["temporary_keys"] if key["access"] == access)


def fingerprint(path) -> tuple:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def fetch(workdir, path, **options) -> dict:
    run = workdir.run(PLAYBOOK, credentials_file=str(path), **(options or PASSWORD))
    assert run.rc == 0, run.output
    return run.result(TASK)


def test_token_method_writes_vaulted_credentials_then_changes_nothing(workdir, iam):
    path = workdir.path / "session.yml"
    result = fetch(workdir, path)
    assert (result["changed"], result["renewed"], result["method"]) == (True, True, "token")
    creds = held(workdir, path)
    server = server_temporary_key(iam, creds["iam_access_key"])
    assert (creds["iam_secret_key"], creds["iam_security_token"]) == (server["secret"], server["security_token"])
    assert creds["iam_expires_at"] == server["expires_at"] == result["expires_at"]
    assert (creds["iam_user_name"], creds["iam_domain_id"]) == ("admin", DOMAIN_ID)
    assert result["access_key_id"] == creds["iam_access_key"]
    assert path.read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The leak check of every run covers the security token too.
    assert server["security_token"] in iam.issued_secrets()

    before = fingerprint(path)
    iam.reset_counters()
    again = workdir.run(PLAYBOOK, credentials_file=str(path), **PASSWORD)
    assert again.rc == 0, again.output
    assert (again.result(TASK)["changed"], again.result(TASK)["renewed"]) == (False, False)
    assert iam.counters()["writes"] == 0
    assert fingerprint(path) == before


def test_agency_method_with_an_access_key(workdir, iam):
    path = workdir.path / "ops.yml"
    result = fetch(workdir, path, agency_name="ops-agency", session_user="pipeline", duration_seconds=3600,
                   policy={"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["iam:credentials:*"]}]},
                   **ADMIN)
    assert (result["changed"], result["method"]) == (True, "agency")
    creds = held(workdir, path)
    server = server_temporary_key(iam, creds["iam_access_key"])
    assert server["agency_id"] and server["session_name"] == "pipeline" and server["user_id"] is None
    assert creds["iam_user_name"] == "ops-agency" and creds["iam_security_token"] == server["security_token"]
    assert 3590 <= result["expires_in"] <= 3600
    iam.reset_counters()
    assert fetch(workdir, path, agency_name="ops-agency", **ADMIN)["changed"] is False
    assert iam.counters()["writes"] == 0


def test_renewed_before_expiry_by_the_server_clock(workdir, iam):
    path = workdir.path / "session.yml"
    first = fetch(workdir, path)
    iam.advance_clock(seconds=500)  # 400 s left, more than renew_before (300)
    before = fingerprint(path)
    assert fetch(workdir, path)["changed"] is False and fingerprint(path) == before
    iam.advance_clock(seconds=150)  # 250 s left: still valid on the server, but due
    iam.reset_counters()
    result = fetch(workdir, path)
    assert result["renewed"] is True and "not more than renew_before" in result["reason"]
    assert iam.counters()["by_operation"].get("create_security_token") == 1
    assert held(workdir, path)["iam_access_key"] == result["access_key_id"] != first["access_key_id"]


def test_renewed_after_expiry_by_the_server_clock(workdir, iam):
    path = workdir.path / "session.yml"
    first = fetch(workdir, path)
    iam.advance_clock(seconds=901)
    result = fetch(workdir, path)
    assert result["renewed"] is True and "expired" in result["reason"]
    assert held(workdir, path)["iam_access_key"] == result["access_key_id"] != first["access_key_id"]


def test_check_mode_reports_the_renewal_and_changes_nothing(workdir, iam):
    path = workdir.path / "session.yml"
    iam.reset_counters()
    run = workdir.run(PLAYBOOK, check=True, credentials_file=str(path), **PASSWORD)
    assert run.rc == 0, run.output
    result = run.result(TASK)
    assert (result["changed"], result["renewed"], result["credentials_file_changed"]) == (True, True, True)
    assert iam.counters()["writes"] == 0 and not path.exists()

    first = fetch(workdir, path)
    iam.advance_clock(seconds=700)
    content = path.read_bytes()
    iam.reset_counters()
    run = workdir.run(PLAYBOOK, check=True, credentials_file=str(path), **PASSWORD)
    result = run.result(TASK)
    assert result["changed"] is True and result["access_key_id"] == "(new)"
    # Diff mode: ids and expiry only (every run is searched for secrets).
    assert result["diff"]["before"]["access_key_id"] == first["access_key_id"]
    assert result["diff"]["after"]["access_key_id"] == "(new)"
    assert set(result["diff"]["after"]) == {"access_key_id", "expires_at", "path"}
    assert iam.counters()["writes"] == 0 and path.read_bytes() == content


@pytest.mark.parametrize("caller", [
    pytest.param(PASSWORD, id="token method"),
    pytest.param({**ADMIN, "agency_name": "ops-agency"}, id="agency method"),
])
def test_a_temporary_key_manages_permanent_keys(workdir, iam, caller):
    bob_before = {key["access"] for key in iam.keys_of("bob")}
    permanent = workdir.path / "bob.yml"
    run = workdir.run("temporary_chain.yml", credentials_file=str(workdir.path / "session.yml"),
                      permanent_file=str(permanent), user_name="bob", **caller)
    assert run.rc == 0, run.output
    result = run.result("access_key")
    assert result["changed"] is True and len(result["created"]) == 1
    bob_after = {key["access"]: key for key in iam.keys_of("bob")}
    # The task's only credentials were the temporary key's: it signed the list, create and verify.
    assert set(bob_after) == bob_before | {result["created"][0]}
    assert held(workdir, permanent)["iam_secret_key"] == bob_after[result["created"][0]]["secret"]


def test_a_stored_temporary_key_signs_later_plays_until_it_expires(workdir, iam):
    session = workdir.path / "session.yml"
    fetch(workdir, session)
    permanent = workdir.path / "bob.yml"
    ok = workdir.run("temporary_use.yml", credentials_file=str(session), permanent_file=str(permanent),
                     user_name="bob")
    assert ok.rc == 0, ok.output

    iam.advance_clock(seconds=901)
    expired = workdir.run("temporary_use.yml", credentials_file=str(session), permanent_file=str(permanent),
                          user_name="bob")
    assert expired.rc != 0
    result = expired.result("access_key")
    assert result["error"]["code"] == "IAM.1108" and result["error"]["error_type"] == "SecurityTokenExpired"
    assert "the security token has expired" in result["msg"]
    assert "obtain a new one (keywarden.iam.temporary_access_key)" in result["msg"]


def test_return_secret_is_vaulted_and_usable_later(workdir, iam):
    run = workdir.run(PLAYBOOK, return_secret=True, **PASSWORD)
    assert run.rc == 0, run.output
    result = run.result(TASK)
    assert result["secret_access_key"] == "<redacted>" and result["security_token"] == "<redacted>"
    assert run.result("use the vaulted secrets in a later task").get("failed") is not True


def test_token_method_with_an_access_key_fails_clearly_before_any_request(workdir, iam):
    iam.reset_counters()
    run = workdir.run(PLAYBOOK, credentials_file=str(workdir.path / "x.yml"), **ADMIN)
    assert run.rc != 0
    message = run.result(TASK)["msg"]
    assert "Password authentication is needed for the token method" in message and "method agency" in message
    assert iam.counters()["total"] == 0


def test_csv_is_refused(workdir, iam):
    run = workdir.run(PLAYBOOK, credentials_file=str(workdir.path / "x.csv"), credentials_format="csv", **PASSWORD)
    assert run.rc != 0 and "credentials_format" in run.result(TASK)["msg"]
