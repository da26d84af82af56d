"""Who is who: users, the caller's account (domain), and STS caller identity."""

from __future__ import annotations

from typing import Any

from . import errors
from .model import Caller, User
from .state import Store

Result = tuple[int, dict[str, Any]]


def _user_body(user: User, base_url: str) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "domain_id": user.domain_id,
        "enabled": user.enabled,
        "description": user.description,
        "password_expires_at": None,
        "links": {"self": f"{base_url}/v3/users/{user.id}"},
    }


def list_users(store: Store, caller: Caller, query: dict[str, str], base_url: str) -> Result:
    if not caller.is_admin:
        raise errors.forbidden("listing users needs the Security Administrator role or iam:users:listUsers")
    with store.transaction() as world:
        if "name" in query:
            users = world.users_named(caller.domain_id, query["name"])
        else:
            users = world.users_of(caller.domain_id)
        return 200, {
            "users": [_user_body(user, base_url) for user in sorted(users, key=lambda u: u.name)],
            "links": {"self": f"{base_url}/v3/users", "previous": None, "next": None},
        }


def show_user(store: Store, caller: Caller, user_id: str, base_url: str) -> Result:
    with store.transaction():
        user = store.user_in_account(caller, user_id)
        if user.id != caller.user_id and not caller.is_admin:
            raise errors.forbidden("reading another user needs the Security Administrator role or iam:users:getUser")
        return 200, {"user": _user_body(user, base_url)}


def list_domains(store: Store, caller: Caller, base_url: str) -> Result:
    with store.transaction():
        account = store.account_of(caller)
        return 200, {
            "domains": [{
                "id": account.domain_id,
                "name": account.domain_name,
                "enabled": True,
                "description": "",
                "links": {"self": f"{base_url}/v3/domains/{account.domain_id}"},
            }],
            "links": {"self": f"{base_url}/v3/auth/domains"},
        }


def caller_identity(store: Store, caller: Caller) -> Result:
    with store.transaction() as world:
        if caller.agency_id is not None:
            agency = store.agency(caller.agency_id)
            return 200, {
                "account_id": caller.domain_id,
                "principal_id": f"{agency.id}:{caller.session_name}",
                "principal_urn": f"sts::{caller.domain_id}:assumed-agency:{agency.name}/{caller.session_name}",
            }
        assert caller.user_id is not None  # every caller that is not an agency session is a user
        user = world.users[caller.user_id]
        return 200, {
            "account_id": caller.domain_id,
            "principal_id": user.id,
            "principal_urn": f"iam::{caller.domain_id}:user:{user.name}",
        }
