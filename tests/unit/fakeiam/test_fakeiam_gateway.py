"""What the gateway decides apart from the data: the Date header, X-Domain-Id, key propagation."""

from __future__ import annotations

import http.client
import re
import time
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fakeiam.harness import FakeIam, FakeIamError
from tests.fakeiam.model import parse_time

CREDENTIALS = "/v3.0/OS-CREDENTIAL/credentials"
# RFC 7231 IMF-fixdate, as http.server writes it.
HTTP_DATE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                       r"\d{4} \d\d:\d\d:\d\d GMT")


def header_date(headers: dict[str, str]) -> datetime:
    assert HTTP_DATE.fullmatch(headers["Date"]), headers
    return parsedate_to_datetime(headers["Date"])


def test_every_answer_dates_itself_by_the_data_clock(iam: FakeIam, client: Any) -> None:
    iam.advance_clock(days=100)
    data_now = parse_time(iam.clock()["now"])
    bob_key = iam.user("bob")["keys"][0]
    replies = [
        client.call("GET", CREDENTIALS, key=bob_key),  # served
        client.call("GET", CREDENTIALS),  # refused
        client.call("GET", "/nowhere", key=bob_key),  # no such API
        client.call("GET", "/_control/clock"),  # control API
    ]
    assert [reply.status for reply in replies] == [200, 401, 404, 200]
    # http.server's own refusals too: an unknown method.
    split = urlsplit(iam.url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=10)
    try:
        connection.request("BREW", CREDENTIALS)
        raw = connection.getresponse()
        assert raw.status == 501
        dates = [header_date(reply.headers) for reply in replies] + [header_date(dict(raw.getheaders()))]
    finally:
        connection.close()
    assert all(abs(date - data_now) < timedelta(seconds=5) for date in dates), (dates, data_now)


def test_signed_requests_need_x_domain_id_except_to_learn_the_account(iam: FakeIam, client: Any) -> None:
    bob = iam.user("bob")
    key = bob["keys"][0]
    calls = [
        ("GET", CREDENTIALS, {}),
        ("GET", f"{CREDENTIALS}/{key['access']}", {}),
        ("POST", CREDENTIALS, {"body": {"credential": {"user_id": bob["id"]}}}),
        ("GET", f"/v3/users/{bob['id']}", {}),
    ]
    for method, path, extra in calls:
        reply = client.call(method, path, key=key, without_domain_id=True, **extra)
        assert (reply.status, reply.body["error_code"]) == (401, "APIGW.0301"), reply
        assert "X-Domain-Id is required" in reply.body["error_msg"]
    # Refused before the key counts as used, and nothing was created.
    assert iam.keys_of("bob") == [key]

    domains = client.call("GET", "/v3/auth/domains", key=key, without_domain_id=True)
    assert domains.status == 200 and domains.body["domains"][0]["id"] == bob["domain_id"]
    identity = client.call("GET", "/v5/caller-identity", key=key, without_domain_id=True)
    assert identity.status == 200 and identity.body["account_id"] == bob["domain_id"]


def test_temporary_keys_need_x_domain_id_and_tokens_do_not(iam: FakeIam, client: Any) -> None:
    bob = iam.user("bob")
    login = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"id": bob["id"], "password": bob["password"]}}},
        "scope": {"domain": {"id": bob["domain_id"]}},
    }}
    token = client.call("POST", "/v3/auth/tokens", body=login).headers["X-Subject-Token"]
    assert client.call("GET", CREDENTIALS, token=token).status == 200

    body = {"auth": {"identity": {"methods": ["token"]}}}
    credential = client.call("POST", "/v3.0/OS-CREDENTIAL/securitytokens", token=token, body=body).body["credential"]
    temporary = {"access": credential["access"], "secret": credential["secret"]}
    security_token = credential["securitytoken"]
    refused = client.call("GET", CREDENTIALS, key=temporary, security_token=security_token, without_domain_id=True)
    assert (refused.status, refused.body["error_code"]) == (401, "APIGW.0301")
    assert client.call("GET", CREDENTIALS, key=temporary, security_token=security_token).status == 200


def create_for_bob(iam: FakeIam, client: Any) -> dict[str, str]:
    reply = client.call("POST", CREDENTIALS, key=iam.user("admin")["keys"][0],
                        body={"credential": {"user_id": iam.user("bob")["id"]}})
    assert reply.status == 201, reply
    return {"access": reply.body["credential"]["access"], "secret": reply.body["credential"]["secret"]}


def assert_unknown(reply: Any, access: str) -> None:
    assert (reply.status, reply.body["error_code"]) == (401, "APIGW.0301"), reply
    assert f"the access key {access} does not exist" in reply.body["error_msg"]


def test_new_key_is_unknown_while_it_propagates(iam: FakeIam, client: Any) -> None:
    assert iam.set_propagation_delay(0.5) == {"seconds": 0.5} == iam.control("GET", "propagation")
    new_key = create_for_bob(iam, client)
    created = time.monotonic()
    assert_unknown(client.call("GET", CREDENTIALS, key=new_key), new_key["access"])
    # Keys that existed before work, and the new key's record is there at once.
    bob_key = iam.user("bob")["keys"][0]
    assert client.call("GET", f"{CREDENTIALS}/{new_key['access']}", key=bob_key).status == 200
    time.sleep(max(0.0, 0.6 - (time.monotonic() - created)))
    assert client.call("GET", CREDENTIALS, key=new_key).status == 200


def test_propagation_counts_real_time_and_reset_clears_it(iam: FakeIam, client: Any) -> None:
    iam.set_propagation_delay(3600)
    new_key = create_for_bob(iam, client)
    iam.advance_clock(days=1)  # the data clock does not propagate keys
    assert_unknown(client.call("GET", CREDENTIALS, key=new_key), new_key["access"])
    iam.set_propagation_delay(0)  # the delay in force when the key is used is what counts
    assert client.call("GET", CREDENTIALS, key=new_key).status == 200

    iam.set_propagation_delay(3600)
    iam.reset()
    assert iam.control("GET", "propagation") == {"seconds": 0}
    assert client.call("GET", CREDENTIALS, key=create_for_bob(iam, client)).status == 200


@pytest.mark.parametrize("body", [{}, {"seconds": -1}, {"seconds": "5"}, {"seconds": None}])
def test_propagation_delay_must_be_a_non_negative_number(iam: FakeIam, body: dict[str, Any]) -> None:
    with pytest.raises(FakeIamError, match="400"):
        iam.control("POST", "propagation", body)
