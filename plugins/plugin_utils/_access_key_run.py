# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One run of keywarden.iam.access_key on the controller: preflight, plan, apply, result.

Private to the keywarden.iam collection: the interface may change without notice.

Order: everything that can fail without touching the cloud is checked first (options, vault
secret, the destination's path, its lock and its content), then the user is identified, then
the run waits for the user's lock on this controller (runs on other files of the same user
wait for each other), then the user's keys are read and the plan made (settling first what an
interrupted run left in the journal), and only then is anything changed.

Batch mode (``users``) runs the very same per-user flow for many users at once on a bounded
pool of threads sharing one client, so they share one throttle gate: a 429 seen by one
thread holds them all back. A user that fails is reported without stopping the others; a user
named twice (by name and by id, say) is handled once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from ansible_collections.keywarden.iam.plugins.module_utils._access_key_options import (
    AccessKeyTask,
    credentials_path_for,
    task_from_params,
)
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import settings_from_params
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._executor import (
    Outcome,
    RunFailed,
    counts,
    execute_plan,
)
from ansible_collections.keywarden.iam.plugins.module_utils._identity import resolve_user_id
from ansible_collections.keywarden.iam.plugins.module_utils._inventory import UserFailure, UserSelector, resolve_names
from ansible_collections.keywarden.iam.plugins.module_utils._planner import (
    PEND,
    Plan,
    Situation,
    World,
    changes_anything,
    file_changed,
    simulate_plan,
)
from ansible_collections.keywarden.iam.plugins.module_utils._results import failure_result, keys_summary
from ansible_collections.keywarden.iam.plugins.plugin_utils._journal import Scope
from ansible_collections.keywarden.iam.plugins.plugin_utils._key_backend import KeyBackend
from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import RunContext, SecretDestination
from ansible_collections.keywarden.iam.plugins.plugin_utils._user_state import UserState
from ansible_collections.keywarden.iam.plugins.plugin_utils._vault_secret import choose_encrypt_secret

_COUNTED = ("created", "deleted", "deactivated", "activated")


def run_access_key(params: dict, context: RunContext) -> dict:
    """The task result for ``params`` (already validated against the argument spec)."""
    try:
        task = task_from_params(params)
        settings = settings_from_params(params)
        context.secrets.update(settings.secrets)  # a clouds.yaml entry's: no option value masks it
        for warning in settings.warnings:
            context.warn(warning)
        with IamClient(settings) as client:  # closes its kept connections once every thread is done
            if task.batch:
                return _run_batch(task, client, context)
            return _run_single(task, client, context)
    except TaskError as error:
        return failure_result(error)


def _run_single(task: AccessKeyTask, client: IamClient, context: RunContext) -> dict:
    # Preflight: nothing here talks to the cloud, so a mistake costs nothing.
    destination = _destination(task, context, task.files.credentials_file)
    try:
        user_id = resolve_user_id(client, user_id=task.user_id, user_name=task.user_name)
        return _manage_user(task, client, context, user_id, task.user_name, destination)
    finally:
        if destination:
            destination.close()


def _run_batch(task: AccessKeyTask, client: IamClient, context: RunContext) -> dict:
    if task.present and task.files.wanted:
        # One vault mistake must stop the whole batch before any API call, not fail N users.
        choose_encrypt_secret(context.vault_secrets, vault_id=task.files.vault_id,
                              default_encrypt_identity=context.default_encrypt_identity)
    # Names are resolved with one listing of the account's users rather than one look-up each.
    selectors = resolve_names(client, [UserSelector(user_name=name) for name in task.users or ()]
                              + [UserSelector(user_id=user_id) for user_id in task.user_ids or ()])
    firsts, duplicates = _handled_once(selectors)
    with ThreadPoolExecutor(max_workers=task.max_workers) as pool:
        handled = dict(zip(map(id, firsts), pool.map(lambda user: _one_of_many(task, client, context, user), firsts)))
    results = [handled[id(user)] if id(user) in handled else duplicates[id(user)] for user in selectors]
    summary = {"users": len(results), "failed": sum(1 for r in results if r.get("failed")),
               "changed": sum(1 for r in results if r.get("changed")), "duplicates": len(duplicates)}
    for name in _COUNTED:
        summary[name] = sum(len(r.get(name) or []) for r in results)
    batch: dict = {"changed": summary["changed"] > 0, "results": results, "summary": summary}
    if summary["failed"]:
        failed = ", ".join(r.get("user_name") or r.get("user_id") or "?" for r in results if r.get("failed"))
        batch.update(failed=True, msg=f"{summary['failed']} of {summary['users']} users failed ({failed}); "
                                      "the others were handled, see results")
    if context.diff:
        batch["diff"] = [r.pop("diff") for r in results if "diff" in r]
    return batch


def _handled_once(selectors: list) -> tuple[list, dict]:
    """The users to handle (each IAM user once), and a result for every repeat of one."""
    first_of: dict = {}
    firsts, duplicates = [], {}
    for user in selectors:
        user_id = None if isinstance(user, UserFailure) else user.user_id
        if user_id is None or user_id not in first_of:
            firsts.append(user)
            if user_id is not None:
                first_of[user_id] = user
            continue
        first = first_of[user_id]
        duplicates[id(user)] = {
            "user_name": user.user_name, "user_id": user_id, "changed": False, "duplicate": True,
            "msg": f"the same IAM user as {first.describe()}, named earlier in this task: handled once, there"}
    return firsts, duplicates


def _one_of_many(task: AccessKeyTask, client: IamClient, context: RunContext,
                 user: UserSelector | UserFailure) -> dict:
    """One user of a batch: its own result; its failure stays its own."""
    selector = user.selector if isinstance(user, UserFailure) else user
    who = {"user_name": selector.user_name, "user_id": selector.user_id}
    try:
        if isinstance(user, UserFailure):
            raise user.error
        user_id = str(user.user_id)  # resolve_names gives every user it found an id
        path = credentials_path_for(task.files.credentials_file, user_id=user_id, user_name=user.user_name)
        destination = _destination(task, context, path)
        try:
            return {**who, **_manage_user(task, client, context, user_id, user.user_name, destination)}
        finally:
            if destination:
                destination.close()
    except TaskError as error:
        return failure_result(error, **who)


def _destination(task: AccessKeyTask, context: RunContext, path: str | None) -> SecretDestination | None:
    if not task.present:
        return None
    files = task.files
    return SecretDestination.prepare(
        context, credentials_file=path, credentials_format=files.credentials_format, vars_prefix=files.vars_prefix,
        mode=files.mode, backup=files.backup, vault_id=files.vault_id, return_secret=files.return_secret,
        remember=True)


def _manage_user(task: AccessKeyTask, client: IamClient, context: RunContext, user_id: str, user_name: str | None,
                 destination: SecretDestination | None) -> dict:
    """Under the user's lock on this controller: read, plan and (unless in check mode) apply."""
    state = UserState(context.state_dir, Scope(client.settings.endpoint, client.domain_id(), user_id))
    state.lock()
    try:
        backend = KeyBackend(client=client, user_id=user_id, user_name=user_name, request=task.keys,
                             destination=destination, state=state, verify_timeout=task.verify_timeout)
        plan, situation = backend.plan()
        if context.check_mode:
            return _predicted(plan, situation, destination, context)
        return _carried_out(plan, situation, backend, destination, state, context)
    finally:
        state.unlock()


def _predicted(plan: Plan, situation: Situation, destination: SecretDestination | None, context: RunContext) -> dict:
    """Check mode: the plan's own simulation, with no request that changes anything."""
    before = World.of(situation)
    after = simulate_plan(before, plan.steps, now=situation.now)
    result = _result(plan, situation, after, plan.steps, destination)
    if context.diff:
        result["diff"] = _diff(situation, before, after, destination)
    return result


def _carried_out(plan: Plan, situation: Situation, backend: KeyBackend, destination: SecretDestination | None,
                 state: UserState, context: RunContext) -> dict:
    before = World.of(situation)
    backend.prepare(plan.steps)  # may stop the run: before anything has changed
    try:
        outcome = execute_plan(plan, before, backend)
        failure = None
    except RunFailed as failed:
        outcome, failure = failed.outcome, failed
    if destination is not None and destination.store is not None:
        state.record(destination.store.path, outcome.world.file_key, destination.content())
    result = _result(plan, situation, outcome.world, outcome.done, destination, outcome=outcome)
    if failure is not None:
        result.update(failed=True, msg=failure.message)
        if failure.cause is not None:
            result["error"] = failure.cause.details()
    if destination is not None and destination.backup_file:
        result["backup_file"] = destination.backup_file
    if backend.vaulted_secret is not None:
        result["secret_access_key"] = backend.vaulted_secret
    if context.diff:
        result["diff"] = _diff(situation, before, outcome.world, destination)
    return result


def _result(plan: Plan, situation: Situation, after: World, steps, destination: SecretDestination | None, *,
            outcome: Outcome | None = None) -> dict:
    """The result fields that check mode and a real run share, from the steps and the world after."""
    ids = counts(steps)
    result = {
        "changed": changes_anything(steps),
        "user_id": situation.user_id,
        "plan": plan.describe(),
        "credentials_file": destination.path if destination else None,
        "access_keys": keys_summary(after.keys, situation.now),
        "credentials_file_changed": file_changed(after, steps),
        **{name: ids[name] for name in _COUNTED},
    }
    if outcome is not None:
        new_key = outcome.new_key.key.access_key_id if outcome.new_key and ids["created"] else None
        result["access_key_id"] = after.file_key if after.has_file else (new_key or plan.kept_key_id)
    pending = _pending_after(plan, steps, after)
    if pending is not None:
        result["pending_retirement"] = pending
    return result


def _pending_after(plan: Plan, steps, after: World) -> dict | None:
    """The key pending retirement: as the plan judged it, or recorded by this very rotation."""
    if plan.pending is not None:
        return plan.pending.as_dict()
    pended = [step for step in steps if step.kind == PEND]
    if not pended:
        return None
    key = next((k for k in after.keys if k.access_key_id == pended[-1].access_key_id), None)
    return {"access_key_id": pended[-1].access_key_id, "status": key.status if key else None, "state": "waiting",
            "reason": pended[-1].reason, "since": None, "last_used": None, "retire_after": None}


def _diff(situation: Situation, before: World, after: World, destination: SecretDestination | None) -> dict:
    """Before and after: key metadata, and which key the credentials file holds. Never a secret."""
    now: datetime = situation.now
    diff_before: dict = {"access_keys": keys_summary(before.keys, now)}
    diff_after: dict = {"access_keys": keys_summary(after.keys, now)}
    if destination is not None and destination.store is not None:
        diff_before["credentials_file"] = {"path": destination.path, "access_key_id": before.file_key,
                                           "mode": _octal(before.file_mode)}
        diff_after["credentials_file"] = {"path": destination.path, "access_key_id": after.file_key,
                                          "mode": _octal(after.file_mode if after.file_mode is not None
                                                         else destination.store.mode if after.file_key else None)}
    header = f"access keys of user {situation.user_id}"
    return {"before": diff_before, "after": diff_after, "before_header": header, "after_header": header}


def _octal(mode: int | None) -> str | None:
    return None if mode is None else f"{mode:04o}"
