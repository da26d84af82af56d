"""Seed documents: read one into a World (strictly), and write a World back as one.

The state dump (GET /_control/state and the --state-file) uses the same format, so a dump
can be fed back as a seed. Unknown fields are refused: a typo in a seed must not quietly
become a different test.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from .model import (
    ACTIVE,
    KEY_STATUSES,
    MAX_DESCRIPTION_LENGTH,
    MAX_KEYS_PER_USER,
    Account,
    Agency,
    Key,
    TemporaryKey,
    Token,
    User,
    World,
    format_time,
    new_access_key,
    new_id,
    new_secret_key,
    parse_time,
)

_AK_PATTERN = re.compile(r"[A-Z0-9]{20}")
_SK_PATTERN = re.compile(r"[A-Za-z0-9]{40}")

_ACCOUNT_FIELDS = {"domain_id", "domain_name", "access_key_management", "users", "agencies"}
_USER_FIELDS = {"id", "name", "password", "admin", "root", "enabled", "description", "keys"}
_KEY_FIELDS = {
    "access", "secret", "status", "create_time", "age_days",
    "last_use_time", "last_use_age_days", "description",
}
_AGENCY_FIELDS = {"id", "name", "trusted_user_ids", "admin"}
_TOKEN_FIELDS = {"value", "user_id", "issued_at", "expires_at"}
_TEMPORARY_FIELDS = {
    "access", "secret", "security_token", "domain_id", "expires_at",
    "user_id", "agency_id", "session_name",
}
_TOP_FIELDS = {"accounts", "tokens", "temporary_keys", "clock_offset_seconds"}


class SeedError(ValueError):
    """The seed (or a control request built from seed fields) is not valid."""


def _check_fields(obj: Any, allowed: set[str], where: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise SeedError(f"{where} must be a JSON object")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise SeedError(f"{where} has unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    missing = [name for name in required if name not in obj]
    if missing:
        raise SeedError(f"{where} misses required field(s) {missing}")
    return obj


def _typed(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str, default: Any = None) -> Any:
    value = obj.get(name, default)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python; a seed saying "age_days": true is a mistake, not 1 day.
    if value is not None and (not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)):
        raise SeedError(f"{where}.{name} has the wrong type: {value!r}")
    return value


def _time(obj: dict[str, Any], name: str, where: str) -> datetime | None:
    text = _typed(obj, name, str, where)
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise SeedError(f"{where}.{name}: {exc}") from exc


def _required_time(obj: dict[str, Any], name: str, where: str) -> datetime:
    moment = _time(obj, name, where)
    if moment is None:
        raise SeedError(f"{where} misses {name}")
    return moment


def _moment(obj: dict[str, Any], absolute: str, relative: str, where: str, now: datetime) -> datetime | None:
    """An absolute timestamp, or an age in days before the data clock's now: never both."""
    if absolute in obj and relative in obj:
        raise SeedError(f"{where}: give {absolute} or {relative}, not both")
    days = _typed(obj, relative, (int, float), where)
    if days is not None:
        # Counted from the whole second: clients measure ages against the Date header, which has
        # whole seconds, so "200 days old" must hold from the start of the current second.
        return now.replace(microsecond=0) - timedelta(days=days)
    return _time(obj, absolute, where)


def _add_account(world: World, spec: Any, now: datetime) -> Account:
    """Add an account and its users; its agencies wait until every account's users exist."""
    where = "account"
    spec = _check_fields(spec, _ACCOUNT_FIELDS, where, required=("domain_name",))
    account = Account(
        domain_id=_typed(spec, "domain_id", str, where) or new_id(),
        domain_name=_typed(spec, "domain_name", str, where),
        access_key_management=_typed(spec, "access_key_management", bool, where, False),
    )
    if account.domain_id in world.accounts:
        raise SeedError(f"duplicate domain_id {account.domain_id}")
    if any(other.domain_name == account.domain_name for other in world.accounts.values()):
        raise SeedError(f"duplicate domain_name {account.domain_name}")
    world.accounts[account.domain_id] = account
    for user_spec in _typed(spec, "users", list, where, []):
        add_user(world, account.domain_id, user_spec, now)
    return account


def add_user(world: World, domain_id: str, spec: Any, now: datetime) -> User:
    where = f"user {spec.get('name') if isinstance(spec, dict) else spec!r}"
    spec = _check_fields(spec, _USER_FIELDS, where, required=("name",))
    user = User(
        id=_typed(spec, "id", str, where) or new_id(),
        name=_typed(spec, "name", str, where),
        domain_id=domain_id,
        password=_typed(spec, "password", str, where),
        admin=_typed(spec, "admin", bool, where, False),
        root=_typed(spec, "root", bool, where, False),
        enabled=_typed(spec, "enabled", bool, where, True),
        description=_typed(spec, "description", str, where, ""),
    )
    if user.id in world.users:
        raise SeedError(f"duplicate user id {user.id}")
    if world.users_named(domain_id, user.name):
        raise SeedError(f"duplicate user name {user.name} in account {domain_id}")
    world.users[user.id] = user
    for key_spec in _typed(spec, "keys", list, where, []):
        add_key(world, user.id, key_spec, now)
    return user


def add_key(world: World, user_id: str, spec: Any, now: datetime) -> Key:
    where = f"key of user {user_id}"
    spec = _check_fields(spec, _KEY_FIELDS, where)
    access = _typed(spec, "access", str, where) or new_access_key()
    secret = _typed(spec, "secret", str, where) or new_secret_key()
    if not _AK_PATTERN.fullmatch(access):
        raise SeedError(f"{where}: access {access!r} is not 20 upper-case letters and digits")
    if not _SK_PATTERN.fullmatch(secret):
        raise SeedError(f"{where}: the secret of {access} is not 40 letters and digits")
    if access in world.keys or access in world.temporary_keys:
        raise SeedError(f"duplicate access key {access}")
    status = _typed(spec, "status", str, where, ACTIVE)
    if status not in KEY_STATUSES:
        raise SeedError(f"{where}: status must be one of {KEY_STATUSES}, not {status!r}")
    description = _typed(spec, "description", str, where, "")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise SeedError(f"{where}: description longer than {MAX_DESCRIPTION_LENGTH} characters")
    if len(world.keys_of(user_id)) >= MAX_KEYS_PER_USER:
        raise SeedError(f"user {user_id} would hold more than {MAX_KEYS_PER_USER} keys, which IAM never allows")
    create_time = _moment(spec, "create_time", "age_days", where, now) or now
    last_use_time = _moment(spec, "last_use_time", "last_use_age_days", where, now) or create_time
    key = Key(access, secret, user_id, status, create_time, last_use_time, description)
    world.keys[access] = key
    return key


def add_agency(world: World, domain_id: str, spec: Any) -> Agency:
    where = f"agency {spec.get('name') if isinstance(spec, dict) else spec!r}"
    spec = _check_fields(spec, _AGENCY_FIELDS, where, required=("name",))
    trusted = _typed(spec, "trusted_user_ids", list, where, [])
    unknown = [user_id for user_id in trusted if user_id not in world.users]
    if unknown:
        raise SeedError(f"{where} trusts unknown user id(s) {unknown}")
    agency = Agency(
        id=_typed(spec, "id", str, where) or new_id(),
        name=_typed(spec, "name", str, where),
        domain_id=domain_id,
        trusted_user_ids=list(trusted),
        admin=_typed(spec, "admin", bool, where, False),
    )
    if any(other.domain_id == domain_id and other.name == agency.name for other in world.agencies.values()):
        raise SeedError(f"duplicate agency name {agency.name} in account {domain_id}")
    world.agencies[agency.id] = agency
    return agency


def load_world(data: Any, real_now: datetime) -> World:
    """Build a World from a seed; relative ages count from real time plus the seed's clock offset."""
    data = _check_fields(data, _TOP_FIELDS, "seed", required=("accounts",))
    world = World(clock_offset_seconds=float(_typed(data, "clock_offset_seconds", (int, float), "seed", 0)))
    now = real_now + timedelta(seconds=world.clock_offset_seconds)
    # Users first across all accounts, so an agency may trust a user of another account.
    pending_agencies = []
    for spec in _typed(data, "accounts", list, "seed"):
        account = _add_account(world, spec, now)
        pending_agencies += [(account.domain_id, agency) for agency in _typed(spec, "agencies", list, "account", [])]
    for domain_id, agency_spec in pending_agencies:
        add_agency(world, domain_id, agency_spec)
    for spec in _typed(data, "tokens", list, "seed", []):
        _load_token(world, spec)
    for spec in _typed(data, "temporary_keys", list, "seed", []):
        _load_temporary_key(world, spec)
    return world


def _load_token(world: World, spec: Any) -> None:
    spec = _check_fields(spec, _TOKEN_FIELDS, "token", required=tuple(_TOKEN_FIELDS))
    token = Token(spec["value"], spec["user_id"],
                  _required_time(spec, "issued_at", "token"), _required_time(spec, "expires_at", "token"))
    if token.user_id not in world.users:
        raise SeedError(f"token of unknown user {token.user_id}")
    world.tokens[token.value] = token


def _load_temporary_key(world: World, spec: Any) -> None:
    where = "temporary key"
    required = ("access", "secret", "security_token", "domain_id", "expires_at")
    spec = _check_fields(spec, _TEMPORARY_FIELDS, where, required=required)
    key = TemporaryKey(
        access=spec["access"],
        secret=spec["secret"],
        security_token=spec["security_token"],
        domain_id=spec["domain_id"],
        expires_at=_required_time(spec, "expires_at", where),
        user_id=spec.get("user_id"),
        agency_id=spec.get("agency_id"),
        session_name=spec.get("session_name"),
    )
    if (key.user_id is None) == (key.agency_id is None):
        raise SeedError(f"{where} {key.access} needs exactly one of user_id and agency_id")
    if key.user_id not in world.users and key.agency_id not in world.agencies:
        raise SeedError(f"{where} {key.access} belongs to an unknown user or agency")
    world.temporary_keys[key.access] = key


def dump_key(key: Key) -> dict[str, Any]:
    return {
        "access": key.access,
        "secret": key.secret,
        "status": key.status,
        "create_time": format_time(key.create_time),
        "last_use_time": format_time(key.last_use_time),
        "description": key.description,
    }


def dump_user(world: World, user: User) -> dict[str, Any]:
    keys = sorted(world.keys_of(user.id), key=lambda key: key.create_time)
    return {
        "id": user.id,
        "name": user.name,
        "password": user.password,
        "admin": user.admin,
        "root": user.root,
        "enabled": user.enabled,
        "description": user.description,
        "keys": [dump_key(key) for key in keys],
    }


def dump_world(world: World) -> dict[str, Any]:
    accounts = []
    for account in world.accounts.values():
        users = world.users_of(account.domain_id)
        agencies = [agency for agency in world.agencies.values() if agency.domain_id == account.domain_id]
        accounts.append({
            "domain_id": account.domain_id,
            "domain_name": account.domain_name,
            "access_key_management": account.access_key_management,
            "users": [dump_user(world, user) for user in users],
            "agencies": [
                {"id": a.id, "name": a.name, "trusted_user_ids": list(a.trusted_user_ids), "admin": a.admin}
                for a in agencies
            ],
        })
    return {
        "clock_offset_seconds": world.clock_offset_seconds,
        "accounts": accounts,
        "tokens": [
            {"value": t.value, "user_id": t.user_id,
             "issued_at": format_time(t.issued_at), "expires_at": format_time(t.expires_at)}
            for t in world.tokens.values()
        ],
        "temporary_keys": [
            {"access": k.access, "secret": k.secret, "security_token": k.security_token,
             "domain_id": k.domain_id, "expires_at": format_time(k.expires_at),
             "user_id": k.user_id, "agency_id": k.agency_id, "session_name": k.session_name}
            for k in world.temporary_keys.values()
        ],
    }
