"""credentials_check, the credentials lookup and the fleet_credentials role, through ansible-playbook
against the local IAM server. Every run is at -vvvv and searched for every secret the server ever
issued (conftest.Workdir.run)."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import settings_from_params
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import (
    FORMATS,
    Credentials,
    parse,
    render,
)
from tests.integration.conftest import ADMIN

DOMAIN_ID = "c49760f83a274c19af982f4278e7576b"
PYTHON_38 = next((path for path in ("/usr/bin/python3.8", "/root/.pyenv/versions/3.8.18/bin/python3.8")
                  if os.access(path, os.X_OK)), None)


def recap_changed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output.split("PLAY RECAP")[-1]))


def admin(iam) -> IamClient:
    return IamClient(settings_from_params({"iam_endpoint": iam.url, "access_key": ADMIN["auth_ak"],
                                           "secret_key": ADMIN["auth_sk"]}, environ={}))


def key_of(iam, user: str, access_key_id: str | None = None, **fields) -> Credentials:
    """A key the server holds (the user's first, or the one named), with its user and account."""
    record = iam.user(user)
    key = next(k for k in record["keys"] if access_key_id in (None, k["access"]))
    return Credentials(key["access"], key["secret"], user_id=record["id"], user_name=user,
                       domain_id=record["domain_id"], **fields)


def deleted_key(iam) -> Credentials:
    added = iam.add_key("bob")
    creds = key_of(iam, "bob", added["access"])
    admin(iam).delete_key(added["access"])
    return creds


def inactive_key(iam) -> Credentials:
    return key_of(iam, "bob", iam.add_key("bob", status="inactive")["access"])


def fleet(workdir, hosts=("web1", "web2")) -> Path:
    inventory = workdir.path / "fleet.ini"
    lines = ["[fleet]"]
    for host in hosts:
        (workdir.path / host).mkdir(exist_ok=True)
        # web1's files go to nobody; web2's stay root's (the tests run as root, or skip owners)
        owner, group = ("nobody", "nogroup") if host == "web1" and os.geteuid() == 0 else ("", "")
        lines.append(f"{host} ansible_connection=local host_dir={workdir.path / host} "
                     f"file_owner='{owner}' file_group='{group}'")
    inventory.write_text("\n".join(lines) + "\n")
    return inventory


# ---- credentials_check -------------------------------------------------------------------------

def test_credentials_check_every_format_and_every_refusal(workdir, iam):
    bob = key_of(iam, "bob")
    checks = []
    for fmt in FORMATS:
        path = workdir.path / f"bob.{fmt}"
        path.write_text(render(fmt, bob))
        checks.append({"path": str(path), "format": fmt})
    refused = {"deleted": deleted_key(iam), "inactive": inactive_key(iam),
               "wrong-secret": Credentials(bob.access_key_id, "W" * 40, domain_id=DOMAIN_ID)}
    for name, creds in refused.items():
        path = workdir.path / f"{name}.env"
        path.write_text(render("env", creds))
        checks.append({"path": str(path), "format": "env"})
    checks.append({"path": str(workdir.path / "missing.env"), "format": "env"})

    run = workdir.run("credentials_check.yml", checks=checks)
    assert run.rc == 0, run.output
    results = run.result("credentials_check")["results"]
    for result in results[:len(FORMATS)]:
        assert not result.get("failed"), result
        assert result["changed"] is False and result["verified"] is True
        assert (result["access_key_id"], result["user_id"], result["domain_id"]) == (
            bob.access_key_id, bob.user_id, DOMAIN_ID)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", result["server_time"])
    deleted, inactive, wrong, missing = results[len(FORMATS):]
    assert deleted["failed"] and deleted["verified"] is False
    assert deleted["msg"].startswith(f"Failed to verify {checks[5]['path']}: IAM did not accept the key "
                                     f"{refused['deleted'].access_key_id}: ")
    assert "The key was deleted" in deleted["msg"]
    assert inactive["failed"] and "the access key is inactive" in inactive["msg"]
    assert inactive["error"]["code"] == "IAM.1107"
    assert wrong["failed"] and wrong["error"]["status"] == 401
    assert missing["failed"] and "the file does not exist" in missing["msg"]
    assert "W" * 40 not in run.output  # the wrong secret is no issued secret: look for it here
    in_check_mode = run.result("credentials_check in check mode")
    assert in_check_mode["verified"] is True and in_check_mode["changed"] is False


@pytest.mark.skipif(PYTHON_38 is None, reason="no Python 3.8 on this machine")
def test_credentials_check_runs_on_python_3_8(workdir, iam):
    path = workdir.path / "bob.env"
    path.write_text(render("env", key_of(iam, "bob")))
    run = workdir.run("credentials_check.yml", checks=[{"path": str(path), "format": "env"}],
                      ansible_python_interpreter=PYTHON_38)
    assert run.rc == 0, run.output
    result = run.result("credentials_check")["results"][0]
    assert result["verified"] is True, result
    assert f"EXEC /bin/sh -c '{PYTHON_38} " in run.output  # the module ran on it


# ---- the lookup --------------------------------------------------------------------------------

def test_lookup_reads_every_format_vaulted_or_plain_and_never_shows_the_secret(workdir, iam):
    bob = key_of(iam, "bob")
    sources = []
    for fmt in FORMATS:
        for vaulted in (True, False):
            path = workdir.path / f"bob-{'vaulted' if vaulted else 'plain'}.{fmt}"
            if vaulted:
                workdir.write_vaulted(path, render(fmt, bob))
            else:
                path.write_text(render(fmt, bob))
            sources.append({"path": str(path), "format": fmt})
    run = workdir.run("credentials_lookup.yml", sources=sources)
    assert run.rc == 0, run.output
    shown = run.result("Show what each file holds")["results"]
    for source, result in zip(sources, shown):
        held = result["ansible_facts"]["shown"]
        assert (held["access_key_id"], held["user_name"]) == (bob.access_key_id, "bob")
        assert held["domain_id"] == (None if source["format"] == "csv" else DOMAIN_ID)
    signed = run.result("Sign a request with each key")["results"]
    assert [result["user_id"] for result in signed] == [bob.user_id] * len(sources)


# ---- the fleet_credentials role ----------------------------------------------------------------

def delivered(host_dir: Path, *, csv: bool = True) -> dict:
    files = {"env": "iam.env", "sdk_profile": "credentials", "obsutil": ".obsutilconfig", "csv": "credentials.csv",
             "yaml": "iam.yml"}
    return {fmt: parse(fmt, (host_dir / name).read_text(), vars_prefix="app_") for fmt, name in files.items()
            if csv or fmt != "csv"}


def test_fleet_role_delivers_every_format_with_owner_and_mode_once(workdir, iam):
    bob = key_of(iam, "bob")
    source = workdir.path / "bob.yml"
    workdir.write_vaulted(source, render("yaml", bob))
    inventory = fleet(workdir)

    checked = workdir.run("fleet_credentials.yml", inventory=inventory, check=True, source=str(source), **ADMIN)
    assert checked.rc == 0, checked.output
    assert not any((workdir.path / host / "iam.env").exists() for host in ("web1", "web2"))

    run = workdir.run("fleet_credentials.yml", inventory=inventory, source=str(source), **ADMIN)
    assert run.rc == 0, run.output
    for host in ("web1", "web2"):
        host_dir = workdir.path / host
        held = delivered(host_dir)
        for fmt, creds in held.items():
            assert (creds.access_key_id, creds.secret_access_key) == (bob.access_key_id, bob.secret_access_key)
            if fmt != "csv":  # the console's csv has no place for ids
                assert (creds.user_id, creds.user_name, creds.domain_id) == (bob.user_id, "bob", DOMAIN_ID), fmt
        assert held["csv"].user_name == "bob"
        assert held["obsutil"].obs_endpoint == "https://obs.example.com"
        assert "HUAWEICLOUD_SDK_DOMAIN_ID=" + DOMAIN_ID in (host_dir / "iam.env").read_text()
        modes = {name: stat.S_IMODE((host_dir / name).stat().st_mode) for name in ("iam.env", "credentials")}
        assert modes == {"iam.env": 0o600, "credentials": 0o640}
        assert (host_dir / "reloads").read_text() == "reloaded\n"  # one handler run for five files
        recorded = [entry for entry in run.results if entry["host"] == host
                    and entry["task"].endswith("Record the delivered files (no secret) in fleet_credentials_delivered")]
        facts = recorded[-1]["result"]["results"][-1]["ansible_facts"]
        assert facts["fleet_credentials_delivered"] == [
            {"format": fmt, "path": str(host_dir / name), "vars_prefix": "app_" if fmt == "yaml" else "iam_",
             "access_key_id": bob.access_key_id, "changed": True}
            for fmt, name in (("env", "iam.env"), ("sdk_profile", "credentials"), ("obsutil", ".obsutilconfig"),
                              ("csv", "credentials.csv"), ("yaml", "iam.yml"))]
    if os.geteuid() == 0:
        web1 = workdir.path / "web1"
        assert (web1 / ".obsutilconfig").stat().st_uid == 65534
        assert (web1 / "credentials").stat().st_gid == 65534
        assert (web1 / "credentials.csv").stat().st_uid == 65534

    again = workdir.run("fleet_credentials.yml", inventory=inventory, source=str(source), **ADMIN)
    assert again.rc == 0 and recap_changed(again.output) == 0, again.output
    assert (workdir.path / "web1" / "reloads").read_text() == "reloaded\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="become needs root here (su, no password)")
def test_fleet_role_checks_the_key_in_process_even_when_the_play_becomes_root(workdir, iam):
    # With become, the delegated check would run as a module, with the admin secret in its arguments.
    source = workdir.path / "bob.yml"
    workdir.write_vaulted(source, render("yaml", key_of(iam, "bob")))
    run = workdir.run("fleet_credentials.yml", inventory=fleet(workdir, hosts=("web1",)), source=str(source),
                      play_become=True, formats=["env"], **ADMIN)
    assert run.rc == 0, run.output
    assert "keywarden.iam.access_key_info: running in-process on the controller" in run.output


@pytest.mark.parametrize("source_format", ["env", "sdk_profile", "obsutil", "csv"])
def test_fleet_role_reads_every_source_format(workdir, iam, source_format):
    bob = key_of(iam, "bob")
    source = workdir.path / f"bob.{source_format}"
    text = render(source_format, bob)
    if source_format == "csv":  # the console's download: a name, no ids
        workdir.write_vaulted(source, text)
    else:
        source.write_text(text)
    run = workdir.run("fleet_credentials.yml", inventory=fleet(workdir, hosts=("web1",)), source=str(source),
                      source_format=source_format, **ADMIN)
    assert run.rc == 0, run.output
    held = delivered(workdir.path / "web1")
    assert held["env"].access_key_id == bob.access_key_id and held["env"].secret_access_key == bob.secret_access_key
    assert held["env"].domain_id == (None if source_format == "csv" else DOMAIN_ID)


@pytest.mark.parametrize(("make_key", "why"), [(deleted_key, "no longer exists"), (inactive_key, "is inactive")])
def test_fleet_role_refuses_a_key_that_cannot_work(workdir, iam, make_key, why):
    creds = make_key(iam)
    source = workdir.path / "stale.yml"
    workdir.write_vaulted(source, render("yaml", creds))
    run = workdir.run("fleet_credentials.yml", inventory=fleet(workdir), source=str(source), **ADMIN)
    assert run.rc != 0
    assert f"The key {creds.access_key_id} in {source} {why}" in " ".join(run.output.split())
    assert failed_hosts(run) == {"web1", "web2"}
    assert not any((workdir.path / host / "iam.env").exists() for host in ("web1", "web2"))


def test_fleet_role_asks_for_the_user_when_the_source_does_not_say(workdir, iam):
    bob = key_of(iam, "bob")
    source = workdir.path / "obsutilconfig"
    source.write_text(render("obsutil", Credentials(bob.access_key_id, bob.secret_access_key)))
    inventory = fleet(workdir, hosts=("web1",))
    run = workdir.run("fleet_credentials.yml", inventory=inventory, source=str(source), source_format="obsutil",
                      **ADMIN)
    assert run.rc != 0
    assert "set fleet_credentials_user_id to the ID of the key's user" in " ".join(run.output.split())
    run = workdir.run("fleet_credentials.yml", inventory=inventory, source=str(source), source_format="obsutil",
                      key_user_id=bob.user_id, **ADMIN)
    assert run.rc == 0, run.output
    assert delivered(workdir.path / "web1")["env"].access_key_id == bob.access_key_id


def test_fleet_role_delivers_a_temporary_key_while_it_lasts(workdir, iam):
    bob = iam.user("bob")
    client = IamClient(settings_from_params({"iam_endpoint": iam.url, "auth_username": "bob",
                                             "auth_password": bob["password"], "auth_domain_name": "keywarden-demo"},
                                            environ={}))
    temporary = client.create_temporary_key(duration_seconds=900)
    creds = Credentials(temporary.access_key_id, temporary.secret_access_key, security_token=temporary.security_token,
                        expires_at=temporary.expires_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), user_id=bob["id"],
                        domain_id=DOMAIN_ID)
    source = workdir.path / "temporary.env"
    workdir.write_vaulted(source, render("env", creds))
    inventory = fleet(workdir, hosts=("web1",))
    refused = workdir.run("fleet_credentials.yml", inventory=inventory, source=str(source), source_format="env",
                          **ADMIN)
    assert refused.rc != 0
    assert "the csv format cannot hold the security token it needs" in " ".join(refused.output.split())
    run = workdir.run("fleet_credentials.yml", inventory=inventory, source=str(source), source_format="env",
                      formats=["env", "sdk_profile", "obsutil", "yaml"], **ADMIN)
    assert run.rc == 0, run.output
    held = delivered(workdir.path / "web1", csv=False)
    assert {c.security_token for c in held.values()} == {temporary.security_token}
    assert held["env"].expires_at == creds.expires_at
    # the check that proves the delivered file works, from the host
    check = workdir.run("credentials_check.yml", checks=[{"path": str(workdir.path / "web1" / "iam.env"),
                                                          "format": "env"}])
    assert check.result("credentials_check")["results"][0]["verified"] is True

    expired = workdir.path / "expired.env"
    workdir.write_vaulted(expired, render("env", replace(creds, expires_at="2020-01-01T00:00:00Z")))
    run = workdir.run("fleet_credentials.yml", inventory=inventory, source=str(expired), source_format="env",
                      formats=["env"], **ADMIN)
    assert run.rc != 0
    assert f"The temporary key {temporary.access_key_id} in {expired} expired at 2020-01-01T00:00:00Z" in " ".join(
        run.output.split())


def failed_hosts(run) -> set:
    recap = run.output.split("PLAY RECAP")[-1]
    return set(re.findall(r"^(\S+)\s+:.*failed=[1-9]", recap, re.MULTILINE))


def test_fleet_role_says_why_it_cannot_read_the_source_and_fails_every_host(workdir, iam):
    source = workdir.path / "missing.yml"
    run = workdir.run("fleet_credentials.yml", inventory=fleet(workdir), source=str(source), **ADMIN)
    assert run.rc != 0
    assert f"Cannot read {source}: the file does not exist" in run.output
    assert failed_hosts(run) == {"web1", "web2"}


def test_fleet_role_without_credentials_for_the_check_fails_every_host(workdir, iam):
    source = workdir.path / "bob.yml"
    workdir.write_vaulted(source, render("yaml", key_of(iam, "bob")))
    run = workdir.run("fleet_credentials.yml", inventory=fleet(workdir), source=str(source), auth_ak="", auth_sk="")
    assert run.rc != 0
    assert "Cannot check that the key AGR8TBVH47YCZV10V76F in" in " ".join(run.output.split())
    assert failed_hosts(run) == {"web1", "web2"}
    assert not (workdir.path / "web1" / "iam.env").exists()
