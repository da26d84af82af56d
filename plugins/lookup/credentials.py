# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: credentials
short_description: Read a stored access key on the controller, its secret kept vault-encrypted
version_added: 0.1.0
author:
  - keywarden.iam contributors (@keywarden)
description:
  - Reads an access key from a credentials file on the controller, vault-encrypted (as M(keywarden.iam.access_key)
    writes it) or plain, in any of the formats the collection writes, with the collection's own parser.
  - A vault-encrypted file is decrypted with the vault secrets the play loaded (C(--vault-id),
    C(--vault-password-file), C(--ask-vault-pass), C(vault_password_file) in C(ansible.cfg)).
  - Returns a dictionary per file. The secret access key and the security token come back vault-encrypted, so that
    Ansible treats them as secret. On ansible-core 2.19 and later they are C(EncryptedString) values, which
    callbacks show as C(<redacted>) at any verbosity and templates decrypt where they are used. On ansible-core 2.18
    they are vaulted values whose ciphertext callbacks show and templates decrypt.
  - As with a variable encrypted with ansible-vault, a template that uses them gets the plaintext. A task that
    prints them (C(ansible.builtin.debug)), sets a fact from them or passes them to a module option that is not
    marked C(no_log) needs C(no_log) itself.
  - Vaulting them needs a vault secret even for a plain file; the lookup fails when none is loaded. They are
    encrypted with the secret that opened the file, else the one C(vault_encrypt_identity) names, else the first
    loaded.
  - Refuses a path that leads through a symbolic link another user could have planted or swapped, and anything but
    a regular file of the controller's user or root, as M(keywarden.iam.access_key) does before it writes.
options:
  _terms:
    description:
      - Paths of credentials files on the controller. A relative path is taken from the playbook's directory, and
        C(~) is expanded.
    type: list
    elements: path
    required: true
  format:
    description:
      - The files' format. V(yaml) is the vars file M(keywarden.iam.access_key) writes by default, V(env) the
        C(HUAWEICLOUD_SDK_*) lines, V(sdk_profile) the C(~/.huaweicloud/credentials) profile, V(obsutil) the lines
        of C(~/.obsutilconfig), V(csv) the console's C(credentials.csv).
    type: str
    default: yaml
    choices: [yaml, env, sdk_profile, obsutil, csv]
  vars_prefix:
    description: The variable name prefix of the V(yaml) format (C(<prefix>access_key), C(<prefix>secret_key)).
    type: str
    default: iam_
notes:
  - Lookups run on the controller, once per host and use, when a template uses them. To read a file once for a
    whole play, set a fact with C(run_once), or register it in C(vars) of a play that runs on C(localhost).
  - A field the format has no place for is V(null). The V(env), V(sdk_profile) and V(obsutil) formats keep the
    user, the account and the expiry in comment lines, as the collection writes them.
seealso:
  - module: keywarden.iam.access_key
  - module: keywarden.iam.credentials_check
"""

EXAMPLES = r"""
- name: List the deployer's own keys, signed with the key stored for it
  keywarden.iam.access_key_info:
    access_key: "{{ deployer.access_key_id }}"
    secret_key: "{{ deployer.secret_access_key }}"
    domain_id: "{{ deployer.domain_id }}"
  vars:
    deployer: "{{ lookup('keywarden.iam.credentials', inventory_dir ~ '/host_vars/ci-deployer/iam_credentials.yml') }}"
  register: own_keys

- name: Read an obsutil configuration kept vault-encrypted
  ansible.builtin.set_fact:
    backup_key: "{{ lookup('keywarden.iam.credentials', 'files/obsutilconfig.vault', format='obsutil') }}"
  run_once: true

- name: Render a template with the key (never logged, never diffed)
  ansible.builtin.template:
    src: app.conf.j2
    dest: /etc/app/app.conf
    mode: "0600"
  vars:
    app_key: "{{ backup_key }}"
  no_log: true
  diff: false
"""

RETURN = r"""
_raw:
  description: One dictionary per path, in the order given.
  type: list
  elements: dict
  contains:
    access_key_id:
      description: The access key ID (AK).
      type: str
      sample: HPUAEXAMPLEAK0000001
    secret_access_key:
      description: The secret access key (SK), vault-encrypted (see the description).
      type: str
    security_token:
      description: The security token of a temporary key, vault-encrypted; V(null) for a permanent key.
      type: str
    user_id:
      description: The ID of the key's user, when the file records it.
      type: str
      sample: 07609fb9358010e21f7bc003751c7c32
    user_name:
      description: The name of the key's user, when the file records it (for V(csv), the C(User Name) cell, which
        holds the user ID when the name was unknown).
      type: str
      sample: ci-deployer
    domain_id:
      description: The account (domain) ID, when the file records it.
      type: str
      sample: 0970d7b7d400f2470fbec00316a03560
    iam_endpoint:
      description: The IAM endpoint, when the file records it.
      type: str
      sample: https://iam.eu-de.otc.t-systems.com
    obs_endpoint:
      description: The OBS endpoint, when the file records it (V(obsutil), V(yaml)).
      type: str
      sample: https://obs.eu-de.otc.t-systems.com
    expires_at:
      description: When a temporary key expires, ISO 8601 UTC, when the file records it.
      type: str
      sample: "2026-03-02T09:00:00.000000Z"
"""

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.plugin_utils._credential_reader import read_credentials
from ansible_collections.keywarden.iam.plugins.plugin_utils._credential_store import vaulted_value
from ansible_collections.keywarden.iam.plugins.plugin_utils._vault_secret import (
    VaultSecretError,
    choose_encrypt_secret,
    loader_vault_secrets,
)

_PLAIN_FIELDS = ("access_key_id", "user_id", "user_name", "domain_id", "iam_endpoint", "obs_endpoint", "expires_at")
_SECRET_FIELDS = ("secret_access_key", "security_token")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        fmt, vars_prefix = self.get_option("format"), self.get_option("vars_prefix")
        secrets = loader_vault_secrets(self._loader)
        found = []
        for term in terms:
            path = self._loader.path_dwim(str(term))
            try:
                stored = read_credentials(path, fmt=fmt, vars_prefix=vars_prefix, vault_secrets=secrets)
                encrypt_secret = stored.opened_with or _encrypt_secret(secrets, path)
            except TaskError as error:
                raise AnsibleLookupError(f"keywarden.iam.credentials: {error}") from None
            creds = stored.creds
            entry = {name: getattr(creds, name) for name in _PLAIN_FIELDS}
            for name in _SECRET_FIELDS:
                value = getattr(creds, name)
                entry[name] = None if value is None else vaulted_value(value, encrypt_secret, secrets)
            found.append(entry)
        return found


def _encrypt_secret(secrets, path):
    """The secret to vault the returned secrets with, for a plain file: any loaded one will do."""
    try:
        return choose_encrypt_secret(secrets, vault_id=None, default_encrypt_identity=C.DEFAULT_VAULT_ENCRYPT_IDENTITY)
    except VaultSecretError:
        if not secrets:
            raise VaultSecretError(
                f"Cannot return the key of {path}: its secret is returned vault-encrypted, so that Ansible never "
                "shows it, and no vault secret is loaded to encrypt it with; run with --vault-id, "
                "--vault-password-file or --ask-vault-pass") from None
        # Several secrets and none chosen: the value lives only in this run, which holds them all.
        return secrets[0]
