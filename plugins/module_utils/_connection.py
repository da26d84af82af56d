# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connection and auth options: one argument spec for every module, and what the options mean.

Private to the keywarden.iam collection: the interface may change without notice.

Environment fallbacks are tried in this order, for each option on its own: the variables of the
official Python SDK (``HUAWEICLOUD_SDK_*``), then the Huawei Cloud Terraform provider's
(``HW_*``), then the OpenStack / T Cloud Public ones (``OS_*``). The documentation fragment
``keywarden.iam.connection`` says the same; keep them in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible.module_utils.basic import env_fallback

from ansible_collections.keywarden.iam.plugins.module_utils._endpoints import CLOUDS, resolve_endpoint
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._signer import SigningKey

ENV_FALLBACKS = {
    "iam_endpoint": ["HUAWEICLOUD_SDK_IAM_ENDPOINT", "OS_AUTH_URL"],
    "region": ["HUAWEICLOUD_SDK_REGION", "HW_REGION_NAME", "OS_REGION_NAME"],
    "access_key": ["HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY", "OS_ACCESS_KEY"],
    "secret_key": ["HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY", "OS_SECRET_KEY"],
    "security_token": ["HUAWEICLOUD_SDK_SECURITY_TOKEN", "HW_SECURITY_TOKEN", "OS_SECURITY_TOKEN"],
    "domain_id": ["HUAWEICLOUD_SDK_DOMAIN_ID", "HW_DOMAIN_ID", "OS_DOMAIN_ID"],
    "auth_username": ["HW_USER_NAME", "OS_USERNAME"],
    "auth_password": ["HW_PASSWORD", "OS_PASSWORD"],
    "auth_domain_name": ["HW_DOMAIN_NAME", "OS_DOMAIN_NAME", "OS_USER_DOMAIN_NAME"],
}

DEFAULT_TIMEOUT = 30
DEFAULT_RETRIES = 4
# Far beyond any real need, and small enough that no timer or back-off overflows.
MAX_TIMEOUT = 3600
MAX_RETRIES = 20


def _with_env(name: str, **spec) -> dict:
    spec["fallback"] = (env_fallback, ENV_FALLBACKS[name])
    return spec


def connection_argument_spec() -> dict:
    """A fresh copy of the shared options, to merge into a module's own argument spec."""
    return {
        "cloud": {"type": "str", "choices": list(CLOUDS), "default": "huaweicloud"},
        "region": _with_env("region", type="str"),
        "iam_endpoint": _with_env("iam_endpoint", type="str"),
        "access_key": _with_env("access_key", type="str", no_log=False, aliases=["ak"]),
        "secret_key": _with_env("secret_key", type="str", no_log=True, aliases=["sk"]),
        "security_token": _with_env("security_token", type="str", no_log=True),
        "domain_id": _with_env("domain_id", type="str"),
        "auth_username": _with_env("auth_username", type="str"),
        "auth_password": _with_env("auth_password", type="str", no_log=True),
        "auth_domain_name": _with_env("auth_domain_name", type="str"),
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "timeout": {"type": "int", "default": DEFAULT_TIMEOUT},
        "retries": {"type": "int", "default": DEFAULT_RETRIES},
    }


class ConnectionOptionsError(TaskError, ValueError):
    """The connection options cannot work together; the message says how to fix them."""


@dataclass(frozen=True)
class PasswordAuth:
    username: str
    password: str = field(repr=False)
    domain_name: str


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything the client needs to reach and authenticate to one IAM endpoint."""

    endpoint: str
    signing_key: SigningKey | None = None
    password_auth: PasswordAuth | None = None
    domain_id: str | None = None
    validate_certs: bool = True
    ca_path: str | None = None
    timeout: int = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    warnings: tuple = ()

    @property
    def auth_access_key(self) -> str | None:
        """The access key id this run signs with, which rotation must not retire by accident."""
        return self.signing_key.access_key if self.signing_key else None


def settings_from_params(params: dict) -> ConnectionSettings:
    """Check the connection options together and resolve them into settings.

    AK/SK wins when both it and password auth are present, since environment fallbacks can
    supply one kind while the task states the other.
    """
    warnings = []
    endpoint = resolve_endpoint(
        cloud=params.get("cloud"), region=params.get("region"), iam_endpoint=params.get("iam_endpoint")
    )
    access_key, secret_key = params.get("access_key"), params.get("secret_key")
    signing_key = None
    password_auth = None
    if access_key or secret_key:
        if not (access_key and secret_key):
            missing = "secret_key" if access_key else "access_key"
            raise ConnectionOptionsError(
                f"access_key and secret_key go together, but {missing} is not set (nor its environment "
                f"variables {', '.join(ENV_FALLBACKS[missing])})."
            )
        signing_key = SigningKey(access_key, secret_key, params.get("security_token") or None)
    elif params.get("auth_username") or params.get("auth_password"):
        absent = [name for name in ("auth_username", "auth_password", "auth_domain_name") if not params.get(name)]
        if absent:
            raise ConnectionOptionsError(
                f"Password authentication needs auth_username, auth_password and auth_domain_name; "
                f"missing: {', '.join(absent)}."
            )
        password_auth = PasswordAuth(params["auth_username"], params["auth_password"], params["auth_domain_name"])
    else:
        raise ConnectionOptionsError(
            "No credentials: set access_key and secret_key (or HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK, "
            "HW_ACCESS_KEY/HW_SECRET_KEY, OS_ACCESS_KEY/OS_SECRET_KEY), or auth_username, auth_password "
            "and auth_domain_name."
        )
    if not params.get("validate_certs", True):
        warnings.append(
            f"validate_certs is false: the TLS certificate of {endpoint} is not checked, so the credentials "
            "sent to it could be intercepted. Set ca_path instead for a private CA."
        )
    timeout = params.get("timeout")
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    retries = params.get("retries")
    if not 0 < timeout <= MAX_TIMEOUT:
        raise ConnectionOptionsError(f"timeout must be from 1 to {MAX_TIMEOUT} seconds, not {timeout}.")
    if retries is not None and not 0 <= retries <= MAX_RETRIES:
        raise ConnectionOptionsError(f"retries must be from 0 to {MAX_RETRIES}, not {retries}.")
    return ConnectionSettings(
        endpoint=endpoint,
        signing_key=signing_key,
        password_auth=password_auth,
        domain_id=params.get("domain_id") or None,
        validate_certs=params.get("validate_certs", True),
        ca_path=params.get("ca_path") or None,
        timeout=timeout,
        retries=DEFAULT_RETRIES if retries is None else retries,
        warnings=tuple(warnings),
    )
