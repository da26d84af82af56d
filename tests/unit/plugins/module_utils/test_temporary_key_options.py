# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of temporary_access_key: method inference, ranges, and which auth each method takes."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.keywarden.iam.plugins.module_utils._access_key_options import OptionError
from ansible_collections.keywarden.iam.plugins.module_utils._connection import ConnectionOptionsError, settings_from_params
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import format_fields
from ansible_collections.keywarden.iam.plugins.module_utils._temporary_key_options import (
    TEMPORARY_KEY_MUTUALLY_EXCLUSIVE,
    TEMPORARY_KEY_REQUIRED_IF,
    TOKEN_FORMATS,
    check_temporary_key_options,
    password_needed_for,
    temporary_access_key_argument_spec,
)

PASSWORD = {"auth_username": "admin", "auth_password": "pw", "auth_domain_name": "acme"}
KEY = {"access_key": "AKEXAMPLE0000000000A", "secret_key": "SKEXAMPLE"}


def validated(**args) -> dict:
    validator = ArgumentSpecValidator(temporary_access_key_argument_spec(),
                                      mutually_exclusive=TEMPORARY_KEY_MUTUALLY_EXCLUSIVE,
                                      required_if=TEMPORARY_KEY_REQUIRED_IF)
    result = validator.validate({"iam_endpoint": "https://iam.example.com", "credentials_file": "/tmp/x.yml", **args})
    if result.error_messages:
        raise ValueError("; ".join(result.error_messages))
    return result.validated_parameters


def test_defaults_are_the_token_method_for_fifteen_minutes_renewed_five_minutes_ahead():
    request = check_temporary_key_options(validated())
    assert (request.method, request.duration_seconds, request.renew_before, request.mode) == ("token", 900, 300, 0o600)
    assert request.agency_domain is None and request.policy is None


def test_agency_name_implies_the_agency_method_and_names_its_account():
    request = check_temporary_key_options(validated(agency_name="ops", agency_domain_name="acme", session_user="ci"))
    assert (request.method, request.agency_name, request.session_user) == ("agency", "ops", "ci")
    assert request.agency_domain == {"domain_name": "acme"}
    assert check_temporary_key_options(validated(agency_name="ops", agency_domain_id="d1")).agency_domain == {
        "domain_id": "d1"}


@pytest.mark.parametrize("duration", [899, 86401, 0, -1])
def test_duration_outside_the_api_range_is_refused(duration):
    with pytest.raises(OptionError, match="900 to 86400"):
        check_temporary_key_options(validated(duration_seconds=duration))


@pytest.mark.parametrize("duration", [900, 86400])
def test_duration_bounds_are_allowed(duration):
    request = check_temporary_key_options(validated(duration_seconds=duration, renew_before=0))
    assert request.duration_seconds == duration


@pytest.mark.parametrize("renew_before", [-1, 900, 1000])
def test_renew_before_must_leave_fresh_credentials_alone(renew_before):
    with pytest.raises(OptionError, match="renew_before"):
        check_temporary_key_options(validated(renew_before=renew_before))


def test_agency_options_with_the_token_method_are_refused():
    with pytest.raises(OptionError, match="session_user only go with method agency"):
        check_temporary_key_options(validated(method="token", session_user="ci"))
    with pytest.raises(OptionError, match="agency_name"):
        check_temporary_key_options(validated(method="token", agency_name="ops"))


def test_the_agency_method_needs_an_agency_and_one_account_reference():
    with pytest.raises(ValueError, match="agency_name"):
        validated(method="agency")
    with pytest.raises(ValueError, match="mutually exclusive"):
        validated(agency_name="ops", agency_domain_id="d1", agency_domain_name="acme")


def test_csv_is_not_offered_since_it_cannot_hold_a_token():
    assert "csv" not in TOKEN_FORMATS and TOKEN_FORMATS
    assert all("security_token" in format_fields(fmt) for fmt in TOKEN_FORMATS)
    with pytest.raises(ValueError, match="credentials_format"):
        validated(credentials_format="csv")


def test_a_mode_that_everyone_could_read_is_refused():
    with pytest.raises(OptionError, match="any user"):
        check_temporary_key_options(validated(mode="0644"))


def test_the_token_method_refuses_an_access_key_alone_and_says_why():
    with pytest.raises(ConnectionOptionsError) as raised:
        settings_from_params(validated(**KEY), password_required_for=password_needed_for("token"), environ={})
    message = str(raised.value)
    assert "Password authentication is needed for the token method" in message and "X-Auth-Token" in message
    assert "method agency" in message


def test_the_token_method_prefers_the_password_over_an_access_key():
    settings = settings_from_params(validated(**KEY, **PASSWORD), password_required_for=password_needed_for("token"),
                                    environ={})
    assert settings.signing_key is None and settings.password_auth.username == "admin"


def test_the_agency_method_keeps_the_usual_access_key_preference():
    assert password_needed_for("agency") is None
    settings = settings_from_params(validated(**KEY, **PASSWORD, agency_name="ops"), environ={})
    assert settings.signing_key.access_key == KEY["access_key"] and settings.password_auth is None
