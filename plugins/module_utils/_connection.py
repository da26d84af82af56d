# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connection and auth options: one argument spec for every module, and what the options mean.

Private to the keywarden.iam collection: the interface may change without notice.

Where a setting comes from, first to last:

1. the task's option (or ``module_defaults``);
2. a clouds.yaml entry, when one is named (option ``cloud`` or ``OS_CLOUD``) or when the file that
   ``OS_CLIENT_CONFIG_FILE`` names holds exactly one entry and no credentials were given otherwise
   (what AWX's OpenStack credential provides). An entry replaces the environment variables below,
   as a named cloud does in openstacksdk, and its credentials are used only when the task gives none;
3. the environment variables of ``ENV_FALLBACKS``, for each option the first that is set and not
   empty: the vendor SDK's (``HUAWEICLOUD_SDK_*``), then the Terraform huaweicloud provider's
   (``HW_*``), then the ones the Terraform opentelekomcloud provider, openstacksdk and otcextensions
   read (``OS_*``), each in the order that provider reads them.

The documentation fragment ``keywarden.iam.connection`` says the same; keep them in step.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.keywarden.iam.plugins.module_utils import _clouds_yaml as clouds_yaml
from ansible_collections.keywarden.iam.plugins.module_utils._endpoints import (
    HUAWEICLOUD,
    VENDORS,
    check_region,
    normalise_endpoint,
    resolve_endpoint,
    sdk_region_endpoint,
)
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._signer import SigningKey

# For each option, every environment variable that the vendor SDK and the two Terraform providers
# read for the same setting, in one order. The last names of region and auth_password are
# deprecated spellings (DEPRECATED_ENV) that still work until REMOVAL_VERSION.
ENV_FALLBACKS = {
    "cloud": ["OS_CLOUD"],
    "iam_endpoint": ["HUAWEICLOUD_SDK_IAM_ENDPOINT", "HW_AUTH_URL", "OS_AUTH_URL"],
    "region": ["HW_REGION_NAME", "OS_REGION_NAME", "OS_REGION", "HUAWEICLOUD_SDK_REGION"],
    "access_key": ["HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY", "OS_ACCESS_KEY"],
    "secret_key": ["HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY", "OS_SECRET_KEY"],
    "security_token": ["HUAWEICLOUD_SDK_SECURITY_TOKEN", "HW_SECURITY_TOKEN", "OS_SECURITY_TOKEN"],
    "domain_id": ["HUAWEICLOUD_SDK_DOMAIN_ID", "HW_DOMAIN_ID", "OS_DOMAIN_ID", "OS_USER_DOMAIN_ID",
                  "OS_PROJECT_DOMAIN_ID"],
    "auth_username": ["HW_USER_NAME", "OS_USERNAME"],
    "auth_password": ["HW_USER_PASSWORD", "OS_PASSWORD", "HW_PASSWORD"],
    "auth_domain_name": ["HW_DOMAIN_NAME", "OS_DOMAIN_NAME", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME",
                         "OS_DEFAULT_DOMAIN"],
    "ca_path": ["OS_CACERT"],
}
REMOVAL_VERSION = "1.0.0"
# Names that no other tool reads for the same setting: name -> what to use instead.
DEPRECATED_ENV = {
    "HW_PASSWORD": "HW_USER_PASSWORD (the Terraform huaweicloud provider's name) or OS_PASSWORD",
    "HUAWEICLOUD_SDK_REGION": (
        "HW_REGION_NAME or OS_REGION_NAME; the vendor SDK reads HUAWEICLOUD_SDK_REGION only as the prefix of "
        "per-service endpoint variables such as HUAWEICLOUD_SDK_REGION_IAM_EU_WEST_101, never as a region"
    ),
}
CREDENTIAL_OPTIONS = ("access_key", "secret_key", "security_token", "auth_username", "auth_password",
                      "auth_domain_name")

DEFAULT_TIMEOUT = 30
DEFAULT_RETRIES = 4
# Far beyond any real need, and small enough that no timer or back-off overflows.
MAX_TIMEOUT = 3600
MAX_RETRIES = 20
# Account (domain) ids are 32 lower-case hexadecimal characters on both clouds.
_DOMAIN_ID = re.compile(r"[0-9a-f]{32}\Z")


def env_fallback(*names: str) -> str:
    """The first of ``names`` set to a non-empty value, as the Terraform providers read them.

    Unlike ansible-core's env_fallback an empty variable counts as unset, so that an AWX injector
    that renders an optional field as '' does not hide the variables after it.
    """
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    raise AnsibleFallbackNotFound


def _with_env(name: str, **spec) -> dict:
    spec["fallback"] = (env_fallback, ENV_FALLBACKS[name])
    return spec


def connection_argument_spec() -> dict:
    """A fresh copy of the shared options, to merge into a module's own argument spec."""
    return {
        "cloud": _with_env("cloud", type="str"),
        "vendor": {"type": "str", "choices": list(VENDORS)},
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
        "ca_path": _with_env("ca_path", type="path"),
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

    @property
    def secrets(self) -> tuple:
        """The secret values these settings hold, for a module's ``no_log_values``.

        Options marked no_log are masked by Ansible already; a secret read from a clouds.yaml
        entry is not an option value, so the caller must register it.
        """
        found = []
        if self.signing_key:
            found += [self.signing_key.secret_key, self.signing_key.security_token]
        if self.password_auth:
            found.append(self.password_auth.password)
        return tuple(secret for secret in found if secret)


@dataclass
class _Resolved:
    """The connection options after the task, a clouds.yaml entry and the environment were weighed."""

    values: dict = field(repr=False)  # holds the secrets
    sources: dict
    entry: clouds_yaml.CloudEntry | None = None
    legacy_vendor: str | None = None
    warnings: list = field(default_factory=list)

    def source(self, option: str) -> str:
        return self.sources.get(option, f"option {option}")


def settings_from_params(
    params: dict,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: str | None = None,
    home: str | None = None,
    password_required_for: str | None = None,
) -> ConnectionSettings:
    """Check the connection options together and resolve them into settings.

    ``params`` are the validated options, environment fallbacks applied; ``environ``, ``cwd`` and
    ``home`` default to this process's (tests pass their own). AK/SK wins when both it and password
    auth are present, since environment fallbacks can supply one kind while the task states the
    other, unless ``password_required_for`` says what needs a password login (a phrase that
    completes "Password authentication is needed for ..."): then only the password counts, wherever
    it comes from, the task, the environment or a clouds.yaml entry.
    """
    environ = os.environ if environ is None else environ
    resolved = _resolve(params, environ, cwd=cwd, home=home)
    values, warnings = resolved.values, resolved.warnings
    if password_required_for:
        missing = [name for name in ("auth_username", "auth_password", "auth_domain_name") if not values.get(name)]
        if missing:
            raise ConnectionOptionsError(
                f"Password authentication is needed for {password_required_for}: set auth_username, auth_password "
                f"and auth_domain_name (missing: {', '.join(missing)}), in the task, the environment or the "
                "clouds.yaml entry."
            )
        for name in ("access_key", "secret_key", "security_token"):
            values.pop(name, None)

    region = values.get("region") or None
    if region:
        check_region(region, what=f"region (from {resolved.source('region')})")
    if resolved.entry and region and resolved.entry.regions and region not in resolved.entry.regions:
        raise ConnectionOptionsError(
            f"region {region} is not one of the regions of {resolved.entry.where}: "
            f"{', '.join(resolved.entry.regions)}."
        )
    endpoint = _endpoint(values, resolved, environ)
    signing_key, password_auth = _credentials(values, resolved)
    if password_auth and endpoint.startswith("http://"):
        warnings.append(
            f"Password authentication over plain HTTP: the password of {password_auth.username}, and the token "
            f"it is exchanged for, cross the network to {endpoint} unencrypted. Use an https:// endpoint."
        )
    domain_id = values.get("domain_id") or None
    if domain_id and not _DOMAIN_ID.match(domain_id):
        shown = domain_id if len(domain_id) <= 64 else domain_id[:64] + "..."
        raise ConnectionOptionsError(
            f"domain_id {shown!r} (from {resolved.source('domain_id')}) is not an account ID, which is 32 "
            "lower-case hexadecimal characters such as 0970d7b7d400f2470fbec00316a03560. An account name belongs "
            "in auth_domain_name; leave domain_id unset and the account ID is looked up (GET /v3/auth/domains)."
        )
    validate_certs = bool(values.get("validate_certs", True))
    if not validate_certs:
        why = f" (from {resolved.sources['validate_certs']})" if "validate_certs" in resolved.sources else ""
        warnings.append(
            f"validate_certs is false{why}: the TLS certificate of {endpoint} is not checked, so the credentials "
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
        domain_id=domain_id,
        validate_certs=validate_certs,
        ca_path=values.get("ca_path") or None,
        timeout=timeout,
        retries=DEFAULT_RETRIES if retries is None else retries,
        warnings=tuple(warnings),
    )


def endpoint_secrets(params: Mapping[str, Any]) -> tuple:
    """The password an ``iam_endpoint`` option carries (``user:password@host``), for ``no_log_values``.

    Such an endpoint is refused (``normalise_endpoint``) without repeating it, but the option's
    value still travels in the task's result (``invocation``) unless it is masked.
    """
    endpoint = params.get("iam_endpoint")
    if not isinstance(endpoint, str) or "@" not in endpoint:
        return ()
    try:
        password = urlsplit(endpoint.strip()).password
    except ValueError:
        # Unparsable (a broken IPv6 literal, say), yet it may carry one: what lies between the
        # user name's colon and the last @ before the path.
        authority = endpoint.strip().split("://", 1)[-1].split("/", 1)[0]
        userinfo = authority.rpartition("@")[0]
        password = userinfo.partition(":")[2] if ":" in userinfo else None
    return (password,) if password else ()


def environment_source(option: str, value: object, environ: Mapping[str, str]) -> str | None:
    """The environment variable that supplied ``value`` for ``option``, if one did.

    ``params`` do not say where a value came from; the environment fallback took the first set,
    non-empty variable of the list, so a value equal to that variable's is taken to be from it.
    """
    for name in ENV_FALLBACKS.get(option, ()):
        current = environ.get(name)
        if current:
            return name if current == value else None
    return None


def _resolve(params: dict, environ: Mapping[str, str], *, cwd: str | None, home: str | None) -> _Resolved:
    warnings = [
        f"The environment variable {name} is deprecated and will no longer be read from keywarden.iam "
        f"{REMOVAL_VERSION} on: use {instead}."
        for name, instead in DEPRECATED_ENV.items() if environ.get(name)
    ]
    given: dict = {}
    from_env: dict = {}
    for option in connection_argument_spec():
        value = params.get(option)
        if value is None:
            continue
        name = environment_source(option, value, environ)
        if name:
            from_env[option] = (value, name)
        else:
            given[option] = value
    resolved = _Resolved(values={}, sources={}, warnings=warnings)
    resolved.entry, resolved.legacy_vendor = _select_entry(params, given, from_env, environ, cwd, home, warnings)
    if resolved.entry is None:
        for option, (value, name) in from_env.items():
            resolved.values[option] = value
            resolved.sources[option] = f"the environment variable {name}"
    else:
        entry = resolved.entry
        warnings.extend(entry.warnings)
        task_has_credentials = any(given.get(option) for option in CREDENTIAL_OPTIONS)
        for option, value in entry.options.items():
            if value is None or option == "validate_certs" or (task_has_credentials and option in CREDENTIAL_OPTIONS):
                continue
            resolved.values[option] = value
            resolved.sources[option] = entry.where
        if entry.options.get("validate_certs") is False:
            # The option's default (true) cannot be told from a task's explicit true, so the entry's
            # verify: false turns verification off either way, with the warning that names the entry.
            given["validate_certs"] = False
            resolved.sources["validate_certs"] = f"{entry.where}, which sets verify: false"
    resolved.values.update(given)
    return resolved


def _select_entry(
    params: dict, given: dict, from_env: dict, environ: Mapping[str, str], cwd: str | None, home: str | None,
    warnings: list,
) -> tuple[clouds_yaml.CloudEntry | None, str | None]:
    """(the clouds.yaml entry to use or None, the vendor an old-style cloud value names or None)."""
    name = params.get("cloud") or None
    where = f"the environment variable {from_env['cloud'][1]}" if "cloud" in from_env else "option cloud"
    if name:
        try:
            config = clouds_yaml.load_clouds(environ, cwd=cwd, home=home)
        except clouds_yaml.CloudsYamlError:
            if name in VENDORS:  # an old playbook on a host that cannot read the clouds.yaml it happens to have
                config = None
            else:
                raise
        if config is not None:
            warnings.extend(config.warnings)
            found = clouds_yaml.entry(config, name)
            if found is not None:
                return found, None
        if name in VENDORS:
            warnings.append(
                f"cloud: {name} is deprecated and will stop selecting the vendor in keywarden.iam {REMOVAL_VERSION}: "
                f"use vendor: {name}. Like openstack.cloud and opentelekomcloud.cloud, this collection now reads "
                "cloud as the name of a clouds.yaml entry."
            )
            return None, name
        if config is None:
            searched = clouds_yaml.search_dirs(environ, cwd=cwd or os.getcwd(), home=home or os.path.expanduser("~"))
            raise ConnectionOptionsError(
                f"The clouds.yaml entry '{name}' ({where}) cannot be read: no clouds.yaml, clouds.yml or clouds.json "
                f"was found (OS_CLIENT_CONFIG_FILE is not set; searched {', '.join(searched)})."
            )
        raise ConnectionOptionsError(
            f"{config.path} has no entry '{name}' ({where}); its entries: "
            f"{', '.join(clouds_yaml.names(config)) or 'none'}."
        )
    has_credentials = any(option in given or option in from_env
                          for option in ("access_key", "secret_key", "auth_username", "auth_password"))
    if has_credentials or not (environ.get(clouds_yaml.CONFIG_FILE_VARIABLE) or "").strip():
        return None, None
    # Like openstacksdk, the only entry of the file named by OS_CLIENT_CONFIG_FILE needs no name: AWX's
    # OpenStack credential writes one entry and sets only that variable. A clouds.yaml found on the
    # search path is never used unless named, so a file kept for other tools cannot be used by surprise.
    config = clouds_yaml.load_clouds(environ, cwd=cwd, home=home)
    if config is None or not config.from_override:
        return None, None
    warnings.extend(config.warnings)
    entries = clouds_yaml.names(config)
    if len(entries) != 1:
        raise ConnectionOptionsError(
            f"{config.path} (OS_CLIENT_CONFIG_FILE) holds {len(entries)} entries ({', '.join(entries) or 'none'}): "
            "name the one to use with the option cloud or OS_CLOUD."
        )
    return clouds_yaml.entry(config, entries[0]), None


def _endpoint(values: dict, resolved: _Resolved, environ: Mapping[str, str]) -> str:
    iam_endpoint = values.get("iam_endpoint") or None
    if iam_endpoint:
        return normalise_endpoint(iam_endpoint, what=f"iam_endpoint (from {resolved.source('iam_endpoint')})")
    entry = resolved.entry
    if entry and entry.unknown_profile and not values.get("vendor"):
        raise ConnectionOptionsError(
            f"{entry.where} uses the profile '{entry.unknown_profile}', which this collection does not know (it knows "
            f"{', '.join(sorted(clouds_yaml.PROFILES))}): set auth.auth_url in the entry, or iam_endpoint."
        )
    region = values.get("region") or None
    if entry is None:
        override = sdk_region_endpoint(region, environ)
        if override:
            name, url = override
            return normalise_endpoint(url, what=f"the IAM endpoint of region {region} (from {name})")
    vendor = values.get("vendor") or resolved.legacy_vendor or HUAWEICLOUD
    return resolve_endpoint(vendor=vendor, region=region, iam_endpoint=None)


def _credentials(values: dict, resolved: _Resolved) -> tuple[SigningKey | None, PasswordAuth | None]:
    access_key, secret_key = values.get("access_key"), values.get("secret_key")
    if access_key or secret_key:
        if not (access_key and secret_key):
            given, missing = ("access_key", "secret_key") if access_key else ("secret_key", "access_key")
            raise ConnectionOptionsError(
                f"access_key and secret_key go together, but {missing} is not set (nor any of its environment "
                f"variables {', '.join(ENV_FALLBACKS[missing])}); {given} came from {resolved.source(given)}."
            )
        return SigningKey(access_key, secret_key, values.get("security_token") or None), None
    if values.get("auth_username") or values.get("auth_password"):
        absent = [name for name in ("auth_username", "auth_password", "auth_domain_name") if not values.get(name)]
        if absent:
            raise ConnectionOptionsError(
                f"Password authentication needs auth_username, auth_password and auth_domain_name; "
                f"missing: {', '.join(absent)} (environment variables: "
                f"{'; '.join(', '.join(ENV_FALLBACKS[name][:3]) for name in absent)})."
            )
        return None, PasswordAuth(values["auth_username"], values["auth_password"], values["auth_domain_name"])
    entry = resolved.entry
    if entry is not None:
        how = f" It authenticates with {entry.unsupported_auth}, which this collection cannot use." \
            if entry.unsupported_auth else ""
        raise ConnectionOptionsError(
            f"{entry.where} holds no credentials this collection can use.{how} Give it auth.username, "
            "auth.password and auth.user_domain_name, or an access key as auth.ak and auth.sk (or ak and sk)."
        )
    raise ConnectionOptionsError(
        "No credentials: set access_key and secret_key (or HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK, "
        "HW_ACCESS_KEY/HW_SECRET_KEY, OS_ACCESS_KEY/OS_SECRET_KEY), or auth_username, auth_password "
        "and auth_domain_name (or HW_USER_NAME, HW_USER_PASSWORD, HW_DOMAIN_NAME), or name a clouds.yaml "
        "entry with the option cloud or OS_CLOUD."
    )
