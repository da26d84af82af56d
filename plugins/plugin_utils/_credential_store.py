# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A vault-encrypted credentials file on the controller. Private to keywarden.iam.

Controller-only. The file holds one access key in one of the formats of
``module_utils._credential_formats``, encrypted whole with ansible-vault, so that
``ansible-vault view`` shows it and ``include_vars`` reads the yaml format directly.

Safety rules: a file that exists but is not vault-encrypted, cannot be decrypted, or decrypts to
something that is not our credentials is never overwritten (it may hold a secret nobody else
has); "changed" is decided by decrypting and comparing, since vault ciphertext is salted; no
message carries the file's content.
"""
from __future__ import annotations

from dataclasses import dataclass

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.parsing.vault import AnsibleVaultFormatError, VaultLib, VaultSecret, is_encrypted

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import (
    DEFAULT_VARS_PREFIX,
    CredentialFormatError,
    Credentials,
    check_options,
    parse,
    render,
)
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import (
    AtomicWriteError,
    check_writable,
    write_atomic,
)

try:
    from ansible.parsing.vault import EncryptedString  # ansible-core 2.19 and later
except ImportError:  # ansible-core 2.18
    from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode

    def _vaulted_value(ciphertext: str, secrets: list[tuple[str, VaultSecret]]) -> object:
        value = AnsibleVaultEncryptedUnicode(ciphertext)
        value.vault = VaultLib(secrets)  # 2.18 decrypts with the VaultLib the value carries
        return value

else:

    def _vaulted_value(ciphertext: str, secrets: list[tuple[str, VaultSecret]]) -> object:
        # 2.19 decrypts with the play's secrets (VaultSecretsContext), set up by the CLI
        return EncryptedString(ciphertext=ciphertext)


def vaulted_value(plaintext: str, encrypt_secret: tuple[str, VaultSecret],
                  vault_secrets: list[tuple[str, VaultSecret]]) -> object:
    """``plaintext`` vault-encrypted with ``encrypt_secret``, as a value for a task result.

    See ``VaultedCredentialFile.vaulted_text`` for how each ansible-core version shows it.
    """
    vault_id, secret = encrypt_secret
    ciphertext = VaultLib().encrypt(plaintext, secret, vault_id=vault_id)
    decrypt_secrets = [encrypt_secret] + [pair for pair in vault_secrets if pair != encrypt_secret]
    return _vaulted_value(to_text(ciphertext), decrypt_secrets)


class CredentialFileError(TaskError):
    """The credentials file cannot be read, trusted or written; the message says why, never what it holds."""


@dataclass(frozen=True)
class WriteResult:
    """What ``write`` did: ``backup_file`` is the copy of the replaced file, when one was made."""

    changed: bool
    backup_file: str | None = None


class VaultedCredentialFile:
    """One vault-encrypted credentials file.

    ``encrypt_secret`` is the ``(vault_id, VaultSecret)`` to encrypt with (see
    ``_vault_secret.choose_encrypt_secret``); ``vault_secrets`` are all the secrets the play
    loaded (``_vault_secret.loader_vault_secrets``), any of which may open the existing file.
    Every method raises CredentialFileError, and reads, decrypts and parses the file afresh.
    """

    def __init__(
        self,
        *,
        path: str,
        fmt: str,
        encrypt_secret: tuple[str, VaultSecret],
        vault_secrets: list[tuple[str, VaultSecret]],
        mode: int = 0o600,
        backup: bool = False,
        vars_prefix: str = DEFAULT_VARS_PREFIX,
    ) -> None:
        try:
            check_options(fmt, vars_prefix=vars_prefix)
        except CredentialFormatError as exc:
            raise CredentialFileError(f"Cannot manage {path}: {exc}") from exc
        self.path = path
        self.fmt = fmt
        self.mode = mode
        self.backup = backup
        self.vars_prefix = vars_prefix
        self._encrypt_id, self._encrypt_secret = encrypt_secret
        # The encrypt secret first: a file written here opens with it at the first try.
        self._decrypt_secrets = [encrypt_secret] + [pair for pair in vault_secrets if pair != encrypt_secret]

    def preflight(self) -> Credentials | None:
        """Fail now, before any API call, if the file could not be written later.

        Checks that the path is writable and that an existing file is ours to replace (vaulted,
        opens with a loaded secret, holds credentials in this format). Returns what it holds.
        """
        try:
            check_writable(self.path)
        except AtomicWriteError as exc:
            raise CredentialFileError(str(exc)) from exc
        return self.read()

    def read(self) -> Credentials | None:
        """The credentials in the file; None if it does not exist or is empty."""
        vaulttext = self._read_vaulttext()
        if vaulttext is None:
            return None
        text = self._decrypt(vaulttext)
        if not text.strip():
            return None
        try:
            creds = parse(self.fmt, text, vars_prefix=self.vars_prefix)
        except CredentialFormatError as exc:
            raise CredentialFileError(
                f"{self.path} does not hold valid {self.fmt} credentials ({exc}); "
                "if it holds another format, set the format to match, else move the file away"
            ) from exc
        if creds is None:
            raise CredentialFileError(
                f"{self.path} is vault-encrypted but holds no {self.fmt} credentials: refusing to overwrite "
                "what may be other secrets; give the credentials a file of their own, or move this one away"
            )
        return creds

    def is_current(self, creds: Credentials) -> bool:
        """Whether the file already holds what ``write(creds)`` would put there.

        Decrypts and compares the parsed credentials, never the ciphertext (vault salts it).
        """
        return self.holds(self.read(), creds)

    def holds(self, current: Credentials | None, creds: Credentials) -> bool:
        """Whether ``current`` (what ``read`` returned) is what ``write(creds)`` would put there."""
        return current == self._render(creds)[1]

    def write(self, creds: Credentials) -> WriteResult:
        """Encrypt and write ``creds`` unless the file already holds them."""
        plaintext, expected = self._render(creds)
        if self.read() == expected:
            return WriteResult(changed=False)
        vaulttext = self._encrypt(plaintext)
        try:
            backup_file = write_atomic(self.path, vaulttext, mode=self.mode, backup=self.backup)
        except AtomicWriteError as exc:
            raise CredentialFileError(str(exc)) from exc
        return WriteResult(changed=True, backup_file=backup_file)

    def vaulted_text(self, plaintext: str) -> object:
        """``plaintext`` encrypted with the encrypt secret, as a value for a task result.

        ansible-core 2.19+: an ``EncryptedString``. Callbacks show it as ``<redacted>`` at any
        verbosity; a registered result decrypts on use in a template with the play's vault
        secrets, so a later task reads it as a normal string. ansible-core 2.18: an
        ``AnsibleVaultEncryptedUnicode`` that carries the VaultLib it decrypts with; callbacks
        show its ciphertext (``__ansible_vault``), templates see the plaintext.
        """
        return vaulted_value(plaintext, (self._encrypt_id, self._encrypt_secret), self._decrypt_secrets)

    def _render(self, creds: Credentials) -> tuple[str, Credentials | None]:
        """The plaintext to write for ``creds``, and what reading it back gives."""
        try:
            plaintext = render(self.fmt, creds, vars_prefix=self.vars_prefix)
        except CredentialFormatError as exc:
            raise CredentialFileError(f"Cannot write {self.path}: {exc}") from exc
        # Compare parsed values, not text: a file written by another version of this
        # collection, or tidied by hand, is still current if it holds the same key.
        return plaintext, parse(self.fmt, plaintext, vars_prefix=self.vars_prefix)

    def _read_vaulttext(self) -> bytes | None:
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CredentialFileError(f"Cannot read {self.path}: {exc.strerror or exc}") from exc
        if not data.strip():
            return None  # an empty file holds nothing to lose
        if not is_encrypted(data):
            raise CredentialFileError(
                f"{self.path} exists but is not vault-encrypted: refusing to overwrite a plaintext file that may "
                "hold a secret; move it away or encrypt it with ansible-vault"
            )
        return data

    def _decrypt(self, vaulttext: bytes) -> str:
        try:
            plaintext = VaultLib(self._decrypt_secrets).decrypt(vaulttext)
        except AnsibleVaultFormatError as exc:
            raise CredentialFileError(f"{self.path} has a vault header but is not a valid vault file") from exc
        except AnsibleError as exc:
            raise CredentialFileError(self._undecryptable(vaulttext)) from exc
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise CredentialFileError(f"{self.path} decrypts to something that is not UTF-8 text") from None

    def _undecryptable(self, vaulttext: bytes) -> str:
        loaded = ", ".join(dict.fromkeys(vault_id for vault_id, _secret in self._decrypt_secrets))
        header = vaulttext.split(b"\n", 1)[0].strip().split(b";")
        if len(header) >= 4:
            vault_id = header[3].decode("utf-8", errors="replace")
            return (
                f"Cannot decrypt {self.path}: it is encrypted with vault id {vault_id!r}, and no loaded vault secret "
                f"(ids: {loaded}) opens it; load its secret with --vault-id {vault_id}@<password file or prompt>"
            )
        return (
            f"Cannot decrypt {self.path}: its header names no vault id, and no loaded vault secret (ids: {loaded}) "
            "opens it; load its secret with --vault-id or --vault-password-file"
        )

    def _encrypt(self, plaintext: str) -> bytes:
        # vault id "default" gives a 1.1 header without a label, as ansible-vault writes it
        try:
            return VaultLib().encrypt(plaintext, self._encrypt_secret, vault_id=self._encrypt_id)
        except AnsibleError as exc:
            raise CredentialFileError(f"Cannot encrypt the credentials for {self.path}: {exc}") from exc
