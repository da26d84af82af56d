"""clouds.yaml: every way to name an entry, where files are found, what an entry may say, and mistakes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.keywarden.iam.plugins.module_utils import _clouds_yaml
from ansible_collections.keywarden.iam.plugins.module_utils._clouds_yaml import CloudsYamlError
from ansible_collections.keywarden.iam.plugins.module_utils._connection import (
    ConnectionOptionsError,
    connection_argument_spec,
    settings_from_params,
)

AK, SK = "HPUAEXAMPLEAK0000001", "exampleSecretKey0000000000000000000000000"
DOMAIN_ID = "0970d7b7d400f2470fbec00316a03560"
AKSK_ENTRY = {"auth": {"auth_url": "https://iam.eu-de.otc.t-systems.com:443/v3", "ak": AK, "sk": SK},
              "region_name": "eu-de"}
PASSWORD_ENTRY = {"profile": "otc", "region_name": "eu-nl",
                  "auth": {"username": "ops", "password": "Entry-Passw0rd", "user_domain_name": "OTC-EU-DE-0001",
                           "project_name": "eu-nl", "user_domain_id": DOMAIN_ID}}


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """A home, a working directory and system directories of the test's own, and no OS_/HW_ variables."""
    for name in list(os.environ):
        if name.startswith(("HUAWEICLOUD_SDK_", "HW_", "OS_", "XDG_CONFIG", "SNAP_REAL_HOME")):
            monkeypatch.delenv(name)
    for directory in ("home", "work", "xdg", "etc-openstack"):
        (tmp_path / directory).mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    monkeypatch.setattr(_clouds_yaml, "SYSTEM_CONFIG_DIR", str(tmp_path / "etc-openstack"))
    monkeypatch.chdir(tmp_path / "work")


def write(path: Path, clouds: dict, *, mode: int = 0o600, text: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is None:
        text = json.dumps({"clouds": clouds}) if path.suffix == ".json" else yaml.safe_dump({"clouds": clouds})
    path.write_text(text)
    path.chmod(mode)
    return path


def settings_for(params=None):
    result = ArgumentSpecValidator(connection_argument_spec()).validate(dict(params or {}))
    assert not result.error_messages, result.error_messages
    return settings_from_params(result.validated_parameters)


def user_config(tmp_path: Path) -> Path:
    return tmp_path / "home" / ".config" / "openstack"


# ---- naming the entry --------------------------------------------------------------------------

def test_an_entry_named_by_the_option_gives_endpoint_region_and_access_key(tmp_path):
    write(user_config(tmp_path) / "clouds.yaml", {"prod": AKSK_ENTRY, "other": {"auth": {"ak": "X", "sk": "Y"}}})
    settings = settings_for({"cloud": "prod"})
    assert settings.endpoint == "https://iam.eu-de.otc.t-systems.com:443"
    assert (settings.signing_key.access_key, settings.signing_key.secret_key) == (AK, SK)
    assert settings.warnings == ()


def test_an_entry_named_by_os_cloud(tmp_path, monkeypatch):
    write(user_config(tmp_path) / "clouds.yaml", {"prod": AKSK_ENTRY})
    monkeypatch.setenv("OS_CLOUD", "prod")
    assert settings_for().signing_key.access_key == AK


def test_the_option_wins_over_os_cloud(tmp_path, monkeypatch):
    write(user_config(tmp_path) / "clouds.yaml", {"prod": AKSK_ENTRY, "test": {"auth": {"ak": "TESTAK", "sk": "s"}}})
    monkeypatch.setenv("OS_CLOUD", "prod")
    assert settings_for({"cloud": "test"}).signing_key.access_key == "TESTAK"


def test_a_password_entry_with_the_otc_profile(tmp_path):
    write(user_config(tmp_path) / "clouds.yaml", {"otc": PASSWORD_ENTRY})
    settings = settings_for({"cloud": "otc"})
    assert settings.endpoint == "https://iam.eu-nl.otc.t-systems.com"
    assert settings.password_auth.username == "ops"
    assert settings.password_auth.password == "Entry-Passw0rd"
    assert settings.password_auth.domain_name == "OTC-EU-DE-0001"
    assert settings.domain_id == DOMAIN_ID
    # The password is not an option value, so Ansible cannot mask it by itself: the caller registers it.
    assert "Entry-Passw0rd" in settings.secrets


@pytest.mark.parametrize("domain_key", ["user_domain_name", "domain_name", "project_domain_name"])
def test_each_domain_name_spelling(tmp_path, domain_key):
    auth = {"auth_url": "https://iam.example.com/v3", "username": "u", "password": "p", domain_key: "acct"}
    write(user_config(tmp_path) / "clouds.yaml", {"e": {"auth": auth}})
    assert settings_for({"cloud": "e"}).password_auth.domain_name == "acct"


@pytest.mark.parametrize("id_key", ["user_domain_id", "domain_id", "project_domain_id"])
def test_each_domain_id_spelling(tmp_path, id_key):
    write(user_config(tmp_path) / "clouds.yaml", {"e": {"auth": {**AKSK_ENTRY["auth"], id_key: DOMAIN_ID}}})
    assert settings_for({"cloud": "e"}).domain_id == DOMAIN_ID


@pytest.mark.parametrize("entry", [
    {"auth": {"auth_url": "https://iam.example.com", "ak": AK, "sk": SK, "security_token": "tok"}},
    {"auth": {"auth_url": "https://iam.example.com"}, "ak": AK, "sk": SK, "security_token": "tok"},
    {"auth": {"auth_url": "https://iam.example.com"}, "access_key": AK, "secret_key": SK, "security-token": "tok"},
], ids=["auth.ak (gophertelekomcloud)", "ak beside auth (otcextensions)", "access_key beside auth (otcextensions)"])
def test_each_access_key_spelling(tmp_path, entry):
    write(user_config(tmp_path) / "clouds.yaml", {"e": entry})
    key = settings_for({"cloud": "e"}).signing_key
    assert (key.access_key, key.secret_key, key.security_token) == (AK, SK, "tok")


@pytest.mark.parametrize("profile, regions, expected", [
    ("otc", None, "https://iam.eu-de.otc.t-systems.com"),
    ("otc-swiss", None, "https://iam-pub.eu-ch2.sc.otc.t-systems.com"),
    ("otc", {"regions": ["eu-nl", "eu-de"]}, "https://iam.eu-nl.otc.t-systems.com"),
    ("otc", {"regions": [{"name": "eu-nl", "values": {}}]}, "https://iam.eu-nl.otc.t-systems.com"),
    ("otc", {"region_name": "eu-nl,eu-de"}, "https://iam.eu-nl.otc.t-systems.com"),
])
def test_region_and_profile(tmp_path, profile, regions, expected):
    write(user_config(tmp_path) / "clouds.yaml", {"e": {"profile": profile, "ak": AK, "sk": SK, **(regions or {})}})
    assert settings_for({"cloud": "e"}).endpoint == expected


def test_the_task_region_must_be_one_of_the_entry_regions(tmp_path):
    entry = {"profile": "otc", "regions": ["eu-de", "eu-nl"], "ak": AK, "sk": SK}
    write(user_config(tmp_path) / "clouds.yaml", {"e": entry})
    assert settings_for({"cloud": "e", "region": "eu-nl"}).endpoint == "https://iam.eu-nl.otc.t-systems.com"
    with pytest.raises(ConnectionOptionsError, match=r"not one of the regions .* eu-de, eu-nl"):
        settings_for({"cloud": "e", "region": "eu-ch2"})


def test_a_bad_region_in_an_entry_is_refused_and_the_entry_named(tmp_path):
    write(user_config(tmp_path) / "clouds.yaml", {"e": {"region_name": "attacker.invalid/", "ak": AK, "sk": SK}})
    with pytest.raises(Exception, match=r"clouds.yaml entry 'e'.*is not a region name"):
        settings_for({"cloud": "e"})


# ---- where the file is found -----------------------------------------------------------------------

def test_os_client_config_file_names_a_file_anywhere(tmp_path, monkeypatch):
    path = write(tmp_path / "elsewhere" / "my-clouds.yaml", {"prod": AKSK_ENTRY})
    write(user_config(tmp_path) / "clouds.yaml", {"prod": {"auth": {"ak": "SHADOWED", "sk": "s"}}})
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    assert settings_for({"cloud": "prod"}).signing_key.access_key == AK


@pytest.mark.parametrize("winner", ["cwd", "xdg_config_home", "user", "xdg_config_dirs", "system"])
def test_the_search_path_order(tmp_path, monkeypatch, winner):
    places = {
        "cwd": tmp_path / "work" / "clouds.yaml",
        "xdg_config_home": tmp_path / "xdg-home" / "openstack" / "clouds.yaml",
        "user": user_config(tmp_path) / "clouds.yaml",
        "xdg_config_dirs": tmp_path / "xdg" / "openstack" / "clouds.yaml",
        "system": tmp_path / "etc-openstack" / "clouds.yaml",
    }
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-home"))
    order = list(places)
    for place in order[order.index(winner):]:
        write(places[place], {"e": {"auth": {"ak": place.upper(), "sk": "s"}}})
    assert settings_for({"cloud": "e"}).signing_key.access_key == winner.upper()


def test_the_first_file_wins_even_without_the_entry(tmp_path):
    # openstacksdk reads one clouds file, not a merge of all of them.
    write(tmp_path / "work" / "clouds.yaml", {"other": AKSK_ENTRY})
    write(user_config(tmp_path) / "clouds.yaml", {"prod": AKSK_ENTRY})
    with pytest.raises(ConnectionOptionsError, match=r"work/clouds.yaml has no entry 'prod'.*entries: other"):
        settings_for({"cloud": "prod"})


@pytest.mark.parametrize("name", ["clouds.yml", "clouds.json"])
def test_yml_and_json_spellings(tmp_path, name):
    write(user_config(tmp_path) / name, {"prod": AKSK_ENTRY})
    assert settings_for({"cloud": "prod"}).signing_key.access_key == AK


def test_secure_yaml_is_merged_into_the_entry(tmp_path):
    entry = {"profile": "otc", "auth": {"username": "ops", "user_domain_name": "acct"}}
    write(user_config(tmp_path) / "clouds.yaml", {"otc": entry})
    write(user_config(tmp_path) / "secure.yaml", {"otc": {"auth": {"password": "Secure-Passw0rd"}}})
    settings = settings_for({"cloud": "otc"})
    assert (settings.password_auth.username, settings.password_auth.password) == ("ops", "Secure-Passw0rd")


def test_os_client_secure_file(tmp_path, monkeypatch):
    write(user_config(tmp_path) / "clouds.yaml", {"otc": {"profile": "otc", "auth": {"ak": AK}}})
    secure = write(tmp_path / "vault" / "s.yaml", {"otc": {"auth": {"sk": SK}}})
    monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(secure))
    assert settings_for({"cloud": "otc"}).signing_key.secret_key == SK


def test_a_file_that_does_not_parse_is_skipped_without_showing_its_text(tmp_path):
    write(tmp_path / "work" / "clouds.yaml", {}, text="clouds:\n  prod:\n    auth: {sk: 'Broken-Secret-Value\n")
    write(user_config(tmp_path) / "clouds.yaml", {"prod": AKSK_ENTRY})
    settings = settings_for({"cloud": "prod"})
    assert settings.signing_key.access_key == AK
    skipped = [warning for warning in settings.warnings if "Skipping" in warning]
    assert skipped and "not valid YAML" in skipped[0]
    assert not any("Broken-Secret-Value" in warning for warning in settings.warnings)


def test_a_readable_secret_draws_a_warning(tmp_path):
    path = write(user_config(tmp_path) / "clouds.yaml", {"prod": AKSK_ENTRY}, mode=0o644)
    settings = settings_for({"cloud": "prod"})
    assert any(str(path) in warning and "0644" in warning and "chmod 600" in warning for warning in settings.warnings)
    assert not any(SK in warning for warning in settings.warnings)


def test_reading_yaml_without_pyyaml_says_what_to_do_and_json_still_works(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)  # as on a managed node without PyYAML
    write(user_config(tmp_path) / "clouds.yaml", {"prod": AKSK_ENTRY}, text="clouds: {prod: {}}\n")
    with pytest.raises(CloudsYamlError, match=r"needs PyYAML.*delegate_to: localhost.*clouds.json"):
        settings_for({"cloud": "prod"})
    (user_config(tmp_path) / "clouds.yaml").unlink()
    write(user_config(tmp_path) / "clouds.json", {"prod": AKSK_ENTRY})
    assert settings_for({"cloud": "prod"}).signing_key.access_key == AK


# ---- missing entries and files ------------------------------------------------------------------

def test_a_missing_entry_names_the_file_its_entries_and_where_the_name_came_from(tmp_path, monkeypatch):
    write(user_config(tmp_path) / "clouds.yaml", {"prod": AKSK_ENTRY, "test": AKSK_ENTRY})
    monkeypatch.setenv("OS_CLOUD", "staging")
    with pytest.raises(ConnectionOptionsError, match=r"has no entry 'staging' \(the environment variable OS_CLOUD\); "
                                                     r"its entries: prod, test"):
        settings_for()


def test_no_file_at_all(tmp_path):
    with pytest.raises(ConnectionOptionsError, match=r"entry 'prod' \(option cloud\) cannot be read: no clouds.yaml"):
        settings_for({"cloud": "prod"})


def test_an_entry_without_usable_credentials(tmp_path):
    entry = {"auth_type": "token", "profile": "otc", "auth": {"token": "gAAAA-secret-token"}}
    write(user_config(tmp_path) / "clouds.yaml", {"tok": entry})
    with pytest.raises(ConnectionOptionsError, match="auth_type token, which this collection cannot use") as raised:
        settings_for({"cloud": "tok"})
    assert "gAAAA" not in str(raised.value)


def test_an_unknown_profile_without_auth_url(tmp_path):
    write(user_config(tmp_path) / "clouds.yaml", {"e": {"profile": "vexxhost", "ak": AK, "sk": SK}})
    with pytest.raises(ConnectionOptionsError, match=r"profile 'vexxhost'.*auth.auth_url"):
        settings_for({"cloud": "e"})


# ---- how an entry weighs against the task and the environment ----------------------------------------

def test_task_options_win_over_the_entry(tmp_path):
    write(user_config(tmp_path) / "clouds.yaml", {"prod": AKSK_ENTRY})
    settings = settings_for({"cloud": "prod", "iam_endpoint": "https://iam.example.com"})
    assert settings.endpoint == "https://iam.example.com" and settings.signing_key.access_key == AK


def test_the_entry_replaces_the_environment(tmp_path, monkeypatch):
    write(user_config(tmp_path) / "clouds.yaml", {"otc": PASSWORD_ENTRY})
    monkeypatch.setenv("HW_ACCESS_KEY", "ENVAK")  # set for Terraform, say
    monkeypatch.setenv("HW_SECRET_KEY", "env-sk")
    monkeypatch.setenv("OS_AUTH_URL", "https://iam.elsewhere.example.com/v3")
    settings = settings_for({"cloud": "otc"})
    assert settings.signing_key is None and settings.password_auth.username == "ops"
    assert settings.endpoint == "https://iam.eu-nl.otc.t-systems.com"


def test_credentials_come_from_one_place(tmp_path):
    # The task's own key replaces the entry's password login as a whole, rather than mixing the two.
    write(user_config(tmp_path) / "clouds.yaml", {"otc": PASSWORD_ENTRY})
    settings = settings_for({"cloud": "otc", "access_key": AK, "secret_key": SK})
    assert settings.signing_key.access_key == AK and settings.password_auth is None
    assert "Entry-Passw0rd" not in settings.secrets
    assert settings.endpoint == "https://iam.eu-nl.otc.t-systems.com"


def test_verify_false_in_the_entry_turns_checks_off_with_a_warning(tmp_path):
    write(user_config(tmp_path) / "clouds.yaml", {"prod": {**AKSK_ENTRY, "verify": False, "cacert": "~/ca.pem"}})
    settings = settings_for({"cloud": "prod"})
    assert settings.validate_certs is False and settings.ca_path == str(tmp_path / "home" / "ca.pem")
    assert any("clouds.yaml entry 'prod'" in warning and "verify: false" in warning for warning in settings.warnings)


@pytest.mark.parametrize(("verify", "checked"), [("no", False), ("true", True), ("False", False)])
def test_verify_as_a_string_is_read_as_ansible_reads_a_boolean(tmp_path, verify, checked):
    write(user_config(tmp_path) / "clouds.yaml", {"prod": {**AKSK_ENTRY, "verify": verify}})
    assert settings_for({"cloud": "prod"}).validate_certs is checked


def test_a_misspelt_verify_is_refused_rather_than_read_as_false(tmp_path):
    write(user_config(tmp_path) / "clouds.yaml", {"prod": {**AKSK_ENTRY, "verify": "ture"}})
    with pytest.raises(CloudsYamlError, match="verify of clouds.yaml entry 'prod' is 'ture', not a boolean"):
        settings_for({"cloud": "prod"})


def test_the_loaded_configuration_shows_no_secret_in_its_repr(tmp_path):
    write(user_config(tmp_path) / "clouds.yaml", {"prod": AKSK_ENTRY, "pw": PASSWORD_ENTRY})
    shown = repr(_clouds_yaml.load_clouds(dict(os.environ)))
    assert SK not in shown and PASSWORD_ENTRY["auth"]["password"] not in shown


# ---- without a name: AWX's OpenStack credential ---------------------------------------------------------

def test_the_only_entry_of_os_client_config_file_needs_no_name(tmp_path, monkeypatch):
    path = write(tmp_path / "runner-env" / "tmpabc123", {"devstack": {"auth": {
        "auth_url": "https://iam.eu-de.otc.t-systems.com/v3", "username": "ops", "password": "pw",
        "project_name": "eu-de", "domain_name": "acct"}, "verify": True}})
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    settings = settings_for()
    assert settings.password_auth.username == "ops" and settings.endpoint == "https://iam.eu-de.otc.t-systems.com"


def test_several_entries_without_a_name_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(write(tmp_path / "c.yaml", {"a": AKSK_ENTRY, "b": AKSK_ENTRY})))
    with pytest.raises(ConnectionOptionsError, match=r"holds 2 entries.*name the one"):
        settings_for()


def test_the_only_entry_of_a_file_on_the_search_path_is_not_used_unless_named(tmp_path):
    write(user_config(tmp_path) / "clouds.yaml", {"prod": AKSK_ENTRY})
    with pytest.raises(ConnectionOptionsError, match="No credentials"):
        settings_for()


def test_credentials_given_otherwise_leave_os_client_config_file_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(write(tmp_path / "c.yaml", {"a": PASSWORD_ENTRY})))
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "ENVAK")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "env-sk")
    assert settings_for().signing_key.access_key == "ENVAK"


# ---- cloud's old meaning ------------------------------------------------------------------------------

def test_an_entry_called_like_a_vendor_is_an_entry(tmp_path):
    entry = {**AKSK_ENTRY, "auth": {**AKSK_ENTRY["auth"], "auth_url": "https://iam.x.example"}}
    write(user_config(tmp_path) / "clouds.yaml", {"tcloud": entry})
    settings = settings_for({"cloud": "tcloud"})
    assert settings.endpoint == "https://iam.x.example"
    assert not any("deprecated" in warning for warning in settings.warnings)


def test_a_vendor_name_without_such_an_entry_is_the_deprecated_vendor(tmp_path):
    write(user_config(tmp_path) / "clouds.yaml", {"prod": AKSK_ENTRY})
    settings = settings_for({"cloud": "tcloud", "access_key": AK, "secret_key": SK})
    assert settings.endpoint == "https://iam.eu-de.otc.t-systems.com"
    assert any("cloud: tcloud is deprecated" in warning for warning in settings.warnings)


def test_search_dirs_follow_openstacksdk(tmp_path):
    dirs = _clouds_yaml.search_dirs({"XDG_CONFIG_DIRS": "/a:/b"}, cwd="/w", home="/h")
    if sys.platform.startswith("linux"):
        assert dirs == ["/w", "/h/.config/openstack", "/a/openstack", "/b/openstack", _clouds_yaml.SYSTEM_CONFIG_DIR]
    assert _clouds_yaml.search_dirs({}, cwd="/w", home="/h")[2] in ("/etc/xdg/openstack",
                                                                    "/h/Library/Application Support/openstack")


def test_a_password_login_can_be_required_and_may_come_from_the_entry(tmp_path):
    # The token method of temporary_access_key needs an IAM token, which only a password login gives.
    entry = {**PASSWORD_ENTRY, "ak": AK, "sk": SK}
    write(user_config(tmp_path) / "clouds.yaml", {"otc": entry, "keyonly": AKSK_ENTRY})
    result = ArgumentSpecValidator(connection_argument_spec()).validate({"cloud": "otc"})
    settings = settings_from_params(result.validated_parameters, password_required_for="the token method")
    assert settings.signing_key is None and settings.password_auth.password == "Entry-Passw0rd"
    result = ArgumentSpecValidator(connection_argument_spec()).validate({"cloud": "keyonly"})
    with pytest.raises(ConnectionOptionsError, match=r"needed for the token method: .*missing: auth_username"):
        settings_from_params(result.validated_parameters, password_required_for="the token method")
