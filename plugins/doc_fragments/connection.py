# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The connection and auth options shared by every module. Keep in step with
    # plugins/module_utils/_connection.py, which defines them.
    DOCUMENTATION = r"""
options:
  cloud:
    description:
      - Which cloud to talk to. Together with O(region) it selects the IAM endpoint.
      - V(huaweicloud) is Huawei Cloud (global endpoint C(https://iam.myhuaweicloud.com) without a region,
        C(https://iam.<region>.myhuaweicloud.com) with one, and C(https://iam.eu-west-101.myhuaweicloud.eu)
        for Huawei Cloud Europe).
      - V(tcloud) is T Cloud Public, formerly Open Telekom Cloud (regions V(eu-de), the default, V(eu-nl) and
        V(eu-ch2)).
      - Ignored when O(iam_endpoint) is set.
    type: str
    choices: [huaweicloud, tcloud]
    default: huaweicloud
  region:
    description:
      - The region whose IAM endpoint to use. IAM is a global service, so any region of the account works.
      - Falls back to the environment variables E(HUAWEICLOUD_SDK_REGION), E(HW_REGION_NAME), E(OS_REGION_NAME), in
        that order.
    type: str
  iam_endpoint:
    description:
      - The IAM endpoint's root URL, for example C(https://iam.eu-de.otc.t-systems.com). Overrides O(cloud) and
        O(region).
      - A trailing C(/v3), as in E(OS_AUTH_URL), is accepted and dropped.
      - Falls back to E(HUAWEICLOUD_SDK_IAM_ENDPOINT), then E(OS_AUTH_URL).
    type: str
  access_key:
    description:
      - The access key ID (AK) to sign requests with. Needs O(secret_key).
      - Falls back to E(HUAWEICLOUD_SDK_AK), E(HW_ACCESS_KEY), E(OS_ACCESS_KEY), in that order.
      - When both an access key and O(auth_username) are available, the access key is used.
    type: str
    aliases: [ak]
  secret_key:
    description:
      - The secret access key (SK) of O(access_key). Never logged.
      - Falls back to E(HUAWEICLOUD_SDK_SK), E(HW_SECRET_KEY), E(OS_SECRET_KEY), in that order.
    type: str
    aliases: [sk]
  security_token:
    description:
      - The security token of a temporary access key. It is sent, and signed, as the C(X-Security-Token) header.
      - Falls back to E(HUAWEICLOUD_SDK_SECURITY_TOKEN), E(HW_SECURITY_TOKEN), E(OS_SECURITY_TOKEN), in that order.
    type: str
  domain_id:
    description:
      - The account (domain) ID, sent as C(X-Domain-Id) with AK/SK requests.
      - When not given it is looked up once per task with C(GET /v3/auth/domains).
      - Falls back to E(HUAWEICLOUD_SDK_DOMAIN_ID), E(HW_DOMAIN_ID), E(OS_DOMAIN_ID), in that order.
    type: str
  auth_username:
    description:
      - An IAM user name for password authentication, used when no access key is set.
      - The collection obtains one domain-scoped token (C(POST /v3/auth/tokens)) and reuses it for the whole task.
      - Falls back to E(HW_USER_NAME), then E(OS_USERNAME).
    type: str
  auth_password:
    description:
      - The password of O(auth_username). Never logged.
      - Falls back to E(HW_PASSWORD), then E(OS_PASSWORD).
    type: str
  auth_domain_name:
    description:
      - The account (domain) name of O(auth_username); the token is scoped to this account.
      - Falls back to E(HW_DOMAIN_NAME), E(OS_DOMAIN_NAME), E(OS_USER_DOMAIN_NAME), in that order.
    type: str
  validate_certs:
    description:
      - Whether to verify the endpoint's TLS certificate. Turning this off draws a warning; prefer O(ca_path).
    type: bool
    default: true
  ca_path:
    description:
      - A PEM CA bundle to verify the endpoint's certificate with, for endpoints behind a private CA.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: int
    default: 30
  retries:
    description:
      - How many times to retry a request that was throttled (HTTP 429), failed on the server (HTTP 5xx) or lost
        its connection. Waits grow exponentially with jitter, and a C(Retry-After) header is honoured.
      - A request that creates an access key is never retried once it may have reached the server, because a
        retry could create a second key; the module reconciles by listing the keys instead.
    type: int
    default: 4
notes:
  - All modules of this collection belong to the action group C(group/keywarden.iam.iam), so the connection and
    auth options can be set once with C(module_defaults).
  - Environment variables are read on the host that runs the module; for the modules that run on the
    controller (M(keywarden.iam.access_key)), that is the controller.
"""
