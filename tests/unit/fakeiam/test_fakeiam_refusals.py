"""Refusals: fakeiam says no wherever the real IAM would, in the shape the real IAM uses."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.fakeiam.harness import FakeIam, FakeIamError
from tests.fakeiam.model import parse_time

CREDENTIALS = "/v3.0/OS-CREDENTIAL/credentials"


def huawei_error(reply: Any, status: int, code: str) -> str:
    assert reply.status == status, reply
    assert reply.body["error_code"] == code, reply.body
    assert reply.body["request_id"]
    assert reply.headers["Content-Type"].startswith("application/json")
    return reply.body["error_msg"]


def keystone_error(reply: Any, status: int) -> str:
    assert reply.status == status, reply
    error = reply.body["error"]
    assert error["code"] == status and error["title"], reply.body
    return error["message"]


@pytest.fixture
def demo(iam: FakeIam) -> dict[str, dict[str, Any]]:
    return {name: iam.user(name) for name in ("admin", "alice", "bob")}


def own_key(user: dict[str, Any]) -> dict[str, Any]:
    return user["keys"][0]


def test_a_correct_signature_is_accepted(client: Any, demo: dict) -> None:
    bob = demo["bob"]
    reply = client.call("GET", CREDENTIALS, key=own_key(bob), domain_id=bob["domain_id"])
    assert reply.status == 200
    assert [item["access"] for item in reply.body["credentials"]] == [own_key(bob)["access"]]


def test_tampered_signature_is_refused(client: Any, demo: dict) -> None:
    bob = demo["bob"]
    reply = client.call("GET", CREDENTIALS, key=own_key(bob), domain_id=bob["domain_id"], tamper=True)
    huawei_error(reply, 401, "APIGW.0301")


def test_wrong_secret_and_unknown_access_key_are_refused(client: Any, demo: dict) -> None:
    bob = demo["bob"]
    wrong_secret = {**own_key(bob), "secret": "x" * 40}
    huawei_error(client.call("GET", CREDENTIALS, key=wrong_secret), 401, "APIGW.0301")
    unknown = {"access": "A" * 20, "secret": own_key(bob)["secret"]}
    assert "does not exist" in huawei_error(client.call("GET", CREDENTIALS, key=unknown), 401, "APIGW.0301")


def test_signed_body_must_be_the_body_sent(client: Any, demo: dict) -> None:
    admin = demo["admin"]
    prepared = client.prepare("POST", CREDENTIALS, key=own_key(admin), body={"credential": {"user_id": admin["id"]}})
    other = json.dumps({"credential": {"user_id": admin["id"], "description": "x"}}).encode()
    huawei_error(client.send(replace(prepared, payload=other)), 401, "APIGW.0301")
    assert len(client.server.keys_of("admin")) == 1
    assert client.send(prepared).status == 201


def test_sdk_date_sixteen_minutes_off_is_refused_as_expired(client: Any, demo: dict) -> None:
    bob = demo["bob"]
    for skew in (timedelta(minutes=16), -timedelta(minutes=16)):
        reply = client.call("GET", CREDENTIALS, key=own_key(bob), sdk_date=datetime.now(timezone.utc) + skew)
        assert "clock" in huawei_error(reply, 401, "APIGW.0303")
    fourteen_behind = datetime.now(timezone.utc) - timedelta(minutes=14)
    within = client.call("GET", CREDENTIALS, key=own_key(bob), sdk_date=fourteen_behind)
    assert within.status == 200


def test_skew_moves_the_signature_window_and_reset_clears_it(iam: FakeIam, client: Any, demo: dict) -> None:
    assert iam.set_skew(20 * 60) == {"seconds": 20 * 60} == iam.control("GET", "skew")
    huawei_error(client.call("GET", CREDENTIALS, key=own_key(demo["bob"])), 401, "APIGW.0303")
    ahead = datetime.now(timezone.utc) + timedelta(minutes=20)
    assert client.call("GET", CREDENTIALS, key=own_key(demo["bob"]), sdk_date=ahead).status == 200
    assert iam.clock()["offset_seconds"] == 0  # the data clock did not move
    iam.set_skew(-20 * 60)
    huawei_error(client.call("GET", CREDENTIALS, key=own_key(demo["bob"])), 401, "APIGW.0303")
    iam.reset()
    assert iam.control("GET", "skew") == {"seconds": 0}
    assert client.call("GET", CREDENTIALS, key=own_key(demo["bob"])).status == 200


def test_skew_must_be_a_number(iam: FakeIam) -> None:
    for body in ({}, {"seconds": "60"}, {"seconds": True}, {"seconds": 60, "extra": 1}):
        with pytest.raises(FakeIamError, match="400"):
            iam.control("POST", "skew", body)


def test_data_clock_does_not_move_the_signature_window(iam: FakeIam, client: Any, demo: dict) -> None:
    # Ageing keys by 100 days must leave clients that sign with real time working.
    iam.advance_clock(days=100)
    bob, admin = demo["bob"], demo["admin"]
    assert client.call("GET", CREDENTIALS, key=own_key(bob)).status == 200
    created = client.call("POST", CREDENTIALS, key=own_key(admin), body={"credential": {"user_id": bob["id"]}})
    assert created.status == 201
    age = parse_time(created.body["credential"]["create_time"]) - datetime.now(timezone.utc)
    assert timedelta(days=100) - timedelta(minutes=1) < age < timedelta(days=100) + timedelta(minutes=1)
    # A client that signs with the server's (data) clock is 100 days off real time.
    stale = client.call("GET", CREDENTIALS, key=own_key(bob), sdk_date=datetime.now(timezone.utc) + age)
    huawei_error(stale, 401, "APIGW.0303")


def test_host_and_date_must_be_signed(client: Any, demo: dict) -> None:
    prepared = client.prepare("GET", CREDENTIALS, key=own_key(demo["bob"]))
    assert client.send(prepared).status == 200
    for signed, missing in (("x-domain-id;x-sdk-date", "host"), ("host;x-domain-id", "x-sdk-date")):
        authorization = re.sub("SignedHeaders=[^,]+", f"SignedHeaders={signed}", prepared.headers["Authorization"])
        reply = client.send(replace(prepared, headers={**prepared.headers, "Authorization": authorization}))
        assert missing in huawei_error(reply, 401, "APIGW.0301")


def test_inactive_key_is_refused(iam: FakeIam, client: Any, demo: dict) -> None:
    iam.add_key("bob", status="inactive")
    inactive = iam.keys_of("bob")[-1]
    reply = client.call("GET", CREDENTIALS, key=inactive, domain_id=demo["bob"]["domain_id"])
    assert "inactive" in huawei_error(reply, 400, "IAM.1107")


def test_disabled_user_is_refused(iam: FakeIam, client: Any) -> None:
    iam.add_user("carol", enabled=False, keys=[{}])
    carol = iam.user("carol")
    huawei_error(client.call("GET", CREDENTIALS, key=own_key(carol)), 403, "IAM.0081")


def test_x_domain_id_must_be_the_key_owners_account(client: Any, demo: dict) -> None:
    reply = client.call("GET", CREDENTIALS, key=own_key(demo["bob"]), domain_id="0" * 32)
    assert "X-Domain-Id" in huawei_error(reply, 401, "APIGW.0301")


def test_normal_user_cannot_manage_another_users_keys(client: Any, demo: dict) -> None:
    alice, bob = demo["alice"], demo["bob"]
    key, domain = own_key(alice), alice["domain_id"]
    bobs_key = own_key(bob)["access"]
    calls = [
        ("GET", CREDENTIALS, {"query": [("user_id", bob["id"])]}),
        ("POST", CREDENTIALS, {"body": {"credential": {"user_id": bob["id"]}}}),
        ("GET", f"{CREDENTIALS}/{bobs_key}", {}),
        ("PUT", f"{CREDENTIALS}/{bobs_key}", {"body": {"credential": {"status": "inactive"}}}),
        ("DELETE", f"{CREDENTIALS}/{bobs_key}", {}),
        ("GET", "/v3/users", {}),
        ("GET", f"/v3/users/{bob['id']}", {}),
    ]
    for method, path, extra in calls:
        huawei_error(client.call(method, path, key=key, domain_id=domain, **extra), 403, "IAM.0002")
    assert client.call("GET", f"/v3/users/{alice['id']}", key=key, domain_id=domain).status == 200


def test_access_key_management_blocks_normal_users_own_writes(iam: FakeIam, client: Any, demo: dict) -> None:
    bob, admin = demo["bob"], demo["admin"]
    iam.set_access_key_management("keywarden-demo", True)
    create = {"credential": {"user_id": bob["id"]}}
    message = huawei_error(client.call("POST", CREDENTIALS, key=own_key(bob), body=create), 403, "IAM.0002")
    assert "Access Key Management" in message
    update = {"credential": {"description": "mine"}}
    huawei_error(client.call("PUT", f"{CREDENTIALS}/{own_key(bob)['access']}", key=own_key(bob), body=update),
                 403, "IAM.0002")
    # Reading stays allowed, and administrators still manage keys, their own included.
    assert client.call("GET", CREDENTIALS, key=own_key(bob)).status == 200
    assert client.call("POST", CREDENTIALS, key=own_key(admin), body=create).status == 201
    own = {"credential": {"user_id": admin["id"]}}
    assert client.call("POST", CREDENTIALS, key=own_key(admin), body=own).status == 201


def test_unknown_key_is_404_with_keystone_body(client: Any, demo: dict) -> None:
    admin = demo["admin"]
    for method in ("GET", "PUT", "DELETE"):
        body = {"credential": {"status": "active"}} if method == "PUT" else None
        reply = client.call(method, f"{CREDENTIALS}/ZZZZZZZZZZZZZZZZZZZZ", key=own_key(admin), body=body)
        assert "ZZZZZZZZZZZZZZZZZZZZ" in keystone_error(reply, 404)
    reply = client.call("GET", "/v3/users/nobody", key=own_key(admin))
    keystone_error(reply, 404)


def test_other_accounts_keys_and_users_are_not_found(iam: FakeIam, client: Any) -> None:
    seed = iam.state()
    seed["accounts"].append({"domain_name": "elsewhere", "users": [{"name": "eve", "admin": True, "keys": [{}]}]})
    iam.reset(seed)
    eve, bob = iam.user("eve"), iam.user("bob")
    bobs_key = own_key(bob)["access"]
    keystone_error(client.call("GET", f"{CREDENTIALS}/{bobs_key}", key=own_key(eve)), 404)
    keystone_error(client.call("DELETE", f"{CREDENTIALS}/{bobs_key}", key=own_key(eve)), 404)
    keystone_error(client.call("POST", CREDENTIALS, key=own_key(eve), body={"credential": {"user_id": bob["id"]}}), 404)
    keystone_error(client.call("GET", CREDENTIALS, key=own_key(eve), query=[("user_id", bob["id"])]), 404)
    listed = client.call("GET", "/v3/users", key=own_key(eve))
    assert [user["name"] for user in listed.body["users"]] == ["eve"]


@pytest.mark.parametrize(("method", "suffix", "body", "fragment"), [
    ("POST", "", {"credential": {"user_id": "ID", "description": "d" * 256}}, "255"),
    ("POST", "", {"credential": {}}, "user_id"),
    ("POST", "", {"credential": {"user_id": "ID", "secret": "mine"}}, "secret"),
    ("PUT", "/AK", {"credential": {}}, "at least one"),
    ("PUT", "/AK", {"credential": {"status": "disabled"}}, "status"),
    ("PUT", "/AK", {"credential": {"description": "d" * 256}}, "255"),
])
def test_invalid_bodies_are_400(client: Any, demo: dict, method: str, suffix: str, body: dict, fragment: str) -> None:
    admin = demo["admin"]
    body = {"credential": {k: (admin["id"] if v == "ID" else v) for k, v in body["credential"].items()}}
    path = CREDENTIALS + suffix.replace("AK", own_key(admin)["access"])
    assert fragment in keystone_error(client.call(method, path, key=own_key(admin), body=body), 400)


def test_description_of_255_characters_is_fine(client: Any, demo: dict) -> None:
    bob = demo["bob"]
    body = {"credential": {"user_id": bob["id"], "description": "d" * 255}}
    reply = client.call("POST", CREDENTIALS, key=own_key(bob), body=body)
    assert reply.status == 201 and reply.body["credential"]["description"] == "d" * 255


def test_unauthenticated_and_unknown_api(client: Any, demo: dict) -> None:
    huawei_error(client.call("GET", CREDENTIALS), 401, "IAM.0001")
    huawei_error(client.call("GET", CREDENTIALS + "/", key=own_key(demo["bob"])), 404, "APIGW.0101")
    huawei_error(client.call("PATCH", CREDENTIALS, key=own_key(demo["bob"])), 404, "APIGW.0101")


def password_login(client: Any, name: str, password: str, scope: dict | None = None) -> Any:
    body = {"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": name, "password": password, "domain": {"name": "keywarden-demo"}}}},
        "scope": scope if scope is not None else {"domain": {"name": "keywarden-demo"}},
    }}
    return client.call("POST", "/v3/auth/tokens", body=body)


def test_password_tokens(iam: FakeIam, client: Any, demo: dict) -> None:
    wrong = password_login(client, "bob", "guess")
    assert huawei_error(wrong, 401, "IAM.0001") == "The username or password is wrong."
    huawei_error(password_login(client, "nobody", "guess"), 401, "IAM.0001")
    project = password_login(client, "bob", demo["bob"]["password"], {"project": {"name": "eu-de"}})
    assert "domain-scoped" in keystone_error(project, 400)

    ok = password_login(client, "bob", demo["bob"]["password"])
    assert ok.status == 201
    token = ok.headers["X-Subject-Token"]
    assert ok.body["token"]["user"]["id"] == demo["bob"]["id"]
    assert ok.body["token"]["methods"] == ["password"]
    assert client.call("GET", CREDENTIALS, token=token).status == 200
    huawei_error(client.call("GET", CREDENTIALS, token="MIIbogus"), 401, "IAM.0001")
    iam.advance_clock(days=1, seconds=1)
    huawei_error(client.call("GET", CREDENTIALS, token=token), 401, "IAM.0066")
