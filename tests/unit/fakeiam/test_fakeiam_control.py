"""The control API and the behaviours tests build on: clock, faults, counters, latency,
persistence, temporary keys."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fakeiam.harness import SEEDS, SERVER, FakeIam, FakeIamError
from tests.fakeiam.model import parse_time

CREDENTIALS = "/v3.0/OS-CREDENTIAL/credentials"
SECURITY_TOKENS = "/v3.0/OS-CREDENTIAL/securitytokens"


def server_now(iam: FakeIam) -> datetime:
    """The data clock's now: what key ages and expiries are measured against."""
    return parse_time(iam.clock()["now"])


def admin_create_for(client: Any, iam: FakeIam, user: str, **options: Any) -> Any:
    admin, owner = iam.user("admin"), iam.user(user)
    return client.call("POST", CREDENTIALS, key=admin["keys"][0], body={"credential": {"user_id": owner["id"]}},
                       **options)


def test_server_announces_one_json_line_and_stops_on_sigterm() -> None:
    process = subprocess.Popen([sys.executable, str(SERVER), "--seed", str(SEEDS / "minimal.json")],
                               stdout=subprocess.PIPE, text=True)
    try:
        announcement = json.loads(process.stdout.readline())
        assert announcement["url"].startswith("http://127.0.0.1:")
        assert announcement["ca_file"] is None and announcement["pid"] == process.pid
    finally:
        process.terminate()
        rest = process.communicate(timeout=10)[0]
    assert process.returncode == 0 and rest == ""


def test_clock_advance_ages_new_and_existing_keys(iam: FakeIam, client: Any) -> None:
    before = server_now(iam)
    clock = iam.advance_clock(days=100)
    assert clock["offset_seconds"] == pytest.approx(100 * 86400)
    created = admin_create_for(client, iam, "bob").body["credential"]
    assert parse_time(created["create_time"]) - before >= timedelta(days=100)
    iam.set_clock_offset(0)
    assert abs(server_now(iam) - before) < timedelta(minutes=1)


def test_new_key_last_use_time_equals_create_time_and_moves_on_use(iam: FakeIam, client: Any) -> None:
    created = admin_create_for(client, iam, "bob").body["credential"]
    new_key = {"access": created["access"], "secret": created["secret"]}
    show = f"{CREDENTIALS}/{created['access']}"
    first = client.call("GET", show, key=iam.user("admin")["keys"][0]).body["credential"]
    assert first["last_use_time"] == first["create_time"] == created["create_time"]

    iam.advance_clock(days=3)
    assert client.call("GET", CREDENTIALS, key=new_key).status == 200
    held = next(key for key in iam.keys_of("bob") if key["access"] == created["access"])
    assert parse_time(held["last_use_time"]) - parse_time(created["create_time"]) >= timedelta(days=3)
    assert held["create_time"] == created["create_time"]


def test_status_fault_fires_exactly_count_times(iam: FakeIam, client: Any) -> None:
    bob_key = iam.user("bob")["keys"][0]
    iam.inject_fault("list_credentials", "status", count=2, status=503)
    replies = [client.call("GET", CREDENTIALS, key=bob_key) for _attempt in range(3)]
    assert [reply.status for reply in replies] == [503, 503, 200]
    assert replies[0].body["error_code"] and replies[0].body["request_id"]
    assert iam.control("GET", "faults") == {"armed": []}
    assert iam.counters()["by_operation"] == {"list_credentials": 3}


def test_status_fault_does_not_perform_the_operation(iam: FakeIam, client: Any) -> None:
    iam.inject_fault("create_credential", "status", status=500)
    reply = admin_create_for(client, iam, "bob")
    assert (reply.status, reply.body["error_code"]) == (500, "IAM.0006")
    assert len(iam.keys_of("bob")) == 1


def test_status_401_fault_on_list_credentials_fails_a_new_keys_verification(iam: FakeIam, client: Any) -> None:
    # A client verifies a new key by listing with it; a 401 there looks like a key that never works.
    created = admin_create_for(client, iam, "bob").body["credential"]
    new_key = {"access": created["access"], "secret": created["secret"]}
    iam.inject_fault("list_credentials", "status", count=3, status=401, code="APIGW.0301",
                     message="Incorrect IAM authentication information: verify aksk signature fail")
    replies = [client.call("GET", CREDENTIALS, key=new_key) for _attempt in range(3)]
    assert {(reply.status, reply.body["error_code"]) for reply in replies} == {(401, "APIGW.0301")}
    assert "aksk" in replies[0].body["error_msg"]
    # Only that operation is hit, and only as often as armed: the key itself is fine.
    assert client.call("GET", f"{CREDENTIALS}/{created['access']}", key=new_key).status == 200
    assert client.call("GET", CREDENTIALS, key=new_key).status == 200


def test_throttle_with_and_without_retry_after(iam: FakeIam, client: Any) -> None:
    bob_key = iam.user("bob")["keys"][0]
    iam.inject_fault("list_credentials", "throttle", retry_after=2)
    iam.inject_fault("list_credentials", "throttle")
    with_header, without_header = (client.call("GET", CREDENTIALS, key=bob_key) for _attempt in range(2))
    assert (with_header.status, with_header.headers.get("Retry-After")) == (429, "2")
    assert (without_header.status, without_header.headers.get("Retry-After")) == (429, None)
    assert with_header.body["error_code"] == "APIG.0308"


def test_drop_after_commit_loses_the_answer_but_keeps_the_key(iam: FakeIam, client: Any) -> None:
    iam.inject_fault("create_credential", "drop_after_commit")
    with pytest.raises(http.client.RemoteDisconnected):
        admin_create_for(client, iam, "bob")
    assert len(iam.keys_of("bob")) == 2  # committed: the secret is now known only to the server
    assert iam.counters()["writes"] == 1


def test_drop_loses_the_request_without_doing_it(iam: FakeIam, client: Any) -> None:
    iam.inject_fault("*", "drop")
    with pytest.raises(http.client.RemoteDisconnected):
        admin_create_for(client, iam, "bob")
    assert len(iam.keys_of("bob")) == 1
    assert admin_create_for(client, iam, "bob").status == 201


def test_delay_commits_although_the_client_gave_up(iam: FakeIam, client: Any) -> None:
    iam.inject_fault("create_credential", "delay", seconds=1.5)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        admin_create_for(client, iam, "bob", timeout=0.3)
    assert len(iam.keys_of("bob")) == 2


def send_and_leave_open(iam: FakeIam, client: Any, method: str, path: str,
                        **options: Any) -> http.client.HTTPConnection:
    """Send one signed request on a connection of its own and return at once, without the answer."""
    prepared = client.prepare(method, path, **options)
    split = urlsplit(iam.url)
    if iam.ca_file:
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            split.hostname, split.port, timeout=60, context=ssl.create_default_context(cafile=iam.ca_file))
    else:
        connection = http.client.HTTPConnection(split.hostname, split.port, timeout=60)
    connection.request(prepared.method, prepared.uri, body=prepared.payload or None, headers=prepared.headers)
    return connection


def wait_for_arrival(iam: FakeIam, operation: str, count: int = 1, timeout: float = 20) -> float:
    """Wait until the server has counted ``count`` requests of ``operation``; the monotonic time then."""
    deadline = time.monotonic() + timeout
    while iam.counters()["by_operation"].get(operation, 0) < count:
        assert time.monotonic() < deadline, f"no {operation} request reached the server in {timeout}s"
        time.sleep(0.01)
    return time.monotonic()


def create_for_bob(iam: FakeIam, client: Any) -> http.client.HTTPConnection:
    admin, bob = iam.user("admin"), iam.user("bob")
    return send_and_leave_open(iam, client, "POST", CREDENTIALS, key=admin["keys"][0],
                               body={"credential": {"user_id": bob["id"]}})


def test_hold_does_the_operation_after_the_wait_when_the_client_stays(iam: FakeIam, client: Any) -> None:
    iam.inject_fault("create_credential", "hold", seconds=3)
    started = time.monotonic()
    connection = create_for_bob(iam, client)
    try:
        wait_for_arrival(iam, "create_credential")
        assert len(iam.keys_of("bob")) == 1  # held: not done yet (the hold lasts 3 s)
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    assert time.monotonic() - started >= 3
    assert response.status == 201 and body["credential"]["secret"]
    assert [key["access"] for key in iam.keys_of("bob")][-1] == body["credential"]["access"]
    assert iam.control("GET", "faults") == {"armed": []}


def _hold_abandoned_when_the_client_hangs_up(iam: FakeIam, client: Any) -> None:
    hold = 2.0
    iam.inject_fault("create_credential", "hold", seconds=hold)
    connection = create_for_bob(iam, client)
    try:
        arrived = wait_for_arrival(iam, "create_credential")
        assert len(iam.keys_of("bob")) == 1
    finally:
        connection.close()  # the client goes away while the server holds the request
    # Had the server ignored the hang-up it would create the key when the hold ends; look well after.
    time.sleep(max(0.0, arrived + hold + 2.0 - time.monotonic()))
    assert len(iam.keys_of("bob")) == 1
    assert iam.counters()["writes"] == 1 and iam.control("GET", "faults") == {"armed": []}
    # The fault is used up and the server serves on: the same request now creates the key.
    assert admin_create_for(client, iam, "bob").status == 201
    assert len(iam.keys_of("bob")) == 2


def test_hold_abandons_the_operation_when_the_client_hangs_up(iam: FakeIam, client: Any) -> None:
    _hold_abandoned_when_the_client_hangs_up(iam, client)


def test_hold_sees_a_tls_client_hang_up_too(client: Any) -> None:
    with FakeIam(SEEDS / "demo.json", tls=True) as server:
        _hold_abandoned_when_the_client_hangs_up(server, type(client)(server))  # a SignedClient of its own


def test_hold_watch_tells_a_hang_up_from_bytes_that_wait() -> None:
    from tests.fakeiam.api import client_stays

    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        client_side.sendall(b"x")  # readable, but the client is still there
        started = time.monotonic()
        assert client_stays(server_side, 0.3) is True
        assert time.monotonic() - started >= 0.3
        assert server_side.recv(1) == b"x"  # only peeked at: nothing was consumed
        client_side.close()
        started = time.monotonic()
        assert client_stays(server_side, 30) is False
        assert time.monotonic() - started < 5


def test_invalid_fault_is_refused(iam: FakeIam) -> None:
    with pytest.raises(FakeIamError, match="400"):
        iam.inject_fault("create_key", "status", status=500)
    with pytest.raises(FakeIamError, match="status"):
        iam.inject_fault("create_credential", "status")
    with pytest.raises(FakeIamError, match="seconds"):
        iam.inject_fault("create_credential", "delay")
    with pytest.raises(FakeIamError, match="seconds"):
        iam.inject_fault("create_credential", "hold")
    with pytest.raises(FakeIamError, match="non-negative"):
        iam.inject_fault("create_credential", "hold", seconds=-1)


def test_counters_count_reads_writes_and_reset(iam: FakeIam, client: Any) -> None:
    bob_key = iam.user("bob")["keys"][0]
    client.call("GET", CREDENTIALS, key=bob_key)
    created = admin_create_for(client, iam, "bob").body["credential"]
    client.call("DELETE", f"{CREDENTIALS}/{created['access']}", key=bob_key)
    client.call("GET", CREDENTIALS, key={**bob_key, "secret": "y" * 40})  # refused requests count too
    assert iam.counters() == {
        "by_operation": {"list_credentials": 2, "create_credential": 1, "delete_credential": 1},
        "writes": 2,
        "total": 4,
    }
    assert iam.reset_counters() == {"by_operation": {}, "writes": 0, "total": 0}


def test_latency_slows_api_calls_only(iam: FakeIam, client: Any) -> None:
    bob_key = iam.user("bob")["keys"][0]
    iam.set_latency(300)
    started = time.monotonic()
    client.call("GET", CREDENTIALS, key=bob_key)
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    iam.state()
    assert time.monotonic() - started < 0.3


def test_control_adds_users_aged_keys_and_flips_access_key_management(iam: FakeIam) -> None:
    user = iam.add_user("dave", password="Dave-Passw0rd", keys=[{"age_days": 400, "status": "inactive"}])
    assert user["name"] == "dave" and len(user["keys"]) == 1
    key = iam.add_key("dave", age_days=95, description="aged")
    assert key["user_id"] == user["id"] and key["description"] == "aged"
    ages = [server_now(iam) - parse_time(k["create_time"]) for k in iam.keys_of("dave")]
    assert ages[0] >= timedelta(days=400) and timedelta(days=95) <= ages[1] < timedelta(days=96)
    with pytest.raises(FakeIamError, match="more than 2"):
        iam.add_key("dave")
    with pytest.raises(FakeIamError, match="20 upper-case"):
        iam.add_key("bob", access="lower-case-key")
    account = iam.set_access_key_management(None, True)
    assert account["access_key_management"] is True
    assert iam.state()["accounts"][0]["access_key_management"] is True


def held_keys(state: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(user["name"], key["access"], key["secret"], key["status"])
            for account in state["accounts"] for user in account["users"] for key in user["keys"]}


def test_reset_restores_the_seed_and_accepts_an_inline_one(iam: FakeIam, client: Any) -> None:
    original = iam.state()
    admin_create_for(client, iam, "bob")
    iam.inject_fault("*", "status", status=500, count=5)
    iam.advance_clock(days=1)
    iam.reset()
    assert held_keys(iam.state()) == held_keys(original)
    assert iam.control("GET", "faults") == {"armed": []} and iam.clock()["offset_seconds"] == 0
    minimal = json.loads((SEEDS / "minimal.json").read_text())
    iam.reset(minimal)
    assert [a["domain_name"] for a in iam.state()["accounts"]] == ["keywarden-minimal"]
    with pytest.raises(FakeIamError, match="unknown field"):
        iam.reset({"accounts": [], "extra": 1})


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with FakeIam(SEEDS / "minimal.json", state_file=state_file) as first:
        first.advance_clock(days=10)
        first.add_user("erin", keys=[{}])
        before = first.state()
    assert json.loads(state_file.read_text())["accounts"] == before["accounts"]
    with FakeIam(SEEDS / "minimal.json", state_file=state_file) as second:
        after = second.state()
        assert after["accounts"] == before["accounts"]
        assert after["clock_offset_seconds"] == pytest.approx(10 * 86400)
        assert second.keys_of("erin")[0]["secret"] == before["accounts"][0]["users"][1]["keys"][0]["secret"]
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp files left behind


def login(client: Any, iam: FakeIam, name: str) -> str:
    user = iam.user(name)
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"id": user["id"], "password": user["password"]}}},
        "scope": {"domain": {"id": user["domain_id"]}},
    }}
    reply = client.call("POST", "/v3/auth/tokens", body=body)
    assert reply.status == 201, reply
    return reply.headers["X-Subject-Token"]


def test_temporary_keys_from_a_token_work_and_expire(iam: FakeIam, client: Any) -> None:
    bob = iam.user("bob")
    token = login(client, iam, "bob")
    body = {"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": 900}}}}
    reply = client.call("POST", SECURITY_TOKENS, token=token, body=body)
    assert reply.status == 201, reply
    credential = reply.body["credential"]
    assert set(credential) == {"access", "secret", "securitytoken", "expires_at"}
    temporary = {"access": credential["access"], "secret": credential["secret"]}
    security_token = credential["securitytoken"]

    listed = client.call("GET", CREDENTIALS, key=temporary, security_token=security_token)
    assert listed.status == 200 and listed.body["credentials"][0]["user_id"] == bob["id"]
    identity = client.call("GET", "/v5/caller-identity", key=temporary, security_token=security_token).body
    assert identity["principal_id"] == bob["id"] and identity["account_id"] == bob["domain_id"]

    missing = client.call("GET", CREDENTIALS, key=temporary)
    assert (missing.status, missing.body["error_code"]) == (401, "APIGW.0301")
    wrong = client.call("GET", CREDENTIALS, key=temporary, security_token=security_token[:-2] + "xx")
    assert (wrong.status, wrong.body["error_code"]) == (401, "APIGW.0301")

    iam.advance_clock(seconds=901)
    expired = client.call("GET", CREDENTIALS, key=temporary, security_token=security_token)
    assert (expired.status, expired.body["error_code"]) == (400, "IAM.1108")
    assert expired.body["error_msg"] == "The security token has expired."


def test_issued_secrets_outlive_deletion_and_reset_until_cleared(iam: FakeIam, client: Any) -> None:
    iam.clear_issued_secrets()
    assert iam.issued_secrets() == []
    iam.reset()  # loading a seed records its secrets
    state = iam.state()
    assert set(iam.issued_secrets()) == (
        {user["password"] for account in state["accounts"] for user in account["users"]}
        | {key["secret"] for account in state["accounts"] for user in account["users"] for key in user["keys"]}
    )

    created = admin_create_for(client, iam, "bob").body["credential"]
    deleted = client.call("DELETE", f"{CREDENTIALS}/{created['access']}", key=iam.user("admin")["keys"][0])
    assert deleted.status == 204
    token = login(client, iam, "bob")
    body = {"auth": {"identity": {"methods": ["token"]}}}
    temporary = client.call("POST", SECURITY_TOKENS, token=token, body=body).body["credential"]
    carol = iam.add_user("carol", password="Carol-Passw0rd", keys=[{}])
    added = iam.add_key("carol")
    iam.reset()

    issued = iam.issued_secrets()
    assert {created["secret"], token, temporary["secret"], temporary["securitytoken"], "Carol-Passw0rd",
            carol["keys"][0]["secret"], added["secret"]} <= set(issued)
    assert len(issued) == len(set(issued))
    iam.clear_issued_secrets()
    assert iam.issued_secrets() == []


def test_token_method_refuses_ak_sk_callers_and_bad_durations(iam: FakeIam, client: Any) -> None:
    bob_key = iam.user("bob")["keys"][0]
    body = {"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": 900}}}}
    refused = client.call("POST", SECURITY_TOKENS, key=bob_key, body=body)
    assert (refused.status, refused.body["error_code"]) == (403, "IAM.0002")
    token = login(client, iam, "bob")
    for duration in (899, 86401, "900"):
        bad = {"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": duration}}}}
        assert client.call("POST", SECURITY_TOKENS, token=token, body=bad).status == 400
    default_duration = {"auth": {"identity": {"methods": ["token"]}}}
    assert client.call("POST", SECURITY_TOKENS, token=token, body=default_duration).status == 201
    # Without the header, the token may come in the body.
    in_body = {"auth": {"identity": {"methods": ["token"], "token": {"id": token}}}}
    assert client.call("POST", SECURITY_TOKENS, body=in_body).status == 201
    unauthenticated = client.call("POST", SECURITY_TOKENS, body=default_duration)
    assert (unauthenticated.status, unauthenticated.body["error_code"]) == (401, "IAM.0001")


def test_assume_role_follows_the_agency_trust_list(iam: FakeIam, client: Any) -> None:
    admin, alice, bob = iam.user("admin"), iam.user("alice"), iam.user("bob")

    def assume(key: dict[str, Any]) -> Any:
        role = {"agency_name": "ops-agency", "domain_id": admin["domain_id"], "session_user": {"name": "ops"}}
        return client.call("POST", SECURITY_TOKENS, key=key,
                           body={"auth": {"identity": {"methods": ["assume_role"], "assume_role": role}}})

    denied = assume(alice["keys"][0])
    assert (denied.status, denied.body["error_code"]) == (403, "IAM.0002")
    granted = assume(admin["keys"][0])
    assert granted.status == 201
    credential = granted.body["credential"]
    session = {"access": credential["access"], "secret": credential["secret"]}
    expires = parse_time(credential["expires_at"]) - server_now(iam)
    assert timedelta(seconds=880) < expires <= timedelta(seconds=900)

    identity = client.call("GET", "/v5/caller-identity", key=session, security_token=credential["securitytoken"]).body
    assert identity["principal_urn"].endswith(":assumed-agency:ops-agency/ops")
    bobs = client.call("GET", CREDENTIALS, key=session, security_token=credential["securitytoken"],
                       query=[("user_id", bob["id"])])
    assert bobs.status == 200 and len(bobs.body["credentials"]) == 1


def test_the_request_log_says_who_signed_what_and_when(iam: FakeIam, client: Any) -> None:
    from tests.fakeiam.requestlog import signer_of

    assert signer_of("SDK-HMAC-SHA256 Access=AK123, SignedHeaders=host, Signature=abc") == "AK123"
    assert signer_of(None) is None
    admin, bob = iam.user("admin")["keys"][0], iam.user("bob")["keys"][0]
    reply = client.call("PUT", f"{CREDENTIALS}/{bob['access']}", key=admin, body={"credential": {"status": "inactive"}})
    assert reply.status == 200
    iam.inject_fault("list_credentials", "drop")
    with pytest.raises((http.client.HTTPException, OSError)):  # dropped: no answer at all
        client.call("GET", CREDENTIALS, key=bob, timeout=5)
    log = iam.requests()
    assert [(e["operation"], e["signer"], e["target"], e["status"]) for e in log[-2:]] == [
        ("update_credential", admin["access"], bob["access"], 200), ("list_credentials", bob["access"], None, 0)]
    assert [e["time"] for e in log] == sorted(e["time"] for e in log)
    iam.reset()
    assert iam.requests() == []
