# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The options of keywarden.iam.temporary_access_key, shared by its module file (docs, sanity)
and its action plugin (which validates the task's arguments with it on the controller).

Private to the keywarden.iam collection.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.keywarden.iam.plugins.module_utils._access_key_options import OptionError, parse_mode
from ansible_collections.keywarden.iam.plugins.module_utils._connection import connection_argument_spec
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import (
    DEFAULT_VARS_PREFIX,
    FORMATS,
    format_fields,
)

METHOD_TOKEN = "token"
METHOD_AGENCY = "agency"
MIN_DURATION, MAX_DURATION, DEFAULT_DURATION = 900, 86400, 900
DEFAULT_RENEW_BEFORE = 300

# A temporary key is useless without its security token, so only the formats that hold one
# are offered (not csv, the console's download for permanent keys).
TOKEN_FORMATS = [fmt for fmt in FORMATS if "security_token" in format_fields(fmt)]

_PASSWORD_OPTIONS = ("auth_username", "auth_password", "auth_domain_name")
_AGENCY_ONLY_OPTIONS = ("agency_name", "agency_domain_id", "agency_domain_name", "session_user")


def temporary_access_key_argument_spec() -> dict:
    return {
        **connection_argument_spec(),
        "method": {"type": "str", "choices": [METHOD_TOKEN, METHOD_AGENCY]},
        "agency_name": {"type": "str"},
        "agency_domain_id": {"type": "str"},
        "agency_domain_name": {"type": "str"},
        "session_user": {"type": "str"},
        "duration_seconds": {"type": "int", "default": DEFAULT_DURATION},
        "policy": {"type": "dict"},
        "renew_before": {"type": "int", "default": DEFAULT_RENEW_BEFORE},
        "force": {"type": "bool", "default": False},
        "credentials_file": {"type": "path"},
        "credentials_format": {"type": "str", "choices": TOKEN_FORMATS, "default": "yaml"},
        "vars_prefix": {"type": "str", "default": DEFAULT_VARS_PREFIX},
        "mode": {"type": "raw", "default": "0600"},
        "backup": {"type": "bool", "default": False},
        "vault_id": {"type": "str"},
        "return_secret": {"type": "bool", "default": False},
    }


TEMPORARY_KEY_MUTUALLY_EXCLUSIVE = [("agency_domain_id", "agency_domain_name")]
TEMPORARY_KEY_REQUIRED_IF = [("method", METHOD_AGENCY, ("agency_name",))]


@dataclass(frozen=True)
class TemporaryKeyRequest:
    """What the task asks for, checked."""

    method: str
    duration_seconds: int
    renew_before: int
    mode: int
    agency_name: str | None = None
    agency_domain: dict | None = None  # {"domain_id": ...} or {"domain_name": ...}; None: the caller's account
    session_user: str | None = None
    policy: dict | None = None


def check_temporary_key_options(params: dict) -> TemporaryKeyRequest:
    """Checks across options that the argument spec alone cannot make."""
    method = params.get("method") or (METHOD_AGENCY if params.get("agency_name") else METHOD_TOKEN)
    if method == METHOD_TOKEN:
        given = [name for name in _AGENCY_ONLY_OPTIONS if params.get(name)]
        if given:
            raise OptionError(f"{', '.join(given)} only go with method agency (assume_role), not with method token.")
    duration = params.get("duration_seconds", DEFAULT_DURATION)
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise OptionError(f"duration_seconds must be from {MIN_DURATION} to {MAX_DURATION}, not {duration}.")
    renew_before = params.get("renew_before", DEFAULT_RENEW_BEFORE)
    if not 0 <= renew_before < duration:
        raise OptionError(
            f"renew_before must be 0 or more and less than duration_seconds ({duration}), not {renew_before}: "
            "otherwise even fresh credentials would be renewed on every run (use force for that)."
        )
    if params.get("session_user") == "":
        raise OptionError("session_user must not be empty.")
    return TemporaryKeyRequest(
        method=method,
        duration_seconds=duration,
        renew_before=renew_before,
        mode=parse_mode(params.get("mode", "0600")),
        agency_name=params.get("agency_name") if method == METHOD_AGENCY else None,
        agency_domain=_agency_domain(params),
        session_user=params.get("session_user") or None,
        policy=params.get("policy") or None,
    )


def password_needed_for(method: str) -> str | None:
    """Why the method needs a password login (for settings_from_params), or None when it does not.

    The token method derives the key from an IAM token, which only a password login yields. When an
    access key is set as well (perhaps by an environment variable), the password then wins for this
    method, instead of the usual AK/SK preference.
    """
    if method != METHOD_TOKEN:
        return None
    return ("the token method, because the IAM API derives the temporary key from an IAM token (X-Auth-Token), "
            "which an access key cannot give; or use method agency (agency_name), which works with an access key too")


def _agency_domain(params: dict) -> dict | None:
    if params.get("agency_domain_id"):
        return {"domain_id": params["agency_domain_id"]}
    if params.get("agency_domain_name"):
        return {"domain_name": params["agency_domain_name"]}
    return None
