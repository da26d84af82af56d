"""In-process checks of the pieces the server trusts: signature verification and seed loading."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from tests.fakeiam.harness import SEEDS
from tests.fakeiam.seed import SeedError, dump_world, load_world
from tests.fakeiam.signature import compute_signature

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_signature_matches_the_official_signing_guide_vector() -> None:
    signature = compute_signature(
        method="GET",
        raw_path="/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
        raw_query="limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
        headers={"Content-Type": "application/json", "X-Sdk-Date": "20191115T033655Z",
                 "Host": "service.region.example.com"},
        body=b"",
        signed_headers=["content-type", "host", "x-sdk-date"],
        secret="MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
    )
    assert signature == "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"


def test_signature_matches_the_iam_create_vector() -> None:
    signature = compute_signature(
        method="POST",
        raw_path="/v3.0/OS-CREDENTIAL/credentials",
        raw_query="",
        headers={"Content-Type": "application/json;charset=UTF-8", "X-Domain-Id": "0970d7b7d400f2470fbec00316a03560",
                 "X-Sdk-Date": "20240102T030405Z", "Host": "iam.eu-de.otc.t-systems.com"},
        body=b'{"credential":{"user_id":"07609fb9358010e21f7bc003751c7c32","description":"ansible"}}',
        signed_headers=["content-type", "host", "x-domain-id", "x-sdk-date"],
        secret="exampleSecretKey0000000000000000000000000",
    )
    assert signature == "69c69bb4936be003942c031d9e0d41cf1e42376e154a4124c5969e4f9f0678f7"


@pytest.mark.parametrize("seed_file", ["demo.json", "minimal.json"])
def test_example_seeds_load_and_round_trip(seed_file: str) -> None:
    world = load_world(json.loads((SEEDS / seed_file).read_text()), NOW)
    assert dump_world(load_world(dump_world(world), NOW)) == dump_world(world)


def test_demo_seed_has_what_the_demo_needs() -> None:
    world = load_world(json.loads((SEEDS / "demo.json").read_text()), NOW)
    (account,) = world.accounts.values()
    users = {user.name: user for user in world.users.values()}
    assert account.domain_name == "keywarden-demo" and users["admin"].is_admin
    assert [k.status for k in world.keys_of(users["admin"].id)] == ["active"]
    alice_keys = world.keys_of(users["alice"].id)
    assert len(alice_keys) == 2 and all((NOW - k.create_time).days > 120 for k in alice_keys)
    assert len(world.keys_of(users["bob"].id)) == 1
    (agency,) = world.agencies.values()
    assert agency.name == "ops-agency" and agency.trusted_user_ids == [users["admin"].id]


@pytest.mark.parametrize(("change", "message"), [
    (lambda u: u["keys"].extend([{}, {}, {}]), "more than 2"),
    (lambda u: u["keys"].append({"access": "short"}), "20 upper-case"),
    (lambda u: u["keys"].append({"secret": "s" * 39}), "40 letters"),
    (lambda u: u["keys"].append({"status": "disabled"}), "status"),
    (lambda u: u["keys"].append({"age_days": 1, "create_time": "2020-01-01T00:00:00Z"}), "not both"),
    (lambda u: u.update(nmae="typo"), "unknown field"),
    (lambda u: u.update(admin="yes"), "wrong type"),
])
def test_seed_mistakes_are_refused(change, message: str) -> None:
    seed = {"accounts": [{"domain_name": "d", "users": [{"name": "u", "keys": []}]}]}
    change(seed["accounts"][0]["users"][0])
    with pytest.raises(SeedError, match=message):
        load_world(seed, NOW)


def test_agency_must_trust_known_users() -> None:
    seed = {"accounts": [{"domain_name": "d", "agencies": [{"name": "a", "trusted_user_ids": ["nobody"]}]}]}
    with pytest.raises(SeedError, match="unknown user"):
        load_world(seed, NOW)


def test_seeded_ages_are_exact_against_a_date_header_of_the_same_second() -> None:
    # The Date header has whole seconds, so a client measuring a key's age against it may see a
    # moment up to a second before the seed's "now". A key seeded 200 days old must still be
    # exactly 200 whole days old then (this failed when the load landed late in a second).
    loaded_at = datetime(2026, 1, 1, 12, 0, 0, 999_999, tzinfo=timezone.utc)
    world = load_world({"accounts": [{"domain_name": "d", "users": [
        {"name": "u", "keys": [{"age_days": 200, "last_use_age_days": 1}]}]}]}, loaded_at)
    (key,) = world.keys.values()
    date_header_moment = loaded_at.replace(microsecond=0)
    assert (date_header_moment - key.create_time).days == 200
    assert (date_header_moment - key.last_use_time).days == 1
