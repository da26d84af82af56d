# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How a vault-encrypted credentials file is written, for every module that writes one
    # (plugin_utils/_secret_destination.py). Each module documents credentials_file,
    # credentials_format and return_secret itself, since what they hold differs.
    DOCUMENTATION = r"""
options:
  vars_prefix:
    description:
      - The prefix of the variable names in a V(yaml) credentials file.
    type: str
    default: iam_
  mode:
    description:
      - The permissions of O(credentials_file), as an octal string. Anything that lets every user of the machine
        read the file is refused.
    type: raw
    default: '0600'
  backup:
    description:
      - Keep a copy of the previous O(credentials_file) beside it (still vault-encrypted, mode 0600) before it is
        replaced.
    type: bool
    default: false
  vault_id:
    description:
      - The vault id whose secret encrypts O(credentials_file) and O(return_secret), as C(--encrypt-vault-id) does for
        C(ansible-vault). Without it, the configured C(vault_encrypt_identity), else the only loaded vault secret;
        several loaded secrets and no choice is refused, before any API call.
    type: str
"""
