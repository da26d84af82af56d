# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whose keys, and what they look like: the read path shared by every module that audits keys.

Private to the keywarden.iam collection: the interface may change without notice.

``collect`` fetches the keys of one user, of a list of users or of every user of the account,
with their last use (one ``show`` per key, since the list call lacks it), many users at once on
a bounded pool of threads. A user that cannot be read (403, 404, ...) becomes a failure beside
the others' keys instead of sinking the whole run. ``key_record`` and friends turn the result
into task output: metadata only, never a secret.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping, Sequence

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._models import AccessKey, format_timestamp
from ansible_collections.keywarden.iam.plugins.module_utils._results import key_summary

# How many users a batch (access_key, access_key_info, access_key_compliance) handles at once.
# Measured on two cores against a local server with 50 ms of latency (tools/bench_workers.py, the
# rotation guide's table): up to 16 users at once, a batch stays within about 1.15 times its
# physical limit (the network sets the pace); past 32 the controller's CPU does, and past 64 more
# threads buy nothing there. The cap leaves room for slower links and larger controllers; the
# cloud's rate limits are the other bound.
DEFAULT_MAX_WORKERS = 16
MAX_WORKERS_LIMIT = 128

# The API reports a key that was never used with last_use_time equal to create_time. The two are
# stored separately, so allow them to differ in the fraction of a second.
NEVER_USED_TOLERANCE = timedelta(seconds=1)


def selection_argument_spec() -> dict:
    """The options that say whose keys to read, shared by access_key_info and access_key_compliance.

    ``users`` (names) and ``user_ids`` are named as in access_key's batch mode.
    """
    return {
        "user_id": {"type": "str"},
        "user_name": {"type": "str"},
        "users": {"type": "list", "elements": "str"},
        "user_ids": {"type": "list", "elements": "str"},
        "all_users": {"type": "bool", "default": False},
        "max_workers": {"type": "int", "default": DEFAULT_MAX_WORKERS},
    }


# all_users is checked in selection_problem, so that an explicit all_users=false goes with the others.
SELECTION_MUTUALLY_EXCLUSIVE = [("user_id", "user_name", "users"), ("user_id", "user_name", "user_ids")]


@dataclass(frozen=True)
class UserSelector:
    """One user named by a task: by id, by name, or neither (the calling user)."""

    user_id: str | None = None
    user_name: str | None = None
    # Set when the account's user list said so (``is_domain_owner``); see is_root_item.
    listed_as_root: bool = False

    def describe(self) -> str:
        if self.user_name:
            return f"user '{self.user_name}'"
        return f"user {self.user_id}" if self.user_id else "the calling user"


@dataclass(frozen=True)
class UserKeys:
    """One user's keys as read, oldest first."""

    user_id: str
    user_name: str | None
    root: bool
    keys: tuple[AccessKey, ...]

    @property
    def label(self) -> str:
        return self.user_name or self.user_id


@dataclass(frozen=True)
class UserFailure:
    """A user whose keys could not be read, and why."""

    selector: UserSelector
    error: errors.IamError


@dataclass(frozen=True)
class Inventory:
    users: tuple[UserKeys, ...]
    failures: tuple[UserFailure, ...]
    # The IAM service's clock once everything was read: ages are measured against it.
    now: datetime

    @property
    def every_user_failed(self) -> bool:
        return bool(self.failures) and not self.users


def selectors_from_params(params: Mapping[str, Any]) -> list:
    """The users a task names, in its order; [] means every user of the account."""
    if params.get("all_users"):
        return []
    if params.get("users") or params.get("user_ids"):
        return ([UserSelector(user_name=name) for name in params.get("users") or []]
                + [UserSelector(user_id=user_id) for user_id in params.get("user_ids") or []])
    return [UserSelector(user_id=params.get("user_id"), user_name=params.get("user_name"))]


def is_batch(params: Mapping[str, Any]) -> bool:
    """Whether the task names several users (or all), rather than one user or the caller."""
    return bool(params.get("all_users") or params.get("users") or params.get("user_ids"))


def selection_problem(params: Mapping[str, Any]) -> str | None:
    """Why the selection options cannot be used together, or None when they can."""
    named = [name for name in ("user_id", "user_name", "users", "user_ids") if params.get(name)]
    if params.get("all_users") and named:
        return f"all_users=true reads every user of the account: leave out {' and '.join(named)}"
    given_lists = [name for name in ("users", "user_ids") if params.get(name) is not None]
    if given_lists and not any(params[name] for name in given_lists):
        return f"{' and '.join(given_lists)} name no user: name at least one, or set all_users=true"
    if not 1 <= params["max_workers"] <= MAX_WORKERS_LIMIT:
        return f"max_workers must be between 1 and {MAX_WORKERS_LIMIT}, not {params['max_workers']}"
    return None


def is_root_item(item: Mapping[str, Any]) -> bool:
    """Whether a user as listed by the API is the account's root identity.

    Huawei Cloud's user detail carries ``is_domain_owner`` (a boolean, or a string in some of its
    documentation); the plain user list may leave it out, and then only ``root_users`` can say.
    """
    flag = item.get("is_domain_owner")
    if isinstance(flag, str):
        return flag.strip().lower() == "true"
    return flag is True


def collect(
    client: IamClient,
    selectors: Sequence[UserSelector],
    *,
    last_used: bool = True,
    max_workers: int = DEFAULT_MAX_WORKERS,
    root_users: Iterable[str] = (),
) -> Inventory:
    """The keys of the users ``selectors`` name, or of every user of the account when it is empty.

    Names are resolved with one listing of the account's users (which needs the right to list
    users); IDs are taken as given. Reading every user needs that listing too, and its failure
    is raised, since there is nothing to report without it. Anything that fails for one user
    is kept as that user's failure.
    """
    if selectors:
        resolved = resolve_names(client, selectors)
    else:
        resolved = [_selector_of(item) for item in sorted(client.list_users(),
                                                          key=lambda item: str(item.get("name") or item["id"]))]
    pending = [entry for entry in resolved if isinstance(entry, UserSelector)]
    roots = frozenset(root_users)
    read = {}
    if pending:
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(pending)))) as pool:
            read = dict(zip(pending, pool.map(lambda selector: _read_user(client, selector, last_used, roots),
                                              pending)))
    users, failures, seen = [], [], set()
    for entry in resolved:
        outcome = read.get(entry, entry) if isinstance(entry, UserSelector) else entry
        if isinstance(outcome, UserFailure):
            failures.append(outcome)
        elif outcome.user_id not in seen:
            # The same user named twice (by name and by id, say) is reported once.
            seen.add(outcome.user_id)
            users.append(outcome)
    return Inventory(users=tuple(users), failures=tuple(failures), now=client.server_now())


def _selector_of(item: Mapping[str, Any]) -> UserSelector:
    return UserSelector(user_id=str(item["id"]), user_name=str(item.get("name") or "") or None,
                        listed_as_root=is_root_item(item))


def resolve_names(client: IamClient, selectors: Sequence[UserSelector]) -> list:
    """Each selector with the ID of the user it names (by one listing), or that user's failure."""
    if not any(selector.user_name and not selector.user_id for selector in selectors):
        return list(selectors)
    try:
        by_name = {str(item.get("name")): item for item in client.list_users()}
    except errors.IamError as error:
        return [UserFailure(selector, error) if selector.user_name else selector for selector in selectors]
    by_id = {str(item.get("id")): item for item in by_name.values()}
    resolved: list[UserSelector | UserFailure] = []
    for selector in selectors:
        if not selector.user_name:
            # Listed anyway, so an ID named by the task gets its user's name too.
            resolved.append(_selector_of(by_id[selector.user_id]) if selector.user_id in by_id else selector)
        elif selector.user_name in by_name:
            resolved.append(_selector_of(by_name[selector.user_name]))
        else:
            resolved.append(UserFailure(selector, errors.user_name_not_found(selector.user_name)))
    return resolved


def _read_user(client: IamClient, selector: UserSelector, last_used: bool, roots: frozenset):
    try:
        # A selector without an ID is the calling user (the task named nobody).
        user_id = selector.user_id or client.caller_user_id()
        keys = client.list_keys(user_id)
        if last_used:
            keys = [shown for shown in (_with_last_use(client, key) for key in keys) if shown is not None]
    except errors.IamError as error:
        return UserFailure(selector, error)
    root = selector.listed_as_root or bool(roots & {user_id, selector.user_name})
    return UserKeys(user_id=user_id, user_name=selector.user_name, root=root, keys=tuple(keys))


def _with_last_use(client: IamClient, key: AccessKey) -> AccessKey | None:
    """The key with its last use from ``show``; None when it was deleted since it was listed."""
    try:
        shown = client.show_key(key.access_key_id)
    except errors.NotFound:
        return None
    return replace(key, status=shown.status, last_used=shown.last_used)


# ---- facts about one key ------------------------------------------------------------------------

def never_used(key: AccessKey) -> bool | None:
    """True when the API's last use is the creation time (its way of saying "never"); None if unknown."""
    if key.last_used is None:
        return None
    return abs(key.last_used - key.created) <= NEVER_USED_TOLERANCE


def key_record(key: AccessKey, now: datetime, *, user_name: str | None = None) -> dict:
    """A key as task output and reports show it: metadata only."""
    record = key_summary(key, now)
    record.update({
        "user_name": user_name,
        "last_used": format_timestamp(key.last_used) if key.last_used is not None else None,
        "days_since_last_use": key.days_since_last_use(now),
        "never_used": never_used(key),
    })
    return record


def user_record(user: UserKeys, now: datetime) -> dict:
    return {
        "user_id": user.user_id,
        "user_name": user.user_name,
        "root": user.root,
        "access_keys": [key_record(key, now, user_name=user.user_name) for key in user.keys],
    }


def failure_record(failure: UserFailure) -> dict:
    return {
        "user_id": failure.selector.user_id,
        "user_name": failure.selector.user_name,
        "msg": failure.error.message,
        "error": failure.error.details(),
    }


def failures_warning(inventory: Inventory) -> str | None:
    """A warning that names the users that could not be read, so a partial answer does not pass unseen."""
    if not inventory.failures:
        return None
    shown = "; ".join(f"{failure.selector.describe()}: {failure.error.message}" for failure in inventory.failures[:3])
    more = f" (and {len(inventory.failures) - 3} more)" if len(inventory.failures) > 3 else ""
    return f"The keys of {len(inventory.failures)} user(s) could not be read, see failures. {shown}{more}"


def inventory_result(inventory: Inventory) -> dict:
    """The part of a task result that lists what was read."""
    users = [user_record(user, inventory.now) for user in inventory.users]
    return {
        "access_keys": [record for user in users for record in user["access_keys"]],
        "users": users,
        "failures": [failure_record(failure) for failure in inventory.failures],
        "now": format_timestamp(inventory.now),
    }
