"""Both error body shapes, and the typed error each status becomes."""

from __future__ import annotations

import json

import pytest

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors

KEYSTONE = json.dumps({"error": {"message": "Could not find credential: X.", "code": 404, "title": "Not Found"}})
HUAWEI = json.dumps({"error_msg": "You are not authorized.", "error_code": "IAM.0002", "request_id": "r-1"})
LIMIT = json.dumps({"error": {"message": "akSkNumExceed", "code": 400, "title": "Bad Request",
                              "error_msg": None, "error_code": None}})


def test_both_shapes_parse():
    assert errors.parse_error_body(KEYSTONE.encode()) == ("Could not find credential: X.", None, None)
    assert errors.parse_error_body(HUAWEI.encode()) == ("You are not authorized.", "IAM.0002", "r-1")
    assert errors.parse_error_body(b"<html>gateway</html>") == (None, None, None)


@pytest.mark.parametrize("status, body, headers, expected", [
    (400, LIMIT, {}, errors.KeyLimitExceeded),
    (400, json.dumps({"error_msg": "x", "error_code": "IAM.1108"}), {}, errors.SecurityTokenExpired),
    (400, json.dumps({"error_msg": "x", "error_code": "IAM.1107"}), {}, errors.AuthenticationFailed),
    (401, json.dumps({"error_msg": "signature expired", "error_code": "APIGW.0303"}), {}, errors.SignatureExpired),
    (401, json.dumps({"error_msg": "bad", "error_code": "APIGW.0301"}), {}, errors.AuthenticationFailed),
    (403, HUAWEI, {}, errors.Forbidden),
    (404, KEYSTONE, {}, errors.NotFound),
    (409, json.dumps({"error_msg": "c", "error_code": "IAM.0005"}), {}, errors.Conflict),
    (429, json.dumps({"error_msg": "t", "error_code": "IAM.0012"}), {"Retry-After": "3"}, errors.Throttled),
    (500, "oops", {}, errors.ServerError),
    (400, json.dumps({"error_msg": "bad input", "error_code": "IAM.0007"}), {}, errors.BadRequest),
])
def test_status_to_error_class(status, body, headers, expected):
    error = errors.error_from_response("do a thing", status, body.encode(), headers)
    assert error.__class__ is expected
    assert error.message.startswith("Failed to do a thing: ")
    assert error.status == status


def test_retry_after_and_raw_body_fallback():
    error = errors.error_from_response("x", 429, b"{}", {"retry-after": "2.5"})
    assert error.retry_after == 2.5
    long_body = ("x" * 1000).encode()
    assert len(errors.error_from_response("x", 502, long_body).message) < 700
