"""The AWX / Automation Platform credential types the collection ships, as AWX would use them.

Each definition in extensions/awx/credential_types is checked the way AWX checks a new credential
type; its injectors are rendered the way AWX renders them for a job (tests/integration/awx_injection.py);
then ansible-playbook runs with exactly the environment and files they produce, against the local
server, which checks every signature and password. AWX's own OpenStack credential is tried the same
way, and one run goes through ansible-runner, the engine AWX runs jobs with.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration import awx_injection
from tests.integration.conftest import ADMIN, BIN, INSTALLED, PLAYBOOKS, REPO, assert_no_secret_in
from tests.integration.test_ecosystem_auth import ADMIN_PASSWORD, DOMAIN_NAME, assert_authenticated

TYPES = REPO / "extensions" / "awx" / "credential_types"
SHIPPED = sorted(path.name for path in TYPES.glob("*.yml"))


def definition(name: str) -> dict:
    return yaml.safe_load((TYPES / name).read_text())


def test_three_types_are_shipped_and_installed_with_the_collection():
    assert SHIPPED == ["access_key.yml", "clouds_yaml.yml", "password.yml"]
    installed = INSTALLED / "ansible_collections" / "keywarden" / "iam" / "extensions" / "awx" / "credential_types"
    assert sorted(path.name for path in installed.glob("*.yml")) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_awx_would_accept_the_definition(name):
    awx_injection.check_definition(definition(name))


def test_the_checks_refuse_what_awx_refuses():
    broken = definition("access_key.yml")
    broken["injectors"]["env"]["HW_REGION_NAME"] = "{{ regoin }}"
    with pytest.raises(Exception, match="regoin"):
        awx_injection.check_definition(broken)


def run_with_credential(workdir, iam, name: str, inputs: dict, **extra_vars):
    env, args = awx_injection.inject(definition(name), inputs, workdir.path / "private_data_dir")
    assert not args, "these types inject no extra vars"
    return workdir.run("ecosystem_auth.yml", env=env, **extra_vars), env


def test_access_key_type(workdir, iam):
    run, env = run_with_credential(workdir, iam, "access_key.yml", {
        "access_key": ADMIN["auth_ak"], "secret_key": ADMIN["auth_sk"], "iam_endpoint": iam.url})
    # Optional fields left empty are injected as empty variables, which must not get in the way.
    assert env["HUAWEICLOUD_SDK_SECURITY_TOKEN"] == "" and env["HW_REGION_NAME"] == ""
    assert_authenticated(workdir, run, iam)


def test_password_type(workdir, iam):
    run, env = run_with_credential(workdir, iam, "password.yml", {
        "auth_username": "admin", "auth_password": ADMIN_PASSWORD, "auth_domain_name": DOMAIN_NAME,
        "iam_endpoint": f"{iam.url}/v3"})
    assert env["HW_USER_PASSWORD"] == ADMIN_PASSWORD
    assert_authenticated(workdir, run, iam)


def clouds_yaml_text(iam, *, password: bool) -> str:
    local = ({"auth": {"auth_url": f"{iam.url}/v3", "username": "admin", "password": ADMIN_PASSWORD,
                       "user_domain_name": DOMAIN_NAME}} if password
             else {"auth": {"auth_url": iam.url}, "ak": ADMIN["auth_ak"], "sk": ADMIN["auth_sk"]})
    return yaml.safe_dump({"clouds": {"local": local, "elsewhere": {
        "profile": "otc", "auth": {"ak": "ELSEWHEREAK", "sk": "elsewhere-sk"}}}})


@pytest.mark.parametrize("password", [False, True], ids=["access key entry", "password entry"])
def test_clouds_yaml_type(workdir, iam, password):
    run, env = run_with_credential(workdir, iam, "clouds_yaml.yml", {
        "clouds_yaml": clouds_yaml_text(iam, password=password), "cloud": "local"})
    written = Path(env["OS_CLIENT_CONFIG_FILE"])
    assert written.parent == workdir.path / "private_data_dir" / "env" and oct(written.stat().st_mode & 0o777) == "0o600"
    assert env["OS_CLOUD"] == "local"
    assert_authenticated(workdir, run, iam)


def test_clouds_yaml_type_with_a_single_entry_needs_no_name(workdir, iam):
    text = yaml.safe_dump({"clouds": {"only": {"auth": {"auth_url": iam.url, "ak": ADMIN["auth_ak"],
                                                        "sk": ADMIN["auth_sk"]}}}})
    run, env = run_with_credential(workdir, iam, "clouds_yaml.yml", {"clouds_yaml": text})
    assert env["OS_CLOUD"] == ""
    assert_authenticated(workdir, run, iam)


def test_awx_builtin_openstack_credential(workdir, iam):
    env = awx_injection.openstack_builtin({
        "host": f"{iam.url}/v3", "username": "admin", "password": ADMIN_PASSWORD, "project": "eu-de",
        "domain": DOMAIN_NAME, "verify_ssl": True}, workdir.path / "private_data_dir")
    assert set(env) == {"OS_CLIENT_CONFIG_FILE"}
    assert_authenticated(workdir, workdir.run("ecosystem_auth.yml", env=env), iam)


def test_through_ansible_runner(workdir, iam, monkeypatch):
    ansible_runner = pytest.importorskip("ansible_runner")
    for name in list(os.environ):
        if name.startswith(("HUAWEICLOUD_SDK_", "HW_", "OS_", "ANSIBLE_")):
            monkeypatch.delenv(name)
    private = workdir.path / "runner"
    env, _args = awx_injection.inject(definition("access_key.yml"), {
        "access_key": ADMIN["auth_ak"], "secret_key": ADMIN["auth_sk"], "iam_endpoint": iam.url}, private)
    (private / "project").mkdir(parents=True)
    env.update({
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_COLLECTIONS_PATH": str(INSTALLED),
        "ANSIBLE_HOME": str(workdir.path / "ansible-home"),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_VAULT_PASSWORD_FILE": str(workdir.vault_password_file),
    })
    result = ansible_runner.run(private_data_dir=str(private), playbook=str(PLAYBOOKS / "ecosystem_auth.yml"),
                                envvars=env, quiet=True, ident="job")
    events = {event["event_data"].get("task"): event["event_data"].get("res", {})
              for event in result.events if event["event"] in ("runner_on_ok", "runner_on_failed")}
    assert result.status == "successful" and result.rc == 0, result.stdout.read()[-3000:]
    listed = sorted(key["access_key_id"] for key in events["access_key_info"]["access_keys"])
    assert listed == sorted(key["access"] for key in iam.keys_of("alice"))
    # The job's output and events (what AWX stores and shows) hold no secret. The injected env/envvars and
    # ansible-runner's own record of the environment it started ansible-playbook with (artifacts/job/command)
    # hold the key by design; AWX deletes the private data directory with the job.
    artifacts = private / "artifacts" / "job"
    shown = [artifacts / "stdout", artifacts / "stderr", *sorted((artifacts / "job_events").glob("*.json"))]
    assert len(shown) > 3
    assert_no_secret_in(iam, "".join(path.read_text(errors="replace") for path in shown if path.exists()))
    assert ADMIN["auth_sk"] in (artifacts / "command").read_text()  # so the search above would have found it
