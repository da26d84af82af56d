# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SDK-HMAC-SHA256 request signing, as the Huawei Cloud / T Cloud Public API gateway checks it.

Private to the keywarden.iam collection: the interface may change without notice.

The rules follow the published signing guide and the reference implementation
(``huaweicloudsdkcore.signer.Signer``), which the unit tests compare us against on generated
requests. Where the SDK does something the guide leaves unsaid (sorting repeated query
parameters by value, adding ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` for non-JSON bodies,
signing every header whose name has no underscore), we do the same, because the gateway was
built to accept what the SDK sends.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Mapping, Sequence, Tuple
from urllib.parse import quote, unquote, urlsplit

from ansible_collections.keywarden.iam.plugins.module_utils._headers import find_header

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

HEADER_DATE = "X-Sdk-Date"
HEADER_CONTENT_SHA256 = "X-Sdk-Content-Sha256"
HEADER_SECURITY_TOKEN = "X-Security-Token"
HEADER_DOMAIN_ID = "X-Domain-Id"

QueryPairs = Sequence[Tuple[str, str]]


@dataclass(frozen=True)
class SigningKey:
    """An AK/SK pair, optionally temporary (with a security token).

    The secret and the token are kept out of ``repr`` so that a traceback or a debug print of
    this object cannot leak them.
    """

    access_key: str
    secret_key: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SignedRequest:
    """What to put on the wire: the URL (with the canonical query) and every header."""

    url: str
    headers: dict[str, str]
    body: bytes


def _encode(value: str) -> str:
    # quote() never encodes A-Za-z0-9 and "_.-"; adding "~" gives exactly RFC 3986's unreserved set.
    return quote(value, safe="~")


def canonical_uri(path: str) -> str:
    """Each path segment percent-encoded, always ending with "/" (the wire path may not)."""
    encoded = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def canonical_query(pairs: QueryPairs) -> str:
    """Sorted by name, then value (code-point order), both percent-encoded; "" when empty."""
    return "&".join(f"{_encode(name)}={_encode(value)}" for name, value in sorted(pairs))


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    """Every header whose name has no underscore, lower-cased and sorted."""
    return sorted(name.lower() for name in headers if "_" not in name)


def canonical_headers(headers: Mapping[str, str], names: Sequence[str]) -> str:
    by_name = {name.lower(): str(value).strip() for name, value in headers.items()}
    return "".join(f"{name}:{by_name[name]}\n" for name in names)


def payload_hash(headers: Mapping[str, str], body: bytes) -> str:
    if not body:
        return EMPTY_BODY_SHA256
    declared = find_header(headers, HEADER_CONTENT_SHA256)
    if declared:
        return declared
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str, path: str, query: QueryPairs, headers: Mapping[str, str], body: bytes
) -> str:
    names = signed_header_names(headers)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            canonical_headers(headers, names),
            ";".join(names),
            payload_hash(headers, body),
        ]
    )


def string_to_sign(canonical: str, sdk_date: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def signature(secret_key: str, to_sign: str) -> str:
    # The SK is the HMAC key as is: SDK-HMAC-SHA256 has no key derivation step.
    return hmac.new(secret_key.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(
    *,
    method: str,
    url: str,
    key: SigningKey,
    query: QueryPairs = (),
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    domain_id: str | None = None,
    now: datetime | None = None,
) -> SignedRequest:
    """Sign a request to ``url`` (scheme, host and path; the query goes in ``query``).

    Adds ``Host``, ``X-Sdk-Date``, ``X-Domain-Id`` and ``X-Security-Token`` when they apply, so
    that they are signed too, and returns the URL to send with the canonical query string:
    sending exactly what was signed leaves the gateway nothing to re-encode differently.
    """
    parts = urlsplit(url)
    all_headers = dict(headers or {})
    content_type = find_header(all_headers, "Content-Type")
    if content_type and not content_type.startswith(("application/json", "application/bson")):
        all_headers.setdefault(HEADER_CONTENT_SHA256, UNSIGNED_PAYLOAD)
    if find_header(all_headers, HEADER_DATE) is None:
        moment = now or datetime.now(timezone.utc)
        all_headers[HEADER_DATE] = moment.strftime(DATE_FORMAT)
    if find_header(all_headers, "Host") is None:
        all_headers["Host"] = parts.netloc
    if domain_id:
        all_headers[HEADER_DOMAIN_ID] = domain_id
    if key.security_token:
        all_headers[HEADER_SECURITY_TOKEN] = key.security_token

    path = parts.path or "/"
    canonical = canonical_request(method, path, query, all_headers, body)
    to_sign = string_to_sign(canonical, find_header(all_headers, HEADER_DATE) or "")
    signed_names = ";".join(signed_header_names(all_headers))
    all_headers["Authorization"] = (
        f"{ALGORITHM} Access={key.access_key}, SignedHeaders={signed_names}, "
        f"Signature={signature(key.secret_key, to_sign)}"
    )
    query_string = canonical_query(query)
    wire_url = f"{parts.scheme}://{parts.netloc}{path}" + (f"?{query_string}" if query_string else "")
    return SignedRequest(url=wire_url, headers=all_headers, body=body)
