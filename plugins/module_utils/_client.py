# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The IAM client: every call the collection makes, signed, retried and turned into typed errors.

Private to the keywarden.iam collection: the interface may change without notice.

One instance serves one run of a task. It is safe to share between threads: the lazily
learnt account id and token are guarded by a lock, and a shared ThrottleGate makes every
thread back off when one of them is throttled.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Sequence
from urllib.parse import quote

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils._connection import ConnectionSettings
from ansible_collections.keywarden.iam.plugins.module_utils._headers import find_header
from ansible_collections.keywarden.iam.plugins.module_utils._models import AccessKey, NewAccessKey, TemporaryKey, User
from ansible_collections.keywarden.iam.plugins.module_utils._retry import RetryPolicy, ThrottleGate
from ansible_collections.keywarden.iam.plugins.module_utils._signer import SigningKey, sign
from ansible_collections.keywarden.iam.plugins.module_utils._transport import (
    ConnectionProblem,
    HttpResponse,
    HttpTransport,
)

CREDENTIALS_PATH = "/v3.0/OS-CREDENTIAL/credentials"
SECURITY_TOKENS_PATH = "/v3.0/OS-CREDENTIAL/securitytokens"
CONTENT_TYPE = "application/json;charset=UTF-8"

# How far a request may be retried.
RETRY_ALL = "all"            # reads, updates, deletes: repeating them is harmless
RETRY_UNSENT = "unsent"      # creates: only when the server certainly did not act on it
# A RETRY_UNSENT request must be a POST: the transport sends a POST on a connection of its own,
# never on a kept-alive one, so its failures mean what they always meant (see HttpTransport).

# What the message says for each kind of connection problem (see _transport._classify), and the
# error class whose hint says what to do. "could not reach" only where no connection was made.
_NETWORK_ERRORS = {
    "refused": ("could not reach {endpoint}", errors.NetworkError),
    "dns": ("could not reach {endpoint}", errors.NetworkError),
    "unreachable": ("could not reach {endpoint}", errors.NetworkError),
    "tls": ("the TLS handshake with {endpoint} failed", errors.TlsError),
    "not_tls": ("{endpoint} does not speak TLS", errors.EndpointNotTls),
    "timeout": ("{endpoint} did not answer in time", errors.RequestTimeout),
    "dropped": ("the connection to {endpoint} closed before an answer came", errors.AnswerLost),
}
_OTHER_NETWORK_ERROR = ("the connection to {endpoint} failed", errors.NetworkError)
# The agency method's failures are about the agency, not about a user or a key.
_AGENCY_HINTS: errors.Hints = {
    errors.NotFound: (
        "Check agency_name and the agency's account: agency_domain_id or agency_domain_name (without them, the "
        "caller's own account)."
    ),
    errors.Forbidden: (
        "The agency must trust the caller: in the agency's account, its trust relationship (delegated account or "
        "user) must name the calling user or its account, and the caller needs the right to assume it."
    ),
}
# A lost answer to a securitytokens request costs nothing: a key it carried is never used and expires.
_LOST_TEMPORARY_KEY_HINTS: errors.Hints = {
    errors.AnswerLost: (
        "The request reached the endpoint, but its answer was lost on the way back (a proxy, a load balancer or "
        "the network). A temporary key it may have issued is unused and expires by itself: run the task again."
    ),
}


class IamClient:
    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        gate: ThrottleGate | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        transport: HttpTransport | None = None,
    ) -> None:
        self.settings = settings
        self._transport = transport or HttpTransport(timeout=settings.timeout, validate_certs=settings.validate_certs,
                                                     ca_path=settings.ca_path)
        self._policy = RetryPolicy(retries=settings.retries)
        self._gate = gate or ThrottleGate(sleep=sleep)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._token_lock = threading.Lock()
        self._discovery_lock = threading.Lock()
        self._domain_id = settings.domain_id
        self._token: str | None = None
        self._token_user_id: str | None = None
        self._server_date: str | None = None

    def close(self) -> None:
        """Close the kept connections of the transport (shared with clients from with_signing_key).

        Call it once the run's threads are done; a request after it opens a new connection.
        """
        self._transport.close()

    def __enter__(self) -> IamClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def server_now(self) -> datetime:
        """The IAM service's clock, from the Date header of its latest answer (else this machine's).

        Key ages are measured against the clock that stamped the keys' creation times.
        """
        if self._server_date:
            try:
                return parsedate_to_datetime(self._server_date).astimezone(timezone.utc)
            except (TypeError, ValueError):
                pass
        return datetime.now(timezone.utc)

    def with_signing_key(self, key: SigningKey) -> IamClient:
        """A client for the same endpoint and account that signs with ``key`` (a new key, say).

        It shares the throttle gate (a throttled API slows both down) and the transport.
        """
        settings = replace(self.settings, signing_key=key, password_auth=None, domain_id=self.domain_id())
        return IamClient(settings, gate=self._gate, sleep=self._sleep, rng=self._rng, transport=self._transport)

    # ---- permanent access keys -------------------------------------------------------------

    def list_keys(self, user_id: str | None = None) -> list[AccessKey]:
        """The user's keys, oldest first (the API promises no order). No user: the caller's own."""
        whose = f"user {user_id}" if user_id else "the calling user"
        query = [("user_id", user_id)] if user_id else []
        document = self._call(f"list the access keys of {whose}", "GET", CREDENTIALS_PATH, query=query)
        keys = [AccessKey.from_api(item, user_id=user_id) for item in document.get("credentials") or []]
        return sorted(keys, key=lambda key: (key.created, key.access_key_id))

    def show_key(self, access_key_id: str) -> AccessKey:
        """One key, with ``last_used`` (which only this call returns)."""
        document = self._call(f"show access key {access_key_id}", "GET", _key_path(access_key_id))
        return AccessKey.from_api(document["credential"])

    def create_key(self, user_id: str, description: str | None = None) -> NewAccessKey:
        """Create a key. Raises CreateOutcomeUnknown rather than retry when the answer is lost."""
        credential: dict[str, Any] = {"user_id": user_id}
        if description:
            credential["description"] = description
        operation = f"create an access key for user {user_id}"
        response = self._request(operation, "POST", CREDENTIALS_PATH, body={"credential": credential},
                                 expect=(201,), retry=RETRY_UNSENT)
        try:
            item = json.loads(response.body.decode("utf-8"))["credential"]
            return NewAccessKey(AccessKey.from_api(item, user_id=user_id), secret_access_key=str(item["secret"]))
        except (KeyError, TypeError, ValueError, UnicodeDecodeError):
            # The key exists but its secret did not reach us: the caller must reconcile.
            raise errors.failure(operation, "the answer to the create request lacked the new key",
                                 errors.CreateOutcomeUnknown, status=response.status) from None

    def update_key(self, access_key_id: str, *, status: str | None = None, description: str | None = None) -> AccessKey:
        credential: dict[str, Any] = {}
        if status is not None:
            credential["status"] = status
        if description is not None:
            credential["description"] = description
        document = self._call(f"update access key {access_key_id}", "PUT", _key_path(access_key_id),
                              body={"credential": credential})
        item = dict(document["credential"])
        # The documented answer leaves the description out; what we set is what it now is.
        if description is not None:
            item.setdefault("description", description)
        return AccessKey.from_api(item)

    def delete_key(self, access_key_id: str) -> None:
        operation = f"delete access key {access_key_id}"
        # A delete retried after a lost answer finds the key already gone: that is success.
        self._call(operation, "DELETE", _key_path(access_key_id), expect=(204, 200), parse=False,
                   also_after_retry=(404,))

    # ---- users and identity ------------------------------------------------------------------

    def find_user(self, name: str) -> User:
        document = self._call(f"find IAM user '{name}'", "GET", "/v3/users", query=[("name", name)])
        matches = [User.from_api(item) for item in document.get("users") or [] if item.get("name") == name]
        if not matches:
            raise errors.user_name_not_found(name)
        return matches[0]

    def list_users(self) -> list[dict]:
        """Every user of the account, as the API lists them (needs the right to list users).

        The items are returned as sent, not as User values, because callers read fields that
        User leaves out, such as ``is_domain_owner`` where the cloud includes it.
        """
        document = self._call("list the IAM users of the account", "GET", "/v3/users")
        return [dict(item) for item in document.get("users") or [] if isinstance(item, dict) and item.get("id")]

    def caller_user_id(self) -> str:
        """The id of the user this client authenticates as."""
        if self.settings.password_auth:
            self._ensure_token()
            return str(self._token_user_id)
        own_keys = self.list_keys()
        if own_keys:
            # Every listed key carries its user's id: the cheapest way to learn who we are.
            return own_keys[0].user_id
        # A temporary key's user may hold no permanent key; Huawei Cloud's STS can still say.
        document = self._call("identify the calling user", "GET", "/v5/caller-identity")
        principal = document.get("principal_id") or document.get("user_id")
        if not principal:
            raise errors.failure("identify the calling user", "the IAM API did not say who the caller is",
                                 errors.BadRequest)
        return str(principal)

    def domain_id(self) -> str:
        """The account (domain) id, learnt once from the API when the options did not give it.

        Threads of a batch wait for the first one's look-up instead of each making their own.
        """
        with self._discovery_lock:
            with self._lock:
                if self._domain_id:
                    return self._domain_id
            document = self._call("find the account (domain) id", "GET", "/v3/auth/domains", with_domain=False)
            domains = document.get("domains") or []
            if not domains:
                raise errors.failure("find the account (domain) id", "the IAM API listed no account; set domain_id",
                                     errors.BadRequest)
            with self._lock:
                self._domain_id = str(domains[0]["id"])
                return self._domain_id

    # ---- temporary access keys ---------------------------------------------------------------

    def create_temporary_key(
        self,
        *,
        duration_seconds: int,
        agency_name: str | None = None,
        agency_domain: dict | None = None,
        session_user: str | None = None,
        policy: dict | None = None,
    ) -> TemporaryKey:
        """A temporary AK/SK with a security token, for the caller (token) or an agency (assume_role).

        The token method derives the key from an IAM token, so it always sends X-Auth-Token (and
        needs password auth). The reference says assume_role needs a token with Agent Operator
        rights; whether IAM also takes it signed with AK/SK is unconfirmed, so tolerate either:
        a client that has a key (permanent or temporary) signs, one that has a password sends
        its token.
        Retrying is safe here: a lost answer only leaves an unused temporary key to expire.
        """
        identity: dict[str, Any]
        if agency_name:
            assume_role: dict[str, Any] = {"agency_name": agency_name, "duration_seconds": duration_seconds}
            assume_role.update(agency_domain or {})
            if session_user:
                assume_role["session_user"] = {"name": session_user}
            identity = {"methods": ["assume_role"], "assume_role": assume_role}
            what = f"obtain a temporary access key for agency '{agency_name}'"
            hints = {**_AGENCY_HINTS, **_LOST_TEMPORARY_KEY_HINTS}
        else:
            identity = {"methods": ["token"], "token": {"duration_seconds": duration_seconds}}
            what = "obtain a temporary access key"
            hints = dict(_LOST_TEMPORARY_KEY_HINTS)
        if policy:
            identity["policy"] = policy
        document = self._call(what, "POST", SECURITY_TOKENS_PATH, body={"auth": {"identity": identity}},
                              expect=(201,), need_token=not agency_name, hints=hints)
        return TemporaryKey.from_api(document["credential"])

    # ---- the request machinery ---------------------------------------------------------------

    def _call(self, operation: str, method: str, path: str, *, parse: bool = True, **options) -> dict:
        """Make a request and return its JSON body ({} when there is none or ``parse`` is false)."""
        response = self._request(operation, method, path, **options)
        return _json_body(operation, response) if parse else {}

    def _request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: dict | None = None,
        expect: tuple = (200,),
        retry: str = RETRY_ALL,
        with_domain: bool = True,
        need_token: bool = False,
        authenticate: bool = True,
        also_after_retry: tuple = (),
        hints: errors.Hints | None = None,
    ) -> HttpResponse:
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8") if body is not None else b""

        def prepare() -> tuple[str, dict]:
            if not authenticate:
                return self.settings.endpoint + path, {"Content-Type": CONTENT_TYPE}
            return self._authorise(method, path, query, payload, with_domain, need_token)

        return self._exchange(operation, method, prepare, payload, expect, retry, also_after_retry, hints)

    def _exchange(
        self,
        operation: str,
        method: str,
        prepare: Callable[[], tuple],
        payload: bytes,
        expect: tuple,
        retry: str,
        also_after_retry: tuple,
        hints: errors.Hints | None = None,
    ) -> HttpResponse:
        """Send with retries: 429, 5xx and connection failures, as far as ``retry`` allows.

        ``also_after_retry`` lists statuses that count as success once a retry was needed, such
        as a 404 for a delete whose first answer was lost after the key was deleted. ``hints``
        replace the error classes' own hints in the messages (see ``errors.failure``).
        """
        last_attempt = self._policy.retries
        for attempt in range(last_attempt + 1):
            self._gate.wait()
            url, headers = prepare()
            try:
                response, resent = self._send(method, url, headers, payload, retry)
            except ConnectionProblem as problem:
                if retry == RETRY_UNSENT and problem.may_have_arrived:
                    raise errors.failure(operation, f"the connection failed after the request was sent "
                                         f"({problem.reason})", errors.CreateOutcomeUnknown) from None
                if attempt == last_attempt:
                    raise self._network_error(operation, problem, hints) from None
                self._sleep(self._policy.delay(attempt, None, self._rng))
                continue
            self._server_date = find_header(response.headers, "Date") or self._server_date
            if response.status in expect or ((attempt > 0 or resent) and response.status in also_after_retry):
                return response
            error = errors.error_from_response(operation, response.status, response.body, response.headers,
                                               hints=hints)
            if isinstance(error, errors.Throttled) and attempt < last_attempt:
                # Throttling means the request was not processed, so even a create may repeat.
                self._gate.hold_for(self._policy.delay(attempt, error.retry_after, self._rng))
                continue
            if isinstance(error, errors.ServerError):
                if retry == RETRY_UNSENT:
                    raise errors.failure(operation, f"the IAM service failed while creating ({error.message})",
                                         errors.CreateOutcomeUnknown, status=response.status) from None
                if attempt < last_attempt:
                    self._sleep(self._policy.delay(attempt, None, self._rng))
                    continue
            raise error
        raise AssertionError("unreachable: the loop returns or raises")

    def _send(self, method: str, url: str, headers: dict, payload: bytes, retry: str) -> tuple[HttpResponse, bool]:
        """One attempt: the response, and whether the request had to be sent twice to get it.

        A request that failed on a reused keep-alive connection before any answer (``stale``,
        most likely a connection the server closed while idle) is sent once more at once, on a
        new connection, without counting an attempt. The transport only ever reuses a
        connection for methods whose repetition is harmless (see HttpTransport), and a
        RETRY_UNSENT request is never resent here, whatever its method.
        """
        try:
            return self._transport.send(method, url, headers, payload), False
        except ConnectionProblem as problem:
            if not (problem.stale and retry == RETRY_ALL):
                raise
        return self._transport.send(method, url, headers, payload), True

    def _authorise(self, method, path, query, payload, with_domain, need_token) -> tuple[str, dict]:
        """The URL and headers for one attempt: signed afresh each time, so the date is current."""
        url = self.settings.endpoint + path
        headers = {"Content-Type": CONTENT_TYPE}
        key = self.settings.signing_key
        if key is not None and not need_token:
            domain_id = self.domain_id() if with_domain else None
            signed = sign(method=method, url=url, key=key, query=query, headers=headers, body=payload,
                          domain_id=domain_id, now=datetime.now(timezone.utc))
            return signed.url, signed.headers
        if key is not None and self.settings.password_auth is None:
            raise errors.failure("obtain a temporary access key",
                                 "the token method needs an IAM token, so it needs password authentication "
                                 "(auth_username, auth_password, auth_domain_name), not an access key",
                                 errors.BadRequest)
        headers["X-Auth-Token"] = self._ensure_token()
        query_string = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(query))
        return url + (f"?{query_string}" if query_string else ""), headers

    def _ensure_token(self) -> str:
        """A domain-scoped token from the password options, fetched once and reused for the run."""
        with self._token_lock:
            if self._token:
                return self._token
            auth = self.settings.password_auth
            if auth is None:
                raise errors.failure("authenticate", "no credentials were given", errors.AuthenticationFailed)
            body = {"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": auth.username, "password": auth.password, "domain": {"name": auth.domain_name}}}},
                "scope": {"domain": {"name": auth.domain_name}},
            }}
            operation = f"obtain an IAM token for user '{auth.username}'"
            response = self._request(operation, "POST", "/v3/auth/tokens", body=body, expect=(201,),
                                     authenticate=False)
            document = _json_body(operation, response)
            token = find_header(response.headers, "X-Subject-Token")
            try:
                user = document["token"]["user"]
                user_id = str(user["id"])
                domain_id = str((user.get("domain") or {}).get("id") or "") or None
            except (KeyError, TypeError):
                raise errors.failure(operation, "the token answer did not name the user",
                                     errors.AuthenticationFailed) from None
            if not token:
                raise errors.failure(operation, "the answer carried no X-Subject-Token header",
                                     errors.AuthenticationFailed)
            self._token, self._token_user_id = token, user_id
            with self._lock:
                self._domain_id = self._domain_id or domain_id
            return token

    def _network_error(self, operation: str, problem: ConnectionProblem,
                       hints: errors.Hints | None = None) -> errors.IamError:
        what, error_class = _NETWORK_ERRORS.get(problem.kind, _OTHER_NETWORK_ERROR)
        why = what.format(endpoint=self.settings.endpoint)
        return errors.failure(operation, f"{why} ({problem.reason})", error_class, hints=hints)


def _key_path(access_key_id: str) -> str:
    return f"{CREDENTIALS_PATH}/{quote(access_key_id, safe='')}"


def _json_body(operation: str, response: HttpResponse) -> dict:
    if not response.body:
        return {}
    try:
        document = json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise errors.failure(operation, f"the IAM API answered HTTP {response.status} with a body that is not JSON",
                             errors.ServerError, status=response.status) from None
    return document if isinstance(document, dict) else {}
