#!/usr/bin/python
# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: access_key
short_description: Manage and rotate IAM permanent access keys on Huawei Cloud and T Cloud Public
version_added: 0.1.0
description:
  - Declares which permanent access keys (AK/SK) an IAM user holds, and makes it so idempotently. Creates, rotates,
    enables, disables and deletes keys.
  - Rotates by age (O(rotate=when_older)) or on demand (O(rotate=always)) without ever hitting the cloud's limit
    of two keys per user. When a new key is needed and the user already holds two, one key is retired first, and
    only one that is safe to retire (see O(make_room)). The key this task signs with, and the key being replaced
    (before its replacement is stored and verified), are never retired to make room. If no key is safe to retire,
    the task fails before any change and names each key with its age and last use.
  - The cloud shows a secret key only once, when the key is created. The new secret goes straight into
    O(credentials_file), encrypted with the playbook's own Ansible vault secrets, and is never shown in the task
    result, in logs or at any verbosity. The order loses nothing. Preflight (vault secret, destination, identity and
    permissions), then the rotation is recorded in a journal beside the file, then make room, create, write the file
    atomically (the secret reaches the disk before anything else happens), verify the new key, retire the old one,
    and close the journal.
  - Nothing is lost when a run is interrupted, even by SIGKILL. The journal C(.<file>.journal) is written and
    flushed to disk before the create, and holds no secret. The next run of the task (or any run for the same user
    and file) settles an unfinished rotation first. A new key whose secret reached the file is adopted and verified,
    and the old key retired. A new key whose secret never reached the file is deleted. A half-done retirement is
    finished. Until then the file's previous version is kept beside it as C(.<file>.previous).
  - A run that changes nothing does not decrypt the file. Beside it, C(.<file>.fingerprint) (mode 0600, no secret)
    records the SHA-256 of the file's exact bytes, its format, and the access key, user and account it holds. While
    the bytes hash the same, the file holds what was recorded. A file changed in any way (edited, rekeyed, restored)
    is decrypted as before. A rotation decrypts a file only when it must keep other content in it, or when it did
    not write the file itself. So a run that changes nothing does not notice a vault password that no longer opens
    the file; C(ansible-vault view) does.
  - While the process lives, failures are undone at once. If storing the secret fails, the new key is deleted again.
    If the new key does not work, the file is put back and the new key deleted. If a create's answer is lost, the
    key that create made is found by listing (only a key this rotation provably made), deleted, and the create
    tried once more.
  - This module runs on the controller through its action plugin, where the vault secrets live, whatever host the
    task targets. Environment variable fallbacks are read on the controller.
author:
  - keywarden.iam contributors (@keywarden)
options:
  user_id:
    description:
      - The ID of the IAM user whose keys to manage. Without O(user_id) or O(user_name), the calling user's own keys.
      - Managing another user's keys needs the Security Administrator role or the C(iam:credentials:*) actions.
    type: str
  user_name:
    description:
      - The name of the IAM user whose keys to manage, looked up with one request that needs the right to list
        users. Mutually exclusive with O(user_id).
    type: str
  users:
    description:
      - Batch mode. The names of many IAM users whose keys to manage in one task, concurrently (see O(max_workers)),
        each with the same safety order as a single user. Names are resolved with one listing of the account's users.
      - A user that fails is reported in RV(results) without stopping the others; the task then fails at the end,
        with a summary.
      - O(credentials_file) must then name each user's own file with C({user_name}) or C({user_id}), which the module
        replaces (Ansible leaves these single braces alone).
      - Mutually exclusive with O(user_id), O(user_name) and O(access_key_id).
    type: list
    elements: str
  user_ids:
    description:
      - Batch mode, like O(users), by user ID (no listing needed). Both may be given together.
    type: list
    elements: str
  max_workers:
    description:
      - In batch mode, how many users are handled at once (1 to 128). All share one connection setup and one
        throttle gate, so when the API throttles one of them (HTTP 429), all of them back off.
      - The default suits a controller with two cores. Each thread has at most one request in flight, so a batch
        sends about O(max_workers) divided by the round-trip time requests per second; keep that under the cloud's
        rate limit. More helps only while the controller has CPU to spare; see the rotation guide.
    type: int
    default: 16
  state:
    description:
      - V(present) makes sure the key (or the user's key in O(credentials_file)) exists, creating or rotating one
        as needed.
      - V(absent) deletes O(access_key_id), or, without it, every key of the user. Deleting every key of the user
        whose key signs this task is refused; name the keys instead.
      - O(credentials_file) is ignored when O(state=absent); the file is left as it is.
    type: str
    choices: [present, absent]
    default: present
  access_key_id:
    description:
      - One specific access key to manage (its O(status), O(description), or deletion with O(state=absent)).
      - Without it, the task manages the key held in O(credentials_file), else the user's keys as a set.
      - Cannot be combined with rotation, because a rotated key is replaced and a rerun would rotate it again.
    type: str
  status:
    description:
      - V(active) or V(inactive). Applies to O(access_key_id), else to the key in O(credentials_file), else to every
        key of the user (so V(inactive) disables them all; refused when that would include the key this task signs
        with). Left as it is when not set. A new key always starts active.
    type: str
    choices: [active, inactive]
  description:
    description:
      - The key's description, at most 255 characters. Applies like O(status). A rotated key's description carries
        over to its replacement unless this is set.
    type: str
  rotate:
    description:
      - V(never) creates a key only when O(credentials_file) holds none that still exists.
      - V(when_older) also replaces the key when it is older than O(max_age) whole days (strictly older, so a key
        O(max_age) days and 23 hours old is kept).
      - V(always) replaces the key on every run (on-demand rotation; not idempotent by design).
    type: str
    choices: [never, always, when_older]
    default: never
  max_age:
    description:
      - The age in days after which O(rotate=when_older) replaces a key (1 to 36500). Required with
        O(rotate=when_older).
      - Ages are whole days by the cloud's clock (the C(Date) header of its answers), rounded down, as the
        key-age rule of M(keywarden.iam.access_key_compliance) counts them. A key is replaced from its day
        O(max_age) + 1 on.
    type: int
  old_key:
    description:
      - What becomes of the key a rotation replaces.
      - V(deactivate) (the default) makes it inactive, a grace period during which it can be re-enabled by hand;
        the next rotation deletes it to make room.
      - V(delete) deletes it once the new key is stored and verified.
      - V(keep) leaves it active. At the two-key limit a rotation with V(keep) may find nothing safe to retire
        and fail.
      - V(pending) leaves it active and records it in the journal as pending retirement, with the file's previous
        version, for a zero-downtime rotation across a fleet. Deliver the new key to its consumers; then a later task
        with O(retire_pending) retires the old key once nobody uses it, or rolls the rotation back.
    type: str
    choices: [keep, deactivate, delete, pending]
    default: deactivate
  retire_pending:
    description:
      - What to do with the key an earlier rotation of this O(credentials_file) left pending retirement
        (O(old_key=pending)). The result's RV(pending_retirement) says what became of it and why.
      - V(never) (the default) leaves it and reports it.
      - V(when_unused) deactivates it once its last use (the show API's C(last_use_time)) is before O(unused_since)
        and O(quiet_period) seconds have passed since then by the cloud's clock, so that the cloud's delayed last-use
        data has caught up. If it was used after O(unused_since), it stays active and the result says since when it
        is still in use. Run it as often as you like, or in a loop with C(until), until it is retired.
      - V(now) deactivates it, whoever still uses it.
      - An inactive pending key is deleted once O(grace_period) days have passed since it was deactivated, which
        ends the pending retirement; with O(grace_period=0) it is deleted at once instead of deactivated.
      - V(rollback) puts the previous credentials file back (it holds the pending key, which is reactivated if it
        was deactivated) and deletes the key the rotation made. Re-deliver the old key to its consumers first. A
        task that rolls back must not rotate (O(rotate=never), the default), because it would rotate the old key
        away again.
      - The old key is never retired or deleted while the key that replaced it is not an active key in the file,
        while another credentials file on this controller holds it, nor while the task names it (O(access_key_id))
        with O(status=active) (the result says C(blocked) and why). A rollback that would delete a new key another
        credentials file holds is refused.
      - A credentials file that holds the pending key again though no rollback began (put back by hand, from a
        backup) keeps both keys, whatever O(retire_pending) says short of V(rollback), because the new key may
        already be in use where it was delivered. The result says C(blocked) and how to go on. A rollback
        interrupted after putting the file back is finished by the next run (the rotation journal records that it
        began).
    type: str
    choices: [never, when_unused, now, rollback]
    default: never
  unused_since:
    description:
      - With O(retire_pending=when_unused), the time (ISO 8601, UTC, such as V(2026-11-26T09:30:00Z)) after which the
        pending key must not have been used, typically when the last consumer switched to the new key. By default,
        when the key became pending.
    type: str
  quiet_period:
    description:
      - With O(retire_pending=when_unused), seconds that must pass after O(unused_since) before the pending key's
        last use is trusted (0 to 86400). The cloud updates the last use with a delay; keep a margin.
    type: int
    default: 900
  grace_period:
    description:
      - Days a retired pending key stays inactive before it is deleted (0 to 3650); 0 deletes it at once.
    type: int
    default: 7
  make_room:
    description:
      - Which key may be deleted when the user already holds two keys and a new one is needed. Whatever the choice,
        never the key this task signs with, never the key being replaced (it is retired only once its replacement is
        stored and verified), and never an active key created in the last ten minutes, which another run (on another
        controller, where no lock reaches) may still be storing.
      - V(idle) (the default) deletes the oldest inactive key, else the oldest active key whose last use (the show
        API's C(last_use_time); a key never used counts from its creation) is at least O(idle_days) days ago and
        that no other credentials file known to this controller holds. A key used yesterday by someone's laptop is
        kept.
      - V(oldest) deletes the oldest inactive key, else the oldest key not in use by this task, whatever its last
        use and whichever file holds it.
      - V(inactive) deletes only an inactive key.
      - When no key may go, the task fails before any change, naming each key with its status, age, last use and
        why it is kept, and the way out.
    type: str
    choices: [idle, oldest, inactive]
    default: idle
  idle_days:
    description:
      - With O(make_room=idle), how many whole days since its last use make an active key safe to delete (0 to
        3650). Last use is reported by the cloud with a delay, so keep a margin.
    type: int
    default: 7
  allow_self_lockout:
    description:
      - Deactivating or deleting the key this task signs with (by O(access_key_id), or with O(status=inactive) or
        O(state=absent) on every key of the user) locks the task, and every later task that uses the key, out. It is
        refused before any change unless this is V(true).
      - Retiring the signing key at the end of a self-rotation needs no such permission, since the new key is
        verified first and signs the remaining requests.
    type: bool
    default: false
  verify:
    description:
      - Before anything is retired, prove that the new key works by signing a harmless read (listing its own
        keys) with it, retrying authentication failures for up to O(verify_timeout) seconds while the new key
        propagates. If it never works, the file is put back and the new key deleted.
    type: bool
    default: true
  verify_timeout:
    description:
      - Seconds to keep retrying the new key's check (0 to 3600).
    type: int
    default: 60
  credentials_file:
    description:
      - Path on the controller of the file that receives a new key's secret, vault-encrypted with the playbook's
        vault secret (see O(vault_id)), written atomically (a temporary file in the same directory, 0600 from the
        first byte, fsync, rename).
      - Its current content is what the task keeps. Whether it is up to date is judged by decrypting and comparing,
        never by the ciphertext, so an unchanged file is not rewritten.
      - Only the key's own fields change. Other variables of a yaml vars file (and its comments), other settings of
        an obsutil config, other lines of an env file and other options and sections of an SDK profile are kept as
        they are; a yaml write is checked with a YAML loader and refused if any other variable would change.
      - A file that holds another user's key is refused. The env, sdk_profile and obsutil formats record the user
        and account in comment lines; a key that is missing from the user's list is looked up with the show API
        before it is called gone.
      - The path must be a regular file or not exist yet. A symlink is followed only when the link and its target
        belong to the user running Ansible (or root) and no directory on the way is writable by others without the
        sticky bit; devices, FIFOs and files of other users are refused. A world-writable directory draws a warning.
      - An existing file that is not vault-encrypted, or that no loaded vault secret opens, is refused before any
        API call and left untouched.
      - Needed (or O(return_secret)) whenever a new key may be created; without a destination the task refuses to
        create a key, because nobody would hold its secret.
    type: path
  credentials_format:
    description:
      - The format of O(credentials_file).
      - V(yaml) is a vars file for C(include_vars), C(group_vars) or C(host_vars), with the variables
        C(<vars_prefix>access_key), C(<vars_prefix>secret_key), C(<vars_prefix>user_id) and more.
      - V(csv) is the console's C(credentials.csv) (columns C(User Name), C(Access Key Id), C(Secret Access Key)).
      - V(env) is an environment file with C(HUAWEICLOUD_SDK_AK) and C(HUAWEICLOUD_SDK_SK), readable by a shell and
        by systemd's C(EnvironmentFile).
      - V(sdk_profile) is the C(huaweicloudsdkcore) credentials profile (C(~/.huaweicloud/credentials)).
      - V(obsutil) is an obsutil configuration (C(~/.obsutilconfig)) with C(ak) and C(sk).
    type: str
    choices: [csv, yaml, env, sdk_profile, obsutil]
    default: yaml
  return_secret:
    description:
      - Also return a new key's secret in the result, as a vault-encrypted value (C(!vault)) that later tasks can
        use like a plain variable. The secret is never returned in plain text.
    type: bool
    default: false
extends_documentation_fragment:
  - keywarden.iam.connection
  - keywarden.iam.vaulted_file
attributes:
  check_mode:
    support: full
    description: Reports exactly what would be created, deactivated and deleted, and whether the file would change,
      with no API write and no file write.
  diff_mode:
    support: full
    description: Shows the user's keys before and after (ids, status, created, age) and the file's path. Never a secret.
  action:
    support: full
    description: Runs on the controller through its action plugin.
notes:
  - Self-rotation is supported. When the key this task signs with is the one being replaced, the new key is stored
    and verified first, and the remaining steps are signed with the new key.
  - A failure after the new key is stored and verified (retiring the old key) leaves both keys active, says so and
    keeps the journal open, so that the next run finishes the retirement.
  - Two runs working on the same O(credentials_file) at the same time do not race. Each holds an exclusive lock on a
    hidden C(.<name>.lock) file beside the real file (two symlinks to one file share it) from its first read to its
    last write, so the second run waits (up to five minutes) and then sees what the first one wrote; it converges,
    or, with O(rotate=always), rotates once more.
  - Runs on one controller that manage the same IAM user, whatever their files, wait for each other too, on a lock
    in the controller's state directory (C(~/.ansible/keywarden), or C($ANSIBLE_HOME/keywarden)). The directory also
    records which file holds which key of the user, so that a run never deletes a key another file holds, and
    never reconciles another run's new key away as its own.
  - Across controllers no lock reaches. There, an active key created in the last ten minutes is never deleted to
    make room, since another run may still be storing it; the task fails and says so instead.
seealso:
  - module: keywarden.iam.access_key_info
"""

EXAMPLES = r"""
- name: Rotate the deployer's key every 90 days into group_vars (vault-encrypted)
  keywarden.iam.access_key:
    vendor: tcloud
    region: eu-de
    user_name: ci-deployer
    rotate: when_older
    max_age: 90
    credentials_file: "{{ inventory_dir }}/group_vars/deployers/iam_credentials.yml"
    credentials_format: yaml
    vars_prefix: deployer_
  run_once: true

- name: Self-rotation - rotate the very key this playbook runs with
  # group_vars/all/iam_credentials.yml holds iam_access_key and iam_secret_key, written by this same task.
  keywarden.iam.access_key:
    access_key: "{{ iam_access_key }}"
    secret_key: "{{ iam_secret_key }}"
    rotate: when_older
    max_age: 90
    old_key: deactivate
    credentials_file: "{{ inventory_dir }}/group_vars/all/iam_credentials.yml"
  run_once: true

- name: An administrator rotates several users, one vaulted file each
  keywarden.iam.access_key:
    user_name: "{{ item }}"
    rotate: when_older
    max_age: 90
    credentials_file: "{{ playbook_dir }}/credentials/{{ item }}.csv"
    credentials_format: csv
    backup: true
  loop: [alice, bob, carol]
  run_once: true

- name: An administrator rotates a whole team in one task, concurrently, one vaulted host_vars file each
  keywarden.iam.access_key:
    users: "{{ groups['developers'] }}"
    rotate: when_older
    max_age: 90
    credentials_file: "{{ inventory_dir }}/host_vars/{user_name}/iam_credentials.yml"
  run_once: true
  register: team

- name: Disable one key
  keywarden.iam.access_key:
    user_name: alice
    access_key_id: HPUAEXAMPLEAK0000001
    status: inactive

- name: Delete it once nobody missed it
  keywarden.iam.access_key:
    user_name: alice
    access_key_id: HPUAEXAMPLEAK0000001
    state: absent

- name: Rotate at the limit even if the other key was used recently (it is deleted to make room)
  keywarden.iam.access_key:
    user_name: ci-deployer
    rotate: always
    make_room: oldest
    credentials_file: "{{ inventory_dir }}/group_vars/deployers/iam_credentials.yml"

- name: Set the connection options once for every keywarden.iam module
  module_defaults:
    group/keywarden.iam.iam:
      vendor: huaweicloud
      access_key: "{{ admin_ak }}"
      secret_key: "{{ admin_sk }}"
  block:
    - name: Make sure bob has a key, written to an env file
      keywarden.iam.access_key:
        user_name: bob
        credentials_file: /srv/secrets/bob.env.vault
        credentials_format: env
"""

RETURN = r"""
user_id:
  description: The ID of the user whose keys were managed.
  returned: always
  type: str
  sample: 07609fb9358010e21f7bc003751c7c32
access_keys:
  description:
    - The user's keys after the run, oldest first (in check mode, as they would be; a key that would be created
      shows as V((new))). Never a secret.
  returned: success
  type: list
  elements: dict
  contains:
    access_key_id:
      description: The access key ID (AK).
      type: str
      sample: HPUAEXAMPLEAK0000002
    user_id:
      description: The key's user.
      type: str
      sample: 07609fb9358010e21f7bc003751c7c32
    status:
      description: V(active) or V(inactive).
      type: str
      sample: active
    created:
      description: Creation time, UTC, ISO 8601.
      type: str
      sample: "2026-03-02T08:00:04.512377Z"
    age_days:
      description: Whole days since creation.
      type: int
      sample: 0
    description:
      description: The key's description.
      type: str
      sample: ci-deployer, rotated by keywarden.iam
  sample:
    - access_key_id: HPUAEXAMPLEAK0000001
      user_id: 07609fb9358010e21f7bc003751c7c32
      status: inactive
      created: "2025-11-28T06:25:19.014028Z"
      age_days: 94
      description: ci-deployer
    - access_key_id: HPUAEXAMPLEAK0000002
      user_id: 07609fb9358010e21f7bc003751c7c32
      status: active
      created: "2026-03-02T08:00:04.512377Z"
      age_days: 0
      description: ci-deployer, rotated by keywarden.iam
access_key_id:
  description: The key the task keeps, the one in O(credentials_file) after the run (a new one if one was created).
  returned: success and not check mode
  type: str
  sample: HPUAEXAMPLEAK0000002
created:
  description: IDs of keys created (in check mode V((new))).
  returned: always
  type: list
  elements: str
  sample: [HPUAEXAMPLEAK0000002]
deleted:
  description: IDs of keys deleted.
  returned: always
  type: list
  elements: str
  sample: [HPUAEXAMPLEAK0000000]
deactivated:
  description: IDs of keys made inactive.
  returned: always
  type: list
  elements: str
  sample: [HPUAEXAMPLEAK0000001]
activated:
  description: IDs of keys made active.
  returned: always
  type: list
  elements: str
  sample: []
plan:
  description: The steps the task took (or, in check mode, would take), in order, in words.
  returned: always
  type: list
  elements: str
  sample:
    - "open the journal: record the rotation before anything changes"
    - "delete access key HPUAOLD00000000000001 (making room under the two-key limit: the oldest inactive key)"
    - "create a new access key (HPUACUR00000000000001 is 120 days old, older than max_age (90 days))"
    - "store the secret of (new), vault-encrypted (the cloud shows a secret only once)"
    - "verify that (new) works (before anything is retired)"
    - >-
      deactivate access key HPUACUR00000000000001 (old_key is deactivate: it was replaced; kept inactive for a grace
      period and deleted by the next rotation)
    - "close the journal: the rotation is complete"
credentials_file:
  description: The path of O(credentials_file), if set.
  returned: always
  type: str
  sample: /srv/ansible/inventory/group_vars/deployers/iam_credentials.yml
credentials_file_changed:
  description: Whether O(credentials_file) was (or, in check mode, would be) written.
  returned: success
  type: bool
  sample: true
backup_file:
  description: The copy of the previous credentials file, when O(backup=true) and the file was replaced.
  returned: when a backup was made
  type: str
  sample: /srv/ansible/inventory/group_vars/deployers/iam_credentials.yml.20260302T080004.4127~
secret_access_key:
  description: The new key's secret, vault-encrypted; only with O(return_secret=true) and when a key was created.
  returned: when requested and a key was created
  type: str
  sample: "$ANSIBLE_VAULT;1.1;AES256\n6236386439663...(vault ciphertext)"
results:
  description:
    - In batch mode, one result per user, in the order given, each with RV(user_id), C(user_name) and the fields a
      single-user run returns (or C(failed) and C(msg)).
  returned: in batch mode
  type: list
  elements: dict
  sample:
    - user_name: alice
      user_id: 85d9a02248014d4fa4b8d8179ac88fdd
      changed: true
      plan:
        - "open the journal: record the rotation before anything changes"
        - "create a new access key (HPUAEXAMPLEAK0000011 is 120 days old, older than max_age (90 days))"
        - "store the secret of (new), vault-encrypted (the cloud shows a secret only once)"
        - "verify that (new) works (before anything is retired)"
        - "deactivate access key HPUAEXAMPLEAK0000011 (old_key is deactivate: it was replaced)"
        - "close the journal: the rotation is complete"
      access_keys:
        - access_key_id: HPUAEXAMPLEAK0000011
          user_id: 85d9a02248014d4fa4b8d8179ac88fdd
          status: inactive
          created: "2025-11-02T10:14:09.000000Z"
          age_days: 120
          description: alice
        - access_key_id: HPUAEXAMPLEAK0000012
          user_id: 85d9a02248014d4fa4b8d8179ac88fdd
          status: active
          created: "2026-03-02T08:00:04.512377Z"
          age_days: 0
          description: alice
      access_key_id: HPUAEXAMPLEAK0000012
      created: [HPUAEXAMPLEAK0000012]
      deleted: []
      deactivated: [HPUAEXAMPLEAK0000011]
      activated: []
      credentials_file: /srv/ansible/inventory/host_vars/alice/iam_credentials.yml
      credentials_file_changed: true
    - user_name: carol
      user_id: null
      changed: false
      failed: true
      msg: >-
        Failed to find IAM user 'carol': no user has that name in this account. Check the spelling (user names are
        case-sensitive) and that the user belongs to this account, or name the user by user_id.
      error:
        error_type: NotFound
        status: null
        code: null
        request_id: null
pending_retirement:
  description:
    - The key an earlier rotation left pending retirement (O(old_key=pending)), or that this rotation left, and what
      became of it. Never a secret.
  returned: when a key is pending retirement
  type: dict
  contains:
    access_key_id:
      description: The pending key.
      type: str
    status:
      description: Its status before this run.
      type: str
    state:
      description:
        - V(waiting) (the quiet period, or retire_pending is never), V(in_use) (used after unused_since), V(blocked)
          (the key that replaced it is not active, another file holds a key it would delete, or the file holds the
          pending key again without a rollback), V(retiring) (deactivated now), V(inactive) (awaiting the grace
          period), V(deleting) (deleted now), V(rolling_back), V(superseded) (a new rotation replaces it), V(gone).
      type: str
    reason:
      description: Why, in words.
      type: str
    since:
      description: When it became pending (UTC).
      type: str
    last_used:
      description: Its last use, when this run asked the cloud (UTC).
      type: str
    retire_after:
      description: When it may be retired or deleted at the earliest (UTC), while it waits.
      type: str
  sample:
    access_key_id: HPUAOLD00000000000001
    status: active
    state: in_use
    reason: "still in use: last used 2026-11-26T09:41:07Z, after 2026-11-26T09:30:00Z"
    since: "2026-11-26T09:12:44.000000Z"
    last_used: "2026-11-26T09:41:07.000000Z"
    retire_after: null
summary:
  description:
    - In batch mode, the counts of users handled, changed and failed, and of keys created, deleted, deactivated and
      activated.
    - C(duplicates) counts users named more than once (by name twice, or by name and by id). Each IAM user is handled
      once, and its repeats get a result with C(duplicate=true) and a C(msg) that says so.
  returned: in batch mode
  type: dict
  sample: {"users": 3, "changed": 2, "failed": 0, "created": 2, "deleted": 1, "deactivated": 2, "activated": 0,
           "duplicates": 0}
error:
  description: Details of the IAM API error that failed the task.
  returned: on an API failure
  type: dict
  contains:
    error_type:
      description: The error class, such as V(Forbidden), V(KeyLimitExceeded), V(NotFound) or V(EndpointNotTls).
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

from ansible_collections.keywarden.iam.plugins.module_utils._access_key_options import (
    ACCESS_KEY_MUTUALLY_EXCLUSIVE,
    ACCESS_KEY_REQUIRED_IF,
    access_key_argument_spec,
)
from ansible_collections.keywarden.iam.plugins.module_utils._module_support import refuse_standalone


def main() -> None:
    # The same-named action plugin does the work on the controller.
    refuse_standalone("access_key", access_key_argument_spec(), mutually_exclusive=ACCESS_KEY_MUTUALLY_EXCLUSIVE,
                      required_if=ACCESS_KEY_REQUIRED_IF)


if __name__ == "__main__":
    main()
