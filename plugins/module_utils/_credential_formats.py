# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credential file formats: render and parse AK/SK files. Private to keywarden.iam.

Pure text transformations, no I/O: the caller encrypts and writes. Standard library only, and
importable on Python 3.8, because ansible-test imports every module_utils on the oldest
managed-node Python.

Every format here round-trips: ``parse(fmt, render(fmt, creds))`` gives back exactly the fields
that ``fmt`` holds (see :func:`format_fields`). ``render`` refuses a value that a format, or the
tools that read it, cannot carry unchanged. No error message ever quotes the text being parsed
or a value being rendered: both may hold a secret.

Formats:

``csv``
    The console's ``credentials.csv``: header ``User Name,Access Key Id,Secret Access Key`` and
    one row, RFC 4180 (``\\r\\n`` line ends). The user name cell carries the IAM user name, or the
    user id when the name is unknown. ``parse`` also reads the Huawei Terraform provider's variant
    (UTF-8 BOM, ``User ID`` column).
``yaml``
    A vars file for ``include_vars`` or ``group_vars``, starting with ``---``:
    ``<prefix>access_key``, ``<prefix>secret_key``, then those of ``<prefix>user_id``,
    ``user_name``, ``security_token``, ``expires_at``, ``domain_id``, ``endpoint`` (IAM) and
    ``obs_endpoint`` that are set; every value a double-quoted scalar. The prefix defaults to
    ``iam_``.
``env``
    ``KEY=VALUE`` lines for the Huawei Cloud SDKs: ``HUAWEICLOUD_SDK_AK``, ``_SK``, and
    ``_SECURITY_TOKEN``, ``_DOMAIN_ID``, ``_IAM_ENDPOINT`` when set. Quoted so that a POSIX shell
    (``set -a; . file``) and a systemd ``EnvironmentFile=`` read the same value.
``sdk_profile``
    The SDK profile ``~/.huaweicloud/credentials``: sections ``[basic]`` and ``[global]``, each
    with ``ak``, ``sk`` and, when set, ``security_token`` and ``iam_endpoint``; ``domain_id``
    goes in ``[global]`` only, the one section the SDKs read it from.
``obsutil``
    The ``ak=``, ``sk=``, ``token=`` and ``endpoint=`` lines of ``~/.obsutilconfig``.
"""
from __future__ import annotations

import configparser
import csv
import io
import json
import re
import typing as t
from dataclasses import dataclass, field, fields, replace

FORMATS = ("csv", "yaml", "env", "sdk_profile", "obsutil")
DEFAULT_VARS_PREFIX = "iam_"

# What a reader calls each field, for error messages (never the value itself).
_LABELS = {
    "access_key_id": "access key id",
    "secret_access_key": "secret access key",
    "user_id": "user id",
    "user_name": "user name",
    "security_token": "security token",
    "expires_at": "expiry time",
    "domain_id": "domain id",
    "iam_endpoint": "IAM endpoint",
    "obs_endpoint": "OBS endpoint",
}


class CredentialFormatError(ValueError):
    """Text that cannot be parsed, or credentials that a format cannot hold.

    The message names the format, the field or the line number, never the content.
    """


@dataclass(frozen=True)
class Credentials:
    """One access key with its secret, and what is known about it.

    ``repr()`` and ``str()`` show the access key id but never the secret or the token, so an
    instance can sit in a log line or an exception without leaking them. Optional fields given
    as ``""`` become ``None``: no format tells an empty value from an absent one.
    """

    access_key_id: str
    secret_access_key: str = field(repr=False)
    user_id: str | None = None
    user_name: str | None = None
    security_token: str | None = field(default=None, repr=False)
    expires_at: str | None = None  # ISO 8601 UTC, as IAM returns it
    domain_id: str | None = None
    iam_endpoint: str | None = None
    obs_endpoint: str | None = None  # only obsutil (and yaml) keep it

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"Credentials.{item.name} must be a string, not {type(value).__name__}")
            if value == "":
                # frozen: a plain assignment would raise
                object.__setattr__(self, item.name, None)
        if self.access_key_id is None or self.secret_access_key is None:
            raise ValueError("Credentials need both an access key id and a secret access key")

    def __repr__(self) -> str:
        shown = [f"access_key_id={self.access_key_id!r}", "secret=<hidden>"]
        if self.security_token is not None:
            shown.append("security_token=<hidden>")
        for name in ("user_id", "user_name", "expires_at", "domain_id", "iam_endpoint", "obs_endpoint"):
            value = getattr(self, name)
            if value is not None:
                shown.append(f"{name}={value!r}")
        return f"Credentials({', '.join(shown)})"

    def secrets(self) -> tuple[str, ...]:
        """The secret values, for a caller to add to ``no_log_values``."""
        if self.security_token is None:
            return (self.secret_access_key,)
        return (self.secret_access_key, self.security_token)


def render(fmt: str, creds: Credentials, *, vars_prefix: str = DEFAULT_VARS_PREFIX) -> str:
    """The file content for ``creds`` in format ``fmt``.

    Raises CredentialFormatError when ``fmt`` cannot hold a value unchanged, or cannot hold the
    security token at all (a temporary key is useless without it).
    """
    codec = _codec(fmt, vars_prefix)
    if creds.security_token is not None and "security_token" not in codec.fields:
        holders = [name for name in FORMATS if "security_token" in format_fields(name)]
        raise CredentialFormatError(
            f"the {fmt} format cannot hold a security token, which a temporary key needs; "
            f"use one of: {', '.join(holders)}"
        )
    for item in fields(creds):
        value = getattr(creds, item.name)
        if value is not None:
            _check_printable(fmt, item.name, value)
    return codec.render(creds)


def parse(fmt: str, text: str, *, vars_prefix: str = DEFAULT_VARS_PREFIX) -> Credentials | None:
    """The credentials in ``text``, or None when it holds no access key.

    Raises CredentialFormatError when the text is malformed or holds half a key.
    """
    return _codec(fmt, vars_prefix).parse(text)


def check_options(fmt: str, *, vars_prefix: str = DEFAULT_VARS_PREFIX) -> None:
    """Raise CredentialFormatError for an unknown format or a bad vars_prefix.

    For callers to fail before they create a key, rather than when they come to render it.
    """
    _codec(fmt, vars_prefix)


def format_fields(fmt: str) -> frozenset[str]:
    """The Credentials fields that ``fmt`` keeps; ``render`` drops the others.

    For csv, the user name cell falls back to the user id, which parses back as the user name.
    """
    return _codec(fmt, DEFAULT_VARS_PREFIX).fields


class _Codec(t.NamedTuple):
    fields: frozenset[str]
    render: t.Callable[[Credentials], str]
    parse: t.Callable[[str], Credentials | None]


def _codec(fmt: str, vars_prefix: str) -> _Codec:
    if fmt == "yaml":
        return _yaml_codec(vars_prefix)
    try:
        return _CODECS[fmt]
    except KeyError:
        raise CredentialFormatError(
            f"unknown credential file format {fmt!r}; choose one of: {', '.join(FORMATS)}") from None


def _check_printable(fmt: str, name: str, value: str) -> None:
    # Line breaks and control characters break every line-based format, and no real key,
    # token, id or endpoint contains one.
    if not value.isprintable():
        raise CredentialFormatError(
            f"cannot write {fmt} credentials: the {_LABELS[name]} contains a line break or another "
            "non-printable character"
        )


def _build(values: t.Mapping[str, str | None], *, fmt: str, ak_name: str, sk_name: str) -> Credentials | None:
    """Credentials from parsed ``values`` (Credentials field -> value), or None if no key at all."""
    ak = values.get("access_key_id")
    sk = values.get("secret_access_key")
    if not ak and not sk:
        return None
    if not ak or not sk:
        missing, present = (ak_name, sk_name) if not ak else (sk_name, ak_name)
        raise CredentialFormatError(f"{fmt} credentials hold {present} but no {missing}")
    return Credentials(ak, sk, **_optional_fields(values))


def _optional_fields(values: t.Mapping[str, str | None]) -> dict[str, str | None]:
    """Every field of ``values`` but the key and its secret, which Credentials takes first."""
    return {name: value for name, value in values.items() if name not in ("access_key_id", "secret_access_key")}


def _raise_duplicate(fmt: str, key: str, lineno: int) -> t.NoReturn:
    raise CredentialFormatError(f"{fmt} credentials set {key} twice (again on line {lineno})")


# --- csv -----------------------------------------------------------------------------------

_CSV_HEADER = ("User Name", "Access Key Id", "Secret Access Key")
# Header cells, compared case-insensitively, and the Credentials field each one feeds.
_CSV_COLUMNS = {
    "user name": "user_name",
    "user id": "user_id",  # the Huawei Terraform provider's variant
    "access key id": "access_key_id",
    "secret access key": "secret_access_key",
}


def _render_csv(creds: Credentials) -> str:
    out = io.StringIO()
    writer = csv.writer(out)  # excel dialect: RFC 4180 quoting and \r\n, what spreadsheets expect
    writer.writerow(_CSV_HEADER)
    writer.writerow((creds.user_name or creds.user_id or "", creds.access_key_id, creds.secret_access_key))
    return out.getvalue()


def _parse_csv(text: str) -> Credentials | None:
    try:
        rows = [row for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")) if any(row)]
    except csv.Error:
        raise CredentialFormatError("csv credentials are not valid CSV") from None
    if not rows:
        return None
    header, data = rows[0], rows[1:]
    columns = [_CSV_COLUMNS.get(cell.strip().lower()) for cell in header]
    known = [column for column in columns if column is not None]
    if len(known) != len(set(known)):
        raise CredentialFormatError("csv credentials name a column twice in their header")
    for required, name in (("access_key_id", "Access Key Id"), ("secret_access_key", "Secret Access Key")):
        if required not in columns:
            raise CredentialFormatError(f"csv credentials have no {name!r} column in their header")
    if not data:
        return None
    if len(data) > 1:
        raise CredentialFormatError(f"csv credentials hold {len(data)} rows; expected one access key")
    if len(data[0]) != len(header):
        raise CredentialFormatError(f"the csv credentials row has {len(data[0])} cells; the header has {len(header)}")
    values = {column: cell for column, cell in zip(columns, data[0]) if column is not None}
    return _build(values, fmt="csv", ak_name="an access key id", sk_name="a secret access key")


# --- yaml ----------------------------------------------------------------------------------
# Rendered by hand (module_utils may not import PyYAML): every value is a JSON string, which is
# also a valid YAML double-quoted scalar. With ensure_ascii=False and only printable characters
# allowed, the only escapes written are \" and \\, which every YAML parser reads alike.
#
# The parser reads what render writes plus simple hand-written vars files: one top-level
# "key: value" per line, values plain, 'single-quoted' or "double-quoted" (JSON escapes only),
# an optional leading "---", comments and blank lines. It rejects what it does not understand
# (indentation, flow or block collections, anchors, tags, multi-line scalars) rather than
# guess. Plain values that YAML reads as null (empty, ~, null) count as unset; other plain
# values are taken as text, even ones YAML would read as numbers or booleans.

_YAML_KEYS = (
    ("access_key_id", "access_key"),
    ("secret_access_key", "secret_key"),
    ("user_id", "user_id"),
    ("user_name", "user_name"),
    ("security_token", "security_token"),
    ("expires_at", "expires_at"),
    ("domain_id", "domain_id"),
    ("iam_endpoint", "endpoint"),  # "iam_endpoint" with the default prefix, not "iam_iam_endpoint"
    ("obs_endpoint", "obs_endpoint"),
)
_VARS_PREFIX = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*)?\Z")
_YAML_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?:[ \t]+(.*))?\Z")
_YAML_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_YAML_PLAIN_FORBIDDEN_START = frozenset("[]{}&*!|>%@`,")
# "- " or "? " or ": " at the start, ": " inside, ":" at the end: collection syntax in YAML
_YAML_PLAIN_INDICATOR = re.compile(r"\A[-?:](?:[ \t]|\Z)|:[ \t]|:\Z")
_YAML_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_YAML_AFTER_SCALAR = re.compile(r"(?:[ \t]+(?:#.*)?)?\Z")


def _yaml_codec(vars_prefix: str) -> _Codec:
    if not isinstance(vars_prefix, str) or not _VARS_PREFIX.match(vars_prefix):
        raise CredentialFormatError(
            "vars_prefix must be empty or start with a letter or underscore and hold only letters, digits "
            "and underscores"
        )
    names = tuple((attr, vars_prefix + suffix) for attr, suffix in _YAML_KEYS)
    return _Codec(
        fields=frozenset(attr for attr, _suffix in _YAML_KEYS),
        render=lambda creds: _render_yaml(creds, names),
        parse=lambda text: _parse_yaml(text, names),
    )


def _render_yaml(creds: Credentials, names: tuple[tuple[str, str], ...]) -> str:
    lines = ["---"]
    for attr, key in names:
        value = getattr(creds, attr)
        if value is not None:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def _parse_yaml(text: str, names: tuple[tuple[str, str], ...]) -> Credentials | None:
    wanted = {key: attr for attr, key in names}
    values: dict[str, str | None] = {}
    seen: set[str] = set()
    content_seen = False
    for lineno, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped == "---" and not content_seen:
            content_seen = True
            continue
        content_seen = True
        match = _YAML_LINE.match(line.rstrip())
        if match is None:
            raise CredentialFormatError(
                f"yaml credentials line {lineno} is not a top-level 'key: value' line this parser understands"
            )
        key, raw = match.group(1), match.group(2) or ""
        if key in seen:
            _raise_duplicate("yaml", key, lineno)
        seen.add(key)
        if key in wanted:
            values[wanted[key]] = _yaml_scalar(raw, lineno)
    access_key, secret_key = names[0][1], names[1][1]
    return _build(values, fmt="yaml", ak_name=access_key, sk_name=secret_key)


def _yaml_scalar(raw: str, lineno: int) -> str | None:
    if raw.startswith('"'):
        try:
            value, end = json.JSONDecoder().raw_decode(raw)
        except ValueError:
            raise CredentialFormatError(
                f"yaml credentials line {lineno}: a double-quoted value this parser cannot read "
                "(only JSON escapes are supported)"
            ) from None
        rest = raw[end:]
    elif raw.startswith("'"):
        match = _YAML_SINGLE_QUOTED.match(raw)
        if match is None:
            raise CredentialFormatError(
                f"yaml credentials line {lineno}: a single-quoted value that does not end on its line")
        value, rest = match.group(1).replace("''", "'"), raw[match.end():]
    else:
        return _yaml_plain(raw, lineno)
    if not _YAML_AFTER_SCALAR.match(rest):
        raise CredentialFormatError(f"yaml credentials line {lineno}: text after the closing quote")
    return value


def _yaml_plain(raw: str, lineno: int) -> str | None:
    # In a plain scalar, " #" starts a comment.
    value = re.split(r"[ \t]#", raw, maxsplit=1)[0].rstrip()
    if value.startswith("#"):
        value = ""
    if value in _YAML_NULLS:
        return None
    if value[0] in _YAML_PLAIN_FORBIDDEN_START or _YAML_PLAIN_INDICATOR.search(value):
        raise CredentialFormatError(
            f"yaml credentials line {lineno}: quote this value; unquoted it is YAML syntax this parser does not read"
        )
    return value


# --- env -----------------------------------------------------------------------------------
# A value is written bare when it holds only characters that neither sh nor systemd treat
# specially; otherwise in double quotes with \ before " \ $ and `. POSIX sh and systemd's
# EnvironmentFile= read such a value identically (systemd's own write_env_file() quotes the
# same way; single quotes would not do: sh's 'a'\''b' trick for a quote inside means something
# else to systemd). The parser reads those forms and 'single-quoted' values, an optional
# "export ", comments and blank lines; it rejects anything whose value would depend on the
# shell (unescaped $ or `, concatenation, trailing comments, which systemd keeps in the value).

_ENV_KEYS = (
    ("access_key_id", "HUAWEICLOUD_SDK_AK"),
    ("secret_access_key", "HUAWEICLOUD_SDK_SK"),
    ("security_token", "HUAWEICLOUD_SDK_SECURITY_TOKEN"),
    ("domain_id", "HUAWEICLOUD_SDK_DOMAIN_ID"),
    ("iam_endpoint", "HUAWEICLOUD_SDK_IAM_ENDPOINT"),
)
_ENV_BARE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+\Z")
_ENV_ESCAPED = frozenset('"\\$`')
_ENV_LINE = re.compile(r"(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)\Z")


def _render_env(creds: Credentials) -> str:
    return "".join(
        f"{name}={_env_quote(getattr(creds, attr))}\n" for attr, name in _ENV_KEYS if getattr(creds, attr) is not None
    )


def _env_quote(value: str) -> str:
    if _ENV_BARE.match(value):
        return value
    return '"' + "".join("\\" + char if char in _ENV_ESCAPED else char for char in value) + '"'


def _parse_env(text: str) -> Credentials | None:
    wanted = {name: attr for attr, name in _ENV_KEYS}
    values = _key_value_lines(text, "env", _env_line, wanted)
    return _build(values, fmt="env", ak_name="HUAWEICLOUD_SDK_AK", sk_name="HUAWEICLOUD_SDK_SK")


def _env_line(line: str, lineno: int) -> tuple[str, str]:
    match = _ENV_LINE.match(line)
    if match is None:
        raise CredentialFormatError(f"env credentials line {lineno} is not a NAME=value line")
    name, raw = match.groups()
    return name, _env_unquote(raw, lineno)


def _key_value_lines(text: str, fmt: str, split: t.Callable[[str, int], tuple[str, str]],
                     wanted: t.Mapping[str, str]) -> dict[str, str | None]:
    """Credentials fields from a file of one ``key=value`` per line, as ``split`` reads a line.

    Blank lines and ``#`` comments are skipped; a key set twice is refused, since the file's
    readers disagree about which one wins; keys not in ``wanted`` (key -> field) are ignored.
    """
    values: dict[str, str | None] = {}
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, value = split(stripped, lineno)
        if key in seen:
            _raise_duplicate(fmt, key, lineno)
        seen.add(key)
        if key in wanted:
            values[wanted[key]] = value
    return values


def _env_unquote(raw: str, lineno: int) -> str:
    if raw.startswith('"'):
        value, end = _env_double_quoted(raw, lineno)
    elif raw.startswith("'"):
        end = raw.find("'", 1)
        if end < 0:
            raise CredentialFormatError(
                f"env credentials line {lineno}: a single-quoted value that does not end on its line")
        value, end = raw[1:end], end + 1
    else:
        if raw and not _ENV_BARE.match(raw):
            raise CredentialFormatError(
                f"env credentials line {lineno}: an unquoted value with characters the shell would interpret; quote it"
            )
        return raw
    if raw[end:].strip():
        raise CredentialFormatError(f"env credentials line {lineno}: text after the closing quote")
    return value


def _env_double_quoted(raw: str, lineno: int) -> tuple[str, int]:
    """The value of the double-quoted string at the start of ``raw`` and the index after it."""
    chars: list[str] = []
    index = 1
    while index < len(raw):
        char = raw[index]
        if char == '"':
            return "".join(chars), index + 1
        if char in "$`":
            raise CredentialFormatError(
                f"env credentials line {lineno}: an unescaped $ or ` would make the shell expand the value"
            )
        if char == "\\" and index + 1 < len(raw):
            following = raw[index + 1]
            # sh and systemd drop the backslash only before these; elsewhere it stays
            chars.append(following if following in _ENV_ESCAPED else char + following)
            index += 2
            continue
        chars.append(char)
        index += 1
    raise CredentialFormatError(f"env credentials line {lineno}: a double-quoted value that does not end on its line")


# --- sdk_profile ---------------------------------------------------------------------------
# The Python SDK reads this file with configparser.ConfigParser() (so '%' interpolates) and the
# Go SDK with gopkg.in/ini.v1 (which cuts values at '#' or ';' and strips surrounding quotes);
# both strip surrounding whitespace. render refuses values those readers would change.

_PROFILE_BASIC = ("ak", "sk", "security_token", "iam_endpoint")
_PROFILE_GLOBAL = ("ak", "sk", "security_token", "domain_id", "iam_endpoint")
_PROFILE_ATTRS = {
    "ak": "access_key_id",
    "sk": "secret_access_key",
    "security_token": "security_token",
    "domain_id": "domain_id",
    "iam_endpoint": "iam_endpoint",
}
_PROFILE_UNSAFE = re.compile(r"""[%#;]|\A["'`]|\A\s|\s\Z""")


def _render_sdk_profile(creds: Credentials) -> str:
    for attr in _PROFILE_ATTRS.values():
        value = getattr(creds, attr)
        if value is not None and _PROFILE_UNSAFE.search(value):
            raise CredentialFormatError(
                f"the sdk_profile format cannot hold the {_LABELS[attr]}: the SDKs' INI readers change values "
                "that contain %, # or ;, start with a quote, or start or end with a space"
            )
    sections = []
    for section, options in (("basic", _PROFILE_BASIC), ("global", _PROFILE_GLOBAL)):
        lines = [f"[{section}]"]
        for option in options:
            value = getattr(creds, _PROFILE_ATTRS[option])
            if value is not None:
                lines.append(f"{option} = {value}")
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def _parse_sdk_profile(text: str) -> Credentials | None:
    parser = configparser.ConfigParser()  # as the Python SDK reads it, interpolation included
    try:
        parser.read_string(text)
        found = {
            section: _profile_section(parser, section)
            for section in ("global", "basic")
            if parser.has_section(section)
        }
    except configparser.Error as exc:
        # configparser's messages quote the offending line, which may hold a secret
        lineno = getattr(exc, "lineno", None)
        where = f" (line {lineno})" if lineno else ""
        raise CredentialFormatError(
            f"sdk_profile credentials are not a valid INI file{where}: {type(exc).__name__}") from None
    creds = [item for item in found.values() if item is not None]
    if len(creds) == 2 and replace(creds[0], domain_id=None) != replace(creds[1], domain_id=None):
        # Reading one section would hide a stale key in the other.
        raise CredentialFormatError("sdk_profile credentials hold different keys in [global] and [basic]")
    return creds[0] if creds else None


def _profile_section(parser: configparser.ConfigParser, section: str) -> Credentials | None:
    values = {attr: parser.get(section, option, fallback=None) for option, attr in _PROFILE_ATTRS.items()}
    if section == "basic":
        values["domain_id"] = None  # the SDK reads domain_id only for global services
    return _build(values, fmt="sdk_profile", ak_name=f"[{section}] ak", sk_name=f"[{section}] sk")


# --- obsutil -------------------------------------------------------------------------------
# obsutil takes everything after the first "=" and trims it; no quoting, so a value may not
# start or end with whitespace. Other keys of a real ~/.obsutilconfig are ignored.

_OBSUTIL_KEYS = (
    ("access_key_id", "ak"),
    ("secret_access_key", "sk"),
    ("security_token", "token"),
    ("obs_endpoint", "endpoint"),
)


def _render_obsutil(creds: Credentials) -> str:
    lines = []
    for attr, key in _OBSUTIL_KEYS:
        value = getattr(creds, attr)
        if value is None:
            continue
        if value != value.strip():
            raise CredentialFormatError(
                f"the obsutil format cannot hold the {_LABELS[attr]}: obsutil trims leading and trailing spaces"
            )
        lines.append(f"{key}={value}\n")
    return "".join(lines)


def _parse_obsutil(text: str) -> Credentials | None:
    wanted = {key: attr for attr, key in _OBSUTIL_KEYS}
    return _build(_key_value_lines(text, "obsutil", _obsutil_line, wanted), fmt="obsutil", ak_name="ak", sk_name="sk")


def _obsutil_line(line: str, lineno: int) -> tuple[str, str]:
    key, sep, value = line.partition("=")
    if not sep or not key.strip():
        raise CredentialFormatError(f"obsutil credentials line {lineno} is not a key=value line")
    return key.strip(), value.strip()


_EXPIRY_COMMENT = "# expires_at: "


def _with_expiry_comment(fmt: str, codec: _Codec) -> _Codec:
    """``codec`` that also keeps a temporary key's expiry, in a comment line.

    The SDK profile, env files and obsutil have no field for it, and their readers skip comment
    lines, so the expiry rides along where it disturbs no consumer; without it a temporary key
    in these formats could not be judged still valid and would be fetched anew on every run.
    """

    def render_with_expiry(creds: Credentials) -> str:
        text = codec.render(creds)
        if creds.expires_at is None:
            return text
        _check_printable(fmt, "expires_at", creds.expires_at)
        return f"{_EXPIRY_COMMENT}{creds.expires_at}\n{text}"

    def parse_with_expiry(text: str) -> Credentials | None:
        creds = codec.parse(text)
        if creds is None:
            return None
        for line in text.splitlines():
            if line.startswith(_EXPIRY_COMMENT):
                return replace(creds, expires_at=line[len(_EXPIRY_COMMENT):])
        return creds

    return _Codec(codec.fields | {"expires_at"}, render_with_expiry, parse_with_expiry)


_CODECS = {
    "csv": _Codec(
        fields=frozenset(("access_key_id", "secret_access_key", "user_name")), render=_render_csv, parse=_parse_csv
    ),
    "env": _with_expiry_comment("env", _Codec(
        fields=frozenset(attr for attr, _name in _ENV_KEYS), render=_render_env, parse=_parse_env)),
    "sdk_profile": _with_expiry_comment("sdk_profile", _Codec(
        fields=frozenset(_PROFILE_ATTRS.values()), render=_render_sdk_profile, parse=_parse_sdk_profile)),
    "obsutil": _with_expiry_comment("obsutil", _Codec(
        fields=frozenset(attr for attr, _key in _OBSUTIL_KEYS), render=_render_obsutil, parse=_parse_obsutil)),
}
