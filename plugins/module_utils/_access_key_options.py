# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The options of keywarden.iam.access_key, shared by its module file (docs, sanity) and its
action plugin (which validates the task's arguments with it on the controller), and the typed
``AccessKeyTask`` they become.

Private to the keywarden.iam collection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ansible_collections.keywarden.iam.plugins.module_utils import _inventory as inventory
from ansible_collections.keywarden.iam.plugins.module_utils._connection import connection_argument_spec
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import DEFAULT_VARS_PREFIX, FORMATS
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._models import parse_timestamp
from ansible_collections.keywarden.iam.plugins.module_utils._planner import (
    DEFAULT_GRACE_PERIOD,
    DEFAULT_IDLE_DAYS,
    DEFAULT_QUIET_PERIOD,
    PENDING_CHOICES,
    PENDING_LEAVE,
    RETIRE_CHOICES,
    RETIRE_DEACTIVATE,
    ROOM_CHOICES,
    ROOM_IDLE,
    ROTATE_CHOICES,
    KeyRequest,
)

MAX_DESCRIPTION_LENGTH = 255
# One default and cap of max_workers for every batch (chosen and explained in _inventory).
DEFAULT_MAX_WORKERS = inventory.DEFAULT_MAX_WORKERS
MAX_WORKERS = inventory.MAX_WORKERS_LIMIT
DEFAULT_VERIFY_TIMEOUT = 60
USER_PLACEHOLDERS = ("{user_name}", "{user_id}")
# Upper bounds: far beyond any real use, and small enough that no date or timer overflows.
MAX_AGE_DAYS = 36500
MAX_IDLE_DAYS = 3650
MAX_VERIFY_TIMEOUT = 3600
MAX_QUIET_PERIOD = 86400
MAX_GRACE_DAYS = 3650


def access_key_argument_spec() -> dict:
    return {
        **connection_argument_spec(),
        "user_id": {"type": "str"},
        "user_name": {"type": "str"},
        "users": {"type": "list", "elements": "str"},
        "user_ids": {"type": "list", "elements": "str"},
        "max_workers": {"type": "int", "default": DEFAULT_MAX_WORKERS},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "access_key_id": {"type": "str", "no_log": False},
        "status": {"type": "str", "choices": ["active", "inactive"]},
        "description": {"type": "str"},
        "rotate": {"type": "str", "choices": list(ROTATE_CHOICES), "default": "never"},
        "max_age": {"type": "int"},
        "old_key": {"type": "str", "choices": list(RETIRE_CHOICES), "default": RETIRE_DEACTIVATE},
        "make_room": {"type": "str", "choices": list(ROOM_CHOICES), "default": ROOM_IDLE},
        "idle_days": {"type": "int", "default": DEFAULT_IDLE_DAYS},
        "allow_self_lockout": {"type": "bool", "default": False},
        "retire_pending": {"type": "str", "choices": list(PENDING_CHOICES), "default": PENDING_LEAVE},
        "unused_since": {"type": "str"},
        "quiet_period": {"type": "int", "default": int(DEFAULT_QUIET_PERIOD.total_seconds())},
        "grace_period": {"type": "int", "default": DEFAULT_GRACE_PERIOD.days},
        "verify": {"type": "bool", "default": True},
        "verify_timeout": {"type": "int", "default": DEFAULT_VERIFY_TIMEOUT},
        "credentials_file": {"type": "path"},
        "credentials_format": {"type": "str", "choices": list(FORMATS), "default": "yaml"},
        "vars_prefix": {"type": "str", "default": DEFAULT_VARS_PREFIX},
        "mode": {"type": "raw", "default": "0600"},
        "backup": {"type": "bool", "default": False},
        "vault_id": {"type": "str"},
        "return_secret": {"type": "bool", "default": False},
    }


ACCESS_KEY_MUTUALLY_EXCLUSIVE = [("user_id", "user_name", "users"), ("user_id", "user_name", "user_ids"),
                                 ("access_key_id", "users"), ("access_key_id", "user_ids")]
ACCESS_KEY_REQUIRED_IF = [("rotate", "when_older", ("max_age",))]


class OptionError(TaskError, ValueError):
    """Option values that the argument spec alone cannot check."""


@dataclass(frozen=True)
class FileOptions:
    """Where and how a new secret is kept."""

    credentials_file: str | None
    credentials_format: str
    vars_prefix: str
    mode: int
    backup: bool
    vault_id: str | None
    return_secret: bool

    @property
    def wanted(self) -> bool:
        return bool(self.credentials_file or self.return_secret)


@dataclass(frozen=True)
class AccessKeyTask:
    """One access_key task, typed and checked: whose keys, what to do with them, where secrets go."""

    user_id: str | None
    user_name: str | None
    users: tuple[str, ...] | None
    user_ids: tuple[str, ...] | None
    max_workers: int
    keys: KeyRequest
    verify_timeout: int
    files: FileOptions

    @property
    def batch(self) -> bool:
        return self.users is not None or self.user_ids is not None

    @property
    def present(self) -> bool:
        return self.keys.state == "present"


def task_from_params(params: dict) -> AccessKeyTask:
    """The typed task for validated ``params``; raises OptionError for values no spec can check."""
    description = params.get("description")
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        raise OptionError(
            f"description is {len(description)} characters long; IAM allows at most {MAX_DESCRIPTION_LENGTH}.")
    max_age = params.get("max_age")
    if max_age is not None:
        _bounded("max_age", max_age, 1, MAX_AGE_DAYS, "days; max_age is in days and must be at least 1")
    _bounded("idle_days", params.get("idle_days", DEFAULT_IDLE_DAYS), 0, MAX_IDLE_DAYS, "days")
    _bounded("verify_timeout", params.get("verify_timeout", DEFAULT_VERIFY_TIMEOUT), 0, MAX_VERIFY_TIMEOUT, "seconds")
    _bounded("max_workers", params.get("max_workers", DEFAULT_MAX_WORKERS), 1, MAX_WORKERS, "users at once")
    quiet = params.get("quiet_period", int(DEFAULT_QUIET_PERIOD.total_seconds()))
    _bounded("quiet_period", quiet, 0, MAX_QUIET_PERIOD, "seconds")
    grace = params.get("grace_period", DEFAULT_GRACE_PERIOD.days)
    _bounded("grace_period", grace, 0, MAX_GRACE_DAYS, "days")
    unused_since = _timestamp_option("unused_since", params.get("unused_since"))
    _check_batch_file(params)
    files = FileOptions(
        credentials_file=params.get("credentials_file"),
        credentials_format=params.get("credentials_format", "yaml"),
        vars_prefix=params.get("vars_prefix", DEFAULT_VARS_PREFIX),
        mode=parse_mode(params.get("mode", "0600")),
        backup=bool(params.get("backup")),
        vault_id=params.get("vault_id"),
        return_secret=bool(params.get("return_secret")),
    )
    keys = KeyRequest(
        state=params.get("state", "present"), access_key_id=params.get("access_key_id"), status=params.get("status"),
        description=description, rotate=params.get("rotate", "never"), max_age_days=max_age,
        retire=params.get("old_key", RETIRE_DEACTIVATE), make_room=params.get("make_room", ROOM_IDLE),
        idle_days=params.get("idle_days", DEFAULT_IDLE_DAYS), verify=params.get("verify", True),
        allow_self_lockout=bool(params.get("allow_self_lockout")),
        has_secret_destination=params.get("state", "present") == "present" and files.wanted,
        retire_pending=params.get("retire_pending", PENDING_LEAVE), unused_since=unused_since,
        quiet_period=timedelta(seconds=quiet), grace_period=timedelta(days=grace),
    )
    users, user_ids = params.get("users"), params.get("user_ids")
    return AccessKeyTask(
        user_id=params.get("user_id"), user_name=params.get("user_name"),
        users=tuple(users) if users is not None else None, user_ids=tuple(user_ids) if user_ids is not None else None,
        max_workers=params.get("max_workers", DEFAULT_MAX_WORKERS), keys=keys,
        verify_timeout=params.get("verify_timeout", DEFAULT_VERIFY_TIMEOUT), files=files)


def _timestamp_option(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise OptionError(f"{name} must be a time in ISO 8601 such as 2026-11-26T09:30:00Z, not {value!r}.") from None


def _bounded(name: str, value: int, low: int, high: int, unit: str) -> None:
    if not low <= value <= high:
        raise OptionError(f"{name} must be from {low} to {high} ({unit}), not {value}.")


def _check_batch_file(params: dict) -> None:
    """In batch mode every user needs a file of their own, so the path must name the user."""
    path = params.get("credentials_file")
    if path is None or (params.get("users") is None and params.get("user_ids") is None):
        return
    if params.get("user_ids") and "{user_name}" in path:
        raise OptionError("credentials_file uses {user_name}, but user_ids gives no names: use {user_id}.")
    if not any(placeholder in path for placeholder in USER_PLACEHOLDERS):
        raise OptionError(
            "With users or user_ids, credentials_file must name each user's own file with {user_name} or "
            "{user_id}, for example /srv/credentials/{user_name}.yml."
        )


def credentials_path_for(template: str | None, *, user_id: str, user_name: str | None) -> str | None:
    """The credentials file of one user of a batch (only these two placeholders are replaced)."""
    if template is None:
        return None
    return template.replace("{user_id}", user_id).replace("{user_name}", user_name or user_id)


def parse_mode(value) -> int:
    """An octal file mode from '0600', '600' or the int 0o600; never more open than the owner's read/write."""
    if isinstance(value, int):
        mode = value
    else:
        try:
            mode = int(str(value), 8)
        except ValueError:
            raise OptionError(f"mode must be an octal number such as '0600', not {value!r}.") from None
    if not 0 <= mode <= 0o7777:
        raise OptionError(f"mode {value!r} is not a file mode; use '0600' or '0640'.")
    if mode & 0o7000:
        raise OptionError(f"mode {mode:04o} sets the setuid, setgid or sticky bit, which a credentials file never "
                          "needs; use '0600' or '0640'.")
    if mode & 0o077 and mode & 0o007:
        raise OptionError(f"mode {oct(mode)} would let any user of the machine read the secret; use '0600' or '0640'.")
    if not mode & 0o600 == 0o600:
        raise OptionError(f"mode {oct(mode)} must let the owner read and write the file, e.g. '0600'.")
    return mode
