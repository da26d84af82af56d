# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One run of keywarden.iam.access_key on the controller: preflight, plan, apply, result.

Private to the keywarden.iam collection: the interface may change without notice.

Order: everything that can fail without touching the cloud is checked first (options, vault
secret, destination file), then the user's keys are read (which also proves the identity and
its permissions), then the plan is made, and only then is anything changed.
"""

from __future__ import annotations

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
from ansible_collections.keywarden.iam.plugins.plugin_utils._credential_store import CredentialFileError
from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import RunContext, SecretDestination
from ansible_collections.keywarden.iam.plugins.plugin_utils._vault_secret import VaultSecretError

_EXPECTED_FAILURES = (OptionError, ConnectionOptionsError, EndpointError, VaultSecretError, CredentialFileError,
                      PlanError)


class _NewKeySink:
    """Hands a new key's secret to the destination: the file, and the vaulted result if asked."""

    def __init__(self, destination: SecretDestination, credentials_for: Callable[[str, str], Credentials]) -> None:
        self._destination = destination
        self._credentials_for = credentials_for
        self.vaulted_secret: Any = None

    def store(self, new_key: NewAccessKey) -> None:
        if self._destination.return_secret:
            self.vaulted_secret = self._destination.vaulted(new_key.secret_access_key)
        self._destination.write(self._credentials_for(new_key.key.access_key_id, new_key.secret_access_key))

    def restore(self) -> None:
        self.vaulted_secret = None
        self._destination.restore()


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
    destination = None
    if present:
        destination = SecretDestination.prepare(
            context, credentials_file=params["credentials_file"], credentials_format=params["credentials_format"],
            vars_prefix=params["vars_prefix"], mode=mode, backup=params["backup"], vault_id=params["vault_id"],
            return_secret=params["return_secret"])
    store = destination.store if destination else None
    stored = destination.stored if destination else None
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
        retire=params["old_key"], has_secret_destination=destination is not None,
    )
    plan = plan_keys(keys, request, now=now, auth_access_key_id=settings.auth_access_key,
                     stored_access_key_id=stored.access_key_id if stored else None)

    def credentials_for(access_key_id: str, secret_access_key: str) -> Credentials:
        return Credentials(access_key_id, secret_access_key, user_id=user_id, user_name=params["user_name"],
                           domain_id=client.domain_id())

    # A file that holds the right key in an outdated shape (another vars_prefix, say) is rewritten
    # from what it holds; a file that already matches is left alone, not even re-encrypted.
    refresh = (destination is not None and stored is not None and plan.kept_key_id == stored.access_key_id
               and not destination.is_current(credentials_for(stored.access_key_id, stored.secret_access_key)))
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

    sink = _NewKeySink(destination, credentials_for) if destination else None
    verify = make_verifier(client, timeout=params["verify_timeout"]) if params["verify"] else None
    try:
        outcome = execute_plan(client, user_id, keys, plan, sink=sink, verify=verify)
    except RunFailed as failure:
        file_changed = bool(destination and destination.file_changed)
        result.update(failed=True, msg=failure.message, changed=failure.outcome.changed or file_changed,
                      access_keys=keys_summary(failure.outcome.keys, now), **_ids(failure.outcome),
                      credentials_file_changed=file_changed)
        if failure.cause is not None:
            result["error"] = failure.cause.details()
        return result
    if refresh and destination is not None and stored is not None:
        destination.write(credentials_for(stored.access_key_id, stored.secret_access_key))
    file_changed = bool(destination and destination.file_changed)
    result.update(access_keys=keys_summary(outcome.keys, now), credentials_file_changed=file_changed,
                  **_ids(outcome))
    result["changed"] = outcome.changed or file_changed
    if destination and destination.backup_file:
        result["backup_file"] = destination.backup_file
    kept = outcome.new_key.key.access_key_id if outcome.new_key else plan.kept_key_id
    result["access_key_id"] = kept
    if context.diff:
        file_key = kept if store is not None and file_changed else stored_id
        result["diff"] = _diff(user_id, now, keys, outcome.keys, store, stored_id, file_key)
    if sink is not None and sink.vaulted_secret is not None:
        result["secret_access_key"] = sink.vaulted_secret
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

