"""SDK-HMAC-SHA256: the published vectors byte for byte, and agreement with the vendor SDK."""

from __future__ import annotations

import hashlib
import string
from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from ansible_collections.keywarden.iam.plugins.module_utils import _signer as signer

GUIDE_KEY = signer.SigningKey("QTWAOYTTINDUT2QVKYUC", "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc")
IAM_KEY = signer.SigningKey("HPUAEXAMPLEAK0000001", "exampleSecretKey0000000000000000000000000")


def test_signing_guide_vector():
    query = [("limit", "2"), ("marker", "13551d6b-755d-4757-b956-536f674975c0")]
    headers = {"Content-Type": "application/json", "X-Sdk-Date": "20191115T033655Z"}
    url = "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs"

    signed = signer.sign(method="GET", url=url, key=GUIDE_KEY, query=query, headers=headers)

    canonical = signer.canonical_request("GET", "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs", query,
                                         {**headers, "Host": "service.region.example.com"}, b"")
    assert hashlib.sha256(canonical.encode()).hexdigest() == (
        "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
    )
    assert signed.headers["Authorization"] == (
        "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, "
        "Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
    )
    assert signed.url == url + "?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0"


def test_iam_create_vector_with_domain_id():
    body = b'{"credential":{"user_id":"07609fb9358010e21f7bc003751c7c32","description":"ansible"}}'
    signed = signer.sign(
        method="POST",
        url="https://iam.eu-de.otc.t-systems.com/v3.0/OS-CREDENTIAL/credentials",
        key=IAM_KEY,
        headers={"Content-Type": "application/json;charset=UTF-8", "X-Sdk-Date": "20240102T030405Z"},
        body=body,
        domain_id="0970d7b7d400f2470fbec00316a03560",
    )
    assert signed.headers["Authorization"] == (
        "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK0000001, SignedHeaders=content-type;host;x-domain-id;x-sdk-date, "
        "Signature=69c69bb4936be003942c031d9e0d41cf1e42376e154a4124c5969e4f9f0678f7"
    )
    assert signed.headers["X-Domain-Id"] == "0970d7b7d400f2470fbec00316a03560"
    # The path is sent as given, although it is signed with a trailing slash.
    assert signed.url == "https://iam.eu-de.otc.t-systems.com/v3.0/OS-CREDENTIAL/credentials"


def test_security_token_is_sent_and_signed():
    key = signer.SigningKey("TEMPAK", "tempsecret", security_token="tok-en")
    signed = signer.sign(method="GET", url="https://iam.example.com/v3/users", key=key,
                         headers={"X-Sdk-Date": "20240102T030405Z"})
    assert signed.headers["X-Security-Token"] == "tok-en"
    assert "x-security-token" in signed.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]


def test_date_defaults_to_now_in_utc():
    moment = datetime(2026, 11, 22, 12, 0, 1, tzinfo=timezone.utc)
    signed = signer.sign(method="GET", url="https://iam.example.com/v3/users", key=IAM_KEY, now=moment)
    assert signed.headers["X-Sdk-Date"] == "20261122T120001Z"


def test_canonical_uri_always_ends_with_slash_and_encodes_segments():
    assert signer.canonical_uri("/v3.0/OS-CREDENTIAL/credentials") == "/v3.0/OS-CREDENTIAL/credentials/"
    assert signer.canonical_uri("/a b/ü~/") == "/a%20b/%C3%BC~/"


def test_secret_never_in_repr():
    key = signer.SigningKey("AK", "VERYSECRET", security_token="TOKENVALUE")
    assert "VERYSECRET" not in repr(key) and "TOKENVALUE" not in repr(key)


# ---- agreement with huaweicloudsdkcore on generated requests -------------------------------------

# A path as it travels on the wire: any text, percent-encoded where HTTP requires it, with the
# sub-delimiters that may stay raw left raw, so both encoded and odd-but-legal characters occur.
SEGMENT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12).map(
    lambda text: quote(text, safe="!$&'()*+,;=:@~")
)
QUERY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10)
HEADER_NAME = st.text(alphabet=string.ascii_lowercase + "-_", min_size=1, max_size=10).map(lambda s: "x-" + s)
HEADER_VALUE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=20)
CONTENT_TYPES = st.sampled_from([None, "application/json", "application/json;charset=UTF-8", "text/plain",
                                 "application/octet-stream", "application/bson"])


@st.composite
def requests(draw):
    segments = draw(st.lists(SEGMENT, min_size=0, max_size=5))
    path = "/" + "/".join(segments) + draw(st.sampled_from(["", "/"]))
    names = draw(st.lists(QUERY_TEXT, min_size=0, max_size=3))
    query = []
    for name in names:  # repeated names with different (and empty) values
        for _repeat in range(draw(st.integers(1, 3))):
            query.append((name, draw(st.one_of(st.just(""), QUERY_TEXT))))
    headers = draw(st.dictionaries(HEADER_NAME, HEADER_VALUE, max_size=4))
    content_type = draw(CONTENT_TYPES)
    if content_type:
        headers["Content-Type"] = content_type
    moment = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
    headers["X-Sdk-Date"] = moment.strftime(signer.DATE_FORMAT)
    return {
        "method": draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])),
        "host": draw(st.sampled_from(["iam.myhuaweicloud.com", "iam.eu-de.otc.t-systems.com", "127.0.0.1:8443"])),
        "path": path,
        "query": query,
        "headers": headers,
        "body": draw(st.binary(max_size=64)),
        "domain_id": draw(st.one_of(st.none(), st.text(alphabet=string.hexdigits, min_size=1, max_size=32))),
        "token": draw(st.one_of(st.none(), st.text(alphabet=string.ascii_letters + "+/=", min_size=1, max_size=40))),
        "ak": draw(st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=20)),
        "sk": draw(st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=40)),
    }


def sdk_authorization(request: dict) -> tuple[str, str]:
    headers = dict(request["headers"])
    if request["domain_id"]:
        headers["X-Domain-Id"] = request["domain_id"]
    if request["token"]:
        headers["X-Security-Token"] = request["token"]
    sdk_request = SdkRequest(method=request["method"], schema="https", host=request["host"],
                             resource_path=request["path"], query_params=list(request["query"]),
                             header_params=headers, body=request["body"])
    signed = Signer(SimpleNamespace(ak=request["ak"], sk=request["sk"])).sign(sdk_request)
    return signed.header_params["Authorization"], signed.uri


EXAMPLES_RUN = []


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def check_agreement_with_sdk(request):
    ours = signer.sign(
        method=request["method"],
        url=f"https://{request['host']}{request['path']}",
        key=signer.SigningKey(request["ak"], request["sk"], request["token"]),
        query=request["query"],
        headers=request["headers"],
        body=request["body"],
        domain_id=request["domain_id"],
    )
    sdk_header, sdk_uri = sdk_authorization(request)
    assert ours.headers["Authorization"] == sdk_header
    assert ours.url == f"https://{request['host']}{sdk_uri}"
    EXAMPLES_RUN.append(1)


def test_signer_agrees_with_vendor_sdk_on_generated_requests():
    check_agreement_with_sdk()
    assert len(EXAMPLES_RUN) >= 500


@pytest.mark.parametrize("path", ["/v3/users/caf%C3%A9", "/v3/users/café"])
def test_encoded_and_raw_paths_sign_alike(path):
    headers = {"X-Sdk-Date": "20240102T030405Z"}
    a = signer.sign(method="GET", url="https://h" + path, key=IAM_KEY, headers=headers)
    b = signer.sign(method="GET", url="https://h/v3/users/café", key=IAM_KEY, headers=headers)
    assert a.headers["Authorization"] == b.headers["Authorization"]
