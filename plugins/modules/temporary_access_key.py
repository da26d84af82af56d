#!/usr/bin/python
# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: temporary_access_key
short_description: Obtain temporary access keys (AK/SK and security token) on Huawei Cloud and T Cloud Public
version_added: 0.1.0
description:
  - Obtains a temporary access key (an AK/SK pair and a security token that expire together) from the IAM API and
    keeps it in a vault-encrypted O(credentials_file), the same way M(keywarden.iam.access_key) keeps permanent keys.
  - Two methods. V(token) gives the caller a temporary key of their own (federated users can only have temporary
    credentials). V(agency) assumes an agency (C(assume_role)) and gives a key that acts with the agency's rights.
  - Idempotent. While the file holds credentials of the asked identity that stay valid for
    more than O(renew_before) seconds by the IAM service's clock, nothing is fetched and nothing is written.
    Otherwise (no file yet, expired, about to expire, another identity, O(force)) a new key is fetched and written.
  - The expiry is compared with the IAM service's clock, not this machine's. The task reads it from the C(Date)
    header of one harmless read (C(GET /v3/auth/domains)) signed with the stored key itself, which also proves
    the stored key still works. An expired or revoked stored key is renewed. No token is issued for this check.
  - The new secret and security token go straight into O(credentials_file), encrypted with the playbook's own
    Ansible vault secrets, and never appear in the task result, in logs or at any verbosity.
  - This module runs on the controller through its action plugin, where the vault secrets live, whatever host the
    task targets. Environment variable fallbacks are read on the controller.
author:
  - keywarden.iam contributors (@keywarden)
options:
  method:
    description:
      - V(token) derives a temporary key from the caller's IAM token. The IAM API needs an IAM token (C(X-Auth-Token))
        for this, so the task needs password authentication (O(auth_username), O(auth_password) and
        O(auth_domain_name)); an access key cannot obtain a key with this method. When both an access key and the
        password options are set, this method uses the password.
      - V(agency) assumes the agency O(agency_name) (C(assume_role)). The caller must be trusted by the agency. It
        works with password authentication and with an access key (permanent or temporary).
      - Without O(method), V(agency) when O(agency_name) is set, else V(token).
    type: str
    choices: [token, agency]
  agency_name:
    description:
      - The agency to assume. Implies O(method=agency).
    type: str
  agency_domain_id:
    description:
      - The ID of the account (domain) the agency belongs to. Mutually exclusive with O(agency_domain_name).
      - Without either, the caller's own account.
    type: str
  agency_domain_name:
    description:
      - The name of the account (domain) the agency belongs to. Mutually exclusive with O(agency_domain_id).
      - The credentials file then records no account ID (the SDKs look it up themselves).
    type: str
  session_user:
    description:
      - The session user name the IAM service records for an agency session (C(session_user.name)), for audit.
        Only with O(method=agency).
    type: str
  duration_seconds:
    description:
      - How long the temporary key is valid, from V(900) (15 minutes) to V(86400) (one day).
    type: int
    default: 900
  policy:
    description:
      - An inline IAM policy (as a dictionary, with C(Version) and C(Statement)) that narrows what the temporary key
        may do. It cannot grant more than the caller or the agency has.
      - The IAM API cannot show a key's policy afterwards, so a changed policy alone does not renew credentials
        that are still valid (nor does a changed O(session_user) or O(duration_seconds)). Use O(force) after
        changing it.
    type: dict
  renew_before:
    description:
      - Seconds. Credentials in O(credentials_file) that expire within this many seconds (by the IAM service's
        clock) are renewed. Must be less than O(duration_seconds).
      - Choose it longer than the longest stretch of the play that uses the key, so that the key does not expire
        in the middle of it.
    type: int
    default: 300
  force:
    description:
      - Fetch new credentials even when the file's are still valid.
    type: bool
    default: false
  credentials_file:
    description:
      - Path on the controller of the file that keeps the temporary key, vault-encrypted with the playbook's vault
        secret (see O(vault_id)), written atomically (a temporary file in the same directory, 0600 from the first
        byte, fsync, rename).
      - Whether its credentials are still good is judged by decrypting it, never by the ciphertext.
      - An existing file that is not vault-encrypted, that no loaded vault secret opens, or that holds a permanent
        access key is refused before any API call and left untouched.
      - Needed, or O(return_secret), since someone has to hold the new secret.
    type: path
  credentials_format:
    description:
      - The format of O(credentials_file), as for M(keywarden.iam.access_key), with the security token added.
      - V(yaml) is a vars file with C(<vars_prefix>access_key), C(<vars_prefix>secret_key),
        C(<vars_prefix>security_token), C(<vars_prefix>expires_at), C(<vars_prefix>domain_id) and
        C(<vars_prefix>user_name) (the IAM user for V(token), the agency for V(agency)).
      - V(env), V(sdk_profile) and V(obsutil) hold the key and the token, and in comment lines that their readers
        skip, the expiry (C(# expires_at)) and whose key it is (C(# user_id), C(# user_name), and for obsutil
        C(# domain_id)), so every format keeps credentials from run to run while they are valid.
      - An existing file keeps everything else it holds; only the key's own fields change.
      - The console's V(csv) format is not offered, since it cannot hold a security token.
    type: str
    choices: [yaml, env, sdk_profile, obsutil]
    default: yaml
  return_secret:
    description:
      - Also return the secret key and the security token (new or kept) in the result, as vault-encrypted values
        (C(!vault)) that later tasks can use like plain variables, for example as the O(access_key), O(secret_key)
        and O(security_token) of the next task. They are never returned in plain text.
      - Without O(credentials_file) nothing is kept, so every run fetches new credentials.
    type: bool
    default: false
extends_documentation_fragment:
  - keywarden.iam.connection
  - keywarden.iam.vaulted_file
attributes:
  check_mode:
    support: full
    description: Reports whether new credentials would be fetched and the file written, and why. The only request
      is the read of the IAM clock with the stored key; nothing is fetched and nothing written.
  diff_mode:
    support: full
    description: Shows the file's access key ID and expiry before and after. Never the secret key or the token.
  action:
    support: full
    description: Runs on the controller through its action plugin.
notes:
  - Other tasks can sign with the temporary key. Pass its O(access_key), O(secret_key) and O(security_token) (from
    the vaulted file with C(include_vars), or from the registered result with O(return_secret)); every request is
    then signed with the key and carries the signed C(X-Security-Token) header.
  - A temporary key cannot be deleted; one that is replaced, or that could not be stored, expires on its own.
seealso:
  - module: keywarden.iam.access_key
"""

EXAMPLES = r"""
- name: Assume the ops agency for an hour, keeping the key in vaulted group_vars
  keywarden.iam.temporary_access_key:
    vendor: tcloud
    region: eu-de
    agency_name: ops-agency
    session_user: deploy-pipeline
    duration_seconds: 3600
    renew_before: 600
    credentials_file: "{{ inventory_dir }}/group_vars/all/ops_session.yml"
    vars_prefix: ops_
  run_once: true

- name: A federated or password user gets a temporary key of their own (the token method needs a password)
  keywarden.iam.temporary_access_key:
    auth_username: "{{ iam_user }}"
    auth_password: "{{ iam_password }}"
    auth_domain_name: my-account
    duration_seconds: 900
    policy:
      Version: "1.1"
      Statement:
        - Effect: Allow
          Action: ["obs:object:GetObject"]
    credentials_file: "{{ playbook_dir }}/secrets/obs_session.yml"
  run_once: true

- name: Chain - get a temporary key, then rotate permanent keys with it
  block:
    - name: Assume the admin agency
      keywarden.iam.temporary_access_key:
        access_key: "{{ admin_ak }}"
        secret_key: "{{ admin_sk }}"
        agency_name: key-admins
        return_secret: true
      register: session

    - name: Rotate the deployer's key, signed with the temporary key
      keywarden.iam.access_key:
        access_key: "{{ session.access_key_id }}"
        secret_key: "{{ session.secret_access_key }}"
        security_token: "{{ session.security_token }}"
        user_name: ci-deployer
        rotate: when_older
        max_age: 90
        credentials_file: "{{ playbook_dir }}/secrets/ci-deployer.yml"
  run_once: true
"""

RETURN = r"""
renewed:
  description: Whether new credentials were (in check mode, would be) fetched.
  returned: success
  type: bool
  sample: true
reason:
  description: Why the credentials were renewed or kept, in words.
  returned: success
  type: str
  sample: >-
    the credentials are valid until 2026-01-02T03:04:05.000000Z, 612 s from now by the IAM clock,
    more than renew_before (300 s)
method:
  description: The method used, V(token) or V(agency).
  returned: success
  type: str
  sample: agency
access_key_id:
  description: The temporary access key ID (AK) the file holds after the run (in check mode, when new credentials
    would be fetched, V((new))). Not a secret.
  returned: success
  type: str
  sample: HPUATMPEXAMPLE000001
expires_at:
  description: When the credentials expire, UTC, ISO 8601 (in check mode, when new credentials would be fetched,
    an estimate).
  returned: success
  type: str
  sample: "2026-03-02T09:00:00.000000Z"
expires_in:
  description: Seconds until they expire, by the IAM service's clock.
  returned: success
  type: int
  sample: 3599
credentials_file:
  description: The path of O(credentials_file), if set.
  returned: success
  type: str
  sample: /home/ci/inventory/group_vars/all/iam_temporary.yml
credentials_file_changed:
  description: Whether O(credentials_file) was (or, in check mode, would be) written.
  returned: success
  type: bool
  sample: true
backup_file:
  description: The copy of the previous credentials file, when O(backup=true) and the file was replaced.
  returned: when a backup was made
  type: str
  sample: /home/ci/inventory/group_vars/all/iam_temporary.yml.20260302T080003.4127~
secret_access_key:
  description: The temporary secret key, vault-encrypted; only with O(return_secret=true).
  returned: when requested, except in check mode when new credentials would be fetched
  type: str
  sample: "$ANSIBLE_VAULT;1.1;AES256\n6236386439663...(vault ciphertext)"
security_token:
  description: The security token, vault-encrypted; only with O(return_secret=true).
  returned: when requested, except in check mode when new credentials would be fetched
  type: str
  sample: "$ANSIBLE_VAULT;1.1;AES256\n3963326338623...(vault ciphertext)"
error:
  description: Details of the IAM API error that failed the task.
  returned: on an API failure
  type: dict
  contains:
    error_type:
      description: The error class, such as V(SecurityTokenExpired), V(Forbidden) or V(NotFound).
      returned: on an API failure
      type: str
      sample: NotFound
    status:
      description:
        - The HTTP status of the error answer.
        - V(null) when no HTTP error came back, such as a connection that failed or an answer that was lost.
      returned: on an API failure
      type: int
      sample: 404
    code:
      description: The IAM error code, such as V(IAM.1108), when the answer carried one.
      returned: on an API failure
      type: str
      sample: IAM.0004
    request_id:
      description: The request ID, for the cloud's support, when the answer carried one.
      returned: on an API failure
      type: str
      sample: 7c2e5a9b1d3f4e6a8b0c2d4e6f8a0b1c
"""

from ansible_collections.keywarden.iam.plugins.module_utils._module_support import refuse_standalone
from ansible_collections.keywarden.iam.plugins.module_utils._temporary_key_options import (
    TEMPORARY_KEY_MUTUALLY_EXCLUSIVE,
    TEMPORARY_KEY_REQUIRED_IF,
    temporary_access_key_argument_spec,
)


def main() -> None:
    # The same-named action plugin does the work on the controller.
    refuse_standalone("temporary_access_key", temporary_access_key_argument_spec(),
                      mutually_exclusive=TEMPORARY_KEY_MUTUALLY_EXCLUSIVE, required_if=TEMPORARY_KEY_REQUIRED_IF)


if __name__ == "__main__":
    main()
