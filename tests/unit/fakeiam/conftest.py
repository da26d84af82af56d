"""Fixtures for the fakeiam tests: one server for the session, reset before each test, and a
client that signs with huaweicloudsdkcore's own Signer and sends with urllib (so these tests
depend on neither the collection's client nor the SDK's transport)."""

from __future__ import annotations

import json
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

# The repository's root conftest.py already does this; repeating it keeps these tests runnable
# where that file is not loaded (ansible-test units, or pytest started inside tests/).
REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.fakeiam.harness import SEEDS, FakeIam  # noqa: E402

CREDENTIALS = "/v3.0/OS-CREDENTIAL/credentials"


@dataclass
class Prepared:
    method: str
    uri: str
    headers: dict[str, str]
    payload: bytes


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


class SignedClient:
    """Builds one request, signs it exactly as the SDK would, sends it, returns the raw answer."""

    def __init__(self, server: FakeIam):
        self.server = server
        self._ssl = ssl.create_default_context(cafile=server.ca_file) if server.ca_file else None
        self._accounts: dict[str, str] = {}  # access key -> its account, as the server holds it

    def account_of(self, access: str) -> str | None:
        """The account (domain id) of a permanent or temporary key; None for an unknown key."""
        if access not in self._accounts:
            state = self.server.state()
            self._accounts.update({key["access"]: account["domain_id"] for account in state["accounts"]
                                   for user in account["users"] for key in user["keys"]})
            self._accounts.update({key["access"]: key["domain_id"] for key in state["temporary_keys"]})
        return self._accounts.get(access)

    def call(self, method: str, path: str, *, timeout: float = 10, **options: Any) -> Reply:
        """Sign (see prepare) and send; the answer whatever its status."""
        return self.send(self.prepare(method, path, **options), timeout=timeout)

    def prepare(
        self,
        method: str,
        path: str,
        *,
        key: dict[str, Any] | None = None,
        domain_id: str | None = None,
        without_domain_id: bool = False,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        security_token: str | None = None,
        sdk_date: datetime | None = None,
        token: str | None = None,
        tamper: bool = False,
    ) -> Prepared:
        """A request signed with key (if given) by the SDK's Signer, ready for send().

        A signed request carries X-Domain-Id as IAM needs it: domain_id, else the key's own
        account, unless without_domain_id."""
        split = urlsplit(self.server.url)
        headers: dict[str, str] = {}
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json;charset=UTF-8"
        if domain_id is None and key is not None and not without_domain_id:
            domain_id = self.account_of(key["access"])
        if domain_id is not None:
            headers["X-Domain-Id"] = domain_id
        if security_token is not None:
            headers["X-Security-Token"] = security_token
        if sdk_date is not None:
            headers["X-Sdk-Date"] = sdk_date.strftime("%Y%m%dT%H%M%SZ")
        request = SdkRequest(method=method, schema=split.scheme, host=split.netloc, resource_path=path,
                             query_params=list(query or []), header_params=headers, body=payload)
        if key is not None:
            Signer(SimpleNamespace(ak=key["access"], sk=key["secret"])).sign(request)
        else:
            Signer.process_request_uri(request)
        if token is not None:
            request.header_params["X-Auth-Token"] = token
        if tamper:
            authorization = request.header_params["Authorization"]
            last = authorization[-1]
            request.header_params["Authorization"] = authorization[:-1] + ("0" if last != "0" else "1")
        return Prepared(method, request.uri, dict(request.header_params), payload)

    def send(self, prepared: Prepared, *, timeout: float = 10) -> Reply:
        outgoing = urllib.request.Request(f"{self.server.url}{prepared.uri}", data=prepared.payload or None,
                                          method=prepared.method, headers=prepared.headers)
        try:
            with urllib.request.urlopen(outgoing, timeout=timeout, context=self._ssl) as response:
                return Reply(response.status, dict(response.headers), _json(response.read()))
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), _json(error.read()))


def _json(raw: bytes) -> Any:
    return json.loads(raw) if raw else None


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeIam]:
    with FakeIam(SEEDS / "demo.json") as server:
        yield server


@pytest.fixture
def iam(fake_server: FakeIam) -> FakeIam:
    fake_server.reset()
    return fake_server


@pytest.fixture
def client(iam: FakeIam) -> SignedClient:
    return SignedClient(iam)
