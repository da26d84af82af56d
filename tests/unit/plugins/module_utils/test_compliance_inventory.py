"""Reading many users' keys for an audit: against the local server, and with a stand-in client."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils import _inventory as inventory
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import settings_from_params
from ansible_collections.keywarden.iam.plugins.module_utils._models import AccessKey

ADMIN_AK = "CVKK734506UOYW5P4XW2"
ADMIN_SK = "8iXmKEWTu6IAMHt0vln3mwV3rRFpNLTRrsogxD1X"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def make_client(url, *, ak=ADMIN_AK, sk=ADMIN_SK):
    return IamClient(settings_from_params({"iam_endpoint": url, "access_key": ak, "secret_key": sk,
                                           "validate_certs": True, "timeout": 5, "retries": 3}),
                     sleep=lambda seconds: None)


def selection(**params):
    return {"user_id": None, "user_name": None, "users": None, "user_ids": None, "all_users": False,
            "max_workers": 8, **params}


def test_list_users_returns_the_items_as_sent(iam):
    items = make_client(iam.url).list_users()
    assert [item["name"] for item in items] == ["admin", "alice", "bob"]
    assert items[1]["id"] == iam.user("alice")["id"] and "links" in items[1]  # nothing dropped


def test_every_user_with_last_use(iam):
    # The server's Date header has whole seconds: move a few on so that "a day" is not a hair short.
    iam.advance_clock(seconds=5)
    result = inventory.collect(make_client(iam.url), [])
    assert [(user.user_name, len(user.keys)) for user in result.users] == [("admin", 1), ("alice", 2), ("bob", 1)]
    assert result.failures == ()
    laptop, old_ci = result.users[1].keys
    assert laptop.days_since_last_use(result.now) == 1
    assert old_ci.days_since_last_use(result.now) == 125
    bob = result.users[2].keys[0]
    assert inventory.never_used(bob) is True and inventory.never_used(laptop) is False


def test_names_resolved_by_one_listing_ids_as_given_and_failures_kept_apart(iam):
    client = make_client(iam.url)
    iam.reset_counters()
    selectors = inventory.selectors_from_params(selection(users=["alice", "ghost", "alice"],
                                                          user_ids=[iam.user("bob")["id"], "0" * 32]))
    result = inventory.collect(client, selectors, last_used=False)
    assert [user.user_name for user in result.users] == ["alice", "bob"]  # alice once; bob named by the listing
    assert [(f.selector.user_name, f.selector.user_id, type(f.error).__name__) for f in result.failures] == [
        ("ghost", None, "NotFound"), (None, "0" * 32, "NotFound")]
    assert iam.counters()["by_operation"]["list_users"] == 1


def test_a_listing_refused_fails_only_the_users_named_by_name(iam):
    bob = iam.user("bob")
    client = make_client(iam.url, ak=bob["keys"][0]["access"], sk=bob["keys"][0]["secret"])
    result = inventory.collect(client, [inventory.UserSelector(user_name="alice"),
                                        inventory.UserSelector(user_id=bob["id"])])
    assert [user.user_id for user in result.users] == [bob["id"]]
    assert [type(f.error).__name__ for f in result.failures] == ["Forbidden"]
    assert not result.every_user_failed
    with pytest.raises(errors.Forbidden):
        inventory.collect(client, [])  # every user: nothing to report without the listing


def test_the_caller_when_nobody_is_named(iam):
    result = inventory.collect(make_client(iam.url), inventory.selectors_from_params(selection()))
    assert [user.user_id for user in result.users] == [iam.user("admin")["id"]]


def test_root_from_the_listing_or_from_root_users():
    assert inventory.is_root_item({"id": "1", "is_domain_owner": True})
    assert inventory.is_root_item({"id": "1", "is_domain_owner": "True"})
    assert not inventory.is_root_item({"id": "1", "is_domain_owner": "false"})
    assert not inventory.is_root_item({"id": "1"})
    client = StandIn(users=3, listed={"u1": {"is_domain_owner": "true"}})
    result = inventory.collect(client, [], root_users=["user2"])
    assert [user.root for user in result.users] == [False, True, True]


@pytest.mark.parametrize("params, problem", [
    (selection(all_users=True, users=["a"]), "leave out users"),
    (selection(users=[]), "users name no user"),
    (selection(max_workers=0), "between 1 and 128"),
    (selection(max_workers=129), "between 1 and 128"),
])
def test_selection_problems(params, problem):
    assert problem in inventory.selection_problem(params)


def test_selection_fine():
    assert inventory.selection_problem(selection(users=["a"], user_ids=["b"], all_users=False)) is None


class StandIn:
    """A client stand-in: N users with one key each, a slow list call, and a record of concurrency."""

    def __init__(self, users: int, *, delay: float = 0.0, vanished=(), listed=None):
        self.users = [{"id": f"u{i}", "name": f"user{i}", **(listed or {}).get(f"u{i}", {})} for i in range(users)]
        self.delay = delay
        self.vanished = set(vanished)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0

    def list_users(self):
        return self.users

    def list_keys(self, user_id):
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
        return [AccessKey(f"K{user_id}", user_id, "active", NOW - timedelta(days=3))]

    def show_key(self, access_key_id):
        if access_key_id in self.vanished:
            raise errors.failure(f"show access key {access_key_id}", "gone", errors.NotFound)
        return AccessKey(access_key_id, "", "inactive", NOW - timedelta(days=3), last_used=NOW - timedelta(days=1))

    def caller_user_id(self):
        return "u0"

    def server_now(self):
        return NOW


def test_users_are_read_concurrently_but_never_more_than_max_workers():
    client = StandIn(users=12, delay=0.05)
    result = inventory.collect(client, [], max_workers=3)
    assert len(result.users) == 12
    assert client.most == 3
    single = StandIn(users=4, delay=0.02)
    inventory.collect(single, [], max_workers=1)
    assert single.most == 1


def test_show_answers_status_and_last_use_and_a_key_deleted_meanwhile_is_dropped():
    client = StandIn(users=2, vanished={"Ku1"})
    result = inventory.collect(client, [])
    assert [len(user.keys) for user in result.users] == [1, 0]
    shown = result.users[0].keys[0]
    assert (shown.status, shown.last_used) == ("inactive", NOW - timedelta(days=1))


def test_records_for_task_output():
    client = StandIn(users=1)
    result = inventory.inventory_result(inventory.collect(client, []))
    assert result["access_keys"] == [{
        "access_key_id": "Ku0", "user_id": "u0", "user_name": "user0", "status": "inactive",
        "created": "2026-11-19T12:00:00.000000Z", "last_used": "2026-11-21T12:00:00.000000Z", "age_days": 3,
        "days_since_last_use": 1, "never_used": False, "description": ""}]
    assert result["users"][0]["root"] is False and result["failures"] == []
    assert result["now"] == "2026-11-22T12:00:00.000000Z"


def test_never_used_tolerates_a_fraction_of_a_second():
    created = NOW - timedelta(days=5)
    assert inventory.never_used(AccessKey("K", "u", "active", created, last_used=created + timedelta(milliseconds=900)))
    assert not inventory.never_used(AccessKey("K", "u", "active", created, last_used=created + timedelta(seconds=2)))
