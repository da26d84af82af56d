# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a new secret goes: a vault-encrypted credentials file, and a vaulted task result.

Private to the keywarden.iam collection: the interface may change without notice.

Shared by every action that obtains a secret (permanent or temporary keys). ``prepare`` does
the whole preflight before any API call: it chooses the vault secret the way ansible-vault
does, checks that the file can be written, locks it against other runs (until ``close``), and
reads what it holds now. The destination also remembers the file's previous bytes, so that
``restore`` can put it back exactly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials
from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import (
    AtomicWriteError,
    check_writable,
    write_atomic,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._credential_store import (
    CredentialFileError,
    VaultedCredentialFile,
    vaulted_value,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._file_lock import FileLock, FileLockTimeout
from ansible_collections.keywarden.iam.plugins.plugin_utils._vault_secret import choose_encrypt_secret


@dataclass(frozen=True)
class RunContext:
    """What an action plugin hands over from the play."""

    vault_secrets: list
    default_encrypt_identity: str | None
    check_mode: bool
    diff: bool
    warn: Callable[[str], None]


class SecretDestination:
    def __init__(self, *, store: VaultedCredentialFile | None, encrypt_secret: tuple, vault_secrets: list,
                 return_secret: bool) -> None:
        self.store = store
        self.return_secret = return_secret
        self._encrypt_secret = encrypt_secret
        self._vault_secrets = vault_secrets
        self._lock: FileLock | None = None
        self._previous: bytes | None = None
        # What the file holds before the run (None: no file, or no file asked for).
        self.stored: Credentials | None = None
        self.file_changed = False
        self.backup_file: str | None = None
        if store:
            self._lock_and_read(store)

    def _lock_and_read(self, store: VaultedCredentialFile) -> None:
        """Hold the file's lock from this first read until ``close``, so no other run writes in between."""
        try:
            check_writable(store.path)
        except AtomicWriteError as error:
            raise CredentialFileError(str(error)) from None
        self._lock = FileLock(store.path)
        try:
            self._lock.acquire()
        except FileLockTimeout as error:
            raise CredentialFileError(str(error)) from None
        except OSError as error:
            raise CredentialFileError(
                f"Cannot write {store.path}: its lock file {self._lock.path} could not be created ({error.strerror}); "
                "choose a directory this user can write for credentials_file.") from None
        try:
            self._previous = _read_bytes(store.path)
            self.stored = store.preflight()
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        """Let other runs at the file again."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> SecretDestination:
        return self

    def __exit__(self, *_exc_info) -> None:
        self.close()

    @classmethod
    def prepare(cls, context: RunContext, *, credentials_file: str | None, credentials_format: str,
                vars_prefix: str, mode: int, backup: bool, vault_id: str | None,
                return_secret: bool) -> SecretDestination | None:
        """The destination the options ask for, checked; None when they ask for none.

        Raises VaultSecretError or CredentialFileError, before anything has touched the cloud.
        """
        if not credentials_file and not return_secret:
            return None
        encrypt_secret = choose_encrypt_secret(context.vault_secrets, vault_id=vault_id,
                                               default_encrypt_identity=context.default_encrypt_identity)
        store = None
        if credentials_file:
            store = VaultedCredentialFile(path=credentials_file, fmt=credentials_format,
                                          encrypt_secret=encrypt_secret, vault_secrets=context.vault_secrets,
                                          mode=mode, backup=backup, vars_prefix=vars_prefix)
        return cls(store=store, encrypt_secret=encrypt_secret, vault_secrets=context.vault_secrets,
                   return_secret=return_secret)

    @property
    def path(self) -> str | None:
        return self.store.path if self.store else None

    def is_current(self, creds: Credentials) -> bool:
        """Whether the file already holds ``creds``, as written would be.

        Until this run writes, the file is what the locked first read found, so that read answers
        without reading and decrypting the file again.
        """
        if self.store is None:
            return True
        if self.file_changed:
            return self.store.is_current(creds)
        return self.store.holds(self.stored, creds)

    def write(self, creds: Credentials) -> None:
        """Write ``creds`` to the file (all or nothing; not at all if it already holds them)."""
        if self.store:
            written = self.store.write(creds)
            self.file_changed = self.file_changed or written.changed
            self.backup_file = written.backup_file or self.backup_file

    def vaulted(self, plaintext: str) -> Any:
        """``plaintext`` as a vault-encrypted value for the task result."""
        return vaulted_value(plaintext, self._encrypt_secret, self._vault_secrets)

    def restore(self) -> None:
        """Put the file back exactly as it was before this run wrote it."""
        if not self.store or not self.file_changed:
            return
        try:
            if self._previous is None:
                os.unlink(self.store.path)
            else:
                write_atomic(self.store.path, self._previous, mode=self.store.mode)
        except (OSError, AtomicWriteError) as error:
            raise CredentialFileError(f"could not put {self.store.path} back as it was: {error}") from None
        self.file_changed = False


def _read_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
