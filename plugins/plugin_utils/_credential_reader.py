# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a stored access key back on the controller, vaulted or plain. Private to keywarden.iam.

Controller-only (the lookup ``keywarden.iam.credentials``). Only reads: the file is resolved and
checked as ``_safe_path`` does before a write (no link another user could have planted, nothing
but a regular file of this user or root), then read once without following a link, decrypted with
the play's vault secrets when it is vault-encrypted, and parsed with the collection's own parser.
No message carries the file's content.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ansible.errors import AnsibleError
from ansible.parsing.vault import AnsibleVaultFormatError, VaultLib, VaultSecret, is_encrypted

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import (
    CredentialFormatError,
    Credentials,
    check_options,
    parse,
)
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import (
    AtomicWriteError,
    UnsafePathError,
    read_regular,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._safe_path import resolve_destination

VaultSecrets = list[tuple[str, VaultSecret]]


class CredentialReadError(TaskError):
    """The file cannot be read, trusted, decrypted or parsed; the message says why, never what it holds."""


@dataclass(frozen=True)
class StoredCredentials:
    """What the file holds, and the vault secret that opened it (None for a plain file)."""

    creds: Credentials
    opened_with: tuple[str, VaultSecret] | None


def read_credentials(path: str, *, fmt: str, vars_prefix: str, vault_secrets: VaultSecrets) -> StoredCredentials:
    """The key that ``path`` holds in ``fmt``. Raises CredentialReadError."""
    try:
        check_options(fmt, vars_prefix=vars_prefix)
    except CredentialFormatError as exc:
        raise CredentialReadError(f"Cannot read {path}: {exc}") from None
    resolved = _resolve(path)
    try:
        data = read_regular(resolved)
    except AtomicWriteError as exc:
        raise CredentialReadError(_for_reading(str(exc))) from None
    if data is None:
        raise CredentialReadError(f"Cannot read {path}: the file does not exist; check the path")
    opened_with = None
    if is_encrypted(data):
        data, opened_with = _decrypt(path, data, vault_secrets)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialReadError(f"Cannot read {path}: it is not UTF-8 text") from None
    try:
        creds = parse(fmt, text, vars_prefix=vars_prefix)
    except CredentialFormatError as exc:
        raise CredentialReadError(
            f"{path} does not hold valid {fmt} credentials ({exc}); if it holds another format, set format to match"
        ) from None
    if creds is None:
        what = f" (variables {vars_prefix}access_key and {vars_prefix}secret_key)" if fmt == "yaml" else ""
        raise CredentialReadError(f"{path} holds no access key in the {fmt} format{what}; check format and vars_prefix")
    return StoredCredentials(creds, opened_with)


def _resolve(path: str) -> str:
    """The real file behind ``path``, every link on the way checked as ``_safe_path`` checks it."""
    given = os.path.abspath(os.path.expanduser(path))
    if not os.path.lexists(given):
        raise CredentialReadError(f"Cannot read {given}: the file does not exist; check the path")
    try:
        return resolve_destination(given).resolved
    except UnsafePathError as exc:
        raise CredentialReadError(_for_reading(str(exc))) from None
    except AtomicWriteError as exc:
        # resolve_destination checks last that the file's directory is writable, which a read
        # does not need: by then every check of links, owner and file type has passed.
        real = os.path.realpath(given)
        directory = os.path.dirname(real)
        if os.path.isdir(directory) and not os.access(directory, os.W_OK | os.X_OK):
            return real
        raise CredentialReadError(_for_reading(str(exc))) from None


def _for_reading(message: str) -> str:
    # _safe_path and _atomic_file speak of writing, and of access_key's option credentials_file.
    if message.startswith("Cannot write "):
        message = "Cannot read " + message[len("Cannot write "):]
    return message.replace("another credentials_file", "another path").replace("credentials_file", "the path")


def _decrypt(path: str, vaulttext: bytes, secrets: VaultSecrets) -> tuple[bytes, tuple[str, VaultSecret]]:
    if not secrets:
        raise CredentialReadError(
            f"Cannot decrypt {path}: it is vault-encrypted and no vault secret is loaded; run with "
            "--vault-id, --vault-password-file or --ask-vault-pass")
    try:
        plaintext, vault_id, secret = VaultLib(secrets).decrypt_and_get_vault_id(vaulttext)
    except AnsibleVaultFormatError:
        raise CredentialReadError(
            f"Cannot decrypt {path}: it has a vault header but is not a valid vault file") from None
    except AnsibleError:
        loaded = ", ".join(dict.fromkeys(secret_id for secret_id, _secret in secrets))
        header = vaulttext.split(b"\n", 1)[0].strip().split(b";")
        vault_id = header[3].decode("utf-8", "replace") if len(header) >= 4 else None
        named = f"it is encrypted with vault id {vault_id!r}, and " if vault_id else ""
        raise CredentialReadError(
            f"Cannot decrypt {path}: {named}no loaded vault secret (ids: {loaded}) opens it; load its secret with "
            "--vault-id <id>@<password file or prompt>") from None
    return plaintext, (vault_id, secret)
