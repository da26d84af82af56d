# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One run of keywarden.iam.access_key on the controller: preflight, plan, apply, result.

Private to the keywarden.iam collection: the interface may change without notice.

Order: everything that can fail without touching the cloud is checked first (options, vault
secret, destination file), then the user's keys are read (which also proves the identity and
its permissions), then the plan is made, and only then is anything changed.

Batch mode (``users``) runs the very same per-user flow for many users at once on a bounded
pool of threads sharing one client, so they share one throttle gate: a 429 seen by one
thread holds them all back. A user that fails is reported without stopping the others.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from ansible_collections.keywarden.iam.plugins.module_utils._access_key_options import (
    check_access_key_options,
    credentials_path_for,
)
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import (
    ConnectionSettings,
    settings_from_params,
)
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._executor import RunFailed, execute_plan, make_verifier
from ansible_collections.keywarden.iam.plugins.module_utils._identity import resolve_user_id
from ansible_collections.keywarden.iam.plugins.module_utils._inventory import UserFailure, UserSelector, resolve_names
from ansible_collections.keywarden.iam.plugins.module_utils._models import NewAccessKey
from ansible_collections.keywarden.iam.plugins.module_utils._planner import (
    NEW_KEY_PLACEHOLDER,
    KeyRequest,
    Plan,
    plan_keys,
)
from ansible_collections.keywarden.iam.plugins.module_utils._results import failure_result, keys_summary
from ansible_collections.keywarden.iam.plugins.plugin_utils._credential_store import CredentialFileError
from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import RunContext, SecretDestination
from ansible_collections.keywarden.iam.plugins.plugin_utils._vault_secret import choose_encrypt_secret

_COUNTED = ("created", "deleted", "deactivated", "activated")


@dataclass(frozen=True)
class _Task:
    """What every user's run of one task shares."""

    params: dict
    context: RunContext
    settings: ConnectionSettings
    client: IamClient
    mode: int

    @property
    def present(self) -> bool:
        return self.params["state"] == "present"


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
        mode = check_access_key_options(params)
        settings = settings_from_params(params)
        for warning in settings.warnings:
            context.warn(warning)
        task = _Task(params, context, settings, IamClient(settings), mode)
        if params["users"] is not None or params["user_ids"] is not None:
            return _run_batch(task)
        return _run_single(task)
    except TaskError as error:
        return failure_result(error)


def _run_single(task: _Task) -> dict:
    params = task.params
    # Preflight: nothing here talks to the cloud, so a mistake costs nothing.
    destination = _destination(task, params["credentials_file"])
    try:
        user_id = resolve_user_id(task.client, user_id=params["user_id"], user_name=params["user_name"])
        return _manage_user(task, user_id, params["user_name"], destination)
    finally:
        if destination:
            destination.close()


def _run_batch(task: _Task) -> dict:
    params = task.params
    if task.present and (params["credentials_file"] or params["return_secret"]):
        # One vault mistake must stop the whole batch before any API call, not fail N users.
        choose_encrypt_secret(task.context.vault_secrets, vault_id=params["vault_id"],
                              default_encrypt_identity=task.context.default_encrypt_identity)
    # Names are resolved with one listing of the account's users rather than one look-up each.
    users = resolve_names(task.client, [UserSelector(user_name=name) for name in params["users"] or []]
                          + [UserSelector(user_id=user_id) for user_id in params["user_ids"] or []])
    with ThreadPoolExecutor(max_workers=params["max_workers"]) as pool:
        results = list(pool.map(lambda user: _one_of_many(task, user), users))
    summary = {"users": len(results), "failed": sum(1 for r in results if r.get("failed")),
               "changed": sum(1 for r in results if r.get("changed"))}
    for name in _COUNTED:
        summary[name] = sum(len(r.get(name) or []) for r in results)
    batch: dict = {"changed": summary["changed"] > 0, "results": results, "summary": summary}
    if summary["failed"]:
        failed = ", ".join(r.get("user_name") or r.get("user_id") or "?" for r in results if r.get("failed"))
        batch.update(failed=True, msg=f"{summary['failed']} of {summary['users']} users failed ({failed}); "
                                      "the others were handled, see results")
    if task.context.diff:
        batch["diff"] = [r.pop("diff") for r in results if "diff" in r]
    return batch


def _one_of_many(task: _Task, user: UserSelector | UserFailure) -> dict:
    """One user of a batch: its own result; its failure stays its own."""
    selector = user.selector if isinstance(user, UserFailure) else user
    who = {"user_name": selector.user_name, "user_id": selector.user_id}
    try:
        if isinstance(user, UserFailure):
            raise user.error
        user_id = str(user.user_id)  # resolve_names gives every user it found an id
        path = credentials_path_for(task.params["credentials_file"], user_id=user_id, user_name=user.user_name)
        destination = _destination(task, path)
        try:
            return {**who, **_manage_user(task, user_id, user.user_name, destination)}
        finally:
            if destination:
                destination.close()
    except TaskError as error:
        return failure_result(error, **who)


def _destination(task: _Task, path: str | None) -> SecretDestination | None:
    if not task.present:
        return None
    params = task.params
    return SecretDestination.prepare(
        task.context, credentials_file=path, credentials_format=params["credentials_format"],
        vars_prefix=params["vars_prefix"], mode=task.mode, backup=params["backup"], vault_id=params["vault_id"],
        return_secret=params["return_secret"])


def _manage_user(task: _Task, user_id: str, user_name: str | None,
                 destination: SecretDestination | None) -> dict:
    """Read, plan and (unless in check mode) apply, for one user."""
    params, context, client = task.params, task.context, task.client
    store = destination.store if destination else None
    stored = destination.stored if destination else None
    if stored is not None and stored.user_id and stored.user_id != user_id:
        raise CredentialFileError(
            f"{store.path if store else 'the credentials file'} holds a key of user {stored.user_id}, not of user "
            f"{user_id}: give each user a credentials file of their own."
        )
    # Read: what keys the user holds. This also proves the identity and its permissions.
    keys = client.list_keys(user_id)
    now = client.server_now()
    request = KeyRequest(
        state=params["state"], access_key_id=params["access_key_id"], status=params["status"],
        description=params["description"], rotate=params["rotate"], max_age_days=params["max_age"],
        retire=params["old_key"], has_secret_destination=destination is not None,
    )
    stored_id = stored.access_key_id if stored else None
    plan = plan_keys(keys, request, now=now, auth_access_key_id=task.settings.auth_access_key,
                     stored_access_key_id=stored_id)

    def credentials_for(access_key_id: str, secret_access_key: str) -> Credentials:
        return Credentials(access_key_id, secret_access_key, user_id=user_id, user_name=user_name,
                           domain_id=client.domain_id())

    # A file that holds the right key in an outdated shape (another vars_prefix, say) is rewritten
    # from what it holds; a file that already matches is left alone, not even re-encrypted.
    refresh = (destination is not None and stored is not None and plan.kept_key_id == stored_id
               and not destination.is_current(credentials_for(stored.access_key_id, stored.secret_access_key)))
    result: dict = {
        "changed": plan.changed or refresh,
        "user_id": user_id,
        "plan": plan.describe() + ([f"rewrite {store.path} in the current format"] if refresh and store else []),
        "credentials_file": store.path if store else None,
    }
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
    kept = outcome.new_key.key.access_key_id if outcome.new_key else plan.kept_key_id
    result.update(access_keys=keys_summary(outcome.keys, now), credentials_file_changed=file_changed,
                  changed=outcome.changed or file_changed, access_key_id=kept, **_ids(outcome))
    if destination and destination.backup_file:
        result["backup_file"] = destination.backup_file
    if sink is not None and sink.vaulted_secret is not None:
        result["secret_access_key"] = sink.vaulted_secret
    if context.diff:
        file_key = kept if store is not None and file_changed else stored_id
        result["diff"] = _diff(user_id, now, keys, outcome.keys, store, stored_id, file_key)
    return result


def _ids(outcome) -> dict:
    return {name: getattr(outcome, name) for name in _COUNTED}


def _ids_from_plan(plan: Plan) -> dict:
    ids: dict = {name: [] for name in _COUNTED}
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
