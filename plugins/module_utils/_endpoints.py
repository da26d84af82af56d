# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which IAM endpoint a vendor and region mean. Private to the keywarden.iam collection.

Every value that ends up in the endpoint's URL is checked here, because the URL is where the
credentials go: a region is a name, never part of a host name it could redirect, and an
endpoint never carries a user name or password.
"""

from __future__ import annotations

import re
from typing import Mapping
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError

HUAWEICLOUD = "huaweicloud"
TCLOUD = "tcloud"
VENDORS = (HUAWEICLOUD, TCLOUD)

HUAWEICLOUD_GLOBAL = "https://iam.myhuaweicloud.com"
# Huawei Cloud Europe lives under its own top-level domain.
HUAWEICLOUD_EUROPE_REGIONS = {"eu-west-101": "https://iam.eu-west-101.myhuaweicloud.eu"}
TCLOUD_REGIONS = {
    "eu-de": "https://iam.eu-de.otc.t-systems.com",
    "eu-nl": "https://iam.eu-nl.otc.t-systems.com",
    # From openstacksdk's vendor profile for the Swiss region.
    "eu-ch2": "https://iam-pub.eu-ch2.sc.otc.t-systems.com",
}
TCLOUD_DEFAULT_REGION = "eu-de"

# Region names of both clouds are lower-case words and numbers joined by dashes (cn-north-4,
# ap-southeast-1, eu-west-101, eu-de, eu-ch2). Nothing else may reach a host name.
_REGION = re.compile(r"[a-z]{2,}(?:-[a-z0-9]+)+\Z")
MAX_REGION_LENGTH = 40
# A host name or an IP address (urllib gives IPv6 without its brackets).
_HOST = re.compile(r"(?:[a-z0-9_-]+\.)*[a-z0-9_-]+\.?\Z|[0-9a-f:.]+\Z")
# The vendor SDK's per-service endpoint override: HUAWEICLOUD_SDK_REGION_IAM_<REGION> holds the IAM
# endpoint(s) of one region, comma-separated (huaweicloudsdkcore's EnvRegionProvider).
SDK_REGION_ENDPOINT_PREFIX = "HUAWEICLOUD_SDK_REGION_IAM_"


class EndpointError(TaskError, ValueError):
    """The options do not name an endpoint we can use."""


def check_region(region: str, *, what: str = "region") -> str:
    """``region`` if it is a region name; ``what`` says where it came from, for the message."""
    if len(region) <= MAX_REGION_LENGTH and _REGION.match(region):
        return region
    shown = region if len(region) <= MAX_REGION_LENGTH else region[:MAX_REGION_LENGTH] + "..."
    raise EndpointError(
        f"{what} {shown!r} is not a region name: a region is lower-case letters and digits joined by dashes, "
        "such as eu-de or ap-southeast-1. Set iam_endpoint for an endpoint no region names."
    )


def sdk_region_endpoint_variable(region: str) -> str:
    """The vendor SDK's environment variable for the IAM endpoint of ``region``."""
    return SDK_REGION_ENDPOINT_PREFIX + region.replace("-", "_").upper()


def sdk_region_endpoint(region: str | None, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(variable, endpoint) when the SDK's per-region IAM endpoint variable is set for ``region``."""
    if not region:
        return None
    name = sdk_region_endpoint_variable(region)
    first = (environ.get(name) or "").split(",")[0].strip()
    return (name, first) if first else None


def resolve_endpoint(*, vendor: str | None, region: str | None, iam_endpoint: str | None) -> str:
    """The base URL (scheme and host, no path) of the IAM API to call.

    ``iam_endpoint`` wins over ``vendor``/``region``. A trailing ``/v3`` (as in OS_AUTH_URL) is
    dropped, since the client adds the API version to each path itself.
    """
    if iam_endpoint:
        return normalise_endpoint(iam_endpoint)
    if region:
        check_region(region)
    vendor = vendor or HUAWEICLOUD
    if vendor == HUAWEICLOUD:
        if not region:
            return HUAWEICLOUD_GLOBAL
        return HUAWEICLOUD_EUROPE_REGIONS.get(region, f"https://iam.{region}.myhuaweicloud.com")
    if vendor == TCLOUD:
        region = region or TCLOUD_DEFAULT_REGION
        try:
            return TCLOUD_REGIONS[region]
        except KeyError:
            known = ", ".join(sorted(TCLOUD_REGIONS))
            raise EndpointError(
                f"T Cloud Public has no IAM endpoint known for region '{region}' (known: {known}); "
                "set iam_endpoint to the endpoint's URL."
            ) from None
    raise EndpointError(f"Unknown vendor '{vendor}': use one of {', '.join(VENDORS)}, or set iam_endpoint.")


def normalise_endpoint(url: str, *, what: str = "iam_endpoint") -> str:
    """``scheme://host[:port]`` of an endpoint URL, or a clear refusal.

    A URL with user information (``user:password@host``) is refused, and never repeated in a
    message: the password would travel in every message, warning and log line that names the
    endpoint, and urllib would send it to the server as Basic authentication besides.
    """
    text = url.strip()
    shown = _shown(text)
    try:
        parts = urlsplit(text)
    except ValueError:  # an unbalanced [ in an IPv6 host, say
        raise EndpointError(f"{what} {shown} is not a URL such as https://iam.eu-de.otc.t-systems.com.") from None
    if "@" in parts.netloc:
        raise EndpointError(
            f"{what} must not contain a user name or password ('user:password@' before the host); the URL is not "
            "shown here for that reason. Give the endpoint as https://host only, and the credentials in "
            "access_key/secret_key or auth_username/auth_password."
        )
    if parts.scheme not in ("https", "http") or not parts.hostname or not _HOST.match(parts.hostname):
        raise EndpointError(
            f"{what} {shown} is not an http(s) URL such as https://iam.eu-de.otc.t-systems.com."
        )
    try:
        _port_checked = parts.port  # urllib parses the port only when asked
    except ValueError:
        raise EndpointError(f"{what} {shown} has a port that is not a number from 0 to 65535.") from None
    path = parts.path.rstrip("/")
    if path in ("/v3", "/v3.0"):
        path = ""
    if path:
        raise EndpointError(f"{what} {shown} must be the endpoint's root URL, without a path.")
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _shown(url: str) -> str:
    """The URL quoted for a message, or a placeholder when it could hold a password."""
    if "@" in url:
        return "(not shown: it contains '@', which can carry a password)"
    return repr(url if len(url) <= 200 else url[:200] + "...")
