# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The options of keywarden.iam.access_key, shared by its module file (docs, sanity) and its
action plugin (which validates the task's arguments with it on the controller).

Private to the keywarden.iam collection.
"""

from __future__ import annotations

from ansible_collections.keywarden.iam.plugins.module_utils._connection import connection_argument_spec
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import DEFAULT_VARS_PREFIX, FORMATS
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._executor import DEFAULT_VERIFY_TIMEOUT
from ansible_collections.keywarden.iam.plugins.module_utils._planner import (
    RETIRE_CHOICES,
    RETIRE_DEACTIVATE,
    ROTATE_CHOICES,
)

MAX_DESCRIPTION_LENGTH = 255
DEFAULT_MAX_WORKERS = 8
MAX_WORKERS = 64
USER_PLACEHOLDERS = ("{user_name}", "{user_id}")


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


def check_access_key_options(params: dict) -> int:
    """Checks across options; returns the file mode as an int."""
    description = params.get("description")
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        raise OptionError(
            f"description is {len(description)} characters long; IAM allows at most {MAX_DESCRIPTION_LENGTH}.")
    max_age = params.get("max_age")
    if max_age is not None and max_age < 1:
        raise OptionError(f"max_age is in days and must be at least 1, not {max_age}.")
    if params.get("verify_timeout", 0) < 0:
        raise OptionError("verify_timeout must be 0 or more seconds.")
    if not 1 <= params.get("max_workers", DEFAULT_MAX_WORKERS) <= MAX_WORKERS:
        raise OptionError(f"max_workers must be between 1 and {MAX_WORKERS}.")
    _check_batch_file(params)
    return parse_mode(params.get("mode"))


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
    if mode & 0o077 and mode & 0o007:
        raise OptionError(f"mode {oct(mode)} would let any user of the machine read the secret; use '0600' or '0640'.")
    if not mode & 0o600 == 0o600:
        raise OptionError(f"mode {oct(mode)} must let the owner read and write the file, e.g. '0600'.")
    return mode
