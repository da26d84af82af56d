"""The indexes behind World (keys by owner, users by account and by login name): they always equal
what a scan of the whole world would find, and a request reads only the records it is about.

Runs the server in-process (no HTTP), like the fuzz tests, so hypothesis can try many sequences.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.fakeiam import api, control
from tests.fakeiam.app import FakeIamApp
from tests.fakeiam.harness import SEEDS
from tests.fakeiam.messages import Request
from tests.fakeiam.model import Key, User, World
from tests.fakeiam.table import Table

BASE_URL = "http://127.0.0.1:1"
CREDENTIALS = "/v3.0/OS-CREDENTIAL/credentials"
DEMO = json.loads((SEEDS / "demo.json").read_text())
ADMIN_LOGIN = {"name": "admin", "password": "Admin-Demo-Passw0rd", "domain": {"name": "keywarden-demo"}}


def scan_index(world: World) -> dict[str, dict[Any, list[str]]]:
    """The indexes as a scan of every user and key finds them, in the tables' order."""
    found: dict[str, dict[Any, list[str]]] = {"owner": {}, "account": {}, "login": {}}
    for access, key in world.keys.items():
        found["owner"].setdefault(key.user_id, []).append(access)
    for user_id, user in world.users.items():
        found["account"].setdefault(user.domain_id, []).append(user_id)
        found["login"].setdefault((user.domain_id, user.name), []).append(user_id)
    return found


def assert_indexes_match_a_scan(world: World) -> None:
    scanned = scan_index(world)
    assert world.keys.index("owner") == scanned["owner"]
    assert world.users.index("account") == scanned["account"]
    assert world.users.index("login") == scanned["login"]
    for user_id, user in world.users.items():
        assert [key.access for key in world.keys_of(user_id)] == scanned["owner"].get(user_id, [])
        assert world.users_named(user.domain_id, user.name) == [user]
    for domain_id in world.accounts:
        assert [user.id for user in world.users_of(domain_id)] == scanned["account"].get(domain_id, [])
    # What the API relies on besides: every key has a user, nobody holds more than two.
    assert all(key.user_id in world.users for key in world.keys.values())
    assert all(len(accesses) <= 2 for accesses in scanned["owner"].values())


# ---- the Table on its own, against a plain dict ---------------------------------------------------


@dataclass(frozen=True)
class Row:
    group: int
    serial: int


ids = st.sampled_from("abcdefgh")
rows = st.builds(Row, st.integers(0, 3), st.integers())
table_ops = st.lists(st.one_of(
    st.tuples(st.just("set"), ids, rows),
    st.tuples(st.just("delete"), ids),
    st.tuples(st.just("pop"), ids),
    st.tuples(st.just("popitem")),
    st.tuples(st.just("setdefault"), ids, rows),
    st.tuples(st.just("update"), st.dictionaries(ids, rows, max_size=4)),
    st.tuples(st.just("clear")),
), max_size=60)


@settings(max_examples=300, deadline=None, database=None)
@given(operations=table_ops)
def test_table_behaves_like_a_dict_and_its_indexes_like_a_scan(operations: list[tuple[Any, ...]]) -> None:
    table: Table[Row] = Table(group=lambda row: row.group, parity=lambda row: row.group % 2)
    model: dict[str, Row] = {}
    for operation, *arguments in operations:
        outcomes = []
        for target in (table, model):
            try:
                outcomes.append(("ok", getattr(target, {"set": "__setitem__", "delete": "__delitem__"}
                                               .get(operation, operation))(*arguments)))
            except KeyError:
                outcomes.append(("KeyError", None))
        assert outcomes[0] == outcomes[1]
        assert list(table.items()) == list(model.items()) and len(table) == len(model)
        for name, grouping in (("group", lambda row: row.group), ("parity", lambda row: row.group % 2)):
            scanned: dict[int, list[str]] = {}
            for ident, row in model.items():
                scanned.setdefault(grouping(row), []).append(ident)
            assert table.index(name) == scanned
            for value in range(4):
                assert table.group(name, value) == [model[ident] for ident in scanned.get(value, [])]


def test_indexed_attributes_cannot_change_under_the_tables() -> None:
    world = FakeIamApp(DEMO).store.world
    key = next(iter(world.keys.values()))
    user = world.users[key.user_id]
    for record, name in ((key, "user_id"), (user, "id"), (user, "domain_id"), (user, "name")):
        with pytest.raises(AttributeError, match="indexed"):
            setattr(record, name, "someone-else")
    key.status, key.description, user.enabled = "inactive", "changed", False  # the rest may change
    assert_indexes_match_a_scan(world)


# ---- the world, through every path that changes users and keys --------------------------------------


def sign(request: Request, key: dict[str, str]) -> Request:
    """The request signed with key by huaweicloudsdkcore's own Signer, as a client sends it."""
    sdk = SdkRequest(method=request.method, schema="http", host="127.0.0.1:1", resource_path=request.path,
                     query_params=[tuple(pair.split("=", 1)) for pair in request.query.split("&") if pair],
                     header_params=dict(request.headers), body=request.body)
    Signer(SimpleNamespace(ak=key["access"], sk=key["secret"])).sign(sdk)
    path, _question_mark, query = sdk.uri.partition("?")
    return Request(request.method, path, query, dict(sdk.header_params), request.body, BASE_URL)


def call(app: FakeIamApp, method: str, path: str, body: Any = None, *, query: str = "",
         token: str | None = None, key: dict[str, str] | None = None, domain_id: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token is not None:
        headers["X-Auth-Token"] = token
    if domain_id is not None:
        headers["X-Domain-Id"] = domain_id
    payload = b"" if body is None else json.dumps(body).encode()
    request = Request(method, path, query, headers, payload, BASE_URL)
    if path.startswith("/_control/"):
        return control.handle(app, request)
    return api.serve(app, sign(request, key) if key is not None else request)


WORLD_STEPS = settings(max_examples=60, stateful_step_count=30, deadline=None, database=None,
                       suppress_health_check=[HealthCheck.too_slow])


class WorldIndexes(RuleBasedStateMachine):
    """Random API calls, control calls, resets, reseeds and restarts from the state file; after each
    step the indexes must equal a scan, and API answers must agree with one."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="fakeiam-index-"))
        self.state_file = self.directory / "state.json"
        self.app = FakeIamApp(DEMO, self.state_file)

    def teardown(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    @property
    def world(self) -> World:
        return self.app.store.world

    def admin(self, method: str, path: str, body: Any = None, query: str = "") -> Any:
        """A call by the demo account's admin, with a fresh token (resets drop tokens, the clock expires them)."""
        login = {"auth": {"identity": {"methods": ["password"], "password": {"user": ADMIN_LOGIN}},
                          "scope": {"domain": {"name": "keywarden-demo"}}}}
        token = call(self.app, "POST", "/v3/auth/tokens", login).headers["X-Subject-Token"]
        return call(self.app, method, path, body, query=query, token=token)

    def in_admins_account(self, user_id: str) -> bool:
        return self.world.users[user_id].domain_id == DEMO["accounts"][0]["domain_id"]

    def pick_user(self, pick: int) -> User:
        # In the table's order, not by id: generated ids and AKs are random, and hypothesis needs
        # the same choices to pick the same records when it replays a sequence.
        users = list(self.world.users.values())
        return users[pick % len(users)]

    def pick_key(self, pick: int) -> str:
        accesses = list(self.world.keys)
        return accesses[pick % len(accesses)] if accesses and pick >= 0 else "UNKNOWNKEY0000000000"

    @invariant()
    def indexes_match_a_scan(self) -> None:
        assert_indexes_match_a_scan(self.world)

    @rule(pick=st.integers(0, 99), description=st.text(max_size=5))
    def create_key(self, pick: int, description: str) -> None:
        user = self.pick_user(pick)
        held = sum(key.user_id == user.id for key in self.world.keys.values())
        reply = self.admin("POST", CREDENTIALS, {"credential": {"user_id": user.id, "description": description}})
        assert reply.status == (404 if not self.in_admins_account(user.id) else 201 if held < 2 else 400)

    @rule(pick=st.integers(-1, 99))
    def delete_key(self, pick: int) -> None:
        access = self.pick_key(pick)
        key = self.world.keys.get(access)
        deletable = key is not None and self.in_admins_account(key.user_id)
        assert self.admin("DELETE", f"{CREDENTIALS}/{access}").status == (204 if deletable else 404)
        assert (access in self.world.keys) == (key is not None and not deletable)

    @rule(pick=st.integers(-1, 99), status=st.sampled_from(["active", "inactive"]))
    def update_key(self, pick: int, status: str) -> None:
        self.admin("PUT", f"{CREDENTIALS}/{self.pick_key(pick)}", {"credential": {"status": status}})

    @rule(pick=st.integers(0, 99))
    def list_keys(self, pick: int) -> None:
        user = self.pick_user(pick)
        reply = self.admin("GET", CREDENTIALS, query=f"user_id={user.id}")
        if not self.in_admins_account(user.id):
            assert reply.status == 404
            return
        scanned = sorted(access for access, key in self.world.keys.items() if key.user_id == user.id)
        assert [credential["access"] for credential in reply.body["credentials"]] == scanned

    @rule(pick=st.integers(0, 99))
    def list_users_by_name(self, pick: int) -> None:
        user = self.pick_user(pick)
        body = self.admin("GET", "/v3/users", query=f"name={user.name}").body
        scanned = [other.id for other in self.world.users.values()
                   if self.in_admins_account(other.id) and other.name == user.name]
        assert [found["id"] for found in body["users"]] == scanned

    @rule(pick=st.integers(0, 99))
    def sign_with_a_key(self, pick: int) -> None:
        # The auth path: looks the signer's key up and stamps its last_use_time.
        access = self.pick_key(pick)
        if access in self.world.keys:
            key = self.world.keys[access]
            domain_id = self.world.users[key.user_id].domain_id
            call(self.app, "GET", CREDENTIALS, key={"access": access, "secret": key.secret}, domain_id=domain_id)

    @rule(name=st.sampled_from(["carol", "dave", "alice"]), keys=st.integers(0, 3))
    def add_user_by_control(self, name: str, keys: int) -> None:
        # A third key is refused after the user and two keys are in (the control API does not roll back).
        call(self.app, "POST", "/_control/users", {"name": f"{name}", "keys": [{"age_days": 5}] * keys})

    @rule(pick=st.integers(0, 99), by_name=st.booleans(), age=st.integers(0, 400))
    def add_key_by_control(self, pick: int, by_name: bool, age: int) -> None:
        user = self.pick_user(pick)
        reply = call(self.app, "POST", "/_control/keys", {"user": user.name if by_name else user.id,
                                                          "domain": user.domain_id, "age_days": age})
        assert reply.status in (201, 400)

    @rule(days=st.integers(-5, 400))
    def move_the_clock(self, days: int) -> None:
        call(self.app, "POST", "/_control/clock", {"advance_days": days})

    @rule()
    def create_temporary_key(self) -> None:
        # Temporary keys share the AK namespace with permanent keys but are not in the key table.
        body = {"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": 900}}}}
        assert self.admin("POST", "/v3.0/OS-CREDENTIAL/securitytokens", body).status == 201

    @rule()
    def reset_to_the_seed(self) -> None:
        call(self.app, "POST", "/_control/reset", {})

    @rule()
    def reseed_with_the_dump(self) -> None:
        call(self.app, "POST", "/_control/reset", {"seed": self.app.store.dump()})

    @rule(users=st.integers(0, 4))
    def reseed_with_another_world(self, users: int) -> None:
        seed = json.loads(json.dumps(DEMO))
        names = ["admin", "alice", "x", "y"][:users]
        seed["accounts"].append({"domain_name": "other", "users": [
            {"name": name, "keys": [{}] * (index % 3)} for index, name in enumerate(names)
        ]})
        assert call(self.app, "POST", "/_control/reset", {"seed": seed}).status == 200

    @rule()
    def restart_from_the_state_file(self) -> None:
        # Every change wrote the state file (the first load did too); a restart loads it over the seed.
        self.app = FakeIamApp(DEMO, self.state_file)


TestWorldIndexes = WorldIndexes.TestCase
TestWorldIndexes.settings = WORLD_STEPS


# ---- a request reads only what it is about --------------------------------------------------------


def note_read(record: object, kind: str, ident: str) -> None:
    # Through __dict__ itself, so that noting a read reads nothing else (and works mid-__init__).
    value = object.__getattribute__(record, "__dict__").get(ident)
    if value is not None:
        READ[kind].add(value)


class WatchedKey(Key):
    def __getattribute__(self, name: str) -> Any:
        note_read(self, "keys", "access")
        return object.__getattribute__(self, name)


class WatchedUser(User):
    def __getattribute__(self, name: str) -> Any:
        note_read(self, "users", "id")
        return object.__getattribute__(self, name)


READ: dict[str, set[str]] = {"keys": set(), "users": set()}


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeIamApp, list[str]]]:
    """An app with 300 users of two keys each whose every user and key records the reads of its
    attributes, and whose tables record every walk over all their records."""
    users = [{"name": "admin", "admin": True, "password": "pw", "keys": [{}]}]
    users += [{"name": f"user{number}", "password": "pw", "keys": [{}, {}]} for number in range(300)]
    app = FakeIamApp({"accounts": [{"domain_name": "big", "users": users}, DEMO["accounts"][0]]})
    world = app.store.world
    for user_id, user in list(world.users.items()):
        world.users[user_id] = WatchedUser(**vars(user))
    for access, key in list(world.keys.items()):
        world.keys[access] = WatchedKey(**vars(key))
    walks: list[str] = []
    for method in ("__iter__", "keys", "values", "items"):
        original = getattr(Table, method)
        monkeypatch.setattr(Table, method, lambda table, _m=method, _o=original: (walks.append(_m), _o(table))[1])
    READ["keys"].clear()
    READ["users"].clear()
    yield app, walks
    READ["keys"].clear()
    READ["users"].clear()


def test_a_request_reads_only_the_users_and_keys_it_is_about(watched: tuple[FakeIamApp, list[str]]) -> None:
    app, walks = watched
    world = app.store.world
    domain_id = next(iter(world.accounts))
    named = {user.name: user for user in world.users_of(domain_id)}

    def key_of(user: User, number: int = 0) -> dict[str, str]:
        key = world.keys_of(user.id)[number]
        return {"access": key.access, "secret": key.secret}

    def signed(name: str, method: str, path: str, body: Any = None, query: str = "") -> Any:
        return call(app, method, path, body, query=query, key=key_of(named[name]), domain_id=domain_id)

    def reads(expected_users: list[str], expected_keys: set[str], answer: Any, status: int) -> None:
        assert answer.status == status, answer.body
        assert READ["users"] <= {named[name].id for name in expected_users}
        assert READ["keys"] <= expected_keys
        assert walks == []
        READ["users"].clear()
        READ["keys"].clear()

    admin, user7, user8 = named["admin"], named["user7"], named["user8"]
    admin_key, own_keys = {key_of(admin)["access"]}, {key.access for key in world.keys_of(user7.id)}
    READ["users"].clear()
    READ["keys"].clear()

    reads(["user7"], own_keys, signed("user7", "GET", CREDENTIALS), 200)
    reads(["admin", "user7"], admin_key | own_keys,
          signed("admin", "GET", CREDENTIALS, query=f"user_id={user7.id}"), 200)
    target = world.keys_of(user8.id)[0].access
    user8_keys = {key.access for key in world.keys_of(user8.id)}
    reads(["admin", "user8"], admin_key | user8_keys, signed("admin", "GET", f"{CREDENTIALS}/{target}"), 200)
    reads(["admin", "user8"], admin_key | user8_keys,
          signed("admin", "PUT", f"{CREDENTIALS}/{target}", {"credential": {"status": "inactive"}}), 200)
    reads(["admin", "user8"], admin_key | user8_keys, signed("admin", "DELETE", f"{CREDENTIALS}/{target}"), 204)
    reads(["admin", "user8"], admin_key | user8_keys,
          signed("admin", "POST", CREDENTIALS, {"credential": {"user_id": user8.id}}), 201)
    reads(["admin", "user9"], admin_key, signed("admin", "GET", "/v3/users", query="name=user9"), 200)
    login = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "user10", "password": "pw", "domain": {"name": "big"}}}}, "scope": {"domain": {"name": "big"}}}}
    reads(["user10"], set(), call(app, "POST", "/v3/auth/tokens", login), 201)
    # The watch works: a scan, as list used to do, reads every key.
    assert len([key for key in world.keys.values() if key.user_id == user7.id]) == 2
    assert len(READ["keys"]) > 600 and walks == ["values"]
