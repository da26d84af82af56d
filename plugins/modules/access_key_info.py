#!/usr/bin/python
# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: access_key_info
short_description: List IAM users' permanent access keys on Huawei Cloud or T Cloud Public
version_added: 0.1.0
description:
  - Lists the permanent access keys (AK/SK) of one IAM user, of a list of users, or of every user of the account,
    oldest first, with their status, creation time, last use, age, days since last use and description. Secrets
    are never returned, since the cloud shows a secret key only once, when it is created.
  - Without O(user_id), O(user_name), O(users), O(user_ids) or O(all_users), lists the keys of the calling user.
  - The last use of a key is only returned by the API's single-key call, so O(last_used=true) costs one extra request
    per key. Many users are read at once, at most O(max_workers) at a time, sharing one back-off when the API
    throttles.
  - A user whose keys cannot be read (no permission, no such user) is reported in RV(failures) and the others are
    still listed. The task fails only when no user could be read.
  - Ages are measured against the IAM service's clock (the C(Date) header of its answers), the clock that stamped
    the keys.
author:
  - keywarden.iam contributors (@keywarden)
requirements:
  - Where it runs as a module (see the notes), Python 3.8 or later on that host with ansible-core 2.18 and 2.19,
    3.9 or later with ansible-core 2.20 and 2.21 (Python 3.7 fails); in-process on the controller, ansible-core's
    own Python. Nothing beyond ansible-core.
options:
  user_id:
    description:
      - The ID of the IAM user whose keys to list. Managing another user's keys needs the Security Administrator
        role or the C(iam:credentials:listCredentials) action.
      - Mutually exclusive with O(user_name), O(users), O(user_ids) and O(all_users).
    type: str
  user_name:
    description:
      - The name of the IAM user whose keys to list; looked up with one extra request that needs the right to list
        users. Mutually exclusive with O(user_id), O(users), O(user_ids) and O(all_users).
    type: str
  users:
    description:
      - The names of several users whose keys to list, resolved with one listing of the account's users (which needs
        the right to list users). May be given together with O(user_ids).
      - Mutually exclusive with O(user_id) and O(user_name).
    type: list
    elements: str
    version_added: 0.1.0
  user_ids:
    description:
      - The IDs of several users whose keys to list, taken as given (no listing needed). May be given together with
        O(users).
      - Mutually exclusive with O(user_id) and O(user_name).
    type: list
    elements: str
    version_added: 0.1.0
  all_users:
    description:
      - List the keys of every user of the account. Needs the right to list users (Security Administrator or
        C(iam:users:listUsers)); the task fails when the user list cannot be read.
      - Cannot be V(true) together with O(user_id), O(user_name), O(users) or O(user_ids).
    type: bool
    default: false
    version_added: 0.1.0
  last_used:
    description:
      - Read each key's last use (one request per key). Without it RV(access_keys[].last_used),
        RV(access_keys[].days_since_last_use) and RV(access_keys[].never_used) are V(null).
    type: bool
    default: true
    version_added: 0.1.0
  max_workers:
    description:
      - How many users are read at the same time, from 1 to 128.
    type: int
    default: 16
    version_added: 0.1.0
  root_users:
    description:
      - Names or IDs of users to mark as the account's root identity in RV(users[].root).
      - The user list of Huawei Cloud may say which user owns the account (C(is_domain_owner)); that is used
        whenever users are listed (O(all_users), O(users)) and the answer carries it. This option covers the clouds
        and calls that do not say.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
extends_documentation_fragment:
  - keywarden.iam.connection
attributes:
  check_mode:
    support: full
    description: The module only reads, so it runs normally in check mode.
  action:
    support: full
    description: Runs in-process on the controller through its action plugin when the task runs there anyway;
      elsewhere the action plugin runs the module on the target host (see the notes).
  async:
    support: full
    description: An async task always runs the module.
notes:
  - "Where it runs. When the task runs on the controller over a local connection (C(hosts: localhost), or
    C(delegate_to: localhost)), without C(become), without C(environment) (on the task, its block or play) and not
    C(async), its action plugin
    runs it in-process on the controller, with the same results as the module. There is then no AnsiballZ file and
    no separate Python process per task (or per loop item), and the options, O(secret_key) among them, are written
    nowhere, so neither C(ANSIBLE_DEBUG) nor C(ANSIBLE_KEEP_REMOTE_FILES) can expose them."
  - In-process, the environment variable fallbacks of the connection options and C(clouds.yaml) are read from the
    controller's environment, home and working directory, as the module would read them over a local connection.
    C(become) (another user) and a task C(environment) (variables the module would see) make it run the module.
  - Anywhere else (any connection but C(local)) it runs as a module on the host the task targets, like any module,
    and the signing credentials travel to that host in the module's arguments. Delegate the task to C(localhost)
    to keep the secret key on the controller.
  - A key that was never used reports its creation time as its last use, which is how the API says "never". Such a
    key has RV(access_keys[].never_used=true), and its days since last use count from its creation.
seealso:
  - module: keywarden.iam.access_key_compliance
  - module: keywarden.iam.access_key
"""

EXAMPLES = r"""
- name: List my own access keys
  keywarden.iam.access_key_info:
    vendor: tcloud
    region: eu-de
  register: mine

- name: List another user's keys (needs the Security Administrator role)
  keywarden.iam.access_key_info:
    user_name: ci-deployer
  register: deployer_keys

- name: List the keys of a few users, by name and by ID
  keywarden.iam.access_key_info:
    users: [ci-deployer, backup-agent]
    user_ids: [07609fb9358010e21f7bc003751c7c32]
  register: some_keys

- name: Audit every user of the account
  keywarden.iam.access_key_info:
    all_users: true
    max_workers: 16
  register: every_key

- name: Show the keys nobody ever used
  ansible.builtin.debug:
    msg: "{{ every_key.access_keys | selectattr('never_used') | map(attribute='access_key_id') | list }}"
"""

RETURN = r"""
user_id:
  description: The ID of the user whose keys were listed, when the task named one user (or none, for the caller).
  returned: success, when none of O(users), O(user_ids) and O(all_users) was given
  type: str
  sample: 07609fb9358010e21f7bc003751c7c32
access_keys:
  description: The keys of every user read, user by user, each user's oldest first. Never includes a secret.
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
      sample: 07609fb9358010e21f7bc003751c7c32
    user_name:
      description: The name of the key's user, when the task knows it (given by name, or read by listing users).
      type: str
      sample: ci-deployer
    status:
      description: V(active) or V(inactive).
      type: str
      sample: active
    created:
      description: When the key was created, UTC, ISO 8601.
      type: str
      sample: "2026-01-08T06:25:19.014028Z"
    last_used:
      description: When the key was last used, UTC, ISO 8601. Equal to RV(access_keys[].created) for a key never
        used. V(null) with O(last_used=false).
      type: str
      sample: "2026-03-01T10:00:00.000000Z"
    age_days:
      description: Whole days since the key was created, by the IAM service's clock.
      type: int
      sample: 53
    days_since_last_use:
      description: Whole days since the key was last used (since its creation if never used). V(null) with
        O(last_used=false).
      type: int
      sample: 1
    never_used:
      description: Whether the key was never used. V(null) with O(last_used=false).
      type: bool
      sample: false
    description:
      description: The key's description.
      type: str
      sample: deploy pipeline
  sample:
    - access_key_id: HPUAEXAMPLEAK0000001
      user_id: 07609fb9358010e21f7bc003751c7c32
      user_name: ci-deployer
      status: active
      created: "2026-01-08T06:25:19.014028Z"
      last_used: "2026-03-01T10:00:00.000000Z"
      age_days: 53
      days_since_last_use: 1
      never_used: false
      description: deploy pipeline
    - access_key_id: HPUAEXAMPLEAK0000002
      user_id: 07609fb9358010e21f7bc003751c7c32
      user_name: ci-deployer
      status: inactive
      created: "2025-10-02T09:12:44.000000Z"
      last_used: "2025-10-02T09:12:44.000000Z"
      age_days: 151
      days_since_last_use: 151
      never_used: true
      description: ""
users:
  description: Every user read, with their keys.
  returned: success
  type: list
  elements: dict
  contains:
    user_id:
      description: The user's ID.
      type: str
      sample: 07609fb9358010e21f7bc003751c7c32
    user_name:
      description: The user's name, when known.
      type: str
      sample: ci-deployer
    root:
      description: Whether the user is the account's root identity (see O(root_users)).
      type: bool
      sample: false
    access_keys:
      description: The user's keys, oldest first, as in RV(access_keys).
      type: list
      elements: dict
  sample:
    - user_id: 07609fb9358010e21f7bc003751c7c32
      user_name: ci-deployer
      root: false
      access_keys:
        - access_key_id: HPUAEXAMPLEAK0000001
          user_id: 07609fb9358010e21f7bc003751c7c32
          user_name: ci-deployer
          status: active
          created: "2026-01-08T06:25:19.014028Z"
          last_used: "2026-03-01T10:00:00.000000Z"
          age_days: 53
          days_since_last_use: 1
          never_used: false
          description: deploy pipeline
failures:
  description: The users whose keys could not be read, and why. The other users are still listed.
  returned: success
  type: list
  elements: dict
  contains:
    user_id:
      description: The user's ID, as the task gave it or as the user list gave it for a name; V(null) for a name
        that no user has.
      type: str
      sample: 5c1f0f3b7e2a4d1c9b8a7d6e5f4a3b2c
    user_name:
      description: The user's name, when known.
      type: str
      sample: backup-agent
    msg:
      description: What went wrong and what to do.
      type: str
    error:
      description: The error's type, HTTP status, error code and request ID, as in RV(error).
      type: dict
  sample:
    - user_id: 5c1f0f3b7e2a4d1c9b8a7d6e5f4a3b2c
      user_name: backup-agent
      msg: >-
        Failed to list the access keys of user 5c1f0f3b7e2a4d1c9b8a7d6e5f4a3b2c: the caller is not allowed to do
        this (HTTP 403 IAM.0002: You are not authorized (request id 1b9e6a0c8d2f4e7a9c3b5d1f0e2a4c6b)). Managing
        another user's access keys needs the Security Administrator role or the actions
        iam:credentials:listCredentials, getCredential, createCredential, updateCredential and deleteCredential.
        If the account's console switch 'Access Key Management' (Security Settings > Critical Operations) is
        enabled, only an administrator can manage access keys, even a user's own.
      error:
        error_type: Forbidden
        status: 403
        code: IAM.0002
        request_id: 1b9e6a0c8d2f4e7a9c3b5d1f0e2a4c6b
    - user_id: null
      user_name: backup-agnet
      msg: >-
        Failed to find IAM user 'backup-agnet': no user has that name in this account. Check the spelling (user
        names are case-sensitive) and that the user belongs to this account, or name the user by user_id.
      error:
        error_type: NotFound
        status: null
        code: null
        request_id: null
now:
  description: The IAM service's time the ages were measured against, UTC, ISO 8601.
  returned: success
  type: str
  sample: "2026-03-02T08:00:00.000000Z"
error:
  description: Details of the IAM API error that failed the task (when no user at all could be read).
  returned: on an API failure
  type: dict
  contains:
    error_type:
      description: The error class, such as V(Forbidden), V(NotFound) or V(AuthenticationFailed).
      returned: on an API failure
      type: str
      sample: AuthenticationFailed
    status:
      description:
        - The HTTP status of the error answer.
        - V(null) when no HTTP error came back, such as a name that no user has (the user list was read) or a
          connection that failed.
      returned: on an API failure
      type: int
      sample: 401
    code:
      description: The IAM error code, such as V(IAM.0002), when the answer carried one.
      returned: on an API failure
      type: str
      sample: APIGW.0301
    request_id:
      description: The request ID, for the cloud's support, when the answer carried one.
      returned: on an API failure
      type: str
      sample: 3f2a9c1e6b7d4e8f9a0b1c2d3e4f5a6b
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keywarden.iam.plugins.module_utils._access_key_info_run import (
    MUTUALLY_EXCLUSIVE,
    argument_spec,
    run_access_key_info,
)
from ansible_collections.keywarden.iam.plugins.module_utils._audit_task import exit_module


def main() -> None:
    # The logic is in module_utils/_access_key_info_run.py, which the action plugin runs in-process
    # on the controller whenever the task runs there anyway; see plugins/action/access_key_info.py.
    module = AnsibleModule(argument_spec=argument_spec(), mutually_exclusive=MUTUALLY_EXCLUSIVE,
                           supports_check_mode=True)
    exit_module(module, run_access_key_info(module.params, module))


if __name__ == "__main__":
    main()
