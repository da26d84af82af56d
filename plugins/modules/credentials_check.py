#!/usr/bin/python
# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: credentials_check
short_description: Prove that a credentials file on a host holds a working access key
version_added: 0.1.0
description:
  - Reads a credentials file on the managed host, in the format its consumer reads (an env file, a
    C(huaweicloudsdkcore) profile, an obsutil configuration, a C(credentials.csv) or a YAML vars file), and signs
    one harmless IAM request with the key it holds, from that host. A success proves the file, the key and the
    host's path to IAM at once.
  - The request lists the key's own access keys (C(GET /v3.0/OS-CREDENTIAL/credentials)), with C(X-Domain-Id) from
    the file's domain id; a file that records none costs one more request (C(GET /v3/auth/domains)) to learn it.
    A temporary key also sends its security token. Nothing is changed.
  - The key comes from the file only. No option or environment variable can supply or change the key, its secret,
    its security token or its account. The secret is never returned, nor shown in a message.
  - "Fails with C(Failed to verify <path>: <why>. <what to do>) when the file is missing, unreadable or not in the
    format, or IAM refuses the key (deleted, inactive, wrong secret, another account, expired temporary key, a host
    clock more than 15 minutes off)."
author:
  - keywarden.iam contributors (@keywarden)
requirements:
  - On the managed host, Python 3.8 or later with ansible-core 2.18 and 2.19, 3.9 or later with ansible-core 2.20
    and 2.21. Nothing beyond ansible-core.
options:
  path:
    description:
      - The credentials file on the host, in plain text, as its consumer reads it. Symbolic links are followed, as
        the consumer follows them; the file must be a regular file.
      - The task must run as a user that can read it (the consumer's user, or with C(become)).
    type: path
    required: true
  format:
    description:
      - The file's format, as M(keywarden.iam.access_key) and the role C(keywarden.iam.fleet_credentials) write it.
      - V(env) is C(HUAWEICLOUD_SDK_AK)/C(HUAWEICLOUD_SDK_SK) lines, V(sdk_profile) the C(~/.huaweicloud/credentials)
        profile, V(obsutil) the C(ak=)/C(sk=) lines of C(~/.obsutilconfig), V(csv) the console's
        C(credentials.csv), V(yaml) a vars file.
    type: str
    required: true
    choices: [yaml, env, sdk_profile, obsutil, csv]
  vars_prefix:
    description: The variable name prefix of the V(yaml) format (C(<prefix>access_key), C(<prefix>secret_key)).
    type: str
    default: iam_
  cloud:
    description:
      - The name of a C(clouds.yaml) entry on the host whose endpoint settings to use (C(auth.auth_url), or
        C(profile) with C(region_name), C(cacert), C(verify)). Its credentials are never used.
      - The values V(huaweicloud) and V(tcloud) select the vendor, as in the other modules (deprecated; use
        O(vendor)).
    type: str
  vendor:
    description: Which vendor's cloud to talk to; with O(region) it selects the IAM endpoint. Ignored with
      O(iam_endpoint).
    type: str
    choices: [huaweicloud, tcloud]
  region:
    description: The region whose IAM endpoint to use, such as V(eu-de).
    type: str
  iam_endpoint:
    description:
      - The IAM endpoint's root URL, such as C(https://iam.eu-de.otc.t-systems.com).
      - When none of O(iam_endpoint), O(cloud), O(vendor) and O(region) is set, the endpoint the file records
        (V(yaml), V(env) and V(sdk_profile) have a place for it) is used, as the file's consumer uses it; without
        one, Huawei Cloud's global endpoint.
    type: str
  validate_certs:
    description: Whether to verify the endpoint's TLS certificate. Prefer O(ca_path) for a private CA.
    type: bool
    default: true
  ca_path:
    description: A PEM CA bundle on the host to verify the endpoint's certificate with.
    type: path
  timeout:
    description: Seconds to wait for each HTTP answer.
    type: int
    default: 30
  retries:
    description: How many times to retry a request that was throttled, failed on the server or lost its connection.
    type: int
    default: 4
notes:
  - Unlike the other modules, this one takes nothing but the endpoint from the host's environment, and only where
    neither the file nor the task gives one (C(OS_CLOUD) and C(OS_CLIENT_CONFIG_FILE) for a C(clouds.yaml) entry's,
    the region and IAM endpoint variables, C(OS_CACERT)), as the consumer of the file would find it there. No
    environment variable supplies a key, a secret, a token, a password or an account. It does not belong to the
    action group C(group/keywarden.iam.iam), so C(module_defaults) set for the group never send the controller's
    credentials to the hosts. Set its endpoint options on the task, or with C(module_defaults) for
    C(keywarden.iam.credentials_check) itself.
  - Each successful check updates the key's last use in IAM, as any use does.
attributes:
  check_mode:
    support: full
    description: The module changes nothing, so it runs normally in check mode (and still signs its request).
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
seealso:
  - module: keywarden.iam.access_key
  - module: keywarden.iam.access_key_info
"""

EXAMPLES = r"""
- name: Prove that every app server's env file holds a working key
  keywarden.iam.credentials_check:
    path: /etc/myapp/iam.env
    format: env
    region: eu-de
    vendor: tcloud
  become: true
  register: checked

- name: Show which key each host holds
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} holds {{ checked.access_key_id }} of user {{ checked.user_id }}"

- name: Check every file the fleet_credentials role delivered, without stopping at the first failure
  keywarden.iam.credentials_check:
    path: "{{ item.path }}"
    format: "{{ item.format }}"
    vars_prefix: "{{ item.vars_prefix }}"
  loop: "{{ fleet_credentials_delivered }}"
  loop_control:
    label: "{{ item.path }}"
  register: checks
  ignore_errors: true
"""

RETURN = r"""
verified:
  description: V(true) when IAM accepted the key; V(false) in a failed result.
  returned: always
  type: bool
  sample: true
path:
  description: The file that was checked, as given.
  returned: always
  type: str
  sample: /etc/myapp/iam.env
format:
  description: The file's format, as given.
  returned: always
  type: str
  sample: env
access_key_id:
  description: The access key ID (AK) the file holds. Never the secret.
  returned: success, and on failure once the file was read
  type: str
  sample: HPUAEXAMPLEAK0000001
user_id:
  description:
    - The ID of the key's user, from IAM's answer.
    - From the file when IAM did not say (see the warning), V(null) when neither did.
  returned: success
  type: str
  sample: 07609fb9358010e21f7bc003751c7c32
domain_id:
  description: The account (domain) ID the request was signed for, from the file, or learnt from IAM.
  returned: success
  type: str
  sample: 0970d7b7d400f2470fbec00316a03560
iam_endpoint:
  description: The IAM endpoint that was called.
  returned: success
  type: str
  sample: https://iam.eu-de.otc.t-systems.com
server_time:
  description:
    - The IAM service's clock when it answered (its C(Date) header), ISO 8601 UTC. Compare with the host's clock to
      spot a drift before it reaches the 15 minutes after which IAM refuses signatures.
    - V(null) when the answer carried no C(Date) header.
  returned: success
  type: str
  sample: "2026-03-02T08:00:00Z"
error:
  description: The IAM error that refused the key, when IAM refused it.
  returned: on failure, when IAM answered
  type: dict
  contains:
    error_type:
      description: The error class, such as V(AuthenticationFailed) or V(SignatureExpired).
      type: str
      sample: AuthenticationFailed
    status:
      description: The HTTP status of the answer; V(null) when none came.
      type: int
      sample: 400
    code:
      description: The IAM error code, when the answer carried one.
      type: str
      sample: IAM.1107
    request_id:
      description: The request ID, for the cloud's support.
      type: str
      sample: 3f2a9c1e6b7d4e8f9a0b1c2d3e4f5a6b
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keywarden.iam.plugins.module_utils._connection import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    endpoint_secrets,
)
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import DEFAULT_VARS_PREFIX, FORMATS
from ansible_collections.keywarden.iam.plugins.module_utils._credentials_check import (
    ENDPOINT_OPTIONS,
    VerificationFailed,
    load,
    verify,
)
from ansible_collections.keywarden.iam.plugins.module_utils._endpoints import VENDORS
from ansible_collections.keywarden.iam.plugins.module_utils._module_support import fail_with


def argument_spec() -> dict:
    return {
        "path": {"type": "path", "required": True},
        "format": {"type": "str", "required": True, "choices": list(FORMATS)},
        "vars_prefix": {"type": "str", "default": DEFAULT_VARS_PREFIX},
        "cloud": {"type": "str"},
        "vendor": {"type": "str", "choices": list(VENDORS)},
        "region": {"type": "str"},
        "iam_endpoint": {"type": "str"},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "timeout": {"type": "int", "default": DEFAULT_TIMEOUT},
        "retries": {"type": "int", "default": DEFAULT_RETRIES},
    }


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.no_log_values.update(endpoint_secrets(module.params))
    path, fmt = module.params["path"], module.params["format"]
    result = {"path": path, "format": fmt, "verified": False}
    try:
        creds = load(path, fmt, vars_prefix=module.params["vars_prefix"])
        # Read from the file, not given as an option: Ansible masks it only once told.
        module.no_log_values.update(value for value in (creds.secret_access_key, creds.security_token) if value)
        result["access_key_id"] = creds.access_key_id
        verified = verify(path, fmt, creds, {name: module.params[name] for name in ENDPOINT_OPTIONS})
    except VerificationFailed as error:
        fail_with(module, error, **result)
    for warning in verified.warnings:
        module.warn(warning)
    module.exit_json(changed=False, **verified.result())


if __name__ == "__main__":
    main()
