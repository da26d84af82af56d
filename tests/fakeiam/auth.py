"""Who is calling: AK/SK signatures (permanent or temporary keys) and X-Auth-Token tokens.

The checks run in the order a gateway can afford them: header shape, signed-header rules,
the date window (against the gateway's real-time clock, not the data clock), key lookup (a key
still propagating does not exist yet), the signature itself, X-Domain-Id, then the key's and
user's standing. A key that signs a valid request gets its last_use_time set to the data clock's now.
"""

from __future__ import annotations

from datetime import timedelta

from . import errors, sessions
from .app import FakeIamApp
from .messages import Request
from .model import ACTIVE, Caller, Key, TemporaryKey
from .signature import compute_signature, parse_authorization, parse_sdk_date, signatures_match
from .state import Store

MAX_CLOCK_SKEW = timedelta(minutes=15)
_REQUIRED_SIGNED_HEADERS = ("host", "x-sdk-date")


def authenticate(app: FakeIamApp, request: Request, *, needs_domain_id: bool = True) -> Caller:
    """The caller; needs_domain_id=False only for the calls that tell a client its account id."""
    authorization = request.header("Authorization")
    token = request.header("X-Auth-Token")
    if authorization and token:
        raise errors.not_authenticated("Send either X-Auth-Token or an SDK-HMAC-SHA256 Authorization header, not both.")
    if token:
        caller = sessions.resolve_token(app.store, token)
    elif authorization:
        caller = _authenticate_signature(app, request, authorization, needs_domain_id)
    else:
        raise errors.not_authenticated()
    domain_header = request.header("X-Domain-Id")
    if domain_header is not None and domain_header != caller.domain_id:
        raise errors.bad_signature(
            f"X-Domain-Id {domain_header} is not the account ({caller.domain_id}) of the calling credentials"
        )
    return caller


def _authenticate_signature(app: FakeIamApp, request: Request, authorization: str, needs_domain_id: bool) -> Caller:
    parsed = parse_authorization(authorization)
    missing = [name for name in _REQUIRED_SIGNED_HEADERS if name not in parsed.signed_headers]
    if missing:
        raise errors.bad_signature(f"SignedHeaders must include {' and '.join(missing)}")
    received = {name.lower(): value for name, value in request.headers.items()}
    absent = [name for name in parsed.signed_headers if name not in received]
    if absent:
        raise errors.bad_signature(f"signed header(s) {absent} are not in the request")

    sdk_date = parse_sdk_date(received["x-sdk-date"])
    now = app.gateway.now()
    if abs(now - sdk_date) > MAX_CLOCK_SKEW:
        raise errors.huawei(
            401, "APIGW.0303",
            f"Incorrect IAM authentication information: signature expired: X-Sdk-Date {received['x-sdk-date']} "
            f"is more than 15 minutes from the server clock ({now:%Y%m%dT%H%M%SZ}); check the client's clock",
        )

    with app.store.transaction() as world:
        key: Key | TemporaryKey | None = world.keys.get(parsed.access) or world.temporary_keys.get(parsed.access)
    if key is None or not app.gateway.knows(parsed.access):
        raise errors.bad_signature(f"the access key {parsed.access} does not exist")
    expected = compute_signature(
        method=request.method,
        raw_path=request.path,
        raw_query=request.query,
        headers=request.headers,
        body=request.body,
        signed_headers=parsed.signed_headers,
        secret=key.secret,
    )
    if not signatures_match(expected, parsed.signature):
        raise errors.bad_signature("verify aksk signature fail")
    if needs_domain_id and "x-domain-id" not in received:
        raise errors.bad_signature(
            "X-Domain-Id is required: IAM is a global service, so a request signed with AK/SK must name its "
            "account (X-Domain-Id: <account id>, from GET /v3/auth/domains or GET /v5/caller-identity)"
        )

    if isinstance(key, TemporaryKey):
        return _temporary_caller(app.store, key, received, parsed.signed_headers)
    if "x-security-token" in received:
        raise errors.bad_signature(f"X-Security-Token was sent with the permanent access key {key.access}")
    return _permanent_caller(app.store, key.access)


def _permanent_caller(store: Store, access: str) -> Caller:
    with store.transaction() as world:
        key = world.keys.get(access)
        if key is None:  # deleted by a concurrent request since the lookup above
            raise errors.bad_signature(f"the access key {access} does not exist")
        if key.status != ACTIVE:
            raise errors.huawei(400, "IAM.1107", f"The access key {access} is inactive.")
        user = world.users[key.user_id]
        if not user.enabled:
            raise errors.huawei(403, "IAM.0081", f"The user {user.name} is disabled.")
        key.last_use_time = store.now()
        store.changed()
        return Caller(domain_id=user.domain_id, is_admin=user.is_admin, user_id=user.id)


def _temporary_caller(store: Store, key: TemporaryKey, received: dict[str, str], signed: list[str]) -> Caller:
    token = received.get("x-security-token")
    if token is None or "x-security-token" not in signed:
        raise errors.bad_signature(f"{key.access} is a temporary access key: sign and send its X-Security-Token")
    if not signatures_match(key.security_token, token):
        raise errors.bad_signature(f"the X-Security-Token does not belong to the temporary access key {key.access}")
    if key.expired(store.now()):
        raise errors.huawei(400, "IAM.1108", "The security token has expired.")
    with store.transaction() as world:
        if key.agency_id is not None:
            agency = world.agencies[key.agency_id]
            return Caller(domain_id=key.domain_id, is_admin=agency.admin, agency_id=agency.id,
                          session_name=key.session_name)
        user = world.users.get(key.user_id or "")
        if user is None:
            raise errors.bad_signature(f"the user of the temporary access key {key.access} no longer exists")
        if not user.enabled:
            raise errors.huawei(403, "IAM.0081", f"The user {user.name} is disabled.")
        return Caller(domain_id=user.domain_id, is_admin=user.is_admin, user_id=user.id)
