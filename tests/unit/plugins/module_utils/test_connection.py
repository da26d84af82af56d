"""Connection options: endpoints, every environment variable and its order, option checks, messages."""

from __future__ import annotations

import os

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.keywarden.iam.plugins.module_utils import _clouds_yaml
from ansible_collections.keywarden.iam.plugins.module_utils._connection import (
    DEPRECATED_ENV,
    ENV_FALLBACKS,
    ConnectionOptionsError,
    connection_argument_spec,
    settings_from_params,
)
from ansible_collections.keywarden.iam.plugins.module_utils._endpoints import EndpointError, resolve_endpoint

ENV_PREFIXES = ("HUAWEICLOUD_SDK_", "HW_", "OS_", "XDG_CONFIG", "SNAP_REAL_HOME")
AK, SK = "HPUAEXAMPLEAK0000001", "exampleSecretKey0000000000000000000000000"
DOMAIN_ID = "0970d7b7d400f2470fbec00316a03560"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No variable of the developer's shell, and no clouds.yaml of theirs, reaches a test."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    monkeypatch.setattr(_clouds_yaml, "SYSTEM_CONFIG_DIR", str(tmp_path / "etc-openstack"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def validated(params):
    result = ArgumentSpecValidator(connection_argument_spec()).validate(params)
    assert not result.error_messages, result.error_messages
    return result


def settings_for(params=None, **kwargs):
    """What a module builds: the argument spec (with its environment fallbacks), then the settings."""
    return settings_from_params(validated(dict(params or {})).validated_parameters, **kwargs)


# ---- endpoints -------------------------------------------------------------------------------

@pytest.mark.parametrize("vendor, region, expected", [
    ("huaweicloud", None, "https://iam.myhuaweicloud.com"),
    ("huaweicloud", "ap-southeast-1", "https://iam.ap-southeast-1.myhuaweicloud.com"),
    ("huaweicloud", "eu-west-101", "https://iam.eu-west-101.myhuaweicloud.eu"),
    ("tcloud", None, "https://iam.eu-de.otc.t-systems.com"),
    ("tcloud", "eu-nl", "https://iam.eu-nl.otc.t-systems.com"),
    ("tcloud", "eu-ch2", "https://iam-pub.eu-ch2.sc.otc.t-systems.com"),
])
def test_named_endpoints(vendor, region, expected):
    assert resolve_endpoint(vendor=vendor, region=region, iam_endpoint=None) == expected
    assert settings_for({"vendor": vendor, "region": region, "access_key": AK, "secret_key": SK}).endpoint == expected


def test_endpoint_override_drops_a_v3_path():
    assert resolve_endpoint(vendor="tcloud", region="x", iam_endpoint="https://iam.example.com/v3/") == \
        "https://iam.example.com"
    with pytest.raises(EndpointError, match="without a path"):
        resolve_endpoint(vendor=None, region=None, iam_endpoint="https://iam.example.com/api")
    with pytest.raises(EndpointError, match="not an http"):
        resolve_endpoint(vendor=None, region=None, iam_endpoint="iam.example.com")
    with pytest.raises(EndpointError, match="set iam_endpoint"):
        resolve_endpoint(vendor="tcloud", region="mars-1", iam_endpoint=None)
    with pytest.raises(EndpointError, match="port"):
        resolve_endpoint(vendor=None, region=None, iam_endpoint="https://iam.example.com:99999")


@pytest.mark.parametrize("region", ["attacker.invalid/", "eu-de.evil.example", "EU-DE", "eu de", "x", "a" * 41 + "-1",
                                    "eu-de/../x", "eu-de@evil", "-eu-de"])
def test_a_region_that_is_not_a_region_name_never_becomes_a_host_name(region):
    with pytest.raises(EndpointError, match="is not a region name"):
        settings_for({"region": region, "access_key": AK, "secret_key": SK})


def test_a_bad_region_is_reported_with_the_variable_it_came_from(monkeypatch):
    monkeypatch.setenv("OS_REGION_NAME", "attacker.invalid/")
    with pytest.raises(EndpointError, match=r"region \(from the environment variable OS_REGION_NAME\) "
                                            r"'attacker.invalid/' is not a region name"):
        settings_for({"access_key": AK, "secret_key": SK})


@pytest.mark.parametrize("url", [
    "https://admin:Sup3r-Secret-Pw@iam.example.com",
    "https://admin:Sup3r-Secret-Pw@iam.example.com/some/path",
    "ftp://admin:Sup3r-Secret-Pw@iam.example.com",
    "https://admin:Sup3r-Secret-Pw@iam.example.com:notaport",
    "https://Sup3r-Secret-Pw@iam.example.com",
])
def test_an_endpoint_with_a_password_is_refused_without_repeating_it(url):
    with pytest.raises(EndpointError) as raised:
        settings_for({"iam_endpoint": url, "access_key": AK, "secret_key": SK})
    assert "Sup3r-Secret-Pw" not in str(raised.value) and "admin" not in str(raised.value)


def test_an_endpoint_password_from_the_environment_is_not_repeated_either(monkeypatch):
    monkeypatch.setenv("OS_AUTH_URL", "https://u:Sup3r-Secret-Pw@iam.example.com/v3")
    with pytest.raises(EndpointError, match="OS_AUTH_URL") as raised:
        settings_for({"access_key": AK, "secret_key": SK})
    assert "Sup3r-Secret-Pw" not in str(raised.value)


def test_password_auth_over_plain_http_draws_a_warning():
    password = {"auth_username": "u", "auth_password": "p", "auth_domain_name": "d"}
    plain = settings_for({"iam_endpoint": "http://127.0.0.1:8443", **password})
    assert any("plain HTTP" in warning and "http://127.0.0.1:8443" in warning for warning in plain.warnings)
    assert not any(warning == "p" for warning in plain.warnings)
    assert settings_for({"iam_endpoint": "https://iam.example.com", **password}).warnings == ()
    assert settings_for({"iam_endpoint": "http://127.0.0.1:8443", "access_key": AK, "secret_key": SK}).warnings == ()


@pytest.mark.parametrize("domain_id", ["keywarden-demo", "OTC-EU-DE-00000000001000012345", "default",
                                       DOMAIN_ID.upper(), DOMAIN_ID[:-1]])
def test_a_domain_id_that_is_no_account_id_is_refused_before_any_call(domain_id):
    with pytest.raises(ConnectionOptionsError, match=r"is not an account ID.*auth_domain_name"):
        settings_for({"domain_id": domain_id, "access_key": AK, "secret_key": SK})


def test_a_domain_id_from_the_environment_is_named_in_the_message(monkeypatch):
    monkeypatch.setenv("OS_PROJECT_DOMAIN_ID", "default")
    with pytest.raises(ConnectionOptionsError, match="from the environment variable OS_PROJECT_DOMAIN_ID"):
        settings_for({"access_key": AK, "secret_key": SK})


def test_the_sdk_per_region_iam_endpoint_variable_is_honoured(monkeypatch):
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_IAM_EU_WEST_101", "https://iam.example.eu,https://other.example.eu")
    settings = settings_for({"region": "eu-west-101", "access_key": AK, "secret_key": SK})
    assert settings.endpoint == "https://iam.example.eu"
    # An explicit iam_endpoint still wins.
    assert settings_for({"region": "eu-west-101", "iam_endpoint": "https://iam.example.com", "access_key": AK,
                         "secret_key": SK}).endpoint == "https://iam.example.com"


# ---- every environment variable ----------------------------------------------------------------

# For each option: the other options the settings need, a value to put in the variable, and where
# the value must show up in the settings.
OBSERVED = {
    "iam_endpoint": ({"access_key": AK, "secret_key": SK}, "https://iam.example.com/v3",
                     lambda s: s.endpoint == "https://iam.example.com"),
    "region": ({"access_key": AK, "secret_key": SK}, "ap-southeast-3",
               lambda s: s.endpoint == "https://iam.ap-southeast-3.myhuaweicloud.com"),
    "access_key": ({"secret_key": SK}, AK, lambda s: s.signing_key.access_key == AK),
    "secret_key": ({"access_key": AK}, SK, lambda s: s.signing_key.secret_key == SK),
    "security_token": ({"access_key": AK, "secret_key": SK}, "token-value",
                       lambda s: s.signing_key.security_token == "token-value"),
    "domain_id": ({"access_key": AK, "secret_key": SK}, DOMAIN_ID, lambda s: s.domain_id == DOMAIN_ID),
    "auth_username": ({"auth_password": "pw", "auth_domain_name": "acct"}, "ops",
                      lambda s: s.password_auth.username == "ops"),
    "auth_password": ({"auth_username": "ops", "auth_domain_name": "acct"}, "pw-from-env",
                      lambda s: s.password_auth.password == "pw-from-env"),
    "auth_domain_name": ({"auth_username": "ops", "auth_password": "pw"}, "acct-from-env",
                         lambda s: s.password_auth.domain_name == "acct-from-env"),
    "ca_path": ({"access_key": AK, "secret_key": SK}, "/etc/pki/private-ca.pem",
                lambda s: s.ca_path == "/etc/pki/private-ca.pem"),
}
ONE_PER_NAME = [(option, name) for option, names in ENV_FALLBACKS.items() if option != "cloud" for name in names]


def test_every_option_with_a_fallback_is_observed_and_documented():
    assert set(OBSERVED) | {"cloud"} == set(ENV_FALLBACKS)
    from ansible_collections.keywarden.iam.plugins.doc_fragments.connection import ModuleDocFragment
    for names in ENV_FALLBACKS.values():
        for name in names:
            assert f"E({name})" in ModuleDocFragment.DOCUMENTATION, name


@pytest.mark.parametrize("option, name", ONE_PER_NAME, ids=[pair[1] for pair in ONE_PER_NAME])
def test_each_environment_variable_alone_reaches_the_settings(monkeypatch, option, name):
    others, value, observed = OBSERVED[option]
    monkeypatch.setenv(name, value)
    settings = settings_for(others)
    assert observed(settings), settings


ADJACENT = [(option, first, second) for option, names in ENV_FALLBACKS.items() if option != "cloud"
            for first, second in zip(names, names[1:])]


@pytest.mark.parametrize("option, first, second", ADJACENT, ids=[f"{first}>{second}" for _option, first, second in ADJACENT])
def test_each_variable_wins_over_the_next_in_the_documented_order(monkeypatch, option, first, second):
    others, value, observed = OBSERVED[option]
    monkeypatch.setenv(first, value)
    monkeypatch.setenv(second, "zz-other" if option != "region" else "la-north-2")
    assert observed(settings_for(others))


def test_an_empty_variable_counts_as_unset(monkeypatch):
    # An AWX injector renders an optional field it was not given as ''.
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "")
    monkeypatch.setenv("HW_ACCESS_KEY", AK)
    monkeypatch.setenv("HW_REGION_NAME", "")
    settings = settings_for({"secret_key": SK})
    assert settings.signing_key.access_key == AK and settings.endpoint == "https://iam.myhuaweicloud.com"


def test_a_task_option_wins_over_every_variable(monkeypatch):
    for name in ENV_FALLBACKS["access_key"]:
        monkeypatch.setenv(name, "from-" + name)
    assert settings_for({"access_key": "explicit", "secret_key": SK}).signing_key.access_key == "explicit"


def test_secrets_from_the_environment_are_still_masked(monkeypatch):
    monkeypatch.setenv("OS_SECRET_KEY", "os-sk")
    monkeypatch.setenv("HW_USER_PASSWORD", "hw-pw")
    result = validated({"access_key": AK})
    assert {"os-sk", "hw-pw"} <= result._no_log_values


@pytest.mark.parametrize("name, option, value, observed", [
    ("HW_PASSWORD", "auth_password", "old-pw", lambda s: s.password_auth.password == "old-pw"),
    ("HUAWEICLOUD_SDK_REGION", "region", "ap-southeast-3",
     lambda s: s.endpoint == "https://iam.ap-southeast-3.myhuaweicloud.com"),
])
def test_deprecated_names_still_work_and_say_so(monkeypatch, name, option, value, observed):
    others = OBSERVED[option][0]
    monkeypatch.setenv(name, value)
    settings = settings_for(others)
    assert observed(settings)
    assert any(name in warning and "deprecated" in warning and "1.0.0" in warning for warning in settings.warnings)
    assert set(DEPRECATED_ENV) == {"HW_PASSWORD", "HUAWEICLOUD_SDK_REGION"}


def test_a_deprecated_name_warns_even_when_a_current_one_wins(monkeypatch):
    monkeypatch.setenv("HW_PASSWORD", "old-pw")
    monkeypatch.setenv("HW_USER_PASSWORD", "new-pw")
    settings = settings_for({"auth_username": "u", "auth_domain_name": "d", "iam_endpoint": "https://iam.example.com"})
    assert settings.password_auth.password == "new-pw"
    assert any("HW_PASSWORD" in warning and "HW_USER_PASSWORD" in warning for warning in settings.warnings)
    assert not any("old-pw" in warning or "new-pw" in warning for warning in settings.warnings)


# ---- the vendor, and cloud's old meaning ---------------------------------------------------------

def test_vendor_selects_the_cloud():
    assert settings_for({"vendor": "tcloud", "access_key": AK, "secret_key": SK}).endpoint == \
        "https://iam.eu-de.otc.t-systems.com"
    assert settings_for({"access_key": AK, "secret_key": SK}).endpoint == "https://iam.myhuaweicloud.com"


@pytest.mark.parametrize("value, expected", [("tcloud", "https://iam.eu-de.otc.t-systems.com"),
                                             ("huaweicloud", "https://iam.myhuaweicloud.com")])
def test_cloud_with_a_vendor_name_still_selects_it_with_a_deprecation_warning(value, expected):
    settings = settings_for({"cloud": value, "access_key": AK, "secret_key": SK})
    assert settings.endpoint == expected
    assert any(f"cloud: {value} is deprecated" in warning and f"vendor: {value}" in warning
               for warning in settings.warnings)


# ---- credentials and checks ----------------------------------------------------------------------

def test_ak_sk_wins_over_password_and_is_what_rotation_protects():
    settings = settings_for({"access_key": "AK", "secret_key": "SK", "auth_username": "u",
                             "auth_password": "p", "auth_domain_name": "d"})
    assert settings.auth_access_key == "AK" and settings.password_auth is None
    assert settings.secrets == ("SK",)


@pytest.mark.parametrize("params, message", [
    ({"access_key": "AK"}, "secret_key is not set"),
    ({"auth_username": "u", "auth_password": "p"}, "missing: auth_domain_name"),
    ({}, "No credentials"),
    ({"access_key": "AK", "secret_key": "SK", "timeout": 0}, "timeout must be from 1 to 3600 seconds, not 0"),
    ({"access_key": "AK", "secret_key": "SK", "timeout": 99999999999}, "timeout must be from 1 to 3600"),
    ({"access_key": "AK", "secret_key": "SK", "retries": 10**12}, "retries must be from 0 to 20"),
])
def test_option_mistakes_say_how_to_fix_them(params, message):
    with pytest.raises(ConnectionOptionsError, match=message):
        settings_for(params)


def test_the_missing_half_of_a_key_names_where_the_other_half_came_from(monkeypatch):
    monkeypatch.setenv("OS_ACCESS_KEY", AK)
    with pytest.raises(ConnectionOptionsError, match="access_key came from the environment variable OS_ACCESS_KEY"):
        settings_for({})


def test_validate_certs_false_warns():
    settings = settings_for({"access_key": "AK", "secret_key": "SK", "validate_certs": False})
    assert "ca_path" in settings.warnings[0]


def test_secrets_are_no_log_and_key_ids_are_explicitly_not():
    spec = connection_argument_spec()
    assert spec["secret_key"]["no_log"] and spec["auth_password"]["no_log"] and spec["security_token"]["no_log"]
    assert spec["access_key"]["no_log"] is False
