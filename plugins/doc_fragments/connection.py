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
      - The name of an entry in a C(clouds.yaml) file, as in the C(cloud) option of C(openstack.cloud) and
        C(opentelekomcloud.cloud) and in E(OS_CLOUD) of the OpenStack tools. The entry's settings are used for every
        connection and auth option the task does not set.
      - The file is found where openstacksdk finds it, the first that exists of C(clouds.yaml), C(clouds.yml) and
        C(clouds.json) in the file named by E(OS_CLIENT_CONFIG_FILE), the current directory,
        C(~/.config/openstack) (or C($XDG_CONFIG_HOME/openstack)), C(/etc/xdg/openstack) and C(/etc/openstack).
        A C(secure.yaml) found the same way (or named by E(OS_CLIENT_SECURE_FILE)) is merged into it.
      - "An entry gives the endpoint (C(auth.auth_url), or C(profile: otc) or C(profile: otc-swiss) with
        C(region_name) or C(regions)), a password login (C(auth.username), C(auth.password),
        C(auth.user_domain_name), C(auth.domain_name) or C(auth.project_domain_name), and C(auth.user_domain_id),
        C(auth.domain_id) or C(auth.project_domain_id) for O(domain_id)) or an access key (C(auth.ak) and
        C(auth.sk), or C(ak) and C(sk), or C(access_key) and C(secret_key), beside C(auth); C(auth.security_token)
        for a temporary key), and C(cacert) and C(verify)."
      - When an entry is used it replaces the environment variables of the other options, as a named cloud does in
        openstacksdk; its credentials are used only when the task sets none of its own.
      - Without a name, the only entry of the file named by E(OS_CLIENT_CONFIG_FILE) is used when no credentials
        are given otherwise, which is what the OpenStack credential of AWX and Automation Platform provides. An
        entry of a file found elsewhere is used only when named.
      - Reading a YAML file needs PyYAML on the host that runs the module; ansible-core brings it on the
        controller. C(clouds.json) needs nothing.
      - The values V(huaweicloud) and V(tcloud) meant the vendor before this option named an entry. Unless a
        C(clouds.yaml) entry has that name, they still select the vendor, with a deprecation warning; use
        O(vendor) instead. They will stop working in version 1.0.0.
      - Falls back to E(OS_CLOUD).
    type: str
  vendor:
    description:
      - Which vendor's cloud to talk to. Together with O(region) it selects the IAM endpoint.
      - V(huaweicloud) is Huawei Cloud (global endpoint C(https://iam.myhuaweicloud.com) without a region,
        C(https://iam.<region>.myhuaweicloud.com) with one, and C(https://iam.eu-west-101.myhuaweicloud.eu)
        for Huawei Cloud Europe).
      - V(tcloud) is T Cloud Public, formerly Open Telekom Cloud (regions V(eu-de), the default, V(eu-nl) and
        V(eu-ch2)).
      - When neither this option, a C(clouds.yaml) entry's C(profile) nor the deprecated O(cloud) value names
        one, V(huaweicloud) is used.
      - Ignored when O(iam_endpoint) is set.
    type: str
    choices: [huaweicloud, tcloud]
  region:
    description:
      - The region whose IAM endpoint to use. IAM is a global service, so any region of the account works.
      - A region name is lower-case letters and digits joined by dashes, such as V(eu-de) or V(ap-southeast-1);
        anything else is refused before any request.
      - Falls back to E(HW_REGION_NAME), E(OS_REGION_NAME), E(OS_REGION), in that order, and to the deprecated
        E(HUAWEICLOUD_SDK_REGION), which the vendor SDK never reads as a region and which will stop working in
        version 1.0.0.
      - When the vendor SDK's per-region variable C(HUAWEICLOUD_SDK_REGION_IAM_<REGION>) is set for the region
        (for example C(HUAWEICLOUD_SDK_REGION_IAM_EU_WEST_101)), its first endpoint is used, unless
        O(iam_endpoint) is set or a C(clouds.yaml) entry is used.
    type: str
  iam_endpoint:
    description:
      - The IAM endpoint's root URL, for example C(https://iam.eu-de.otc.t-systems.com). Overrides O(vendor) and
        O(region).
      - A trailing C(/v3), as in E(OS_AUTH_URL), is accepted and dropped. A URL with a user name or password
        (C(user:password@host)) is refused, and is never repeated in a message.
      - Falls back to E(HUAWEICLOUD_SDK_IAM_ENDPOINT), E(HW_AUTH_URL), E(OS_AUTH_URL), in that order.
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
      - The account (domain) ID, 32 hexadecimal characters, sent as C(X-Domain-Id) with AK/SK requests. An account
        name is not an ID and is refused here; it belongs in O(auth_domain_name).
      - When not given it is looked up once per task with C(GET /v3/auth/domains).
      - Falls back to E(HUAWEICLOUD_SDK_DOMAIN_ID), E(HW_DOMAIN_ID), E(OS_DOMAIN_ID), E(OS_USER_DOMAIN_ID),
        E(OS_PROJECT_DOMAIN_ID), in that order.
    type: str
  auth_username:
    description:
      - An IAM user name for password authentication, used when no access key is set.
      - The collection obtains one domain-scoped token (C(POST /v3/auth/tokens)) and reuses it for the whole task.
        Over an C(http://) endpoint this draws a warning, since the password would cross the network unencrypted.
      - Falls back to E(HW_USER_NAME), then E(OS_USERNAME).
    type: str
  auth_password:
    description:
      - The password of O(auth_username). Never logged.
      - Falls back to E(HW_USER_PASSWORD), then E(OS_PASSWORD), then the deprecated E(HW_PASSWORD), which no other
        tool reads and which will stop working in version 1.0.0.
    type: str
  auth_domain_name:
    description:
      - The account (domain) name of O(auth_username); the token is scoped to this account.
      - Falls back to E(HW_DOMAIN_NAME), E(OS_DOMAIN_NAME), E(OS_USER_DOMAIN_NAME), E(OS_PROJECT_DOMAIN_NAME),
        E(OS_DEFAULT_DOMAIN), in that order.
    type: str
  validate_certs:
    description:
      - Whether to verify the endpoint's TLS certificate. Turning this off draws a warning; prefer O(ca_path).
      - "A C(clouds.yaml) entry with C(verify: false) turns it off too, with the same warning."
      - E(HW_INSECURE) and E(OS_INSECURE), which the Terraform providers read, are not read on purpose, so that a
        variable set for another tool cannot turn certificate checks off unnoticed.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM CA bundle to verify the endpoint's certificate with, for endpoints behind a private CA.
      - Falls back to E(OS_CACERT).
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
  - "Where each setting comes from, first to last: the task's option (or C(module_defaults)); a C(clouds.yaml) entry
    (see O(cloud)); the environment variables listed with each option, the first that is set and not empty. The
    names are those of the vendor SDK (C(HUAWEICLOUD_SDK_*)), the Terraform huaweicloud provider (C(HW_*)) and the
    Terraform opentelekomcloud provider, openstacksdk and otcextensions (C(OS_*)), in that order."
  - All modules of this collection but M(keywarden.iam.credentials_check) belong to the action group
    C(group/keywarden.iam.iam), so the connection and auth options can be set once with C(module_defaults).
  - Environment variables are read on the host that runs the module. That is the controller for
    M(keywarden.iam.access_key) and M(keywarden.iam.temporary_access_key), and for M(keywarden.iam.access_key_info)
    and M(keywarden.iam.access_key_compliance) when they run in-process (a local connection without become, task
    environment or async).
"""
