"""Real playbook runs configured only the way the surrounding tools are: the Terraform providers' and the
vendor SDK's environment variables, and clouds.yaml. The local server checks every signature and
password, so a run that lists alice's keys proves the settings reached the requests.

Each run searches its screen output, log and results for the server's secrets (conftest.py) and,
here, for the password too.
"""

from __future__ import annotations

import pytest
import yaml

from tests.integration.conftest import ADMIN

ADMIN_PASSWORD = "Admin-Demo-Passw0rd"
DOMAIN_NAME = "keywarden-demo"
DOMAIN_ID = "c49760f83a274c19af982f4278e7576b"


def everything(workdir) -> str:
    """Screen output aside, what the latest run left: its log and its recorded results."""
    run_dir = workdir.path / f"run{workdir.runs}"
    return "".join(path.read_text() for path in (run_dir / "ansible.log", run_dir / "results.jsonl")
                   if path.exists())


def assert_authenticated(workdir, run, iam) -> None:
    assert run.rc == 0, run.output[-3000:]
    listed = sorted(key["access_key_id"] for key in run.result("access_key_info")["access_keys"])
    assert listed == sorted(key["access"] for key in iam.keys_of("alice"))
    planned = run.result("access_key")
    assert planned["changed"] is False and not planned.get("failed"), planned
    for text in (run.output, everything(workdir)):
        assert ADMIN_PASSWORD not in text


ENVIRONMENTS = {
    "terraform huaweicloud, access key": lambda url: {
        "HW_AUTH_URL": f"{url}/v3", "HW_ACCESS_KEY": ADMIN["auth_ak"], "HW_SECRET_KEY": ADMIN["auth_sk"],
        "HW_DOMAIN_ID": DOMAIN_ID},
    "terraform huaweicloud, password": lambda url: {
        "HW_AUTH_URL": f"{url}/v3", "HW_USER_NAME": "admin", "HW_USER_PASSWORD": ADMIN_PASSWORD,
        "HW_DOMAIN_NAME": DOMAIN_NAME},
    "terraform opentelekomcloud and openstacksdk, password": lambda url: {
        "OS_AUTH_URL": f"{url}/v3", "OS_USERNAME": "admin", "OS_PASSWORD": ADMIN_PASSWORD,
        "OS_USER_DOMAIN_NAME": DOMAIN_NAME, "OS_PROJECT_DOMAIN_ID": DOMAIN_ID},
    "terraform opentelekomcloud, access key": lambda url: {
        "OS_AUTH_URL": f"{url}/v3", "OS_ACCESS_KEY": ADMIN["auth_ak"], "OS_SECRET_KEY": ADMIN["auth_sk"],
        "OS_PROJECT_DOMAIN_NAME": DOMAIN_NAME},
    "vendor SDK": lambda url: {
        "HUAWEICLOUD_SDK_IAM_ENDPOINT": url, "HUAWEICLOUD_SDK_AK": ADMIN["auth_ak"],
        "HUAWEICLOUD_SDK_SK": ADMIN["auth_sk"], "HUAWEICLOUD_SDK_DOMAIN_ID": DOMAIN_ID},
}


@pytest.mark.parametrize("tool", list(ENVIRONMENTS))
def test_the_variables_of_each_tool_alone_authenticate(workdir, iam, tool):
    run = workdir.run("ecosystem_auth.yml", env=ENVIRONMENTS[tool](iam.url))
    assert_authenticated(workdir, run, iam)
    if "password" in tool:
        assert "Password authentication over plain HTTP" in run.output


def test_the_deprecated_hw_password_still_works_and_says_so(workdir, iam):
    run = workdir.run("ecosystem_auth.yml", env={"HW_AUTH_URL": iam.url, "HW_USER_NAME": "admin",
                                                 "HW_PASSWORD": ADMIN_PASSWORD, "HW_DOMAIN_NAME": DOMAIN_NAME})
    assert_authenticated(workdir, run, iam)
    warnings = run.result("access_key_info")["warnings"]
    assert any("HW_PASSWORD is deprecated" in warning and "HW_USER_PASSWORD" in warning for warning in warnings)


def test_a_region_variable_that_is_no_region_stops_before_any_request(workdir, iam):
    iam.reset_counters()
    run = workdir.run("ecosystem_auth.yml", env={"OS_REGION_NAME": "attacker.invalid/",
                                                 "HW_ACCESS_KEY": ADMIN["auth_ak"], "HW_SECRET_KEY": ADMIN["auth_sk"]})
    assert run.rc != 0
    assert "OS_REGION_NAME" in run.result("access_key_info")["msg"]
    assert "is not a region name" in run.result("access_key_info")["msg"]


def write_clouds(path, clouds: dict, mode: int = 0o600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    path.chmod(mode)
    return path


def test_a_clouds_yaml_entry_from_os_client_config_file_and_os_cloud(workdir, iam):
    clouds = write_clouds(workdir.path / "cfg" / "clouds.yaml", {
        "other": {"auth": {"auth_url": "https://iam.other.example.com/v3", "ak": "OTHERAK", "sk": "other-sk"}},
        "local": {"auth": {"auth_url": f"{iam.url}/v3", "ak": ADMIN["auth_ak"], "sk": ADMIN["auth_sk"]}},
    })
    run = workdir.run("ecosystem_auth.yml", env={"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLOUD": "local"})
    assert_authenticated(workdir, run, iam)


def test_a_clouds_yaml_entry_by_option_on_the_search_path_with_secure_yaml(workdir, iam):
    config_home = workdir.path / "xdg-config"
    write_clouds(config_home / "openstack" / "clouds.yaml", {"local": {
        "auth": {"auth_url": iam.url, "username": "admin", "user_domain_name": DOMAIN_NAME}}})
    write_clouds(config_home / "openstack" / "secure.yaml", {"local": {"auth": {"password": ADMIN_PASSWORD}}})
    # Variables of another tool do not mix into a named entry.
    run = workdir.run("ecosystem_auth.yml", cloud="local", env={
        "XDG_CONFIG_HOME": str(config_home), "HW_ACCESS_KEY": "TERRAFORMAK", "HW_SECRET_KEY": "terraform-sk"})
    assert_authenticated(workdir, run, iam)


def test_a_missing_entry_says_which_exist(workdir, iam):
    clouds = write_clouds(workdir.path / "clouds.yaml", {"prod": {"auth": {"ak": "A", "sk": "B"}}})
    run = workdir.run("ecosystem_auth.yml", cloud="staging", env={"OS_CLIENT_CONFIG_FILE": str(clouds)})
    assert run.rc != 0
    message = run.result("access_key_info")["msg"]
    assert "has no entry 'staging' (option cloud); its entries: prod" in message
