#!/usr/bin/python
# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: access_key_compliance
short_description: Check IAM access keys against compliance rules and write JSON, CSV and HTML reports
version_added: 0.1.0
description:
  - Reads the permanent access keys of one user, of a list of users or of every user of the account (as
    M(keywarden.iam.access_key_info) does, last use included), evaluates them against five rules, and writes the
    findings as JSON (field names close to OCSF's Compliance Finding), CSV (one row per key) and a self-contained
    HTML page.
  - The five rules mirror AWS Config, Huawei Cloud Config and the CIS benchmarks.
    C(iam-root-access-key-check) (critical) flags any key of the account's root identity.
    C(access-keys-rotated) (high) flags an active key older than O(max_key_age) days.
    C(access-keys-last-use-check) (medium) flags an active key unused for more than O(max_unused_days) days, a key
    never used counting from its creation.
    C(iam-user-single-access-key) (medium) flags the active keys of a user beyond O(max_active_keys), keeping the
    one used most recently.
    C(access-keys-inactive-check) (low) flags an inactive key unused for more than O(max_inactive_days) days.
  - Every threshold is in whole days (rounded down, by the IAM service's clock) and a rule fires when the value is
    strictly greater. With O(max_key_age=90) a key is compliant through its 90th day and flagged from its 91st.
  - Also returns RV(remediation), what enforcement would do to each key with findings so that the next run finds
    none. The C(keywarden.iam.compliance) role carries it out with M(keywarden.iam.access_key).
  - Reports are written where the task runs (normally the controller; see the notes), atomically (a temporary file
    in the same directory, then a rename). A report that is replaced keeps its owner, group and mode; a new one gets
    mode 0666 minus the umask. They hold key metadata only, never a secret.
author:
  - keywarden.iam contributors (@keywarden)
requirements:
  - Where it runs as a module (see the notes), Python 3.8 or later on that host with ansible-core 2.18 and 2.19,
    3.9 or later with ansible-core 2.20 and 2.21 (Python 3.7 fails); in-process on the controller, ansible-core's
    own Python. Nothing beyond ansible-core.
options:
  user_id:
    description:
      - Check the keys of the user with this ID. Without any of O(user_id), O(user_name), O(users), O(user_ids) and
        O(all_users), the calling user's keys are checked.
    type: str
  user_name:
    description:
      - Check the keys of the user with this name (one look-up that needs the right to list users).
    type: str
  users:
    description:
      - Check the keys of the users with these names, resolved with one listing of the account's users. May be given
        together with O(user_ids).
    type: list
    elements: str
  user_ids:
    description:
      - Check the keys of the users with these IDs, taken as given. May be given together with O(users).
    type: list
    elements: str
  all_users:
    description:
      - Check every user of the account (needs the right to list users).
    type: bool
    default: false
  max_workers:
    description:
      - How many users are read at the same time, from 1 to 128.
    type: int
    default: 16
  root_users:
    description:
      - Names or IDs of the users that are the account's root identity, for C(iam-root-access-key-check).
      - The plain IAM user list does not say which user owns the account. Huawei Cloud's user detail does
        (C(is_domain_owner)), and whenever users are listed (O(all_users), O(users)) and the answer carries that field,
        it is used too.
        Name the root user here to be sure (on Huawei Cloud it has the account's name).
    type: list
    elements: str
    default: []
  rules:
    description:
      - The rules to evaluate. The others are reported as not evaluated.
    type: list
    elements: str
    choices: [iam-root-access-key-check, access-keys-rotated, access-keys-last-use-check, iam-user-single-access-key,
              access-keys-inactive-check]
    default: [iam-root-access-key-check, access-keys-rotated, access-keys-last-use-check, iam-user-single-access-key,
              access-keys-inactive-check]
  max_key_age:
    description:
      - C(access-keys-rotated) flags an active key older than this many whole days (AWS Config and CIS use 90).
    type: int
    default: 90
  max_unused_days:
    description:
      - C(access-keys-last-use-check) flags an active key unused for more than this many whole days (CIS uses 45).
    type: int
    default: 45
  max_inactive_days:
    description:
      - C(access-keys-inactive-check) flags an inactive key unused for more than this many whole days.
      - The API records no deactivation time, so the days count from the key's last use (a key cannot be used
        while inactive), or from its creation if it was never used.
    type: int
    default: 30
  max_active_keys:
    description:
      - C(iam-user-single-access-key) flags the active keys of a user beyond this many.
    type: int
    default: 1
  report_json:
    description:
      - Write the JSON report to this path. Its directory must exist.
    type: path
  report_csv:
    description:
      - Write the CSV report (one row per key) to this path. Its directory must exist.
    type: path
  report_html:
    description:
      - Write the HTML report to this path. Its directory must exist.
    type: path
  fail_on_severity:
    description:
      - Fail the task, after writing the reports, when a finding has this severity or a higher one.
      - Without it, findings never fail the task.
    type: str
    choices: [low, medium, high, critical]
  age_remediation:
    description:
      - What RV(remediation) proposes for a key whose only finding is its age.
      - V(deactivate) makes it inactive.
      - V(rotate) replaces it with a new key (M(keywarden.iam.access_key) with
        O(keywarden.iam.access_key#module:rotate=when_older), which needs a credentials file for the new secret) and
        retires the old one.
      - A key with other findings is never rotated, since a new key would bring them back (an unused key's user
        needs no new key, an extra active key is one too many).
    type: str
    choices: [deactivate, rotate]
    default: deactivate
extends_documentation_fragment:
  - keywarden.iam.connection
attributes:
  check_mode:
    support: full
    description: Reads and evaluates as usual, and writes no report; C(changed) says whether a report would change.
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
    runs it in-process on the controller, with the same results as the module, and writes the reports as the
    module would there (the same user, the same umask, the same file modes and owners). There is then no AnsiballZ
    file and no separate Python process, and the options, O(secret_key) among them, are written nowhere, so neither
    C(ANSIBLE_DEBUG) nor C(ANSIBLE_KEEP_REMOTE_FILES) can expose them."
  - In-process, the environment variable fallbacks of the connection options and C(clouds.yaml) are read from the
    controller's environment, home and working directory, as the module would read them over a local connection,
    and a relative report path is taken from the working directory of ansible-playbook. C(become) (another user)
    and a task C(environment) (variables the module would see) make it run the module.
  - Anywhere else (any connection but C(local)) it runs as a module on the host the task targets, like any module;
    the signing credentials travel to that host in the module's arguments, and the reports are written there.
    Delegate the task to C(localhost) to keep the secret key on the controller.
  - A report file is rewritten, and the task reports C(changed), only when what the report says changes. The rules
    count whole days, so time stamps finer than a day do not count (the time the report was made, the minute a key
    was last used). A rerun on the same day that finds the same keys, statuses and findings leaves the files, and
    their time stamps, as they were. A new day changes the keys' ages, and so the reports.
  - RV(remediation) never includes the key the task signs its requests with; it is listed in
    RV(remediation_skipped) instead.
  - Deactivating a key whose last use is already more than O(max_inactive_days) days ago would only turn one finding
    into another (an inactive key lingering), so RV(remediation) deletes such a key instead.
seealso:
  - module: keywarden.iam.access_key_info
  - module: keywarden.iam.access_key
"""

EXAMPLES = r"""
- name: Check every user's keys and write the three reports
  keywarden.iam.access_key_compliance:
    vendor: tcloud
    region: eu-de
    all_users: true
    root_users: [my-account-name]
    report_json: /var/lib/keywarden/access-keys.json
    report_csv: /var/lib/keywarden/access-keys.csv
    report_html: /var/lib/keywarden/access-keys.html
  register: compliance

- name: Stricter thresholds for a few users, failing on anything high or critical
  keywarden.iam.access_key_compliance:
    users: [ci-deployer, backup-agent]
    max_key_age: 60
    max_unused_days: 30
    fail_on_severity: high

- name: Deactivate what the check found (the compliance role does this, and rotation, for you)
  keywarden.iam.access_key:
    user_id: "{{ item.user_id }}"
    access_key_id: "{{ item.access_key_id }}"
    status: inactive
  loop: "{{ compliance.remediation | selectattr('action', 'equalto', 'deactivate') }}"
"""

RETURN = r"""
summary:
  description: Counts of what was checked and found.
  returned: success
  type: dict
  contains:
    users:
      description: Users whose keys were read.
      type: int
    keys:
      description: Keys checked.
      type: int
    active_keys:
      description: Active keys checked.
      type: int
    inactive_keys:
      description: Inactive keys checked.
      type: int
    compliant_keys:
      description: Keys without a finding.
      type: int
    noncompliant_keys:
      description: Keys with at least one finding.
      type: int
    findings:
      description: Findings in all.
      type: int
    by_severity:
      description: Findings per severity (V(informational), V(low), V(medium), V(high), V(critical)).
      type: dict
    by_rule:
      description: Findings per rule ID.
      type: dict
    failures:
      description: Users whose keys could not be read.
      type: int
  sample:
    users: 3
    keys: 4
    active_keys: 4
    inactive_keys: 0
    compliant_keys: 2
    noncompliant_keys: 2
    findings: 4
    by_severity: {informational: 0, low: 0, medium: 2, high: 2, critical: 0}
    by_rule: {access-keys-rotated: 2, access-keys-last-use-check: 1, iam-user-single-access-key: 1,
              access-keys-inactive-check: 0, iam-root-access-key-check: 0}
    failures: 0
findings:
  description: Every finding, most severe first.
  returned: success
  type: list
  elements: dict
  contains:
    rule_id:
      description: The rule, for example V(access-keys-rotated).
      type: str
    title:
      description: The rule's title.
      type: str
    severity:
      description: V(low), V(medium), V(high) or V(critical).
      type: str
    user_id:
      description: The key's user.
      type: str
    user_name:
      description: The key's user's name, when known.
      type: str
    access_key_id:
      description: The key.
      type: str
    key_status:
      description: The key's status.
      type: str
    observed:
      description: The value that broke the rule (days, or a number of keys; see RV(findings[].unit)).
      type: int
    threshold:
      description: The rule's threshold.
      type: int
    unit:
      description: V(days) or V(keys).
      type: str
    message:
      description: The finding in words.
      type: str
  sample:
    - rule_id: access-keys-rotated
      title: Active access keys are rotated
      severity: high
      user_id: 85d9a02248014d4fa4b8d8179ac88fdd
      user_name: alice
      access_key_id: HPUAEXAMPLEAK0000003
      key_status: active
      observed: 130
      threshold: 90
      unit: days
      message: access key HPUAEXAMPLEAK0000003 of alice is 130 days old, more than the 90 allowed
    - rule_id: access-keys-last-use-check
      title: Active access keys are in use
      severity: medium
      user_id: 85d9a02248014d4fa4b8d8179ac88fdd
      user_name: alice
      access_key_id: HPUAEXAMPLEAK0000003
      key_status: active
      observed: 125
      threshold: 45
      unit: days
      message: access key HPUAEXAMPLEAK0000003 of alice has not been used for 125 days, more than the 45 allowed
remediation:
  description: What enforcement would do, one entry per key with findings, so that the next run finds none.
  returned: success
  type: list
  elements: dict
  contains:
    user_id:
      description: The key's user.
      type: str
    user_name:
      description: The key's user's name, when known.
      type: str
    access_key_id:
      description: The key.
      type: str
    action:
      description: V(deactivate), V(delete) or V(rotate).
      type: str
    rule_ids:
      description: The rules the key breaks.
      type: list
      elements: str
    reason:
      description: Why this action.
      type: str
    old_key:
      description: For V(rotate), what becomes of the replaced key (V(deactivate) or V(delete)); else V(null).
      type: str
  sample:
    - user_id: 85d9a02248014d4fa4b8d8179ac88fdd
      user_name: alice
      access_key_id: HPUAEXAMPLEAK0000003
      action: delete
      rule_ids: [access-keys-rotated, access-keys-last-use-check]
      reason: "unused for 125 days: deactivating it would leave a lingering inactive key"
      old_key: null
remediation_skipped:
  description: Keys with findings that enforcement must leave alone (the key this task signs with), and why.
  returned: success
  type: list
  elements: dict
  contains:
    user_id:
      description: The key's user.
      type: str
    user_name:
      description: The key's user's name, when known.
      type: str
    access_key_id:
      description: The key.
      type: str
    rule_ids:
      description: The rules the key breaks.
      type: list
      elements: str
    reason:
      description: Why enforcement leaves it alone.
      type: str
  sample:
    - user_id: abec98cc05f54ff1bd2e5d6067f36620
      user_name: audit-bot
      access_key_id: HPUAEXAMPLEAK0000009
      rule_ids: [access-keys-rotated]
      reason: "this run signs its requests with this key; change it from another identity"
reports:
  description: The report paths, V(null) for a format not asked for.
  returned: success
  type: dict
  contains:
    json:
      description: The JSON report's path.
      type: str
    csv:
      description: The CSV report's path.
      type: str
    html:
      description: The HTML report's path.
      type: str
  sample:
    json: /var/lib/keywarden/access-keys.json
    csv: /var/lib/keywarden/access-keys.csv
    html: null
access_keys:
  description: Every key checked, as RV(keywarden.iam.access_key_info#module:access_keys) returns them.
  returned: success
  type: list
  elements: dict
  sample:
    - access_key_id: HPUAEXAMPLEAK0000003
      user_id: 85d9a02248014d4fa4b8d8179ac88fdd
      user_name: alice
      status: active
      created: "2025-10-23T07:41:02.000000Z"
      last_used: "2025-10-28T16:03:51.000000Z"
      age_days: 130
      days_since_last_use: 125
      never_used: false
      description: old ci
users:
  description: Every user checked, as RV(keywarden.iam.access_key_info#module:users) returns them.
  returned: success
  type: list
  elements: dict
  sample:
    - user_id: 85d9a02248014d4fa4b8d8179ac88fdd
      user_name: alice
      root: false
      access_keys:
        - access_key_id: HPUAEXAMPLEAK0000003
          user_id: 85d9a02248014d4fa4b8d8179ac88fdd
          user_name: alice
          status: active
          created: "2025-10-23T07:41:02.000000Z"
          last_used: "2025-10-28T16:03:51.000000Z"
          age_days: 130
          days_since_last_use: 125
          never_used: false
          description: old ci
failures:
  description:
    - The users whose keys could not be read, and why; they were not evaluated.
    - Each as in RV(keywarden.iam.access_key_info#module:failures), with C(user_id), C(user_name), C(msg) and
      C(error).
  returned: success
  type: list
  elements: dict
  sample:
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
      sample: Forbidden
    status:
      description:
        - The HTTP status of the error answer.
        - V(null) when no HTTP error came back, such as a name that no user has (the user list was read) or a
          connection that failed.
      returned: on an API failure
      type: int
      sample: 403
    code:
      description: The IAM error code, such as V(IAM.0002), when the answer carried one.
      returned: on an API failure
      type: str
      sample: IAM.0002
    request_id:
      description: The request ID, for the cloud's support, when the answer carried one.
      returned: on an API failure
      type: str
      sample: 1b9e6a0c8d2f4e7a9c3b5d1f0e2a4c6b
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keywarden.iam.plugins.module_utils._access_key_compliance_run import (
    MUTUALLY_EXCLUSIVE,
    argument_spec,
    run_access_key_compliance,
)
from ansible_collections.keywarden.iam.plugins.module_utils._audit_task import exit_module


def main() -> None:
    # The logic is in module_utils/_access_key_compliance_run.py, which the action plugin runs
    # in-process on the controller whenever the task runs there anyway; see
    # plugins/action/access_key_compliance.py.
    module = AnsibleModule(argument_spec=argument_spec(), mutually_exclusive=MUTUALLY_EXCLUSIVE,
                           supports_check_mode=True)
    exit_module(module, run_access_key_compliance(module.params, module))


if __name__ == "__main__":
    main()
