# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a vault-encrypted credentials file holds, known without decrypting it. Private to keywarden.iam.

Opening an Ansible-vault file derives its key with PBKDF2 (about 3 ms of raw CPU): most of what a
run that changes nothing costs, only to learn which access key the file holds. So beside the
file, next to its journal, ``.<name>.fingerprint`` records non-secret facts about it: the SHA-256
of the file's exact bytes, its format, the access key id, user and account it holds, and the
credentials it was last found current for. While the file's bytes still hash the same, it holds
what was recorded, and it need not be decrypted. When they differ (the file was edited, rekeyed,
restored, replaced), or the record is missing, unreadable or of another format, the file is
decrypted as before and the record written anew.

The record never holds a secret, nor anything derived from one. Encryption is untouched: every
write is a fresh ``ansible-vault`` encryption with a fresh salt (a salt reused across files would
reuse the AES-CTR keystream).

Kill-safety comes from the hash, not from ordering: a record whose hash does not match the file's
bytes is ignored, whatever a killed run left behind, so a record and a file can never be paired
wrongly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass, fields

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials
from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import (
    AtomicWriteError,
    read_regular,
    write_atomic,
)

FORMAT_VERSION = 1


def fingerprint_path_for(credentials_path: str) -> str:
    directory, name = os.path.split(credentials_path)
    return os.path.join(directory, f".{name}.fingerprint")


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class CredentialFacts:
    """Credentials without their secrets: what may sit in a record beside the file."""

    access_key_id: str
    user_id: str | None = None
    user_name: str | None = None
    domain_id: str | None = None
    expires_at: str | None = None
    iam_endpoint: str | None = None
    obs_endpoint: str | None = None
    has_security_token: bool = False

    @classmethod
    def of(cls, creds: Credentials) -> CredentialFacts:
        return cls(creds.access_key_id, user_id=creds.user_id, user_name=creds.user_name, domain_id=creds.domain_id,
                   expires_at=creds.expires_at, iam_endpoint=creds.iam_endpoint, obs_endpoint=creds.obs_endpoint,
                   has_security_token=creds.security_token is not None)

    def with_secret(self, secret_access_key: str, security_token: str | None = None) -> Credentials:
        return Credentials(self.access_key_id, secret_access_key, user_id=self.user_id, user_name=self.user_name,
                           domain_id=self.domain_id, expires_at=self.expires_at, iam_endpoint=self.iam_endpoint,
                           obs_endpoint=self.obs_endpoint, security_token=security_token)

    @classmethod
    def from_json(cls, data: object) -> CredentialFacts:
        if not isinstance(data, dict) or set(data) != {item.name for item in fields(cls)}:
            raise ValueError("not a record of credential facts")
        if not isinstance(data["has_security_token"], bool) or not isinstance(data["access_key_id"], str):
            raise ValueError("not a record of credential facts")
        for name, value in data.items():
            if name != "has_security_token" and value is not None and not isinstance(value, str):
                raise ValueError("not a record of credential facts")
        return cls(**data)


@dataclass(frozen=True)
class Fingerprint:
    """What the file whose bytes hash to ``sha256`` holds.

    ``whole``: the file holds nothing but what rendering ``holds`` anew gives, so a new key can be
    written by rendering it anew, without reading the old text. ``current_for``: the credentials
    for which writing would change nothing (None: not known without decrypting).
    """

    sha256: str
    fmt: str
    vars_prefix: str
    holds: CredentialFacts
    whole: bool
    current_for: CredentialFacts | None = None

    def describes(self, content: bytes, *, fmt: str, vars_prefix: str) -> bool:
        return (self.fmt, self.vars_prefix) == (fmt, vars_prefix) and self.sha256 == content_hash(content)

    def to_bytes(self) -> bytes:
        record = {"version": FORMAT_VERSION, "sha256": self.sha256, "format": self.fmt,
                  "vars_prefix": self.vars_prefix, "whole": self.whole, "holds": asdict(self.holds),
                  "current_for": asdict(self.current_for) if self.current_for else None}
        return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        """Raises ValueError for anything but a record this version wrote."""
        try:
            record = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ValueError("not JSON") from None
        if not isinstance(record, dict) or record.get("version") != FORMAT_VERSION:
            raise ValueError("another version's record")
        try:
            sha256, fmt, vars_prefix, whole = record["sha256"], record["format"], record["vars_prefix"], record["whole"]
            holds, current_for = record["holds"], record["current_for"]
        except KeyError:
            raise ValueError("an incomplete record") from None
        if not all(isinstance(value, str) for value in (sha256, fmt, vars_prefix)) or not isinstance(whole, bool):
            raise ValueError("not a record of a credentials file")
        return cls(sha256, fmt, vars_prefix, CredentialFacts.from_json(holds), whole,
                   None if current_for is None else CredentialFacts.from_json(current_for))


def read_fingerprint(credentials_path: str, content: bytes, *, fmt: str, vars_prefix: str) -> Fingerprint | None:
    """The record beside the file, if it describes ``content`` (the file's bytes) in this format.

    Anything else (no record, an unreadable or foreign one, another user's, a link) is None: the
    caller then decrypts the file, as it would without records.
    """
    path = fingerprint_path_for(credentials_path)
    try:
        data = read_regular(path)
        if data is None or os.lstat(path).st_uid != os.geteuid():
            return None
        fingerprint = Fingerprint.from_bytes(data)
    except (AtomicWriteError, OSError, ValueError):
        return None
    return fingerprint if fingerprint.describes(content, fmt=fmt, vars_prefix=vars_prefix) else None


def write_fingerprint(credentials_path: str, fingerprint: Fingerprint) -> None:
    """Record ``fingerprint`` beside the file. A failure only costs a decryption next time.

    Not flushed to disk: after a crash, a fingerprint that is lost, torn or older than the file
    no longer matches the file's hash, and is ignored (a decryption, not a wrong answer).
    """
    with contextlib.suppress(AtomicWriteError):
        write_atomic(fingerprint_path_for(credentials_path), fingerprint.to_bytes(), mode=0o600, durable=False)
