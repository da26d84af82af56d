# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: credentials_text
short_description: Render an access key as the text of a credentials file
version_added: 0.1.0
author:
  - keywarden.iam contributors (@keywarden)
description:
  - Renders an access key in the format that a consumer reads, the same way M(keywarden.iam.access_key) writes its
    vaulted files. Used by the role C(keywarden.iam.fleet_credentials) to deliver credentials to hosts.
  - The result holds the secret in plain text. Only use it in a task that sets C(no_log) to true and C(diff) to
    false.
options:
  _input:
    description:
      - The key, a dictionary with C(access_key_id) and C(secret_access_key), and optionally C(security_token),
        C(user_id), C(user_name), C(domain_id), C(iam_endpoint), C(obs_endpoint), C(expires_at).
    type: dict
    required: true
  format:
    description: The file format.
    type: str
    choices: [csv, yaml, env, sdk_profile, obsutil]
    required: true
  vars_prefix:
    description: The variable name prefix for the V(yaml) format.
    type: str
    default: iam_
"""

EXAMPLES = r"""
- name: Deliver an env file (never logged, never diffed)
  ansible.builtin.copy:
    content: "{{ {'access_key_id': iam_access_key, 'secret_access_key': iam_secret_key}
                 | keywarden.iam.credentials_text('env') }}"
    dest: /etc/myapp/iam.env
    mode: "0600"
  no_log: true
  diff: false
"""

RETURN = r"""
_value:
  description: The file's text.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import (
    DEFAULT_VARS_PREFIX,
    CredentialFormatError,
    Credentials,
    render,
)

_FIELDS = ("access_key_id", "secret_access_key", "user_id", "user_name", "security_token", "expires_at",
           "domain_id", "iam_endpoint", "obs_endpoint")


def credentials_text(key: dict, fmt: str, vars_prefix: str = DEFAULT_VARS_PREFIX) -> str:
    if not isinstance(key, dict):
        raise AnsibleFilterError("credentials_text expects a dictionary with access_key_id and secret_access_key")
    unknown = sorted(set(key) - set(_FIELDS))
    if unknown:
        raise AnsibleFilterError(f"credentials_text does not know the field(s) {', '.join(unknown)}")
    try:
        values = {name: (None if key.get(name) is None else str(key[name])) for name in _FIELDS[2:]}
        credentials = Credentials(str(key.get("access_key_id") or ""), str(key.get("secret_access_key") or ""),
                                  **values)
        return render(fmt, credentials, vars_prefix=vars_prefix)
    except (CredentialFormatError, ValueError, TypeError) as error:
        # The messages of these errors never quote the values, so they cannot leak the secret.
        raise AnsibleFilterError(f"credentials_text: {error}") from None


class FilterModule:
    def filters(self):
        return {"credentials_text": credentials_text}
