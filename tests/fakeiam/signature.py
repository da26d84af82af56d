"""SDK-HMAC-SHA256 verification, computed by huaweicloudsdkcore's own Signer.

Using the official SDK on the server side is deliberate: every request any client sends to
fakeiam is checked against the reference implementation, so a client whose canonical request
differs from the SDK's in any byte fails here exactly as it would at the real gateway.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import parse_qsl

from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from . import errors

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AUTHORIZATION = re.compile(
    r"(?P<algorithm>\S+) Access=(?P<access>[^,\s]+), SignedHeaders=(?P<signed>[^,\s]+), "
    r"Signature=(?P<signature>[0-9a-f]+)"
)


@dataclass(frozen=True)
class Authorization:
    access: str
    signed_headers: list[str]
    signature: str


def parse_authorization(value: str) -> Authorization:
    match = _AUTHORIZATION.fullmatch(value.strip())
    if match is None:
        raise errors.bad_signature(
            "the Authorization header is not 'SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=HEX'"
        )
    if match["algorithm"] != ALGORITHM:
        raise errors.bad_signature(f"unsupported signing algorithm {match['algorithm']}; IAM uses {ALGORITHM}")
    return Authorization(match["access"], match["signed"].split(";"), match["signature"])


def parse_sdk_date(value: str) -> datetime:
    try:
        return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError as exc:
        raise errors.bad_signature(f"X-Sdk-Date {value!r} is not in the form YYYYMMDDTHHMMSSZ") from exc


def compute_signature(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
    signed_headers: list[str],
    secret: str,
) -> str:
    """The signature the SDK would produce for exactly this request, as received.

    `headers` are the received headers with their original (UTF-8) values; the SDK
    lower-cases names itself and uses only the signed ones, but also reads
    X-Sdk-Content-Sha256 from the full set, so all of them go in.
    """
    request = SdkRequest(
        method=method,
        resource_path=raw_path,
        query_params=parse_qsl(raw_query, keep_blank_values=True),
        header_params=dict(headers),
        body=body,
    )
    date_header = next(value for name, value in headers.items() if name.lower() == "x-sdk-date")
    signer = Signer(SimpleNamespace(ak="verifier", sk=secret))
    # The SDK keeps these steps private; they are its signing algorithm minus "add Date/Host headers".
    canonical_request = signer._process_canonical_request(request, signed_headers)
    string_to_sign = signer._process_string_to_sign(canonical_request, parse_sdk_date(date_header))
    return signer._sign_string_to_sign(string_to_sign, secret)


def signatures_match(expected: str, received: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), received.encode("utf-8"))
