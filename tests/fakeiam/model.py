"""The records fakeiam keeps: accounts, users, keys, agencies, tokens, temporary keys.

Plain dataclasses with no behaviour beyond what the records themselves know (is a key
expired, is a user an administrator), plus the identifier and timestamp formats the
real IAM uses, so every other module produces values the same shape as the cloud's.
"""

from __future__ import annotations

import secrets
import string
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .table import Table

# The API's own timestamp format (UTC, microseconds, "Z"), e.g. 2020-01-08T06:25:19.014028Z.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
ACTIVE = "active"
INACTIVE = "inactive"
KEY_STATUSES = (ACTIVE, INACTIVE)
MAX_KEYS_PER_USER = 2
MAX_DESCRIPTION_LENGTH = 255

_AK_ALPHABET = string.ascii_uppercase + string.digits
_SK_ALPHABET = string.ascii_letters + string.digits
# Backed by os.urandom, like the secrets module: generated SKs are real secrets.
_RANDOM = secrets.SystemRandom()


def format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """Read a timestamp with or without the fraction, ending in Z or an offset."""
    normalized = text.strip()
    if normalized.endswith("Z"):
        normalized = normalized[:-1] + "+00:00"
    moment = datetime.fromisoformat(normalized)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone; end it with Z")
    return moment.astimezone(timezone.utc)


def new_access_key() -> str:
    return "".join(_RANDOM.choices(_AK_ALPHABET, k=20))


def new_secret_key() -> str:
    return "".join(_RANDOM.choices(_SK_ALPHABET, k=40))


def new_id() -> str:
    # IAM ids (users, domains, agencies) are 32 lower-case hex digits.
    return uuid.uuid4().hex


def _keep_indexed(record: object, name: str, indexed: frozenset[str]) -> None:
    """Refuse to change an attribute that World's tables index a record by, once it is set."""
    if name in indexed and name in record.__dict__:
        raise AttributeError(f"{type(record).__name__}.{name} is indexed and cannot change")


def new_opaque_token() -> str:
    # Real tokens are long opaque base64 blobs starting with "MII"; clients must not parse them.
    return "MII" + secrets.token_urlsafe(96)


@dataclass
class Account:
    domain_id: str
    domain_name: str
    access_key_management: bool = False


@dataclass
class User:
    id: str
    name: str
    domain_id: str
    password: str | None = None
    admin: bool = False
    root: bool = False
    enabled: bool = True
    description: str = ""

    def __setattr__(self, name: str, value: Any) -> None:
        _keep_indexed(self, name, _USER_INDEXED)
        super().__setattr__(name, value)

    @property
    def is_admin(self) -> bool:
        # The account's root identity holds every permission a Security Administrator has.
        return self.admin or self.root


@dataclass
class Key:
    access: str
    secret: str
    user_id: str
    status: str
    create_time: datetime
    last_use_time: datetime
    description: str = ""

    def __setattr__(self, name: str, value: Any) -> None:
        _keep_indexed(self, name, _KEY_INDEXED)
        super().__setattr__(name, value)


# What World's tables index users and keys by (a key's access may change before it is stored).
_USER_INDEXED = frozenset({"id", "domain_id", "name"})
_KEY_INDEXED = frozenset({"user_id"})


@dataclass
class Agency:
    id: str
    name: str
    domain_id: str
    trusted_user_ids: list[str] = field(default_factory=list)
    # Whether sessions of this agency act as Security Administrators of its account.
    admin: bool = False


@dataclass
class Token:
    value: str
    user_id: str
    issued_at: datetime
    expires_at: datetime


@dataclass
class TemporaryKey:
    access: str
    secret: str
    security_token: str
    domain_id: str
    expires_at: datetime
    # Exactly one of these is set: a user's own session (token method) or an agency session.
    user_id: str | None = None
    agency_id: str | None = None
    session_name: str | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def _user_table() -> Table[User]:
    return Table(account=lambda user: user.domain_id, login=lambda user: (user.domain_id, user.name))


def _key_table() -> Table[Key]:
    return Table(owner=lambda key: key.user_id)


@dataclass
class World:
    """Everything the server knows, indexed the way the API looks things up.

    Users and keys sit in Tables, which also index them by account, by login name and by owner,
    so no request scans every user or key: a request costs the same CPU however many the server holds.
    """

    accounts: dict[str, Account] = field(default_factory=dict)
    users: Table[User] = field(default_factory=_user_table)
    keys: Table[Key] = field(default_factory=_key_table)
    agencies: dict[str, Agency] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    temporary_keys: dict[str, TemporaryKey] = field(default_factory=dict)
    clock_offset_seconds: float = 0.0

    def keys_of(self, user_id: str) -> list[Key]:
        return self.keys.group("owner", user_id)

    def users_of(self, domain_id: str) -> list[User]:
        return self.users.group("account", domain_id)

    def users_named(self, domain_id: str | None, name: str) -> list[User]:
        """The users of that account with that name: at most one, as seeds and IAM allow no duplicates."""
        return self.users.group("login", (domain_id, name))


@dataclass(frozen=True)
class Caller:
    """Who signed (or presented a token for) the current request, as authorization sees it."""

    domain_id: str
    is_admin: bool
    # A user (by password token, permanent or temporary key), or else an agency session.
    user_id: str | None = None
    agency_id: str | None = None
    session_name: str | None = None
