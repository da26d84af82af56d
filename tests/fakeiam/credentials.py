"""Permanent access keys: create, list, show, update, delete, with IAM's permission rules.

Each function takes the authenticated caller and the parsed JSON body (or query) and
returns (status, body); refusals raise errors.ApiError. Order of checks: validate the
request, find the target inside the caller's account (404 otherwise), then authorize
(403), then the two-key limit (400), so the answers match what the cloud reveals.
"""

from __future__ import annotations

from typing import Any

from . import errors
from .model import (
    ACTIVE,
    KEY_STATUSES,
    MAX_DESCRIPTION_LENGTH,
    MAX_KEYS_PER_USER,
    Caller,
    Key,
    User,
    format_time,
    new_access_key,
    new_secret_key,
)
from .state import Store

Result = tuple[int, dict[str, Any] | None]


def _authorize(store: Store, caller: Caller, owner: User, *, write: bool) -> None:
    if caller.user_id == owner.id:
        if write and store.account_of(caller).access_key_management and not caller.is_admin:
            raise errors.forbidden(
                "Access Key Management is enabled for this account, so only administrators may create, "
                "change or delete access keys, including their own (or the caller lacks the permission)"
            )
        return
    if not caller.is_admin:
        raise errors.forbidden(
            f"managing the access keys of user {owner.id} needs the Security Administrator role or the "
            "iam:credentials:* actions"
        )


def _credential_object(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict) or set(body) != {"credential"} or not isinstance(body["credential"], dict):
        raise errors.bad_request('The request body must be {"credential": {...}} and nothing else.')
    credential = body["credential"]
    unknown = sorted(set(credential) - allowed)
    if unknown:
        raise errors.bad_request(f"Invalid field(s) in credential: {unknown}.")
    return credential


def _description(credential: dict[str, Any]) -> str | None:
    description = credential.get("description")
    if description is None:
        return None
    if not isinstance(description, str):
        raise errors.bad_request("credential.description must be a string.")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise errors.bad_request(f"credential.description is longer than {MAX_DESCRIPTION_LENGTH} characters.")
    return description


def _listed(key: Key) -> dict[str, Any]:
    return {
        "user_id": key.user_id,
        "access": key.access,
        "status": key.status,
        "create_time": format_time(key.create_time),
        "description": key.description,
    }


def create(store: Store, caller: Caller, body: Any) -> tuple[int, dict[str, Any]]:
    credential = _credential_object(body, {"user_id", "description"})
    user_id = credential.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise errors.bad_request("credential.user_id is required.")
    description = _description(credential) or ""
    with store.transaction() as world:
        owner = store.user_in_account(caller, user_id)
        _authorize(store, caller, owner, write=True)
        # Inactive keys count toward the limit too.
        if len(world.keys_of(owner.id)) >= MAX_KEYS_PER_USER:
            raise errors.key_limit_exceeded()
        now = store.now()
        key = Key(new_access_key(), new_secret_key(), owner.id, ACTIVE, now, now, description)
        while key.access in world.keys or key.access in world.temporary_keys:
            key.access = new_access_key()
        world.keys[key.access] = key
        store.issued.record(key.secret)
        store.changed()
        # The only answer that ever carries the secret.
        return 201, {"credential": {**_listed(key), "secret": key.secret}}


def list_keys(store: Store, caller: Caller, query: dict[str, str]) -> Result:
    with store.transaction() as world:
        if "user_id" in query:
            if not query["user_id"]:
                raise errors.bad_request("The query parameter user_id must not be empty.")
            owner = store.user_in_account(caller, query["user_id"])
        elif caller.user_id is None:
            raise errors.forbidden("an agency session holds no access keys of its own; pass user_id")
        else:
            owner = world.users[caller.user_id]
        _authorize(store, caller, owner, write=False)
        # The order is undocumented; sorting by AK (not by age) keeps clients from relying on one.
        keys = sorted(world.keys_of(owner.id), key=lambda key: key.access)
        return 200, {"credentials": [_listed(key) for key in keys]}


def show(store: Store, caller: Caller, access: str) -> Result:
    with store.transaction() as world:
        key = store.key_in_account(caller, access)
        _authorize(store, caller, world.users[key.user_id], write=False)
        return 200, {"credential": {**_listed(key), "last_use_time": format_time(key.last_use_time)}}


def update(store: Store, caller: Caller, access: str, body: Any) -> Result:
    credential = _credential_object(body, {"status", "description"})
    status = credential.get("status")
    description = _description(credential)
    if status is None and description is None:
        raise errors.bad_request("credential needs at least one of status and description.")
    if status is not None and status not in KEY_STATUSES:
        raise errors.bad_request(f"credential.status must be one of {list(KEY_STATUSES)}.")
    with store.transaction() as world:
        key = store.key_in_account(caller, access)
        _authorize(store, caller, world.users[key.user_id], write=True)
        if status is not None:
            key.status = status
        if description is not None:
            key.description = description
        store.changed()
        # As documented: the update answer leaves the description out.
        return 200, {"credential": {
            "status": key.status,
            "access": key.access,
            "create_time": format_time(key.create_time),
            "user_id": key.user_id,
        }}


def delete(store: Store, caller: Caller, access: str) -> Result:
    with store.transaction() as world:
        key = store.key_in_account(caller, access)
        _authorize(store, caller, world.users[key.user_id], write=True)
        del world.keys[access]
        store.changed()
        return 204, None
