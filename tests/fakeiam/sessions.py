"""Short-lived credentials: password tokens (POST /v3/auth/tokens) and temporary access keys
(POST /v3.0/OS-CREDENTIAL/securitytokens, token and assume_role methods)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import errors
from .model import (
    Caller,
    TemporaryKey,
    Token,
    User,
    World,
    format_time,
    new_access_key,
    new_opaque_token,
    new_secret_key,
)
from .state import Store

TOKEN_LIFETIME = timedelta(hours=24)
MIN_DURATION, MAX_DURATION, DEFAULT_DURATION = 900, 86400, 900


def _object(parent: Any, name: str, where: str, *, allowed: set[str] | None = None) -> dict[str, Any]:
    value = parent.get(name) if isinstance(parent, dict) else None
    if not isinstance(value, dict):
        raise errors.bad_request(f"{where}.{name} must be an object.")
    if allowed is not None and set(value) - allowed:
        raise errors.bad_request(f"{where}.{name} has unknown field(s) {sorted(set(value) - allowed)}.")
    return value


def _methods(identity: dict[str, Any], supported: tuple[str, ...]) -> str:
    methods = identity.get("methods")
    if not isinstance(methods, list) or len(methods) != 1 or methods[0] not in supported:
        raise errors.bad_request(f"auth.identity.methods must be exactly one of {[[m] for m in supported]}.")
    return methods[0]


def _wrong_password() -> errors.ApiError:
    # One message for unknown user, wrong domain and wrong password: the cloud does not say which.
    return errors.huawei(401, "IAM.0001", "The username or password is wrong.")


def _disabled(user: User) -> errors.ApiError:
    return errors.huawei(403, "IAM.0081", f"The user {user.name} is disabled.")


def _find_domain_id(world: World, ref: Any, where: str) -> str | None:
    """The account a {"id"} or {"name"} reference names, or None when there is none."""
    if isinstance(ref, dict) and isinstance(ref.get("id"), str):
        return ref["id"] if ref["id"] in world.accounts else None
    if isinstance(ref, dict) and isinstance(ref.get("name"), str):
        return next((a.domain_id for a in world.accounts.values() if a.domain_name == ref["name"]), None)
    raise errors.bad_request(f"{where} needs id or name.")


def create_token(store: Store, body: Any) -> tuple[str, dict[str, Any]]:
    """Check a password login; returns (X-Subject-Token value, body)."""
    auth = _object(body, "auth", "body", allowed={"identity", "scope"})
    identity = _object(auth, "identity", "auth", allowed={"methods", "password"})
    _methods(identity, ("password",))
    password = _object(identity, "password", "auth.identity", allowed={"user"})
    login = _object(password, "user", "auth.identity.password", allowed={"id", "name", "password", "domain"})
    if not isinstance(login.get("password"), str):
        raise errors.bad_request("auth.identity.password.user.password is required.")
    scope = auth.get("scope")
    if not isinstance(scope, dict) or set(scope) != {"domain"}:
        if isinstance(scope, dict) and "project" in scope:
            raise errors.bad_request(
                "fakeiam issues only domain-scoped tokens: IAM APIs accept only domain-scoped (global) "
                "tokens, so send auth.scope.domain instead of auth.scope.project."
            )
        raise errors.bad_request("auth.scope.domain is required: IAM APIs accept only domain-scoped tokens.")
    with store.transaction() as world:
        if isinstance(login.get("id"), str):
            user = world.users.get(login["id"])
        else:
            domain = _object(login, "domain", "auth.identity.password.user")
            domain_id = _find_domain_id(world, domain, "auth.identity.password.user.domain")
            name = login.get("name")
            # Any JSON may come as the name; only a string can be a user's.
            found = world.users_named(domain_id, name) if isinstance(name, str) else []
            user = found[0] if found else None
        if user is None or user.password is None or user.password != login["password"]:
            raise _wrong_password()
        if _find_domain_id(world, scope["domain"], "auth.scope.domain") != user.domain_id:
            raise errors.not_authenticated("The token scope must be the user's own account (domain).")
        if not user.enabled:
            raise _disabled(user)
        now = store.now()
        token = Token(new_opaque_token(), user.id, now, now + TOKEN_LIFETIME)
        world.tokens[token.value] = token
        store.issued.record(token.value)
        store.changed()
        account = world.accounts[user.domain_id]
        domain_body = {"id": account.domain_id, "name": account.domain_name}
        return token.value, {"token": {
            "expires_at": format_time(token.expires_at),
            "issued_at": format_time(token.issued_at),
            "methods": ["password"],
            "user": {"id": user.id, "name": user.name, "domain": domain_body, "password_expires_at": ""},
            "domain": domain_body,
        }}


def resolve_token(store: Store, value: str) -> Caller:
    with store.transaction() as world:
        token = world.tokens.get(value)
        if token is None:
            raise errors.not_authenticated("The token is invalid or unknown.")
        if store.now() >= token.expires_at:
            raise errors.huawei(401, "IAM.0066", "The token has expired.")
        user = world.users.get(token.user_id)
        if user is None:
            raise errors.not_authenticated("The token's user no longer exists.")
        if not user.enabled:
            raise _disabled(user)
        return Caller(domain_id=user.domain_id, is_admin=user.is_admin, user_id=user.id)


@dataclass(frozen=True)
class SecurityTokenRequest:
    method: str
    duration: int
    body_token: str | None = None
    agency_name: str | None = None
    agency_domain: dict[str, Any] | None = None
    session_name: str | None = None


def _duration(holder: dict[str, Any], where: str) -> int:
    value = holder.get("duration_seconds", DEFAULT_DURATION)
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_DURATION <= value <= MAX_DURATION:
        raise errors.bad_request(f"{where}.duration_seconds must be an integer from {MIN_DURATION} to {MAX_DURATION}.")
    return value


def parse_security_token_request(body: Any) -> SecurityTokenRequest:
    auth = _object(body, "auth", "body", allowed={"identity"})
    identity = _object(auth, "identity", "auth", allowed={"methods", "token", "assume_role", "policy"})
    method = _methods(identity, ("token", "assume_role"))
    # A policy may only narrow permissions; the fake grants nothing beyond IAM anyway, so it is accepted as is.
    if "policy" in identity and not isinstance(identity["policy"], dict):
        raise errors.bad_request("auth.identity.policy must be an object.")
    if method == "token":
        token = identity.get("token", {})
        if not isinstance(token, dict) or set(token) - {"id", "duration_seconds"}:
            raise errors.bad_request("auth.identity.token may hold only id and duration_seconds.")
        if not isinstance(token.get("id", ""), str):
            raise errors.bad_request("auth.identity.token.id must be a string.")
        return SecurityTokenRequest("token", _duration(token, "auth.identity.token"), body_token=token.get("id"))
    where = "auth.identity"
    role = _object(identity, "assume_role", where,
                   allowed={"agency_name", "domain_id", "domain_name", "duration_seconds", "session_user"})
    if not isinstance(role.get("agency_name"), str):
        raise errors.bad_request("auth.identity.assume_role.agency_name is required.")
    if ("domain_id" in role) == ("domain_name" in role):
        raise errors.bad_request("auth.identity.assume_role needs exactly one of domain_id and domain_name.")
    session_name = None
    if "session_user" in role:
        session_user = _object(role, "session_user", f"{where}.assume_role", allowed={"name"})
        session_name = session_user.get("name")
        if not isinstance(session_name, str) or not session_name:
            raise errors.bad_request("auth.identity.assume_role.session_user.name must be a non-empty string.")
    domain = {"id": role["domain_id"]} if "domain_id" in role else {"name": role["domain_name"]}
    return SecurityTokenRequest(
        "assume_role", _duration(role, f"{where}.assume_role"),
        agency_name=role["agency_name"], agency_domain=domain, session_name=session_name,
    )


def create_security_token(store: Store, caller: Caller, request: SecurityTokenRequest) -> tuple[int, dict[str, Any]]:
    with store.transaction() as world:
        now = store.now()
        if request.method == "token":
            key = TemporaryKey(new_access_key(), new_secret_key(), new_opaque_token(), caller.domain_id,
                               now + timedelta(seconds=request.duration), user_id=caller.user_id)
        else:
            key = _assume_role(world, caller, request, now + timedelta(seconds=request.duration))
        while key.access in world.keys or key.access in world.temporary_keys:
            key.access = new_access_key()
        world.temporary_keys[key.access] = key
        store.issued.record(key.secret, key.security_token)
        store.changed()
        return 201, {"credential": {
            "access": key.access,
            "secret": key.secret,
            "securitytoken": key.security_token,
            "expires_at": format_time(key.expires_at),
        }}


def _assume_role(world: World, caller: Caller, request: SecurityTokenRequest, expires_at: datetime) -> TemporaryKey:
    if caller.user_id is None:
        raise errors.forbidden("an agency session cannot assume another agency")
    domain_id = _find_domain_id(world, request.agency_domain or {}, "auth.identity.assume_role")
    agency = next((a for a in world.agencies.values()
                   if a.domain_id == domain_id and a.name == request.agency_name), None)
    if agency is None:
        raise errors.not_found("agency", f"{request.agency_name} of account {request.agency_domain}")
    if caller.user_id not in agency.trusted_user_ids:
        raise errors.forbidden(f"the agency {agency.name} does not trust user {caller.user_id}")
    session_name = request.session_name or world.users[caller.user_id].name
    return TemporaryKey(new_access_key(), new_secret_key(), new_opaque_token(), agency.domain_id, expires_at,
                        agency_id=agency.id, session_name=session_name)
