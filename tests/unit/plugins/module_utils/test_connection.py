"""Connection options: endpoints, environment fallbacks and their order, option checks."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.keywarden.iam.plugins.module_utils._connection import (
    ConnectionOptionsError,
    connection_argument_spec,
    settings_from_params,
)
from ansible_collections.keywarden.iam.plugins.module_utils._endpoints import EndpointError, resolve_endpoint

ENV_PREFIXES = ("HUAWEICLOUD_SDK_", "HW_", "OS_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    import os
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)


def validated(params):
    result = ArgumentSpecValidator(connection_argument_spec()).validate(params)
    assert not result.error_messages, result.error_messages
    return result


@pytest.mark.parametrize("cloud, region, expected", [
    ("huaweicloud", None, "https://iam.myhuaweicloud.com"),
    ("huaweicloud", "ap-southeast-1", "https://iam.ap-southeast-1.myhuaweicloud.com"),
    ("huaweicloud", "eu-west-101", "https://iam.eu-west-101.myhuaweicloud.eu"),
    ("tcloud", None, "https://iam.eu-de.otc.t-systems.com"),
    ("tcloud", "eu-nl", "https://iam.eu-nl.otc.t-systems.com"),
    ("tcloud", "eu-ch2", "https://iam-pub.eu-ch2.sc.otc.t-systems.com"),
])
def test_named_endpoints(cloud, region, expected):
    assert resolve_endpoint(cloud=cloud, region=region, iam_endpoint=None) == expected


def test_endpoint_override_drops_a_v3_path():
    assert resolve_endpoint(cloud="tcloud", region="x", iam_endpoint="https://iam.example.com/v3/") == \
        "https://iam.example.com"
    with pytest.raises(EndpointError, match="without a path"):
        resolve_endpoint(cloud=None, region=None, iam_endpoint="https://iam.example.com/api")
    with pytest.raises(EndpointError, match="not an http"):
        resolve_endpoint(cloud=None, region=None, iam_endpoint="iam.example.com")
    with pytest.raises(EndpointError, match="set iam_endpoint"):
        resolve_endpoint(cloud="tcloud", region="mars-1", iam_endpoint=None)


def test_environment_fallbacks_follow_the_documented_order(monkeypatch):
    monkeypatch.setenv("OS_ACCESS_KEY", "os-ak")
    monkeypatch.setenv("HW_ACCESS_KEY", "hw-ak")
    monkeypatch.setenv("OS_SECRET_KEY", "os-sk")
    assert validated({}).validated_parameters["access_key"] == "hw-ak"
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "sdk-ak")
    result = validated({})
    assert result.validated_parameters["access_key"] == "sdk-ak"
    assert result.validated_parameters["secret_key"] == "os-sk"
    # A secret from the environment is still a secret: Ansible will mask it.
    assert "os-sk" in result._no_log_values
    assert validated({"access_key": "explicit"}).validated_parameters["access_key"] == "explicit"


def test_ak_sk_wins_over_password_and_is_what_rotation_protects():
    settings = settings_from_params({"access_key": "AK", "secret_key": "SK", "auth_username": "u",
                                     "auth_password": "p", "auth_domain_name": "d"})
    assert settings.auth_access_key == "AK" and settings.password_auth is None


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
        settings_from_params(params)


def test_validate_certs_false_warns():
    settings = settings_from_params({"access_key": "AK", "secret_key": "SK", "validate_certs": False})
    assert "ca_path" in settings.warnings[0]


def test_secrets_are_no_log_and_key_ids_are_explicitly_not():
    spec = connection_argument_spec()
    assert spec["secret_key"]["no_log"] and spec["auth_password"]["no_log"] and spec["security_token"]["no_log"]
    assert spec["access_key"]["no_log"] is False
