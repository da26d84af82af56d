#!/usr/bin/python
# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: access_key_info
short_description: List an IAM user's permanent access keys on Huawei Cloud or T Cloud Public
version_added: 0.1.0
description:
  - Lists the permanent access keys (AK/SK) of one IAM user, oldest first, with their status, creation time,
    age and description. Secrets are never returned, since the cloud shows a secret key only once, when it is
    created.
  - Without O(user_id) or O(user_name), lists the keys of the calling user.
author:
  - keywarden.iam contributors (@keywarden)
options:
  user_id:
    description:
      - The ID of the IAM user whose keys to list. Managing another user's keys needs the Security Administrator
        role or the C(iam:credentials:listCredentials) action.
    type: str
  user_name:
    description:
      - The name of the IAM user whose keys to list; looked up with one extra request that needs the right to list
        users. Mutually exclusive with O(user_id).
    type: str
extends_documentation_fragment:
  - keywarden.iam.connection
attributes:
  check_mode:
    support: full
    description: The module only reads, so it runs normally in check mode.
"""

EXAMPLES = r"""
- name: List my own access keys
  keywarden.iam.access_key_info:
    cloud: tcloud
    region: eu-de
  register: mine

- name: List another user's keys (needs the Security Administrator role)
  keywarden.iam.access_key_info:
    user_name: ci-deployer
  register: deployer_keys
"""

RETURN = r"""
user_id:
  description: The ID of the user whose keys were listed.
  returned: success
  type: str
  sample: 07609fb9358010e21f7bc003751c7c32
access_keys:
  description: The user's permanent access keys, oldest first. Never includes a secret.
  returned: success
  type: list
  elements: dict
  contains:
    access_key_id:
      description: The access key ID (AK).
      type: str
      sample: HPUAEXAMPLEAK0000001
    user_id:
      description: The ID of the key's user.
      type: str
    status:
      description: V(active) or V(inactive).
      type: str
    created:
      description: When the key was created, UTC, ISO 8601.
      type: str
      sample: "2026-01-08T06:25:19.014028Z"
    age_days:
      description: Whole days since the key was created, by the IAM service's clock.
      type: int
    description:
      description: The key's description.
      type: str
"""

from ansible_collections.keywarden.iam.plugins.module_utils._errors import IamError
from ansible_collections.keywarden.iam.plugins.module_utils._identity import resolve_user_id
from ansible_collections.keywarden.iam.plugins.module_utils._module_support import client_for, fail_with, iam_module
from ansible_collections.keywarden.iam.plugins.module_utils._results import keys_summary


def main() -> None:
    module = iam_module(
        {"user_id": {"type": "str"}, "user_name": {"type": "str"}},
        mutually_exclusive=[("user_id", "user_name")],
        supports_check_mode=True,
    )
    client = client_for(module)
    try:
        user_id = resolve_user_id(client, user_id=module.params["user_id"], user_name=module.params["user_name"])
        keys = client.list_keys(user_id)
    except IamError as error:
        fail_with(module, error)
    module.exit_json(changed=False, user_id=user_id, access_keys=keys_summary(keys, client.server_now()))


if __name__ == "__main__":
    main()
