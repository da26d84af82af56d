# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""clouds.yaml: find a named entry where openstacksdk finds it, and say which options it sets.

Private to the keywarden.iam collection: the interface may change without notice.

The files and their order are openstacksdk's (``openstack.config.loader``): the file named by
``OS_CLIENT_CONFIG_FILE`` first, then ``clouds.yaml``, ``clouds.yml`` and ``clouds.json`` in the
current directory, the user's configuration directory (``~/.config/openstack``, or
``$XDG_CONFIG_HOME/openstack``), the system's (``/etc/xdg/openstack`` and ``/etc/openstack``). The
first file that exists wins; one that cannot be read or parsed is skipped with a warning, as
openstacksdk does. ``secure.yaml`` (or ``OS_CLIENT_SECURE_FILE``), searched the same way, is merged
into it, so that passwords can live apart from the rest.

What an entry may hold, and where, follows the tools that write such entries: openstacksdk's
``auth`` (``auth_url``, ``username``, ``password``, ``user_domain_name`` ...), ``region_name`` or
``regions``, ``profile`` (the vendor profiles ``otc`` and ``otc-swiss``), ``cacert`` and
``verify``; AK/SK as the T Cloud Public tools spell them: ``auth.ak``/``auth.sk`` (the Terraform
provider's gophertelekomcloud) or ``ak``/``sk`` and ``access_key``/``secret_key`` beside ``auth``
(otcextensions).

This module needs only the standard library and ansible-core's module_utils, so that it imports on
any managed node. Parsing
YAML needs PyYAML, which ansible-core brings on the controller; on a managed node without it a
YAML file is refused with a message that says what to do (``clouds.json`` needs nothing).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass, field
from typing import Any, Mapping

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.keywarden.iam.plugins.module_utils._endpoints import TCLOUD
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError

CONFIG_FILE_VARIABLE = "OS_CLIENT_CONFIG_FILE"
SECURE_FILE_VARIABLE = "OS_CLIENT_SECURE_FILE"
_SUFFIXES = (".yaml", ".yml", ".json")
# The system-wide directory openstacksdk searches last (tests point it elsewhere).
SYSTEM_CONFIG_DIR = "/etc/openstack"
# openstacksdk vendor profiles for T Cloud Public: the vendor and the profile's first region.
PROFILES = {"otc": (TCLOUD, "eu-de"), "otc-swiss": (TCLOUD, "eu-ch2")}
# Keys that hold a secret, wherever they sit in an entry.
_SECRET_KEYS = frozenset({"password", "sk", "secret_key", "security_token", "token",
                          "application_credential_secret"})
# The authentication methods an entry may name and this collection can use.
_USABLE_AUTH_TYPES = frozenset({"password", "v3password", "aksk", "ak/sk"})


class CloudsYamlError(TaskError, ValueError):
    """A clouds.yaml cannot give what was asked of it; the message says why and what to do."""


@dataclass(frozen=True)
class CloudsFile:
    """The clouds configuration that was found: the first clouds file, merged with a secure file."""

    path: str
    clouds: dict = field(repr=False)  # holds passwords and secret keys
    secure_path: str | None = None
    from_override: bool = False
    warnings: tuple = ()
    # Per file: the entries as that file wrote them, to say which file holds a secret.
    raw: tuple = field(default=(), repr=False)


@dataclass(frozen=True)
class CloudEntry:
    """One entry, as the values of this collection's connection options."""

    name: str
    path: str
    options: dict = field(repr=False)
    regions: tuple = ()
    unknown_profile: str | None = None
    unsupported_auth: str | None = None
    warnings: tuple = ()

    @property
    def where(self) -> str:
        return f"clouds.yaml entry '{self.name}' ({self.path})"


def search_dirs(environ: Mapping[str, str], *, cwd: str, home: str) -> list[str]:
    """The directories openstacksdk searches, in its order, without repeats."""
    config_home = (environ.get("XDG_CONFIG_HOME") or "").strip() or os.path.join(home, ".config")
    dirs = [cwd, os.path.join(config_home, "openstack")]
    if sys.platform == "darwin":
        dirs.append(os.path.join(home, "Library", "Application Support", "openstack"))
    # openstacksdk's ~/.config/openstack, where a snap's $HOME is not the user's.
    dirs.append(os.path.join(environ.get("SNAP_REAL_HOME") or home, ".config", "openstack"))
    config_dirs = (environ.get("XDG_CONFIG_DIRS") or "").strip() or "/etc/xdg"
    dirs.extend(os.path.join(directory, "openstack") for directory in config_dirs.split(":") if directory)
    if sys.platform == "darwin":
        dirs.append("/Library/Application Support/openstack")
    dirs.append(SYSTEM_CONFIG_DIR)
    unique: list[str] = []
    for directory in dirs:
        if directory not in unique:
            unique.append(directory)
    return unique


def candidate_files(stem: str, override: str | None, dirs: list[str]) -> list[str]:
    files = [override] if override else []
    return files + [os.path.join(directory, stem + suffix) for directory in dirs for suffix in _SUFFIXES]


def load_clouds(environ: Mapping[str, str], *, cwd: str | None = None, home: str | None = None) -> CloudsFile | None:
    """The clouds configuration openstacksdk would use, or None when there is no file at all."""
    cwd = os.getcwd() if cwd is None else cwd
    home = os.path.expanduser("~") if home is None else home
    dirs = search_dirs(environ, cwd=cwd, home=home)
    override = (environ.get(CONFIG_FILE_VARIABLE) or "").strip() or None
    warnings: list[str] = []
    if override and not os.path.exists(override):
        warnings.append(f"{CONFIG_FILE_VARIABLE} names {override}, which does not exist; looking for clouds.yaml "
                        "in the usual places instead.")
    found = _first_readable(candidate_files("clouds", override, dirs), warnings)
    if found is None:
        return None
    path, document = found
    clouds = _clouds_of(path, document)
    raw = [(path, clouds)]
    secure_override = (environ.get(SECURE_FILE_VARIABLE) or "").strip() or None
    secure = _first_readable(candidate_files("secure", secure_override, dirs), warnings)
    secure_path = None
    if secure is not None:
        secure_path, secure_document = secure
        secure_clouds = _clouds_of(secure_path, secure_document)
        raw.append((secure_path, secure_clouds))
        clouds = _merge(clouds, secure_clouds)
    return CloudsFile(path=path, clouds=clouds, secure_path=secure_path,
                      from_override=override is not None and os.path.abspath(path) == os.path.abspath(override),
                      warnings=tuple(warnings), raw=tuple(raw))


def entry(config: CloudsFile, name: str) -> CloudEntry | None:
    """The entry called ``name``, or None when the file has none of that name."""
    document = config.clouds.get(name)
    if document is None:
        return None
    if not isinstance(document, dict):
        raise CloudsYamlError(f"The clouds.yaml entry '{name}' in {config.path} is not a mapping of settings.")
    return _entry_from(name, config, _normalize_keys(document))


def names(config: CloudsFile) -> list[str]:
    return sorted(str(name) for name in config.clouds)


def _first_readable(paths: list[str], warnings: list[str]) -> tuple[str, Any] | None:
    for path in paths:
        if not os.path.exists(path):
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            warnings.append(f"Skipping {path}: it cannot be read ({error.strerror or type(error).__name__}).")
            continue
        except UnicodeDecodeError:
            warnings.append(f"Skipping {path}: it is not UTF-8 text.")
            continue
        document = _parse(path, text, warnings)
        if document is not _SKIPPED:
            return path, document
    return None


_SKIPPED = object()


def _parse(path: str, text: str, warnings: list[str]) -> Any:
    """The document, or _SKIPPED (with a warning) when it does not parse, as openstacksdk skips it.

    The warning names the line, never the text: the text near a syntax error can be a password.
    """
    if path.endswith(".json"):
        try:
            return json.loads(text)
        except ValueError as error:
            line = getattr(error, "lineno", None)
            warnings.append(f"Skipping {path}: it is not valid JSON" + (f" (line {line})." if line else "."))
            return _SKIPPED
    try:
        import yaml  # PyYAML: on the controller it comes with ansible-core; imported here only when needed
    except ImportError:
        raise CloudsYamlError(
            f"Reading {path} needs PyYAML, which the Python that runs this task ({sys.executable}) does not have. "
            "Install it there (python3-yaml), run the task on the controller (delegate_to: localhost), or write "
            "the same settings as clouds.json."
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        warnings.append(f"Skipping {path}: it is not valid YAML{where}.")
        return _SKIPPED


def _clouds_of(path: str, document: Any) -> dict:
    if not isinstance(document, dict):
        raise CloudsYamlError(f"{path} is empty or not a mapping; a clouds.yaml holds a 'clouds' mapping of entries.")
    clouds = document.get("clouds")
    if clouds is None:
        return {}
    if not isinstance(clouds, dict):
        raise CloudsYamlError(f"'clouds' in {path} is not a mapping of entries.")
    return {str(name): value for name, value in clouds.items()}


def _merge(base: dict, update: dict) -> dict:
    """openstacksdk's merge_clouds: nested mappings merge, anything else is replaced."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif isinstance(value, dict):
            merged[key] = dict(value)
        else:
            merged[key] = value
    return merged


def _normalize_keys(document: dict) -> dict:
    """Keys with '-' mean the same as with '_' (openstacksdk's normalize_keys)."""
    return {str(key).replace("-", "_"): _normalize_keys(value) if isinstance(value, dict) else value
            for key, value in document.items()}


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _first(*values: Any) -> str | None:
    for value in values:
        text = _text(value)
        if text:
            return text
    return None


def _entry_from(name: str, config: CloudsFile, document: dict) -> CloudEntry:
    raw_auth = document.get("auth")
    auth: dict = raw_auth if isinstance(raw_auth, dict) else {}
    warnings: list[str] = []
    regions = _regions(document)
    profile = _first(document.get("profile"), document.get("cloud"))
    vendor = region_default = None
    unknown_profile = None
    if profile:
        if profile in PROFILES:
            vendor, region_default = PROFILES[profile]
        else:
            unknown_profile = profile
    options: dict[str, Any] = {
        "iam_endpoint": _first(auth.get("auth_url"), document.get("auth_url")),
        "region": regions[0] if regions else region_default,
        "vendor": vendor,
        "access_key": _first(auth.get("ak"), auth.get("access_key"), document.get("access_key"), document.get("ak")),
        "secret_key": _first(auth.get("sk"), auth.get("secret_key"), document.get("secret_key"), document.get("sk")),
        "security_token": _first(auth.get("security_token"), document.get("security_token")),
        "auth_username": _first(auth.get("username")),
        "auth_password": _first(auth.get("password")),
        "auth_domain_name": _first(auth.get("user_domain_name"), auth.get("domain_name"),
                                   auth.get("project_domain_name")),
        "domain_id": _first(auth.get("user_domain_id"), auth.get("domain_id"), auth.get("project_domain_id")),
        "ca_path": _first(document.get("cacert")),
    }
    if options["ca_path"]:
        options["ca_path"] = os.path.expanduser(options["ca_path"])
    verify = _boolean(document.get("verify"), default=True, where=f"verify of clouds.yaml entry {name!r}")
    if _boolean(document.get("insecure"), default=False, where=f"insecure of clouds.yaml entry {name!r}"):
        verify = False
    options["validate_certs"] = verify
    auth_type = _first(document.get("auth_type"))
    unsupported = None
    if auth_type and auth_type.lower() not in _USABLE_AUTH_TYPES:
        unsupported = f"auth_type {auth_type}"
    elif _first(auth.get("token")) and not options["auth_password"]:
        unsupported = "a token (auth.token)"
    elif _first(auth.get("user_id")) and not options["auth_username"]:
        unsupported = "a user id (auth.user_id) instead of a user name"
    warnings.extend(_readable_secrets(name, config))
    return CloudEntry(name=name, path=config.path, options=options, regions=tuple(regions),
                      unknown_profile=unknown_profile, unsupported_auth=unsupported, warnings=tuple(warnings))


def _regions(document: dict) -> list[str]:
    """The entry's regions in order: ``regions`` (names or {name, values}), else ``region_name``."""
    listed = document.get("regions")
    if isinstance(listed, list) and listed:
        found = [_first(item.get("name")) if isinstance(item, dict) else _text(item) for item in listed]
        return [region for region in found if region]
    region_name = document.get("region_name")
    if isinstance(region_name, list):
        return [region for region in (_text(item) for item in region_name) if region]
    text = _text(region_name)
    # A comma-separated region_name is openstacksdk's deprecated spelling of a list.
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


def _boolean(value: Any, *, default: bool, where: str) -> bool:
    """A YAML boolean, or one of the strings Ansible reads as one; anything else is refused.

    Strict on purpose: ``verify: ture`` must not turn certificate checks off.
    """
    if value is None:
        return default
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise CloudsYamlError(f"{where} is {value!r}, not a boolean: write true or false") from None


def _readable_secrets(name: str, config: CloudsFile) -> list[str]:
    """A warning for each file whose entry ``name`` holds a secret that other users may read."""
    warnings = []
    for path, clouds in config.raw:
        document = clouds.get(name)
        if not isinstance(document, dict) or not _holds_secret(document):
            continue
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            continue
        if mode & 0o077:
            warnings.append(f"{path} holds a secret of the clouds.yaml entry '{name}' and other users may read it "
                            f"(mode {mode:04o}): chmod 600 {path}.")
    return warnings


def _holds_secret(document: dict) -> bool:
    for key, value in document.items():
        if isinstance(value, dict) and _holds_secret(value):
            return True
        if str(key).replace("-", "_") in _SECRET_KEYS and _text(value):
            return True
    return False
