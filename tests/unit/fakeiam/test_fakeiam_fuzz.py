"""Property: whatever JSON a client sends, fakeiam answers with a 2xx or a 4xx, never a crash (500).

Runs the API in-process (no HTTP) so hypothesis can try many bodies quickly. Bodies are random
JSON or the real request shapes with random values plugged in, so the fuzz reaches deep checks.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakeiam import api, sessions
from tests.fakeiam.app import FakeIamApp
from tests.fakeiam.harness import SEEDS
from tests.fakeiam.messages import Request

leaves = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=12)
any_json = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
# Real values from demo.json mixed in, so examples get past the early checks and reach the deep ones.
names = st.sampled_from(["keywarden-demo", "ops-agency", "admin", "alice", ""]) | st.text(max_size=8)
passwords = st.just("Admin-Demo-Passw0rd") | any_json
durations = st.integers(0, 100000) | any_json


def maybe(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


def shaped(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the documented shape with odd values inside, sometimes anything at all."""
    return st.fixed_dictionaries(fields) | any_json


domain_refs = shaped(id=any_json) | shaped(name=names) | maybe(id=any_json, name=names)
login_bodies = shaped(auth=shaped(
    identity=shaped(methods=st.just(["password"]) | any_json,
                    password=shaped(user=maybe(id=any_json, name=names, password=passwords, domain=domain_refs))),
    scope=shaped(domain=domain_refs) | shaped(project=shaped(name=names)) | maybe(domain=domain_refs, project=any_json),
))
security_token_bodies = shaped(auth=shaped(identity=(
    shaped(methods=st.just(["token"]) | any_json, token=maybe(id=any_json, duration_seconds=durations))
    | shaped(methods=st.just(["assume_role"]), assume_role=maybe(
        agency_name=names, domain_id=any_json, domain_name=names, duration_seconds=durations,
        session_user=maybe(name=names)), policy=any_json)
)))
credential_bodies = shaped(credential=maybe(
    user_id=names | any_json, description=st.text(max_size=300) | any_json,
    status=st.sampled_from(["active", "inactive", "disabled"]) | any_json,
))


@pytest.fixture(scope="module")
def app() -> FakeIamApp:
    return FakeIamApp(json.loads((SEEDS / "demo.json").read_text()))


def fresh_admin_token(app: FakeIamApp) -> str:
    """Reset (so earlier examples' keys cannot hit the two-key limit) and log the admin in."""
    app.reset()
    admin = {"name": "admin", "password": "Admin-Demo-Passw0rd", "domain": {"name": "keywarden-demo"}}
    token, _body = sessions.create_token(app.store, {"auth": {
        "identity": {"methods": ["password"], "password": {"user": admin}},
        "scope": {"domain": {"name": "keywarden-demo"}},
    }})
    return token


def answer(app: FakeIamApp, method: str, path: str, body: Any, token: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-Auth-Token"] = token
    request = Request(method, path, "", headers, json.dumps(body).encode(), "http://127.0.0.1:1")
    return api.serve(app, request).status


FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=login_bodies)
def test_password_logins_never_crash(app: FakeIamApp, body: Any) -> None:
    assert 200 <= answer(app, "POST", "/v3/auth/tokens", body, None) < 500


@FUZZ
@given(body=security_token_bodies, with_token=st.booleans())
def test_security_tokens_never_crash(app: FakeIamApp, body: Any, with_token: bool) -> None:
    token = fresh_admin_token(app)
    status = answer(app, "POST", "/v3.0/OS-CREDENTIAL/securitytokens", body, token if with_token else None)
    assert 200 <= status < 500


@FUZZ
@given(body=credential_bodies, method=st.sampled_from(["POST", "PUT"]))
def test_credential_writes_never_crash(app: FakeIamApp, body: Any, method: str) -> None:
    token = fresh_admin_token(app)
    with app.store.transaction() as world:
        access = next(iter(world.keys))
    path = "/v3.0/OS-CREDENTIAL/credentials" + (f"/{access}" if method == "PUT" else "")
    assert 200 <= answer(app, method, path, body, token) < 500
