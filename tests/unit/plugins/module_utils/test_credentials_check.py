"""credentials_check's logic against the local IAM server: every format, every refusal, and the
message a user sees for each, which never quotes the file or its secret."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ansible_collections.keywarden.iam.plugins.module_utils import _credentials_check as check
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import settings_from_params
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import FORMATS, Credentials, render
from ansible_collections.keywarden.iam.plugins.module_utils._transport import HttpResponse, HttpTransport

BOB_AK = "AGR8TBVH47YCZV10V76F"
BOB_SK = "8JaAiBSnmW7wim38GmtdnjabKQk3oARRRUOqPs7Y"
BOB_ID = "c5f43f21f19448e4ae2f751b3d1d739d"
DOMAIN_ID = "c49760f83a274c19af982f4278e7576b"
ADMIN_AK = "CVKK734506UOYW5P4XW2"
ADMIN_SK = "8iXmKEWTu6IAMHt0vln3mwV3rRFpNLTRrsogxD1X"


def bob(**fields) -> Credentials:
    values = {"user_id": BOB_ID, "user_name": "bob", "domain_id": DOMAIN_ID, **fields}
    return Credentials(values.pop("access_key_id", BOB_AK), values.pop("secret_access_key", BOB_SK), **values)


def write(tmp_path: Path, fmt: str, creds: Credentials, name: str = "creds") -> str:
    path = tmp_path / name
    path.write_text(render(fmt, creds))
    path.chmod(0o600)
    return str(path)


def run(path: str, fmt: str, url: str, **options) -> check.Verified:
    creds = check.load(path, fmt, vars_prefix="iam_")
    return check.verify(path, fmt, creds, {"iam_endpoint": url, "timeout": 5, "retries": 0, **options}, environ={})


def failure(path: str, fmt: str, url: str, **options) -> check.VerificationFailed:
    with pytest.raises(check.VerificationFailed) as caught:
        run(path, fmt, url, **options)
    message = str(caught.value)
    assert message.startswith(f"Failed to verify {path}: ")
    assert BOB_SK not in message and "wrong-secret" not in message
    return caught.value


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_verifies_and_names_the_user(iam, tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path, fmt, bob())
    iam.reset_counters()
    verified = run(path, fmt, iam.url)
    assert verified.result() == {
        "path": path, "format": fmt, "access_key_id": BOB_AK, "user_id": BOB_ID, "domain_id": DOMAIN_ID,
        "iam_endpoint": iam.url, "server_time": verified.server_time, "verified": True,
    }
    # csv records no domain id: it is learnt first, with the one call that needs none
    expected = {"list_credentials": 1} if fmt != "csv" else {"list_credentials": 1, "list_domains": 1}
    assert iam.counters()["by_operation"] == expected
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", verified.server_time)


def test_server_time_is_the_iam_clock_not_this_hosts(iam, tmp_path: Path) -> None:
    iam.advance_clock(days=3)
    verified = run(write(tmp_path, "env", bob()), "env", iam.url)
    seen = datetime.strptime(verified.server_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs((seen - datetime.now(timezone.utc)).total_seconds() - 3 * 86400) < 60


def test_the_files_endpoint_is_used_unless_the_task_names_one(iam, tmp_path: Path) -> None:
    path = write(tmp_path, "env", bob(iam_endpoint=iam.url))
    creds = check.load(path, "env", vars_prefix="iam_")
    assert check.verify(path, "env", creds, {"timeout": 5, "retries": 0}, environ={}).iam_endpoint == iam.url
    # a task's own endpoint wins: here one where nothing listens
    error = failure(path, "env", "http://127.0.0.1:9")
    assert "could not reach http://127.0.0.1:9" in str(error)


def test_a_temporary_key_sends_its_security_token(iam, tmp_path: Path) -> None:
    admin = iam.user("admin")
    client = IamClient(settings_from_params({"iam_endpoint": iam.url, "auth_username": "admin",
                                             "auth_password": admin["password"],
                                             "auth_domain_name": "keywarden-demo"}, environ={}))
    temporary = client.create_temporary_key(duration_seconds=900)
    creds = Credentials(temporary.access_key_id, temporary.secret_access_key, security_token=temporary.security_token,
                        expires_at=None, domain_id=DOMAIN_ID)
    verified = run(write(tmp_path, "env", creds), "env", iam.url)
    assert verified.access_key_id == temporary.access_key_id
    assert verified.user_id == admin["id"]  # from the user's permanent keys, which the list shows


def test_a_deleted_key_is_refused(iam, tmp_path: Path) -> None:
    admin = IamClient(settings_from_params({"iam_endpoint": iam.url, "access_key": ADMIN_AK, "secret_key": ADMIN_SK},
                                           environ={}))
    path = write(tmp_path, "yaml", bob())
    admin.delete_key(BOB_AK)
    error = failure(path, "yaml", iam.url)
    assert f"IAM did not accept the key {BOB_AK}" in str(error)
    assert "The key was deleted, or the file holds another secret" in str(error)
    assert error.details()["status"] == 401
    assert error.access_key_id == BOB_AK


def test_an_inactive_key_is_refused(iam, tmp_path: Path) -> None:
    key = iam.add_key("bob", status="inactive")
    path = write(tmp_path, "sdk_profile", bob(access_key_id=key["access"], secret_access_key=key["secret"]))
    error = failure(path, "sdk_profile", iam.url)
    assert "the access key is inactive" in str(error)
    assert "Activate the key again (keywarden.iam.access_key)" in str(error)
    assert error.details()["code"] == "IAM.1107"


def test_a_wrong_secret_is_refused(iam, tmp_path: Path) -> None:
    path = write(tmp_path, "obsutil", bob(secret_access_key="wrong-secret"))
    error = failure(path, "obsutil", iam.url)
    assert "HTTP 401" in str(error) and "deliver the account's current key to this host again" in str(error)


def test_another_accounts_domain_id_is_refused(iam, tmp_path: Path) -> None:
    path = write(tmp_path, "env", bob(domain_id="0" * 32))
    assert "HTTP 401" in str(failure(path, "env", iam.url))


def test_a_host_clock_off_by_more_than_15_minutes(iam, tmp_path: Path) -> None:
    iam.set_skew(20 * 60)
    error = failure(write(tmp_path, "env", bob()), "env", iam.url)
    assert "signature has expired" in str(error) and "synchronise it (NTP" in str(error)


def test_a_file_that_names_another_user_is_refused(iam, tmp_path: Path) -> None:
    path = write(tmp_path, "yaml", bob(user_id="f" * 32))
    error = failure(path, "yaml", iam.url)
    assert f"it says the key {BOB_AK} belongs to user {'f' * 32}, but IAM says user {BOB_ID}" in str(error)


def test_a_policy_denial_still_proves_the_key(tmp_path: Path) -> None:
    # Authenticated, but refused the list (as with Access Key Management on some clouds).
    denied = json.dumps({"error_msg": "You are not authorized", "error_code": "IAM.0002"}).encode()
    transport = Canned([HttpResponse(403, {"Date": "Mon, 02 Mar 2026 08:00:00 GMT"}, denied)])
    path = write(tmp_path, "env", bob())
    verified = check.verify(path, "env", bob(), {"iam_endpoint": "https://iam.example.com", "retries": 0},
                            environ={}, transport=transport)
    assert verified.user_id == BOB_ID and verified.server_time == "2026-03-02T08:00:00Z"
    assert "did not let it list its own access keys" in verified.warnings[0]


def test_a_disabled_user_is_refused(tmp_path: Path) -> None:
    disabled = json.dumps({"error_msg": "The user is disabled", "error_code": "IAM.0081"}).encode()
    path = write(tmp_path, "env", bob())
    with pytest.raises(check.VerificationFailed, match="The key or its user is disabled"):
        check.verify(path, "env", bob(), {"iam_endpoint": "https://iam.example.com", "retries": 0}, environ={},
                     transport=Canned([HttpResponse(403, {}, disabled)]))


def test_no_date_header_gives_no_server_time(tmp_path: Path) -> None:
    listed = json.dumps({"credentials": [{"access": BOB_AK, "user_id": BOB_ID, "status": "active",
                                          "create_time": "2026-01-01T00:00:00Z"}]}).encode()
    verified = check.verify("f", "env", bob(), {"iam_endpoint": "https://iam.example.com"}, environ={},
                            transport=Canned([HttpResponse(200, {}, listed)]))
    assert verified.server_time is None and verified.user_id == BOB_ID


@pytest.mark.parametrize(("content", "fmt", "why"), [
    (None, "env", "the file does not exist. Deliver the credentials to this host first"),
    ("", "env", "it holds no access key in the env format"),
    ("HUAWEICLOUD_SDK_SK=" + BOB_SK + "\n", "env", "it does not hold valid env credentials (env credentials hold"),
    ("iam_access_key: [" + BOB_SK + "]\n", "yaml", "it does not hold valid yaml credentials"),
    (b"\xff\xfe" + BOB_SK.encode(), "csv", "it is not UTF-8 text"),
])
def test_files_that_hold_no_usable_key(tmp_path: Path, content, fmt: str, why: str) -> None:
    path = tmp_path / "creds"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(check.VerificationFailed) as caught:
        check.load(str(path), fmt, vars_prefix="iam_")
    assert str(caught.value).startswith(f"Failed to verify {path}: {why}")
    assert BOB_SK not in str(caught.value)


def test_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(check.VerificationFailed, match="it is a FIFO \\(named pipe\\), not a regular file"):
        check.load(str(fifo), "env", vars_prefix="iam_")  # and does not hang
    with pytest.raises(check.VerificationFailed, match="it is a directory, not a regular file"):
        check.load(str(tmp_path), "env", vars_prefix="iam_")


def test_links_are_followed_as_the_consumer_follows_them(tmp_path: Path) -> None:
    real = write(tmp_path, "env", bob())
    (tmp_path / "link").symlink_to(real)
    assert check.load(str(tmp_path / "link"), "env", vars_prefix="iam_") == bob()


def test_an_unreadable_file(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path, "env", bob())

    def refuse(*_args, **_kwargs):  # as for a user other than the file's (root reads anything)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(check.os, "open", refuse)
    with pytest.raises(check.VerificationFailed, match=r"may not read it\. Run the task as the user"):
        check.load(path, "env", vars_prefix="iam_")


def test_a_file_every_user_can_read_draws_a_warning(iam, tmp_path: Path) -> None:
    path = write(tmp_path, "env", bob())
    os.chmod(path, 0o644)
    assert "readable by every user of this host (mode 0644)" in run(path, "env", iam.url).warnings[0]


def test_bad_endpoint_options_fail_before_any_request(tmp_path: Path) -> None:
    path = write(tmp_path, "env", bob())
    with pytest.raises(check.VerificationFailed, match="Correct the endpoint options"):
        check.verify(path, "env", bob(), {"iam_endpoint": "ftp://example.com"}, environ={},
                     transport=Canned([]))


def test_the_environment_never_supplies_the_key(iam, tmp_path: Path) -> None:
    # An administrator's key in the host's environment must not stand in for the file's.
    path = write(tmp_path, "env", bob(secret_access_key="wrong-secret"))
    environ = {"HUAWEICLOUD_SDK_AK": ADMIN_AK, "HUAWEICLOUD_SDK_SK": ADMIN_SK, "HUAWEICLOUD_SDK_DOMAIN_ID": "0" * 32}
    creds = check.load(path, "env", vars_prefix="iam_")
    with pytest.raises(check.VerificationFailed, match="HTTP 401"):
        check.verify(path, "env", creds, {"iam_endpoint": iam.url, "retries": 0}, environ=environ)


class Canned(HttpTransport):
    """Answers with the given responses in turn."""

    def __init__(self, responses: list) -> None:
        super().__init__(timeout=5, validate_certs=True, ca_path=None)
        self.responses = list(responses)

    def send(self, method: str, url: str, headers: dict, body: bytes) -> HttpResponse:
        assert self.responses, f"unexpected request {method} {url}"
        return self.responses.pop(0)


def test_a_clouds_yaml_entry_gives_the_endpoint_never_the_key(iam, tmp_path: Path) -> None:
    # The entry holds the administrator's key; the host's environment happens to hold the file's
    # access key id (so the options cannot tell the file's key from the environment's).
    clouds = tmp_path / "clouds.json"
    clouds.write_text(json.dumps({"clouds": {"ops": {"auth": {"auth_url": iam.url, "ak": ADMIN_AK, "sk": ADMIN_SK}}}}))
    environ = {"OS_CLIENT_CONFIG_FILE": str(clouds), "HUAWEICLOUD_SDK_AK": BOB_AK}
    path = write(tmp_path, "env", bob(secret_access_key="wrong-secret"))
    creds = check.load(path, "env", vars_prefix="iam_")
    with pytest.raises(check.VerificationFailed, match="HTTP 401"):
        check.verify(path, "env", creds, {"cloud": "ops", "retries": 0}, environ=environ)
    path = write(tmp_path, "env", bob(), name="good")
    verified = check.verify(path, "env", check.load(path, "env", vars_prefix="iam_"), {"cloud": "ops", "retries": 0},
                            environ=environ)
    assert (verified.iam_endpoint, verified.user_id) == (iam.url, BOB_ID)


def test_certificate_checks_turned_off_draw_a_warning(iam, tmp_path: Path) -> None:
    verified = run(write(tmp_path, "env", bob()), "env", iam.url, validate_certs=False)
    assert any("validate_certs is false" in warning for warning in verified.warnings)
