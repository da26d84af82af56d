# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which IAM endpoint a cloud and region mean. Private to the keywarden.iam collection."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError

HUAWEICLOUD = "huaweicloud"
TCLOUD = "tcloud"
CLOUDS = (HUAWEICLOUD, TCLOUD)

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


class EndpointError(TaskError, ValueError):
    """The options do not name an endpoint we can use."""


def resolve_endpoint(*, cloud: str | None, region: str | None, iam_endpoint: str | None) -> str:
    """The base URL (scheme and host, no path) of the IAM API to call.

    ``iam_endpoint`` wins over ``cloud``/``region``. A trailing ``/v3`` (as in OS_AUTH_URL) is
    dropped, since the client adds the API version to each path itself.
    """
    if iam_endpoint:
        return normalise_endpoint(iam_endpoint)
    cloud = cloud or HUAWEICLOUD
    if cloud == HUAWEICLOUD:
        if not region:
            return HUAWEICLOUD_GLOBAL
        return HUAWEICLOUD_EUROPE_REGIONS.get(region, f"https://iam.{region}.myhuaweicloud.com")
    if cloud == TCLOUD:
        region = region or TCLOUD_DEFAULT_REGION
        try:
            return TCLOUD_REGIONS[region]
        except KeyError:
            known = ", ".join(sorted(TCLOUD_REGIONS))
            raise EndpointError(
                f"T Cloud Public has no IAM endpoint known for region '{region}' (known: {known}); "
                "set iam_endpoint to the endpoint's URL."
            ) from None
    raise EndpointError(f"Unknown cloud '{cloud}': use one of {', '.join(CLOUDS)}, or set iam_endpoint.")


def normalise_endpoint(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise EndpointError(
            f"iam_endpoint '{url}' is not an http(s) URL such as https://iam.eu-de.otc.t-systems.com."
        )
    path = parts.path.rstrip("/")
    if path in ("/v3", "/v3.0"):
        path = ""
    if path:
        raise EndpointError(f"iam_endpoint '{url}' must be the endpoint's root URL, without a path.")
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))
