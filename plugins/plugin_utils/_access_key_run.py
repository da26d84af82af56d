# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One run of keywarden.iam.access_key on the controller: preflight, plan, apply, result.

Private to the keywarden.iam collection: the interface may change without notice.

Order: everything that can fail without touching the cloud is checked first (options, vault
secret, destination file), then the user's keys are read (which also proves the identity and
its permissions), then the plan is made, and only then is anything changed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from ansible_collections.keywarden.iam.plugins.module_utils._access_key_options import (
    OptionError,
    check_access_key_options,
)
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import ConnectionOptionsError, settings_from_params
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials
from ansible_collections.keywarden.iam.plugins.module_utils._endpoints import EndpointError
from ansible_collections.keywarden.iam.plugins.module_utils._errors import IamError
from ansible_collections.keywarden.iam.plugins.module_utils._executor import RunFailed, execute_plan, make_verifier
from ansible_collections.keywarden.iam.plugins.module_utils._identity import resolve_user_id
from ansible_collections.keywarden.iam.plugins.module_utils._models import NewAccessKey
from ansible_collections.keywarden.iam.plugins.module_utils._planner import (
    NEW_KEY_PLACEHOLDER,
    KeyRequest,
    Plan,
    PlanError,
    plan_keys,
)
from ansible_collections.keywarden.iam.plugins.module_utils._results import keys_summary
from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import AtomicWriteError, write_atomic
from ansible_collections.keywarden.iam.plugins.plugin_utils._credential_store import (
    CredentialFileError,
    VaultedCredentialFile,
    vaulted_value,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._vault_secret import (
    VaultSecretError,
    choose_encrypt_secret,
)

_EXPECTED_FAILURES = (OptionError, ConnectionOptionsError, EndpointError, VaultSecretError, CredentialFileError,
                      PlanError)


@dataclass(frozen=True)
class RunContext:
    """What the action plugin hands over from the play."""

    vault_secrets: list
    default_encrypt_identity: str | None
    check_mode: bool
    diff: bool
    warn: Callable[[str], None]


class _Sinks:
    """Where a new secret goes: the vaulted file, and the vaulted result when asked.

    Remembers the file's previous bytes (ciphertext) so that a new key that fails its check can
    be undone completely: the file goes back to exactly what it was.
    """

    def __init__(self, store: VaultedCredentialFile | None, credentials_for: Callable[[str, str], Credentials],
                 vault_for_result: tuple | None) -> None:
        self._store = store
        self._credentials_for = credentials_for
        self._vault_for_result = vault_for_result
        self._previous = _read_bytes(store.path) if store else None
        self.file_changed = False
        self.backup_file: str | None = None
        self.vaulted_secret: Any = None

    def store(self, new_key: NewAccessKey) -> None:
        if self._vault_for_result:
            encrypt_secret, decrypt_secrets = self._vault_for_result
            self.vaulted_secret = vaulted_value(new_key.secret_access_key, encrypt_secret, decrypt_secrets)
        if self._store:
            written = self._store.write(self._credentials_for(new_key.key.access_key_id, new_key.secret_access_key))
            self.file_changed = written.changed
            self.backup_file = written.backup_file

    def restore(self) -> None:
        self.vaulted_secret = None
        if not self._store or not self.file_changed:
            return
        try:
            if self._previous is None:
                os.unlink(self._store.path)
            else:
                write_atomic(self._store.path, self._previous, mode=self._store.mode)
        except (OSError, AtomicWriteError) as error:
            raise CredentialFileError(f"could not put {self._store.path} back as it was: {error}") from None
        self.file_changed = False


def run_access_key(params: dict, context: RunContext) -> dict:
    """The task result for ``params`` (already validated against the argument spec)."""
    try:
        return _run(params, context)
    except _EXPECTED_FAILURES as error:
        return {"failed": True, "changed": False, "msg": str(error)}
    except IamError as error:
        return {"failed": True, "changed": False, "msg": error.message, "error": error.details()}


def _run(params: dict, context: RunContext) -> dict:
    mode = check_access_key_options(params)
    present = params["state"] == "present"

    # Preflight: nothing here talks to the cloud, so a mistake costs nothing.
    wants_secret = present and (params["credentials_file"] or params["return_secret"])
    encrypt_secret = None
    if wants_secret:
        encrypt_secret = choose_encrypt_secret(context.vault_secrets, vault_id=params["vault_id"],
                                               default_encrypt_identity=context.default_encrypt_identity)
    store = None
    stored = None
    if present and params["credentials_file"]:
        store = VaultedCredentialFile(path=params["credentials_file"], fmt=params["credentials_format"],
                                      encrypt_secret=encrypt_secret, vault_secrets=context.vault_secrets,
                                      mode=mode, backup=params["backup"], vars_prefix=params["vars_prefix"])
        stored = store.preflight()
    settings = settings_from_params(params)
    for warning in settings.warnings:
        context.warn(warning)

    # Read: who, and what keys they hold. This also proves the identity and its permissions.
    client = IamClient(settings)
    user_id = resolve_user_id(client, user_id=params["user_id"], user_name=params["user_name"])
    if stored is not None and stored.user_id and stored.user_id != user_id:
        raise CredentialFileError(
            f"{params['credentials_file']} holds a key of user {stored.user_id}, not of user {user_id}: "
            "give each user a credentials file of their own."
        )
    keys = client.list_keys(user_id)
    now = client.server_now()

    request = KeyRequest(
        state=params["state"], access_key_id=params["access_key_id"], status=params["status"],
        description=params["description"], rotate=params["rotate"], max_age_days=params["max_age"],
        retire=params["old_key"], has_secret_destination=bool(wants_secret),
    )
    plan = plan_keys(keys, request, now=now, auth_access_key_id=settings.auth_access_key,
                     stored_access_key_id=stored.access_key_id if stored else None)

    def credentials_for(access_key_id: str, secret_access_key: str) -> Credentials:
        return Credentials(access_key_id, secret_access_key, user_id=user_id, user_name=params["user_name"],
                           domain_id=client.domain_id())

    # A file that holds the right key in an outdated shape (another vars_prefix, say) is rewritten
    # from what it holds; a file that already matches is left alone, not even re-encrypted.
    refresh = (store is not None and stored is not None and plan.kept_key_id == stored.access_key_id
               and not store.is_current(credentials_for(stored.access_key_id, stored.secret_access_key)))
    result = {
        "changed": plan.changed or refresh,
        "user_id": user_id,
        "plan": plan.describe() + ([f"rewrite {store.path} in the current format"] if refresh and store else []),
        "credentials_file": store.path if store else None,
    }
    stored_id = stored.access_key_id if stored else None
    if context.check_mode:
        predicted = plan.predicted_keys(keys, user_id=user_id, now=now)
        result.update(access_keys=keys_summary(predicted, now), credentials_file_changed=plan.creates_key or refresh,
                      **_ids_from_plan(plan))
        if context.diff:
            new_file_key = NEW_KEY_PLACEHOLDER if plan.creates_key else stored_id
            result["diff"] = _diff(user_id, now, keys, predicted, store, stored_id, new_file_key)
        return result

    vault_for_result = (encrypt_secret, context.vault_secrets) if params["return_secret"] else None
    sinks = _Sinks(store, credentials_for, vault_for_result)
    verify = make_verifier(client, timeout=params["verify_timeout"]) if params["verify"] else None
    try:
        outcome = execute_plan(client, user_id, keys, plan, sink=sinks, verify=verify)
    except RunFailed as failure:
        result.update(failed=True, msg=failure.message, changed=failure.outcome.changed or sinks.file_changed,
                      access_keys=keys_summary(failure.outcome.keys, now), **_ids(failure.outcome),
                      credentials_file_changed=sinks.file_changed)
        if failure.cause is not None:
            result["error"] = failure.cause.details()
        return result
    if refresh and store is not None and stored is not None:
        written = store.write(credentials_for(stored.access_key_id, stored.secret_access_key))
        sinks.file_changed, sinks.backup_file = written.changed, written.backup_file
    result.update(access_keys=keys_summary(outcome.keys, now), credentials_file_changed=sinks.file_changed,
                  **_ids(outcome))
    result["changed"] = outcome.changed or sinks.file_changed
    if sinks.backup_file:
        result["backup_file"] = sinks.backup_file
    kept = outcome.new_key.key.access_key_id if outcome.new_key else plan.kept_key_id
    result["access_key_id"] = kept
    if context.diff:
        file_key = kept if store is not None and sinks.file_changed else stored_id
        result["diff"] = _diff(user_id, now, keys, outcome.keys, store, stored_id, file_key)
    if sinks.vaulted_secret is not None:
        result["secret_access_key"] = sinks.vaulted_secret
    return result


def _ids(outcome) -> dict:
    return {"created": outcome.created, "deleted": outcome.deleted, "deactivated": outcome.deactivated,
            "activated": outcome.activated}


def _ids_from_plan(plan: Plan) -> dict:
    ids: dict = {"created": [], "deleted": [], "deactivated": [], "activated": []}
    for step in plan.steps:
        if step.action == "create":
            ids["created"].append(NEW_KEY_PLACEHOLDER)
        elif step.action == "delete":
            ids["deleted"].append(step.access_key_id)
        elif step.status == "inactive":
            ids["deactivated"].append(step.access_key_id)
        elif step.status == "active":
            ids["activated"].append(step.access_key_id)
    return ids


def _diff(user_id: str, now, before_keys, after_keys, store, file_key_before, file_key_after) -> dict:
    """Before and after: key metadata, and which key the credentials file holds. Never a secret."""
    before: dict = {"access_keys": keys_summary(before_keys, now)}
    after: dict = {"access_keys": keys_summary(after_keys, now)}
    if store is not None:
        before["credentials_file"] = {"path": store.path, "access_key_id": file_key_before}
        after["credentials_file"] = {"path": store.path, "access_key_id": file_key_after}
    header = f"access keys of user {user_id}"
    return {"before": before, "after": after, "before_header": header, "after_header": header}


def _read_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
