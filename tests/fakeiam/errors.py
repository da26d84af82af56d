"""The error answers of IAM, in the two body shapes the real service uses.

Keystone style  {"error": {"message", "code", "title"}}   - validation and not-found
Huawei style    {"error_msg", "error_code", "request_id"} - gateway, authentication, authorization
Clients must parse both, so the fake deliberately answers in both.
"""

from __future__ import annotations

import uuid
from typing import Any

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """An error answer: raised anywhere below the HTTP layer, turned into a response there."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def title(status: int) -> str:
    return _TITLES.get(status, "Error")


def keystone(status: int, message: str) -> ApiError:
    return ApiError(status, {"error": {"message": message, "code": status, "title": title(status)}})


def huawei(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> ApiError:
    body = {"error_msg": message, "error_code": code, "request_id": uuid.uuid4().hex}
    return ApiError(status, body, headers)


def bad_request(message: str) -> ApiError:
    return keystone(400, message)


def not_found(kind: str, ident: str) -> ApiError:
    return keystone(404, f"Could not find {kind}: {ident}.")


def key_limit_exceeded() -> ApiError:
    # Exactly the documented Huawei variant: no IAM.xxxx code, the marker is the message.
    body = {
        "error": {
            "message": "akSkNumExceed",
            "code": 400,
            "title": "Bad Request",
            "error_msg": None,
            "error_code": None,
        }
    }
    return ApiError(400, body)


def not_authenticated(message: str = "The request you have made requires authentication.") -> ApiError:
    return huawei(401, "IAM.0001", message)


def bad_signature(detail: str) -> ApiError:
    return huawei(401, "APIGW.0301", f"Incorrect IAM authentication information: {detail}")


def forbidden(detail: str) -> ApiError:
    return huawei(403, "IAM.0002", f"You are not authorized to perform the requested action: {detail}")


def no_such_api(method: str, path: str) -> ApiError:
    return huawei(404, "APIGW.0101", f"The API does not exist or has not been published: {method} {path}")


def internal_error(message: str = "Internal server error.") -> ApiError:
    return huawei(500, "IAM.0006", message)
