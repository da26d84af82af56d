"""Fidelity: the official huaweicloudsdkiam client works against fakeiam, over HTTP and HTTPS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkiam.v3 import IamClient
from huaweicloudsdkiam.v3.model import (
    AgencyAuth,
    AgencyAuthIdentity,
    CreateCredentialOption,
    CreatePermanentAccessKeyRequest,
    CreatePermanentAccessKeyRequestBody,
    CreateTemporaryAccessKeyByAgencyRequest,
    CreateTemporaryAccessKeyByAgencyRequestBody,
    DeletePermanentAccessKeyRequest,
    IdentityAssumerole,
    KeystoneListAuthDomainsRequest,
    KeystoneListUsersRequest,
    KeystoneShowUserRequest,
    ListPermanentAccessKeysRequest,
    ShowPermanentAccessKeyRequest,
    UpdateCredentialOption,
    UpdatePermanentAccessKeyRequest,
    UpdatePermanentAccessKeyRequestBody,
)

from tests.fakeiam.harness import SEEDS, FakeIam

AK = re.compile(r"[A-Z0-9]{20}")
SK = re.compile(r"[A-Za-z0-9]{40}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def sdk_client(server: FakeIam, user: dict[str, Any], *, domain_id: str | None = None) -> IamClient:
    key = user["keys"][0]
    config = HttpConfig.get_default_config()
    config.timeout = (5, 10)
    if server.ca_file:
        config.ssl_ca_cert = server.ca_file
    credentials = GlobalCredentials(key["access"], key["secret"], domain_id).with_iam_endpoint(server.url)
    return (IamClient.new_builder().with_credentials(credentials).with_endpoints([server.url])
            .with_http_config(config).build())


def create(client: IamClient, user_id: str, description: str | None = None) -> Any:
    option = CreateCredentialOption(user_id=user_id, description=description)
    return client.create_permanent_access_key(
        CreatePermanentAccessKeyRequest(body=CreatePermanentAccessKeyRequestBody(credential=option))
    ).credential


def full_lifecycle(server: FakeIam) -> None:
    """Create, list, show, update, delete as the admin, for bob (who holds one key)."""
    admin, bob = server.user("admin"), server.user("bob")
    client = sdk_client(server, admin, domain_id=admin["domain_id"])

    created = create(client, bob["id"], "made by the SDK")
    assert AK.fullmatch(created.access) and SK.fullmatch(created.secret)
    assert (created.user_id, created.status, created.description) == (bob["id"], "active", "made by the SDK")
    assert TIMESTAMP.fullmatch(created.create_time)
    held = {key["access"]: key for key in server.keys_of("bob")}
    assert held[created.access]["secret"] == created.secret

    listed = client.list_permanent_access_keys(ListPermanentAccessKeysRequest(user_id=bob["id"])).credentials
    assert sorted(item.access for item in listed) == sorted(held)
    assert all("last_use_time" not in item.to_dict() or item.to_dict()["last_use_time"] is None for item in listed)

    shown = client.show_permanent_access_key(ShowPermanentAccessKeyRequest(access_key=created.access)).credential
    assert shown.last_use_time == shown.create_time == created.create_time

    body = UpdatePermanentAccessKeyRequestBody(credential=UpdateCredentialOption(status="inactive", description="old"))
    updated = client.update_permanent_access_key(
        UpdatePermanentAccessKeyRequest(access_key=created.access, body=body)
    ).credential
    assert (updated.access, updated.status, updated.user_id) == (created.access, "inactive", bob["id"])
    assert server.keys_of("bob")[-1]["description"] == "old"

    client.delete_permanent_access_key(DeletePermanentAccessKeyRequest(access_key=created.access))
    assert created.access not in {key["access"] for key in server.keys_of("bob")}


def test_sdk_key_lifecycle_over_http(iam: FakeIam) -> None:
    full_lifecycle(iam)


@pytest.fixture(scope="module")
def tls_server() -> Iterator[FakeIam]:
    with FakeIam(SEEDS / "demo.json", tls=True) as server:
        yield server


def test_sdk_key_lifecycle_over_https_verifying_the_generated_ca(tls_server: FakeIam) -> None:
    assert tls_server.url.startswith("https://127.0.0.1:") and tls_server.ca_file
    full_lifecycle(tls_server)


def test_sdk_third_key_is_refused_with_ak_sk_num_exceed(iam: FakeIam) -> None:
    admin, alice = iam.user("admin"), iam.user("alice")
    client = sdk_client(iam, admin, domain_id=admin["domain_id"])
    with pytest.raises(ClientRequestException) as raised:
        create(client, alice["id"])
    assert raised.value.status_code == 400
    assert "akSkNumExceed" in raised.value.error_msg
    assert len(iam.keys_of("alice")) == 2


def test_sdk_inactive_keys_count_toward_the_limit(iam: FakeIam) -> None:
    admin, bob = iam.user("admin"), iam.user("bob")
    client = sdk_client(iam, admin, domain_id=admin["domain_id"])
    body = UpdatePermanentAccessKeyRequestBody(credential=UpdateCredentialOption(status="inactive"))
    client.update_permanent_access_key(UpdatePermanentAccessKeyRequest(access_key=bob["keys"][0]["access"], body=body))
    create(client, bob["id"])
    with pytest.raises(ClientRequestException, match="akSkNumExceed"):
        create(client, bob["id"])


def test_sdk_without_domain_id_learns_account_and_own_keys(iam: FakeIam) -> None:
    # A caller that knows only its AK/SK: GET /v3/auth/domains needs no X-Domain-Id; with the
    # account it learns there, it lists its own keys (no user_id). Without it, IAM refuses.
    bob = iam.user("bob")
    client = sdk_client(iam, bob)
    domains = client.keystone_list_auth_domains(KeystoneListAuthDomainsRequest()).domains
    assert [(domain.id, domain.name) for domain in domains] == [(bob["domain_id"], "keywarden-demo")]
    with pytest.raises(ClientRequestException, match="X-Domain-Id is required") as raised:
        client.list_permanent_access_keys(ListPermanentAccessKeysRequest())
    assert (raised.value.status_code, raised.value.error_code) == (401, "APIGW.0301")
    client = sdk_client(iam, bob, domain_id=domains[0].id)
    listed = client.list_permanent_access_keys(ListPermanentAccessKeysRequest()).credentials
    assert [item.user_id for item in listed] == [bob["id"]]
    assert iam.counters()["by_operation"] == {"list_domains": 1, "list_credentials": 2}


def test_sdk_users_and_agency(iam: FakeIam) -> None:
    admin = iam.user("admin")
    client = sdk_client(iam, admin, domain_id=admin["domain_id"])
    users = client.keystone_list_users(KeystoneListUsersRequest(name="alice")).users
    assert [(user.name, user.domain_id) for user in users] == [("alice", admin["domain_id"])]
    shown = client.keystone_show_user(KeystoneShowUserRequest(user_id=users[0].id)).user
    assert shown.id == users[0].id

    role = IdentityAssumerole(agency_name="ops-agency", domain_name="keywarden-demo", duration_seconds=3600)
    auth = AgencyAuth(identity=AgencyAuthIdentity(methods=["assume_role"], assume_role=role))
    temporary = client.create_temporary_access_key_by_agency(
        CreateTemporaryAccessKeyByAgencyRequest(body=CreateTemporaryAccessKeyByAgencyRequestBody(auth=auth))
    ).credential
    assert AK.fullmatch(temporary.access) and SK.fullmatch(temporary.secret) and temporary.securitytoken
