# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a new secret goes: a vault-encrypted credentials file, and a vaulted task result.

Private to the keywarden.iam collection: the interface may change without notice.

Shared by every action that obtains a secret (permanent or temporary keys). ``prepare`` does
the whole preflight before any API call: it chooses the vault secret the way ansible-vault
does, resolves the path and checks that it is safe to follow and write (``_safe_path``), locks
the real file against other runs (until ``close``: two links to one file share one lock), and
reads what it holds, once. Every later step works on that read and on the real file.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials
from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import (
    AtomicWriteError,
    TemporaryListings,
    leftover_temporaries,
    link_previous,
    remove_durably,
    restore_previous,
    set_mode,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._credential_store import (
    CredentialFileError,
    Document,
    VaultedCredentialFile,
    vaulted_value,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._file_fingerprint import (
    CredentialFacts,
    Fingerprint,
    content_hash,
    read_fingerprint,
    write_fingerprint,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._file_lock import FileLock
from ansible_collections.keywarden.iam.plugins.plugin_utils._journal import previous_path_for
from ansible_collections.keywarden.iam.plugins.plugin_utils._safe_path import resolve_destination
from ansible_collections.keywarden.iam.plugins.plugin_utils._vault_secret import choose_encrypt_secret


@dataclass(frozen=True)
class RunContext:
    """What an action plugin hands over from the play."""

    vault_secrets: list
    default_encrypt_identity: str | None
    check_mode: bool
    diff: bool
    warn: Callable[[str], None]
    # The controller's private state directory (per-user locks, indexes, file-less journals).
    state_dir: str
    # One listing per directory for the whole task, to look for what interrupted runs left behind.
    temporaries: TemporaryListings = field(default_factory=TemporaryListings)
    # Values masked wherever they appear in the task's result and warnings. The action plugin puts
    # the no_log options' values here; a run adds the secrets it reads elsewhere (clouds.yaml).
    secrets: set = field(default_factory=set)


class SecretDestination:
    """``remember``: keep a fingerprint beside the file (``_file_fingerprint``), so that a run that
    changes nothing need not decrypt it. Never in check mode, which writes nothing at all."""

    def __init__(self, *, store: VaultedCredentialFile | None, encrypt_secret: tuple, vault_secrets: list,
                 return_secret: bool, given_path: str | None = None, remember: bool = False,
                 directory_exists: bool = True, temporaries: TemporaryListings | None = None) -> None:
        self.store = store
        self._temporaries = temporaries
        self.return_secret = return_secret
        self.path = given_path  # as the task named it, for results and messages
        self._encrypt_secret = encrypt_secret
        self._vault_secrets = vault_secrets
        self._remember = remember
        self._lock: FileLock | None = None
        # The file's bytes as read under the lock (kept current by every write here), and what they
        # hold: decrypted (``_document``), or known from the fingerprint alone (``_document`` None).
        self._content: bytes | None = None
        self._document: Document | None = Document.empty()
        self._fingerprint: Fingerprint | None = None
        self.current_mode: int | None = None
        self.file_changed = False
        self.backup_file: str | None = None
        if store and directory_exists:  # (check mode: a directory not made yet holds nothing to lock or read)
            self._lock_and_read(store)

    @property
    def stored(self) -> Credentials | None:
        """The credentials the file holds now, secret included (None: no file, or no key in it).

        Decrypts the file if only its fingerprint was read so far.
        """
        return self._loaded().creds

    @property
    def stored_facts(self) -> CredentialFacts | None:
        """What the file holds now, without its secrets; never decrypts."""
        if self._document is None:
            return self._fingerprint.holds if self._fingerprint else None
        return CredentialFacts.of(self._document.creds) if self._document.creds else None

    def _lock_and_read(self, store: VaultedCredentialFile) -> None:
        """Hold the real file's lock from this first read until ``close``, so no other run writes in between."""
        self._lock = FileLock(store.path, description=store.display)
        self._lock.acquire()
        try:
            self._content = store.read_bytes()
            if self._remember and self._content is not None:
                self._fingerprint = read_fingerprint(store.path, self._content, fmt=store.fmt,
                                                     vars_prefix=store.vars_prefix)
            self._document = None if self._fingerprint else store.decode(self._content)
            self._note()
            self.current_mode = _mode_of(store.path)
        except Exception:
            self.close()
            raise

    def _loaded(self) -> Document:
        """The file's content, decrypted: the bytes read under the lock, which no other run can have changed."""
        if self._document is None:
            if self.store is None:  # never: without a store there is no fingerprint either
                return Document.empty()
            self._document = self.store.decode(self._content)
        return self._document

    def load(self) -> None:
        """Decrypt the file now, if that is still to do: before a change that needs its secret or its text,
        so that a file the play cannot open stops the run before anything has changed."""
        self._loaded()

    @property
    def renders_anew(self) -> bool:
        """Whether a new key can be written without decrypting the file: it holds nothing else."""
        if self._document is None:
            return bool(self._fingerprint and self._fingerprint.whole)
        return self.store is None or self.store.is_whole(self._document)

    def _note(self, *, current_for: CredentialFacts | None = None) -> None:
        """Record what the file holds now beside it, unless the record already says so."""
        store, content = self.store, self._content
        if not self._remember or store is None or content is None:
            return
        fingerprint = self._fingerprint
        if self._document is not None:
            if self._document.creds is None:
                return  # an empty file: nothing to know, nothing to save
            facts = CredentialFacts.of(self._document.creds)
            if fingerprint is None or fingerprint.holds != facts:
                fingerprint = Fingerprint(content_hash(content), store.fmt, store.vars_prefix, facts,
                                          whole=store.is_whole(self._document))
        if fingerprint is None:
            return
        if current_for is not None:
            fingerprint = replace(fingerprint, current_for=current_for)
        if fingerprint != self._fingerprint:
            write_fingerprint(store.path, fingerprint)
            self._fingerprint = fingerprint

    def close(self) -> None:
        """Let other runs at the file again."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @classmethod
    def prepare(cls, context: Any, *, credentials_file: str | None, credentials_format: str,
                vars_prefix: str, mode: int, backup: bool, vault_id: str | None,
                return_secret: bool, remember: bool = False) -> SecretDestination | None:
        """The destination the options ask for, checked; None when they ask for none.

        Raises TaskErrors (VaultSecretError, CredentialFileError, UnsafePathError, lock errors)
        before anything has touched the cloud. ``context`` is the run's RunContext.
        """
        if not credentials_file and not return_secret:
            return None
        encrypt_secret = choose_encrypt_secret(context.vault_secrets, vault_id=vault_id,
                                               default_encrypt_identity=context.default_encrypt_identity)
        store, missing_directory = None, None
        if credentials_file:
            safe = resolve_destination(credentials_file, missing_directory_ok=context.check_mode)
            missing_directory = safe.missing_directory
            for warning in safe.warnings:
                context.warn(warning)
            store = VaultedCredentialFile(path=safe.resolved, display=credentials_file, fmt=credentials_format,
                                          encrypt_secret=encrypt_secret, vault_secrets=context.vault_secrets,
                                          mode=mode, backup=backup, vars_prefix=vars_prefix)
        return cls(store=store, encrypt_secret=encrypt_secret, vault_secrets=context.vault_secrets,
                   return_secret=return_secret, given_path=credentials_file,
                   remember=remember and not context.check_mode,
                   directory_exists=missing_directory is None, temporaries=context.temporaries)

    def is_current(self, facts: CredentialFacts) -> bool:
        """Whether writing the file's own key with ``facts`` would change nothing (no file: nothing to hold).

        Known from the fingerprint when it was found current for the same facts before; else the
        file is decrypted and compared, and the answer remembered.
        """
        if self.store is None:
            return True
        fingerprint = self._fingerprint
        if self._document is None and fingerprint and fingerprint.current_for == facts:
            return fingerprint.holds.access_key_id == facts.access_key_id
        stored = self.stored
        if stored is None or stored.access_key_id != facts.access_key_id:
            return False
        current = self.store.holds(self._loaded(), facts.with_secret(stored.secret_access_key,
                                                                     stored.security_token))
        if current:
            self._note(current_for=facts)
        return current

    def write(self, creds: Credentials) -> None:
        """Write ``creds`` into the file, keeping what else it holds (all or nothing; fsynced)."""
        store = self.store
        if store is None:
            return
        if self._document is None and self.renders_anew:
            # The file holds nothing but a key: render the new one anew, with no need to decrypt the old.
            written_as = store.written_as(creds)
            if written_as is not None and CredentialFacts.of(written_as) == self.stored_facts:
                return  # the same key, the same facts: the same file
            current = Document.empty()
        else:
            current = self._loaded()
        written, self._document = store.write(creds, current)
        if written.changed:
            self.file_changed = True
            self.current_mode = store.mode
            self._content = written.content
            self._fingerprint = None
            self._note(current_for=CredentialFacts.of(creds))
        self.backup_file = written.backup_file or self.backup_file

    def content(self) -> bytes | None:
        """The file's bytes now (vault-encrypted), for the controller's index."""
        return self._content if self.store is not None else None

    def keep_previous(self) -> bool:
        """Keep the file's current version beside it while a rotation is open; False when there is none."""
        if self.store is None:
            return False
        try:
            return link_previous(self.store.path, previous_path_for(self.store.path))
        except AtomicWriteError as error:
            raise CredentialFileError(f"Cannot keep the previous version of {self.path}: {error}") from None

    def undo(self, *, previous_kept: bool) -> Credentials | None:
        """Put the file back as it was when the rotation began; what it holds then."""
        if self.store is None:
            return None
        try:
            if previous_kept:
                restore_previous(previous_path_for(self.store.path), self.store.path)
            else:
                remove_durably(self.store.path)  # the rotation created the file
            self._content = self.store.read_bytes()
            self._document, self._fingerprint = self.store.decode(self._content), None
            self._note()
            self.current_mode = _mode_of(self.store.path)
        except AtomicWriteError as error:
            raise CredentialFileError(f"could not put {self.path} back as it was: {error}") from None
        self.file_changed = False
        return self._loaded().creds

    def leftovers(self, *, journal_open: bool) -> list:
        """What an interrupted run left beside the file: temporary files, and a previous copy no journal needs."""
        if self.store is None:
            return []
        # An open journal means a rotation of this file was interrupted, perhaps by a run killed
        # after this task listed the directory: list it afresh, so its temporary file (which may
        # hold a live secret) goes now rather than at the next run.
        found = leftover_temporaries(self.store.path, None if journal_open else self._temporaries)
        previous = previous_path_for(self.store.path)
        if not journal_open and os.path.isfile(previous) and not os.path.islink(previous):
            found.append(previous)  # the journal is removed first, so a kill between the two leaves this
        return found

    def remove(self, paths: list) -> None:
        try:
            for path in paths:
                remove_durably(path)
        except AtomicWriteError as error:
            raise CredentialFileError(f"Cannot remove what an interrupted run left beside {self.path}: {error}") \
                from None

    def chmod(self, mode: int) -> None:
        if self.store is None:
            return
        try:
            if set_mode(self.store.path, mode):
                self.file_changed = True
        except AtomicWriteError as error:
            raise CredentialFileError(f"Cannot set the mode of {self.path}: {error}") from None
        self.current_mode = mode

    def vaulted(self, plaintext: str) -> Any:
        """``plaintext`` as a vault-encrypted value for the task result."""
        return vaulted_value(plaintext, self._encrypt_secret, self._vault_secrets)


def _mode_of(path: str) -> int | None:
    try:
        return stat.S_IMODE(os.lstat(path).st_mode)
    except FileNotFoundError:
        return None
