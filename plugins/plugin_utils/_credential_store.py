# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A vault-encrypted credentials file on the controller. Private to keywarden.iam.

Controller-only. The file holds one access key in one of the formats of
``module_utils._credential_formats``, encrypted whole with ansible-vault, so that
``ansible-vault view`` shows it and ``include_vars`` reads the yaml format directly. It may hold
other things too (other variables of a vars file, other settings of an obsutil config): a write
changes only the key's own fields and keeps every other line.

Safety rules: a file that exists but is not vault-encrypted, cannot be decrypted, or decrypts to
something this format cannot read is never overwritten (it may hold a secret nobody else has);
a yaml file is checked with a real YAML loader before and after a write, so that no other
variable changes; "changed" is decided by decrypting and comparing, since vault ciphertext is
salted; no message carries the file's content. ``path`` is the resolved real file
(``_safe_path.resolve_destination``); it is read and written without following any link.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.parsing.vault import AnsibleVaultFormatError, VaultLib, VaultSecret, is_encrypted

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import (
    DEFAULT_VARS_PREFIX,
    YAML_KEY_SUFFIXES,
    CredentialFormatError,
    Credentials,
    check_options,
    parse,
    render,
)
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import (
    AtomicWriteError,
    read_regular,
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
    content: bytes | None = field(default=None, repr=False, compare=False)  # the vault-encrypted bytes written


@dataclass(frozen=True)
class Document:
    """What a credentials file holds: its decrypted text (kept for merging) and our credentials in it."""

    text: str = field(repr=False)
    creds: Credentials | None

    @classmethod
    def empty(cls) -> Document:
        return cls("", None)


class VaultedCredentialFile:
    """One vault-encrypted credentials file.

    ``encrypt_secret`` is the ``(vault_id, VaultSecret)`` to encrypt with (see
    ``_vault_secret.choose_encrypt_secret``); ``vault_secrets`` are all the secrets the play
    loaded (``_vault_secret.loader_vault_secrets``), any of which may open the existing file.
    ``path`` is the real file to read and write, ``display`` the path as the task named it.
    Every method raises CredentialFileError.
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
        display: str | None = None,
    ) -> None:
        self.display = display or path
        try:
            check_options(fmt, vars_prefix=vars_prefix)
        except CredentialFormatError as exc:
            raise CredentialFileError(f"Cannot manage {self.display}: {exc}") from exc
        self.path = path
        self.fmt = fmt
        self.mode = mode
        self.backup = backup
        self.vars_prefix = vars_prefix
        self._encrypt_id, self._encrypt_secret = encrypt_secret
        # The encrypt secret first: a file written here opens with it at the first try.
        self._decrypt_secrets = [encrypt_secret] + [pair for pair in vault_secrets if pair != encrypt_secret]

    def read(self) -> Document:
        """What the file holds; an empty document if it does not exist or is empty."""
        return self.decode(self.read_bytes())

    def read_bytes(self) -> bytes | None:
        """The file's vault-encrypted bytes (None: no file, or an empty one), checked to be vault-encrypted."""
        return self._read_vaulttext()

    def decode(self, vaulttext: bytes | None) -> Document:
        """What ``vaulttext`` (as ``read_bytes`` gave it) holds: decrypted, parsed and checked."""
        if vaulttext is None:
            return Document.empty()
        text = self._decrypt(vaulttext)
        if not text.strip():
            return Document.empty()
        try:
            creds = parse(self.fmt, text, vars_prefix=self.vars_prefix)
        except CredentialFormatError as exc:
            raise CredentialFileError(
                f"{self.display} does not hold valid {self.fmt} credentials ({exc}); "
                "if it holds another format, set the format to match, else move the file away"
            ) from exc
        if self.fmt == "yaml":
            _yaml_mapping(text, self.display)  # refuse what a real YAML loader would read otherwise
        return Document(text, creds)

    def is_whole(self, document: Document) -> bool:
        """Whether the file holds nothing but the key: rendering its credentials anew gives its very text.

        Then writing another key into it gives what rendering that key anew gives, so a write
        needs no decryption of the old text.
        """
        if document.creds is None:
            return not document.text.strip()
        try:
            return document.text == render(self.fmt, document.creds, vars_prefix=self.vars_prefix)
        except CredentialFormatError:
            return False

    def written_as(self, creds: Credentials) -> Credentials | None:
        """What reading the file back gives after ``creds`` are written into a file that holds nothing else."""
        return self._render(creds, Document.empty())[1]

    def holds(self, current: Document, creds: Credentials) -> bool:
        """Whether the file (``current``, as ``read`` gave it) already holds what ``write(creds)`` would put there."""
        return current.creds == self._render(creds, current)[1]

    def write(self, creds: Credentials, current: Document) -> tuple[WriteResult, Document]:
        """Write ``creds`` into the file (whose content is ``current``), keeping everything else in it.

        Nothing is written when it already holds them. Returns what was done and the new document.
        """
        plaintext, expected = self._render(creds, current)
        if current.creds == expected:
            return WriteResult(changed=False), current
        vaulttext = self._encrypt(plaintext)
        try:
            backup_file = write_atomic(self.path, vaulttext, mode=self.mode, backup=self.backup)
        except AtomicWriteError as exc:
            raise CredentialFileError(str(exc)) from exc
        return WriteResult(changed=True, backup_file=backup_file, content=vaulttext), Document(plaintext, expected)

    def vaulted_text(self, plaintext: str) -> object:
        """``plaintext`` encrypted with the encrypt secret, as a value for a task result.

        ansible-core 2.19+: an ``EncryptedString``. Callbacks show it as ``<redacted>`` at any
        verbosity; a registered result decrypts on use in a template with the play's vault
        secrets, so a later task reads it as a normal string. ansible-core 2.18: an
        ``AnsibleVaultEncryptedUnicode`` that carries the VaultLib it decrypts with; callbacks
        show its ciphertext (``__ansible_vault``), templates see the plaintext.
        """
        return vaulted_value(plaintext, (self._encrypt_id, self._encrypt_secret), self._decrypt_secrets)

    def _render(self, creds: Credentials, current: Document) -> tuple[str, Credentials | None]:
        """The plaintext to write for ``creds`` into ``current``, and what reading it back gives."""
        try:
            plaintext = render(self.fmt, creds, vars_prefix=self.vars_prefix, into=current.text)
        except CredentialFormatError as exc:
            raise CredentialFileError(f"Cannot write {self.display}: {exc}") from exc
        if self.fmt == "yaml":
            _same_other_variables(current.text, plaintext, self.vars_prefix, self.display)
        # Compare parsed values, not text: a file written by another version of this
        # collection, or tidied by hand, is still current if it holds the same key.
        return plaintext, parse(self.fmt, plaintext, vars_prefix=self.vars_prefix)

    def _read_vaulttext(self) -> bytes | None:
        try:
            data = read_regular(self.path)
        except AtomicWriteError as exc:
            raise CredentialFileError(str(exc)) from exc
        if data is None or not data.strip():
            return None  # no file, or an empty one: nothing to lose
        if not is_encrypted(data):
            raise CredentialFileError(
                f"{self.display} exists but is not vault-encrypted: refusing to overwrite a plaintext file that may "
                "hold a secret; move it away or encrypt it with ansible-vault"
            )
        return data

    def _decrypt(self, vaulttext: bytes) -> str:
        try:
            plaintext = VaultLib(self._decrypt_secrets).decrypt(vaulttext)
        except AnsibleVaultFormatError as exc:
            raise CredentialFileError(f"{self.display} has a vault header but is not a valid vault file") from exc
        except AnsibleError as exc:
            raise CredentialFileError(self._undecryptable(vaulttext)) from exc
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise CredentialFileError(f"{self.display} decrypts to something that is not UTF-8 text") from None

    def _undecryptable(self, vaulttext: bytes) -> str:
        loaded = ", ".join(dict.fromkeys(vault_id for vault_id, _secret in self._decrypt_secrets))
        header = vaulttext.split(b"\n", 1)[0].strip().split(b";")
        if len(header) >= 4:
            vault_id = header[3].decode("utf-8", errors="replace")
            return (
                f"Cannot decrypt {self.display}: it is encrypted with vault id {vault_id!r}, and no loaded vault "
                f"secret (ids: {loaded}) opens it; load its secret with --vault-id {vault_id}@<password file or prompt>"
            )
        return (
            f"Cannot decrypt {self.display}: its header names no vault id, and no loaded vault secret (ids: "
            f"{loaded}) opens it; load its secret with --vault-id or --vault-password-file"
        )

    def _encrypt(self, plaintext: str) -> bytes:
        # vault id "default" gives a 1.1 header without a label, as ansible-vault writes it
        try:
            return VaultLib().encrypt(plaintext, self._encrypt_secret, vault_id=self._encrypt_id)
        except AnsibleError as exc:
            raise CredentialFileError(f"Cannot encrypt the credentials for {self.display}: {exc}") from exc


# ---- yaml: what Ansible itself will read -------------------------------------------------------

# libyaml's parser when PyYAML has it, as Ansible's own loader does: the same documents, about ten
# times less CPU than the pure-Python one, which a batch of thousands of files feels.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml_mapping(text: str, display: str) -> dict:
    """The vars file as Ansible's YAML loader reads it: a mapping (or nothing)."""
    try:
        loaded = yaml.load(text, Loader=_SAFE_LOADER)  # a safe loader, C or Python
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        # The loader's own message may quote the text, which may hold a secret.
        raise CredentialFileError(f"{display} is not valid YAML{where}: fix it or move it away") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise CredentialFileError(f"{display} does not hold a YAML mapping of variables: refusing to write into it")
    return loaded


def _same_other_variables(before: str, after: str, vars_prefix: str, display: str) -> None:
    """Refuse a yaml write that would change any variable but ours, as a real YAML loader sees them."""
    ours = {vars_prefix + suffix for suffix in YAML_KEY_SUFFIXES}
    old = {key: value for key, value in _yaml_mapping(before, display).items() if key not in ours}
    new = {key: value for key, value in _yaml_mapping(after, display).items() if key not in ours}
    if old != new:
        raise CredentialFileError(
            f"Cannot write {display}: writing the key into it would change its other variables as YAML reads "
            "them; keep the credentials in a file of their own")
