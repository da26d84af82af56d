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

``render(fmt, creds, into=text)`` writes into a file's current text instead of anew, for files
that hold more than the key: it changes only the lines of our fields, and every other byte
(other variables, options, sections, comments, blank lines, their order) stays as it was. Our
fields are of two kinds. Key fields describe the key (the key, its secret, token and expiry,
whose key it is); one that the new credentials leave unset is removed from the file. Setting
fields (``iam_endpoint``, ``obs_endpoint``) say where to connect, which the user may have set by
hand and a run may not know; one that the new credentials leave unset keeps the file's value.

Formats:

``csv``
    The console's ``credentials.csv``: header ``User Name,Access Key Id,Secret Access Key`` and
    one row, RFC 4180 (``\\r\\n`` line ends). The user name cell carries the IAM user name, or the
    user id when the name is unknown. ``parse`` also reads the Huawei Terraform provider's variant
    (UTF-8 BOM, ``User ID`` column). The file is the key: ``into`` is ignored.
``yaml``
    A vars file for ``include_vars`` or ``group_vars``, starting with ``---``:
    ``<prefix>access_key``, ``<prefix>secret_key``, then those of ``<prefix>user_id``,
    ``user_name``, ``security_token``, ``expires_at``, ``domain_id``, ``endpoint`` (IAM) and
    ``obs_endpoint`` that are set; every value a double-quoted scalar. The prefix defaults to
    ``iam_``. Other top-level entries are kept unread, whatever YAML they hold.
``env``
    ``KEY=VALUE`` lines for the Huawei Cloud SDKs: ``HUAWEICLOUD_SDK_AK``, ``_SK``, and
    ``_SECURITY_TOKEN``, ``_DOMAIN_ID``, ``_IAM_ENDPOINT`` when set. Quoted so that a POSIX shell
    (``set -a; . file``) and a systemd ``EnvironmentFile=`` read the same value. Other variables
    are kept unread.
``sdk_profile``
    The SDK profile ``~/.huaweicloud/credentials``: sections ``[basic]`` and ``[global]``, each
    with ``ak``, ``sk`` and, when set, ``security_token`` and ``iam_endpoint``; ``domain_id``
    goes in ``[global]`` only, the one section the SDKs read it from. Other options and sections
    are kept.
``obsutil``
    The ``ak=``, ``sk=``, ``token=`` and ``endpoint=`` lines of ``~/.obsutilconfig``; its other
    settings are kept.

``env``, ``sdk_profile`` and ``obsutil`` have no place for the expiry or for whose key it is,
so they keep those of ``expires_at``, ``user_id``, ``user_name`` and ``domain_id`` that they lack
in comment lines at the top, in that order, each ``# <field>: <value>``. Every reader of these
files skips a line that starts with ``#``; a later run reads the comments to tell whether the
file holds a key that is still valid, and whose.
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

# Fields that say where to connect rather than describe the key. The user may have set them in
# the file, and a run often does not know them: when new credentials leave one unset, a merge
# keeps the file's value instead of removing it. Every other field is a key field.
_SETTING_FIELDS = frozenset(("iam_endpoint", "obs_endpoint"))


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


def render(fmt: str, creds: Credentials, *, vars_prefix: str = DEFAULT_VARS_PREFIX, into: str | None = None) -> str:
    """The file content for ``creds`` in format ``fmt``.

    ``into`` is the file's current plaintext, to keep what else it holds: the result is that text
    with only our fields' lines changed, and ``parse`` of it gives ``creds``, except that setting
    fields ``creds`` leaves unset keep the file's value. Without ``into`` (or with blank text),
    and always for csv, the file is rendered anew.

    Raises CredentialFormatError when ``fmt`` cannot hold a value unchanged, or cannot hold the
    security token at all (a temporary key is useless without it), or when ``into`` is text this
    module cannot read as ``fmt``.
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
    if into is not None and not isinstance(into, str):
        raise TypeError(f"into must be a string, not {type(into).__name__}")
    if into is None or not into.strip():
        return codec.render(creds)
    return _merge(fmt, codec, creds, into)


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
    # (creds, the file's current text) -> that text with our lines changed. None for a format
    # whose file is nothing but the key (csv): there is nothing else to keep.
    merge: t.Callable[[Credentials, str], str] | None


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


def _merge(fmt: str, codec: _Codec, creds: Credentials, into: str) -> str:
    """``into`` with ``creds`` written into it by ``codec.merge``, checked by reading it back."""
    if codec.merge is None:
        return codec.render(creds)  # the file is the key: nothing else in it to keep
    # Text this module cannot read is refused rather than edited: which lines are ours would be
    # a guess. (A caller has usually read the file before, with the same outcome.)
    codec.parse(into)
    text = codec.merge(creds, into)
    # Check the promise rather than trust every path through a merge: other content can change
    # what our lines read as, e.g. options of an INI [DEFAULT] section show in every section.
    kept: dict[str, t.Any] = {name: None for name in _SETTING_FIELDS if getattr(creds, name) is None}
    merged = codec.parse(text)
    if merged is None or replace(merged, **kept) != replace(_held(codec, creds), **kept):
        raise CredentialFormatError(
            f"cannot write {fmt} credentials into the existing file: other content in it would change how they read"
        )
    return text


def _held(codec: _Codec, creds: Credentials) -> Credentials:
    """``creds`` without the fields ``codec`` does not keep: what reading back what it wrote gives."""
    dropped: dict[str, t.Any] = {item.name: None for item in fields(creds) if item.name not in codec.fields}
    return replace(creds, **dropped)


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


# --- editing lines -------------------------------------------------------------------------
# A merge edits the file as a list of lines, cut where str.splitlines() cuts (so that line
# numbers agree with the parsers'), each with its own line end, so that every line it does not
# touch comes back byte for byte.


def _content(line: str) -> str:
    """``line`` without its line end."""
    return (line.splitlines() or [""])[0]


class _Edits:
    """Changes to the lines of a text, gathered by original line index and applied all at once."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        self._replaced: dict[int, str] = {}
        self._deleted: set[int] = set()
        self._inserted: dict[int, list[str]] = {}
        # New lines end as the first line does, so that a CRLF file stays CRLF throughout.
        first_end = self.lines[0][len(_content(self.lines[0])):] if self.lines else ""
        self._newline = "\r\n" if first_end == "\r\n" else "\n"

    def contents(self) -> list[str]:
        return [_content(line) for line in self.lines]

    def replace(self, index: int, content: str) -> None:
        self._replaced[index] = content

    def delete(self, index: int) -> None:
        self._deleted.add(index)

    def insert(self, index: int, content: str) -> None:
        """Add a line before line ``index`` (after those added there before); ``len(lines)``: at the end."""
        self._inserted.setdefault(index, []).append(content)

    def text(self) -> str:
        pieces: list[tuple[str, str]] = []  # (content, line end)
        for index, line in enumerate(self.lines):
            pieces.extend((content, self._newline) for content in self._inserted.get(index, ()))
            if index not in self._deleted:
                content = _content(line)
                pieces.append((self._replaced.get(index, content), line[len(content):]))
        pieces.extend((content, self._newline) for content in self._inserted.get(len(self.lines), ()))
        # Every line gets a line end, the last one too: a text file ends with one.
        return "".join(content + (end or self._newline) for content, end in pieces)


def _merge_fields(edits: _Edits, creds: Credentials, found: t.Mapping[str, t.Sequence[int]],
                  order: t.Iterable[str], line_for: t.Callable[[str, str], str], anchor: int,
                  fill: t.Mapping[str, str] | None = None) -> None:
    """Write the fields in ``order`` into ``edits``: replace, delete, or insert before ``anchor``.

    ``found`` maps a field already in the text to its lines (the one with its name first, then
    those its value goes on over). ``line_for(field, value)`` is the new line for a value.
    ``fill`` gives values for setting fields that ``creds`` leaves unset, to write where the
    text lacks them (a setting the file keeps in one place and lacks in another).
    """
    for attr in order:
        value = getattr(creds, attr)
        lines = found.get(attr, ())
        if value is None and attr in _SETTING_FIELDS:
            # The user's setting, not ours to remove.
            if lines or not fill or fill.get(attr) is None:
                continue
            value = fill[attr]
        if value is None:
            for index in lines:
                edits.delete(index)
        elif lines:
            edits.replace(lines[0], line_for(attr, value))
            for index in lines[1:]:
                edits.delete(index)
        else:
            edits.insert(anchor, line_for(attr, value))


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
# The parser reads a vars file as a list of top-level entries without parsing YAML as a whole.
# An entry starts at a line in column 0 (other than a comment, the "---" that may open the
# document or the "..." that ends it) and goes on over the lines that start with a space, a tab
# or "- " (a nested block, a multi-line scalar, a compact list under the key). Entries that are
# not ours are opaque: kept byte for byte and never read, so they may hold any YAML. Ours must
# be "key: value" on one line, the value plain, 'single-quoted' or "double-quoted" (JSON escapes
# only); the parser rejects anything else in them (nested values, flow or block collections,
# anchors, tags, multi-line scalars) rather than guess. Plain values that YAML reads as null
# (empty, ~, null) count as unset; other plain values are taken as text, even ones YAML would
# read as numbers or booleans.

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
# The yaml variable names this format owns, without their prefix; every other variable is the user's.
YAML_KEY_SUFFIXES = tuple(suffix for _attr, suffix in _YAML_KEYS)
_VARS_PREFIX = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*)?\Z")
# A top-level key that may be ours: plain, "double-quoted" or 'single-quoted', then ":" and a
# space or the end of the line. Our keys need no escapes, so quoted ones are matched literally.
_YAML_KEY = re.compile(
    r"""(?:([A-Za-z_][A-Za-z0-9_]*)|"([A-Za-z_][A-Za-z0-9_]*)"|'([A-Za-z_][A-Za-z0-9_]*)')[ \t]*:(?=[ \t]|\Z)"""
)
_YAML_SEQUENCE_ITEM = re.compile(r"-(?:[ \t]|\Z)")
_YAML_DOCUMENT_START = re.compile(r"---(?:[ \t]+#.*)?\Z")
_YAML_DOCUMENT_END = re.compile(r"\.\.\.(?:[ \t]+#.*)?\Z")
_YAML_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_YAML_PLAIN_FORBIDDEN_START = frozenset("[]{}&*!|>%@`,")
# "- " or "? " or ": " at the start, ": " inside, ":" at the end: collection syntax in YAML
_YAML_PLAIN_INDICATOR = re.compile(r"\A[-?:](?:[ \t]|\Z)|:[ \t]|:\Z")
_YAML_PLAIN_COMMENT = re.compile(r"[ \t]#")
_YAML_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_YAML_AFTER_SCALAR = re.compile(r"(?:[ \t]+(?:#.*)?)?\Z")


@dataclass
class _YamlEntry:
    """A top-level entry of a vars file, by the line in column 0 that starts it."""

    index: int  # of that line
    attr: str | None = None  # the Credentials field of our key; None for an entry not ours
    key: str = ""  # our key, to name in messages
    value: str | None = None
    head: str = ""  # our line up to its value, kept when the value is replaced
    tail: str = ""  # and what follows the value: spaces, a comment


@dataclass
class _YamlFile:
    entries: list[_YamlEntry]
    end: int | None  # the index of the "..." line that ends the document, if any


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
        merge=lambda creds, into: _merge_yaml(creds, into, names),
    )


def _render_yaml(creds: Credentials, names: tuple[tuple[str, str], ...]) -> str:
    lines = ["---"]
    for attr, key in names:
        value = getattr(creds, attr)
        if value is not None:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def _parse_yaml(text: str, names: tuple[tuple[str, str], ...]) -> Credentials | None:
    entries = _scan_yaml(text.lstrip("\ufeff"), names).entries
    values = {entry.attr: entry.value for entry in entries if entry.attr is not None}
    access_key, secret_key = names[0][1], names[1][1]
    return _build(values, fmt="yaml", ak_name=access_key, sk_name=secret_key)


def _merge_yaml(creds: Credentials, into: str, names: tuple[tuple[str, str], ...]) -> str:
    text = into.lstrip("\ufeff")
    bom = into[: len(into) - len(text)]
    scanned = _scan_yaml(text, names)
    ours = {entry.attr: entry for entry in scanned.entries if entry.attr is not None}
    edits = _Edits(text)
    if ours:  # next to ours, each of which is one line
        anchor = max(entry.index for entry in ours.values()) + 1
    else:  # at the end of the document
        anchor = scanned.end if scanned.end is not None else len(edits.lines)
    keys = dict(names)

    def line_for(attr: str, value: str) -> str:
        encoded = json.dumps(value, ensure_ascii=False)
        entry = ours.get(attr)
        if entry is None:
            return f"{keys[attr]}: {encoded}"
        return entry.head + encoded + entry.tail

    found = {attr: (entry.index,) for attr, entry in ours.items()}
    _merge_fields(edits, creds, found, keys, line_for, anchor)
    return bom + edits.text()


def _scan_yaml(text: str, names: tuple[tuple[str, str], ...]) -> _YamlFile:
    wanted = {key: attr for attr, key in names}
    scanned = _YamlFile(entries=[], end=None)
    seen: set[str] = set()
    started = False  # past the first line that is not blank or a comment
    for index, line in enumerate(text.splitlines()):
        lineno = index + 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if scanned.end is not None:
            raise CredentialFormatError(f"yaml credentials line {lineno} follows the end of the document ('...')")
        if line[0] in " \t" or _YAML_SEQUENCE_ITEM.match(line):
            _continue_yaml_entry(scanned.entries, lineno)
        elif _YAML_DOCUMENT_START.match(line.rstrip()):
            if started:
                raise CredentialFormatError(
                    f"yaml credentials line {lineno} starts a second YAML document; a vars file holds one")
        elif _YAML_DOCUMENT_END.match(line.rstrip()):
            scanned.end = index
        else:
            entry = _yaml_entry(line, index, wanted)
            if entry.attr is not None:
                # Ours only: another key set twice is for YAML to judge (PyYAML keeps the last).
                if entry.attr in seen:
                    _raise_duplicate("yaml", entry.key, lineno)
                seen.add(entry.attr)
            scanned.entries.append(entry)
        started = True
    return scanned


def _continue_yaml_entry(entries: list[_YamlEntry], lineno: int) -> None:
    if not entries:
        raise CredentialFormatError(
            f"yaml credentials line {lineno} is indented or a list item, before any top-level key; "
            "a vars file is a mapping of top-level keys")
    entry = entries[-1]
    if entry.attr is not None:
        raise CredentialFormatError(
            f"yaml credentials line {entry.index + 1}: the value of {entry.key} goes on over more lines (a nested "
            "mapping, a list or a multi-line scalar); this parser reads only a single-line value for it"
        )


def _yaml_entry(line: str, index: int, wanted: t.Mapping[str, str]) -> _YamlEntry:
    """The entry that ``line``, in column 0, starts: ours when it sets one of ``wanted``'s keys."""
    content = line.rstrip()
    match = _YAML_KEY.match(content)
    if match is None:
        return _YamlEntry(index)
    key = next(name for name in match.groups() if name is not None)
    if key not in wanted:
        return _YamlEntry(index)
    after = content[match.end():]
    raw = after.lstrip(" \t")
    start = len(content) - len(raw)
    value, end = _yaml_scalar(raw, index + 1)
    tail = line[start + end:]
    return _YamlEntry(
        index,
        attr=wanted[key],
        key=key,
        value=value,
        # A value replaced needs a space after the ":", and a comment a space before its "#".
        head=content[:start] if start > match.end() else content[:start] + " ",
        tail=" " + tail if tail and tail[0] not in " \t" else tail,
    )


def _yaml_scalar(raw: str, lineno: int) -> tuple[str | None, int]:
    """The value of the scalar that starts ``raw``, and where it ends in ``raw``."""
    if raw.startswith('"'):
        try:
            value, end = json.JSONDecoder().raw_decode(raw)
        except ValueError:
            raise CredentialFormatError(
                f"yaml credentials line {lineno}: a double-quoted value this parser cannot read "
                "(only JSON escapes are supported)"
            ) from None
    elif raw.startswith("'"):
        match = _YAML_SINGLE_QUOTED.match(raw)
        if match is None:
            raise CredentialFormatError(
                f"yaml credentials line {lineno}: a single-quoted value that does not end on its line")
        value, end = match.group(1).replace("''", "'"), match.end()
    else:
        return _yaml_plain(raw, lineno)
    if not _YAML_AFTER_SCALAR.match(raw[end:]):
        raise CredentialFormatError(f"yaml credentials line {lineno}: text after the closing quote")
    return value, end


def _yaml_plain(raw: str, lineno: int) -> tuple[str | None, int]:
    # In a plain scalar, " #" starts a comment.
    comment = _YAML_PLAIN_COMMENT.search(raw)
    value = (raw[:comment.start()] if comment else raw).rstrip()
    if value.startswith("#"):
        value = ""
    if value in _YAML_NULLS:
        return None, len(value)
    if value[0] in _YAML_PLAIN_FORBIDDEN_START or _YAML_PLAIN_INDICATOR.search(value):
        raise CredentialFormatError(
            f"yaml credentials line {lineno}: quote this value; unquoted it is YAML syntax this parser does not read"
        )
    return value, len(value)


# --- env and obsutil: one key=value per line -----------------------------------------------


@dataclass(frozen=True)
class _Line:
    """One of our lines in a file of ``key=value`` lines."""

    index: int
    lead: str  # what comes before the key: indentation, "export "
    keep: str  # the line up to the value, kept when the value is replaced
    raw: str  # the value as written


def _key_value_lines(text: str, fmt: str, split: t.Callable[[str, int], tuple[str, _Line]],
                     wanted: t.Collection[str]) -> dict[str, _Line]:
    """Our lines (keys in ``wanted``) in a file of one ``key=value`` per line, as ``split`` reads one.

    Blank lines and ``#`` comments are skipped; lines of other keys are kept as they are and
    their values never read. One of ours set twice is refused, since the file's readers
    disagree about which one wins.
    """
    found: dict[str, _Line] = {}
    for index, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, item = split(line, index)
        if key not in wanted:
            continue
        if key in found:
            _raise_duplicate(fmt, key, index + 1)
        found[key] = item
    return found


def _merge_key_value_lines(creds: Credentials, into: str, *, fmt: str, keys: tuple[tuple[str, str], ...],
                           split: t.Callable[[str, int], tuple[str, _Line]],
                           encode: t.Callable[[str], str]) -> str:
    """``into`` with the lines of ``keys`` (field, key) set to ``creds``' values, written by ``encode``."""
    found = _key_value_lines(into, fmt, split, {key for _attr, key in keys})
    edits = _Edits(into)
    names = dict(keys)
    last = max(found.values(), key=lambda item: item.index, default=None)
    # New lines go after our last one, written in its style (e.g. with "export "), else at the end.
    anchor = last.index + 1 if last else len(edits.lines)
    lead = last.lead if last else ""

    def line_for(attr: str, value: str) -> str:
        item = found.get(names[attr])
        return (item.keep if item else f"{lead}{names[attr]}=") + encode(value)

    lines = {attr: (found[key].index,) for attr, key in keys if key in found}
    _merge_fields(edits, creds, lines, names, line_for, anchor)
    return edits.text()


# --- env -----------------------------------------------------------------------------------
# A value is written bare when it holds only characters that neither sh nor systemd treat
# specially; otherwise in double quotes with \ before " \ $ and `. POSIX sh and systemd's
# EnvironmentFile= read such a value identically (systemd's own write_env_file() quotes the
# same way; single quotes would not do: sh's 'a'\''b' trick for a quote inside means something
# else to systemd). The parser reads those forms and 'single-quoted' values, an optional
# "export ", comments and blank lines; it rejects anything whose value would depend on the
# shell (unescaped $ or `, concatenation, trailing comments, which systemd keeps in the value).
# Other variables' lines are only recognised by their NAME=: their values are the user's
# business (they may well use $HOME), never read.

_ENV_KEYS = (
    ("access_key_id", "HUAWEICLOUD_SDK_AK"),
    ("secret_access_key", "HUAWEICLOUD_SDK_SK"),
    ("security_token", "HUAWEICLOUD_SDK_SECURITY_TOKEN"),
    ("domain_id", "HUAWEICLOUD_SDK_DOMAIN_ID"),
    ("iam_endpoint", "HUAWEICLOUD_SDK_IAM_ENDPOINT"),
)
_ENV_BARE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+\Z")
_ENV_ESCAPED = frozenset('"\\$`')
_ENV_LINE = re.compile(r"((?:export[ \t]+)?)([A-Za-z_][A-Za-z0-9_]*)=(.*)\Z")


def _render_env(creds: Credentials) -> str:
    return "".join(
        f"{name}={_env_quote(getattr(creds, attr))}\n" for attr, name in _ENV_KEYS if getattr(creds, attr) is not None
    )


def _env_quote(value: str) -> str:
    if _ENV_BARE.match(value):
        return value
    return '"' + "".join("\\" + char if char in _ENV_ESCAPED else char for char in value) + '"'


def _parse_env(text: str) -> Credentials | None:
    found = _key_value_lines(text, "env", _env_line, {name for _attr, name in _ENV_KEYS})
    values = {attr: _env_unquote(found[name].raw, found[name].index + 1) for attr, name in _ENV_KEYS if name in found}
    return _build(values, fmt="env", ak_name="HUAWEICLOUD_SDK_AK", sk_name="HUAWEICLOUD_SDK_SK")


def _merge_env(creds: Credentials, into: str) -> str:
    return _merge_key_value_lines(creds, into, fmt="env", keys=_ENV_KEYS, split=_env_line, encode=_env_quote)


def _env_line(line: str, index: int) -> tuple[str, _Line]:
    stripped = line.strip()
    match = _ENV_LINE.match(stripped)
    if match is None:
        raise CredentialFormatError(f"env credentials line {index + 1} is not a NAME=value line")
    export, name, raw = match.groups()
    lead = line[: len(line) - len(line.lstrip())] + export
    return name, _Line(index, lead, f"{lead}{name}=", raw)


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
#
# parse reads the file with configparser, which ignores other sections and options. A merge
# edits lines instead, to keep everything else as it is: it finds sections and option lines
# the way configparser does (the same patterns; an option's value goes on over the following
# lines indented deeper than it, with blank and comment lines in between).

_PROFILE_BASIC = ("ak", "sk", "security_token", "iam_endpoint")
_PROFILE_GLOBAL = ("ak", "sk", "security_token", "domain_id", "iam_endpoint")
_PROFILE_SECTIONS = (("basic", _PROFILE_BASIC), ("global", _PROFILE_GLOBAL))
_PROFILE_ATTRS = {
    "ak": "access_key_id",
    "sk": "secret_access_key",
    "security_token": "security_token",
    "domain_id": "domain_id",
    "iam_endpoint": "iam_endpoint",
}
_PROFILE_OPTIONS = {attr: option for option, attr in _PROFILE_ATTRS.items()}
_PROFILE_UNSAFE = re.compile(r"""[%#;]|\A["'`]|\A\s|\s\Z""")


@dataclass
class _IniOption:
    name: str  # lower-cased, as configparser compares option names
    lines: list[int]  # its own line, then those its value goes on over
    indent: int
    keep: str  # its line up to the value, kept when the value is replaced


@dataclass
class _IniSection:
    header: int
    options: list[_IniOption] = field(default_factory=list)


def _render_sdk_profile(creds: Credentials) -> str:
    _check_sdk_profile(creds)
    sections = []
    for section, options in _PROFILE_SECTIONS:
        lines = [f"[{section}]"]
        for option in options:
            value = getattr(creds, _PROFILE_ATTRS[option])
            if value is not None:
                lines.append(f"{option} = {value}")
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def _check_sdk_profile(creds: Credentials) -> None:
    for attr in _PROFILE_ATTRS.values():
        value = getattr(creds, attr)
        if value is not None and _PROFILE_UNSAFE.search(value):
            raise CredentialFormatError(
                f"the sdk_profile format cannot hold the {_LABELS[attr]}: the SDKs' INI readers change values "
                "that contain %, # or ;, start with a quote, or start or end with a space"
            )


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
        raise _ini_error(exc) from None
    creds = [item for item in found.values() if item is not None]
    if len(creds) == 2 and replace(creds[0], domain_id=None) != replace(creds[1], domain_id=None):
        # Reading one section would hide a stale key in the other.
        raise CredentialFormatError("sdk_profile credentials hold different keys in [global] and [basic]")
    return creds[0] if creds else None


def _ini_error(exc: configparser.Error) -> CredentialFormatError:
    # configparser's messages quote the offending line, which may hold a secret
    lineno = getattr(exc, "lineno", None)
    where = f" (line {lineno})" if lineno else ""
    return CredentialFormatError(f"sdk_profile credentials are not a valid INI file{where}: {type(exc).__name__}")


def _profile_section(parser: configparser.ConfigParser, section: str) -> Credentials | None:
    values = {attr: parser.get(section, option, fallback=None) for option, attr in _PROFILE_ATTRS.items()}
    if section == "basic":
        values["domain_id"] = None  # the SDK reads domain_id only for global services
    return _build(values, fmt="sdk_profile", ak_name=f"[{section}] ak", sk_name=f"[{section}] sk")


def _merge_sdk_profile(creds: Credentials, into: str) -> str:
    _check_sdk_profile(creds)
    sections = _ini_sections(into)
    edits = _Edits(into)
    fill = _profile_settings(into)
    for name, options in _PROFILE_SECTIONS:
        section = sections.get(name)
        if section is not None:
            _merge_profile_section(edits, creds, section, options, fill)
    # Missing sections go at the end, after what the sections there got above.
    contents = edits.contents()
    blank_before = bool(contents) and bool(contents[-1].strip())
    for name, options in _PROFILE_SECTIONS:
        if name in sections:
            continue
        if blank_before:
            edits.insert(len(edits.lines), "")  # between sections, as render writes
        blank_before = True
        edits.insert(len(edits.lines), f"[{name}]")
        for option in options:
            value = getattr(creds, _PROFILE_ATTRS[option]) or fill.get(_PROFILE_ATTRS[option])
            if value is not None:
                edits.insert(len(edits.lines), f"{option} = {value}")
    return edits.text()


def _merge_profile_section(edits: _Edits, creds: Credentials, section: _IniSection, options: tuple[str, ...],
                           fill: t.Mapping[str, str]) -> None:
    found = {option.name: option for option in section.options if option.name in options}
    # After the section's last option and the lines its value goes on over: before the blank
    # lines and comments that end the section.
    anchor = section.options[-1].lines[-1] + 1 if section.options else section.header + 1

    def line_for(attr: str, value: str) -> str:
        option = found.get(_PROFILE_OPTIONS[attr])
        return (option.keep if option else f"{_PROFILE_OPTIONS[attr]} = ") + value

    lines = {_PROFILE_ATTRS[name]: option.lines for name, option in found.items()}
    order = tuple(_PROFILE_ATTRS[name] for name in options)
    _merge_fields(edits, creds, lines, order, line_for, anchor, fill)


def _profile_settings(text: str) -> dict[str, str]:
    """The file's setting values, as written, to copy into a section that lacks one.

    Both sections must say the same for parse to accept the file; the one that has a setting
    the new credentials do not give lends it to the one that lacks it.
    """
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise _ini_error(exc) from None
    settings: dict[str, str] = {}
    for section in ("global", "basic"):
        for option, attr in _PROFILE_ATTRS.items():
            if attr in _SETTING_FIELDS and attr not in settings and parser.has_option(section, option):
                settings[attr] = parser.get(section, option, raw=True)
    return settings


def _ini_sections(text: str) -> dict[str, _IniSection]:
    """The sections of INI ``text`` and their option lines, found as configparser finds them.

    Only for text that configparser has read: lines it would refuse are not looked at closely.
    """
    sections: dict[str, _IniSection] = {}
    section: _IniSection | None = None
    option: _IniOption | None = None  # the last option, whose value deeper-indented lines go on
    for index, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue  # configparser's empty_lines_in_values: neither ends a value
        indent = len(line) - len(line.lstrip())
        if option is not None and indent > option.indent:
            option.lines.append(index)
            continue
        option = None
        header = configparser.ConfigParser.SECTCRE.match(stripped)
        if header is not None:
            section = sections.setdefault(header.group("header"), _IniSection(index))
            continue
        match = configparser.ConfigParser.OPTCRE.match(stripped)
        if match is not None and section is not None:
            name = match.group("option").rstrip()
            keep = line[:indent] + (stripped[: match.start("value")] if match.group("value") else f"{name} = ")
            option = _IniOption(name.lower(), [index], indent, keep)
            section.options.append(option)
    return sections


# --- obsutil -------------------------------------------------------------------------------
# obsutil takes everything after the first "=" and trims it; no quoting, so a value may not
# start or end with whitespace. Other keys of a real ~/.obsutilconfig (endpoint settings,
# proxy, timeouts) are kept unread.

_OBSUTIL_KEYS = (
    ("access_key_id", "ak"),
    ("secret_access_key", "sk"),
    ("security_token", "token"),
    ("obs_endpoint", "endpoint"),
)


def _render_obsutil(creds: Credentials) -> str:
    _check_obsutil(creds)
    return "".join(f"{key}={getattr(creds, attr)}\n" for attr, key in _OBSUTIL_KEYS if getattr(creds, attr) is not None)


def _check_obsutil(creds: Credentials) -> None:
    for attr, _key in _OBSUTIL_KEYS:
        value = getattr(creds, attr)
        if value is not None and value != value.strip():
            raise CredentialFormatError(
                f"the obsutil format cannot hold the {_LABELS[attr]}: obsutil trims leading and trailing spaces"
            )


def _parse_obsutil(text: str) -> Credentials | None:
    found = _key_value_lines(text, "obsutil", _obsutil_line, {key for _attr, key in _OBSUTIL_KEYS})
    values = {attr: found[key].raw for attr, key in _OBSUTIL_KEYS if key in found}
    return _build(values, fmt="obsutil", ak_name="ak", sk_name="sk")


def _merge_obsutil(creds: Credentials, into: str) -> str:
    _check_obsutil(creds)
    return _merge_key_value_lines(creds, into, fmt="obsutil", keys=_OBSUTIL_KEYS, split=_obsutil_line, encode=str)


def _obsutil_line(line: str, index: int) -> tuple[str, _Line]:
    key, sep, value = line.partition("=")
    if not sep or not key.strip():
        raise CredentialFormatError(f"obsutil credentials line {index + 1} is not a key=value line")
    lead = key[: len(key) - len(key.lstrip())]
    return key.strip(), _Line(index, lead, key + "=", value.strip())


# --- comment lines -------------------------------------------------------------------------
# The fields that env, sdk_profile and obsutil have no place for, kept in comment lines at the
# top of the file in this order: "# <field>: <value>". Their readers skip lines that start with
# "#", so the comments disturb no consumer; without them a temporary key in these formats could
# not be judged still valid (and would be fetched anew on every run), nor a file be told to hold
# another user's key without asking the cloud.

_COMMENT_FIELDS = ("expires_at", "user_id", "user_name", "domain_id")


def _comment_prefix(attr: str) -> str:
    return f"# {attr}: "  # as files written with only the expiry comment spell it


def _with_comments(fmt: str, codec: _Codec) -> _Codec:
    """``codec`` that also keeps, in comment lines, those of _COMMENT_FIELDS it has no place for."""
    attrs = tuple(attr for attr in _COMMENT_FIELDS if attr not in codec.fields)
    inner_merge = t.cast(t.Callable[[Credentials, str], str], codec.merge)

    def render_with_comments(creds: Credentials) -> str:
        lines = []
        for attr in attrs:
            value = getattr(creds, attr)
            if value is not None:
                _check_printable(fmt, attr, value)
                lines.append(f"{_comment_prefix(attr)}{value}\n")
        return "".join(lines) + codec.render(creds)

    def parse_with_comments(text: str) -> Credentials | None:
        lines = text.splitlines()
        found = _find_comments(fmt, lines, attrs)
        creds = codec.parse(text)
        if creds is None:
            return None
        return replace(creds, **{attr: lines[index][len(_comment_prefix(attr)):] for attr, index in found.items()})

    def merge_with_comments(creds: Credentials, into: str) -> str:
        for attr in attrs:
            value = getattr(creds, attr)
            if value is not None:
                _check_printable(fmt, attr, value)
        edits = _Edits(inner_merge(creds, into))
        _merge_comments(edits, creds, _find_comments(fmt, edits.contents(), attrs), attrs)
        return edits.text()

    return _Codec(codec.fields | frozenset(attrs), render_with_comments, parse_with_comments, merge_with_comments)


def _find_comments(fmt: str, lines: t.Sequence[str], attrs: tuple[str, ...]) -> dict[str, int]:
    """The index of each of our comment lines, by field. One set twice is refused."""
    found: dict[str, int] = {}
    for index, line in enumerate(lines):
        for attr in attrs:
            if line.startswith(_comment_prefix(attr)):
                if attr in found:
                    raise CredentialFormatError(
                        f"{fmt} credentials hold the '# {attr}:' comment twice (again on line {index + 1})")
                found[attr] = index
    return found


def _merge_comments(edits: _Edits, creds: Credentials, found: t.Mapping[str, int], attrs: tuple[str, ...]) -> None:
    """Set our comment lines in place, or add each where the fixed order puts it among the others.

    With none in the file yet, they go at the top.
    """
    anchor = min(found.values(), default=0)
    for attr in attrs:
        value = getattr(creds, attr)
        index = found.get(attr)
        if index is not None:
            anchor = index + 1
        if value is None:
            if index is not None:
                edits.delete(index)  # all are key fields: unset means gone
        elif index is None:
            edits.insert(anchor, f"{_comment_prefix(attr)}{value}")
        else:
            edits.replace(index, f"{_comment_prefix(attr)}{value}")


_CODECS = {
    "csv": _Codec(
        fields=frozenset(("access_key_id", "secret_access_key", "user_name")),
        render=_render_csv,
        parse=_parse_csv,
        merge=None,
    ),
    "env": _with_comments("env", _Codec(
        fields=frozenset(attr for attr, _name in _ENV_KEYS), render=_render_env, parse=_parse_env, merge=_merge_env)),
    "sdk_profile": _with_comments("sdk_profile", _Codec(
        fields=frozenset(_PROFILE_ATTRS.values()), render=_render_sdk_profile, parse=_parse_sdk_profile,
        merge=_merge_sdk_profile)),
    "obsutil": _with_comments("obsutil", _Codec(
        fields=frozenset(attr for attr, _key in _OBSUTIL_KEYS), render=_render_obsutil, parse=_parse_obsutil,
        merge=_merge_obsutil)),
}
