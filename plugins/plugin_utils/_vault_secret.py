# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pick the vault secret to encrypt a credentials file with. Private to keywarden.iam.

Controller-only. The choice mirrors ``ansible-vault encrypt`` (ansible/cli/vault.py with
``match_encrypt_secret`` from ansible/parsing/vault): an explicit vault id, else
``DEFAULT_VAULT_ENCRYPT_IDENTITY``, must name a loaded secret; with no id, exactly one secret
must be loaded. Action plugins call this before any API call, so that a vault mistake fails the
task before a new key exists whose secret could not be stored.
"""
from __future__ import annotations

import typing as t

from ansible.parsing.vault import VaultSecret

from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError

VaultSecrets = list[tuple[str, VaultSecret]]

_HOW_TO_LOAD = (
    "run with --vault-password-file / --vault-id / --ask-vault-pass, or set vault_password_file in ansible.cfg"
)


class VaultSecretError(TaskError):
    """No vault secret, or no unambiguous one, to encrypt with. Messages name ids, never secrets."""


def loader_vault_secrets(loader: t.Any) -> VaultSecrets:
    """The vault secrets the playbook run loaded, as ``(vault_id, VaultSecret)`` pairs.

    ``loader`` is an action plugin's ``self._loader`` (a DataLoader). Secrets that hold no
    bytes are left out: VaultLib would fail on them with a TypeError rather than try the next.
    """
    # ansible-core offers no public accessor: the CLI hands the secrets to the DataLoader with
    # set_vault_secrets(), which keeps them on its private VaultLib. Keep that reach into a
    # private attribute here, in one place, covered by a unit test against a real DataLoader.
    return _usable(loader._vault.secrets or [])


def choose_encrypt_secret(
    secrets: VaultSecrets, *, vault_id: str | None, default_encrypt_identity: str | None
) -> tuple[str, VaultSecret]:
    """The ``(vault_id, VaultSecret)`` to encrypt with, chosen as ``ansible-vault encrypt`` does.

    ``vault_id`` plays the part of ``--encrypt-vault-id``; ``default_encrypt_identity`` is
    ``C.DEFAULT_VAULT_ENCRYPT_IDENTITY`` (``vault_encrypt_identity`` in ansible.cfg). Secrets
    that hold no bytes (an unanswered prompt) are skipped. Raises VaultSecretError.
    """
    usable = _usable(secrets)
    if not usable:
        raise VaultSecretError(f"No vault secret is loaded to encrypt the credentials file with: {_HOW_TO_LOAD}.")
    loaded_ids = ", ".join(dict.fromkeys(secret_id for secret_id, _secret in usable))
    wanted = vault_id or default_encrypt_identity
    if wanted:
        for secret_id, secret in usable:
            if secret_id == wanted:
                return secret_id, secret
        source = "the vault_id option" if vault_id else "vault_encrypt_identity (ANSIBLE_VAULT_ENCRYPT_IDENTITY)"
        raise VaultSecretError(
            f"The vault id {wanted!r} from {source} is not among the loaded vault ids ({loaded_ids}): "
            f"load it with --vault-id {wanted}@<password file or prompt>, or choose a loaded id."
        )
    if len(usable) > 1:
        raise VaultSecretError(
            f"Several vault secrets are loaded ({loaded_ids}) and none is chosen to encrypt with: "
            "set the vault_id option, or vault_encrypt_identity in ansible.cfg (ANSIBLE_VAULT_ENCRYPT_IDENTITY)."
        )
    return usable[0]


def _usable(secrets: VaultSecrets) -> VaultSecrets:
    # None, or a secret never loaded (an unanswered prompt), holds no bytes
    return [(secret_id, secret) for secret_id, secret in secrets if secret is not None and secret.bytes]
