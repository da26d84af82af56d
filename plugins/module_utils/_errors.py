# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The typed errors of the IAM client, and how an HTTP error answer becomes one of them.

Private to the keywarden.iam collection: the interface may change without notice.

Every error's message reads "Failed to <what>: <why>. <what to do>" and is safe to show: it is
built from the API's error body (which never carries a secret) and from our own words, never
from request headers or bodies.
"""

from __future__ import annotations

import json
import re
from typing import Mapping, Type

from ansible_collections.keywarden.iam.plugins.module_utils._headers import find_header

MAX_RAW_BODY_IN_MESSAGE = 300

# IAM answers these with HTTP 400 although they are about the caller's credentials.
_CREDENTIAL_CODES = {
    "IAM.1104": "the access key is blacklisted",
    "IAM.1105": "the access key has expired",
    "IAM.1106": "the user of the access key does not exist",
    "IAM.1107": "the access key is inactive",
    "IAM.1108": "the security token has expired",
}
_SIGNATURE_EXPIRED_CODES = {"APIGW.0303", "APIG.0303"}


class TaskError(Exception):
    """A failure a task reports as its result: ``message`` says what went wrong and what to do.

    Every error the collection raises on purpose derives from this, so that one function
    (``_results.failure_result``) turns any of them into a task result.
    """

    @property
    def message(self) -> str:
        return str(self)

    def details(self) -> dict | None:
        """Machine-readable fields for the result's ``error`` key, when there are any."""
        return None


class IamError(TaskError):
    """Base of every error the client raises."""

    hint = ""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id

    def details(self) -> dict:
        """The machine-readable part, for a module's result."""
        return {
            "error_type": type(self).__name__,
            "status": self.status,
            "code": self.code,
            "request_id": self.request_id,
        }


class BadRequest(IamError):
    hint = "Check the option values of the task."


class KeyLimitExceeded(BadRequest):
    hint = (
        "An IAM user can hold at most two access keys and the quota cannot be raised; "
        "delete one of the user's keys first (access_key can make room itself when rotating)."
    )


class AuthenticationFailed(IamError):
    hint = (
        "Check access_key and secret_key (or auth_username, auth_password and auth_domain_name), that the key is "
        "active and belongs to this cloud and account, and, if domain_id is set, that it is the ID of that same "
        "account (unset, it is looked up)."
    )


class SignatureExpired(AuthenticationFailed):
    hint = (
        "The request's X-Sdk-Date differed from the IAM clock by more than 15 minutes: "
        "synchronise this machine's clock (NTP, chrony or systemd-timesyncd) and try again."
    )


class SecurityTokenExpired(AuthenticationFailed):
    hint = "The temporary access key has expired: obtain a new one (keywarden.iam.temporary_access_key)."


class Forbidden(IamError):
    hint = (
        "Managing another user's access keys needs the Security Administrator role or the actions "
        "iam:credentials:listCredentials, getCredential, createCredential, updateCredential and "
        "deleteCredential. If the account's console switch 'Access Key Management' (Security "
        "Settings > Critical Operations) is enabled, only an administrator can manage access keys, "
        "even a user's own."
    )


class NotFound(IamError):
    hint = "Check the user id, user name or access key id, and that it belongs to this account."


class Conflict(IamError):
    hint = "Another change to the same resource was under way; run the task again."


class Throttled(IamError):
    hint = "The IAM API is throttling requests; run fewer tasks at once or try again later."

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(IamError):
    hint = "The IAM service failed; try again later. If it persists, contact the cloud's support with the request id."


class NetworkError(IamError):
    hint = ("Check the endpoint (vendor, region, iam_endpoint or the clouds.yaml entry), proxy settings and that this "
            "machine can reach it.")


class TlsError(NetworkError):
    hint = (
        "The endpoint's TLS certificate is not trusted: set ca_path to the CA bundle that signed it. "
        "validate_certs: false turns the check off and is not recommended."
    )


class EndpointNotTls(NetworkError):
    hint = (
        "The server at that address does not speak TLS: it answered the TLS handshake in plain text, as an "
        "http:// server does. If it is a plain-HTTP server, name it with http://; otherwise fix the port."
    )


class RequestTimeout(NetworkError):
    hint = "The IAM endpoint did not answer in time: raise the timeout option or try again later."


class AnswerLost(NetworkError):
    hint = (
        "The connection was made, but it closed before an answer came back: a proxy, a load balancer or the "
        "network dropped it (or the endpoint speaks https and was named with http://). Run the task again."
    )


class CreateOutcomeUnknown(IamError):
    """A create request was sent but its answer was lost: the key may or may not exist.

    Raised instead of retrying, because a retried create could make a second key, and the
    first one's secret would be gone for good. The caller reconciles by listing the keys.
    """

    hint = "The access key may have been created; list the user's keys to find out."


# What to do, said better than the error class's general hint can: a caller that knows what it
# asked for (an agency, a user by name) maps an error class to its own hint.
Hints = Mapping[Type[IamError], str]


def hint_for(error_class: type[IamError], hints: Hints | None = None) -> str:
    """The caller's hint for ``error_class`` or its nearest base class, else the class's own."""
    for cls in error_class.__mro__:
        if hints and cls in hints:
            return hints[cls]
    return error_class.hint


def failure(operation: str, why: str, error_class: type[IamError], *, hints: Hints | None = None,
            **kwargs) -> IamError:
    """Build an error whose message follows "Failed to <what>: <why>. <what to do>"."""
    message = f"Failed to {operation}: {why.rstrip('.')}."
    hint = hint_for(error_class, hints)
    if hint:
        message = f"{message} {hint}"
    return error_class(message, **kwargs)


def user_name_not_found(name: str) -> IamError:
    """No user of the account has this name. The user listing itself succeeded (HTTP 200), so the
    error carries no HTTP status: ``status`` 200 in a failed task's result would read as a contradiction."""
    return failure(f"find IAM user '{name}'", "no user has that name in this account", NotFound, hints={
        NotFound: "Check the spelling (user names are case-sensitive) and that the user belongs to this account, "
                  "or name the user by user_id.",
    })


def parse_error_body(body: bytes) -> tuple[str | None, str | None, str | None]:
    """(message, code, request_id) from either error shape the IAM API uses.

    Keystone style: {"error": {"message", "code", "title"}} (the Huawei variant adds error_msg and
    error_code inside, often null); Huawei style: {"error_msg", "error_code", "request_id"}.
    """
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, None, None
    if not isinstance(document, dict):
        return None, None, None
    request_id = _text(document.get("request_id"))
    nested = document.get("error")
    if isinstance(nested, dict):
        message = _text(nested.get("error_msg")) or _text(nested.get("message")) or _text(nested.get("title"))
        code = _text(nested.get("error_code"))
        return message, code, request_id or _text(nested.get("request_id"))
    return _text(document.get("error_msg")), _text(document.get("error_code")), request_id


def error_from_response(
    operation: str,
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    hints: Hints | None = None,
) -> IamError:
    """Turn an HTTP error answer into the matching typed error (``hints``: see ``failure``)."""
    message, code, request_id = parse_error_body(body)
    headers = headers or {}
    request_id = request_id or find_header(headers, "X-Request-Id")
    raw = body.decode("utf-8", "replace")
    detail = (message or _squash(raw) or "no error body").rstrip(".")
    why = f"HTTP {status}" + (f" {code}" if code else "") + f": {detail}"
    if request_id:
        why += f" (request id {request_id})"
    fields: dict = {"status": status, "code": code, "request_id": request_id, "hints": hints}

    if status == 400 and "akSkNumExceed" in raw:
        return failure(operation, f"the user already holds two access keys ({why})", KeyLimitExceeded, **fields)
    if code in _CREDENTIAL_CODES:
        error_class = SecurityTokenExpired if code == "IAM.1108" else AuthenticationFailed
        return failure(operation, f"{_CREDENTIAL_CODES[code]} ({why})", error_class, **fields)
    if status == 401:
        if code in _SIGNATURE_EXPIRED_CODES or re.search(r"signature.*expired|expired.*signature", detail, re.I):
            clock = find_header(headers, "Date")
            skew = f"; the server's clock said {clock}" if clock else ""
            return failure(operation, f"the request signature has expired ({why}){skew}", SignatureExpired, **fields)
        return failure(operation, f"the IAM API did not accept the credentials ({why})", AuthenticationFailed, **fields)
    if status == 403:
        return failure(operation, f"the caller is not allowed to do this ({why})", Forbidden, **fields)
    if status == 404:
        return failure(operation, f"not found ({why})", NotFound, **fields)
    if status == 409:
        return failure(operation, f"conflict ({why})", Conflict, **fields)
    if status == 429:
        retry_after = parse_retry_after(find_header(headers, "Retry-After"))
        return failure(operation, f"the IAM API is throttling requests ({why})", Throttled, retry_after=retry_after,
                       **fields)
    if status >= 500:
        return failure(operation, f"the IAM service answered with an error ({why})", ServerError, **fields)
    return failure(operation, f"the IAM API refused the request ({why})", BadRequest, **fields)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header; the HTTP-date form is rare for APIs and ignored."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _squash(raw: str) -> str:
    text = " ".join(raw.split())
    if len(text) > MAX_RAW_BODY_IN_MESSAGE:
        text = text[:MAX_RAW_BODY_IN_MESSAGE] + "..."
    return text
