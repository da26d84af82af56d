# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The options of keywarden.iam.access_key, shared by its module file (docs, sanity) and its
action plugin (which validates the task's arguments with it on the controller).

Private to the keywarden.iam collection.
"""

from __future__ import annotations

from ansible_collections.keywarden.iam.plugins.module_utils._connection import connection_argument_spec
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import DEFAULT_VARS_PREFIX, FORMATS
from ansible_collections.keywarden.iam.plugins.module_utils._executor import DEFAULT_VERIFY_TIMEOUT
from ansible_collections.keywarden.iam.plugins.module_utils._planner import RETIRE_CHOICES, RETIRE_DEACTIVATE, ROTATE_CHOICES

MAX_DESCRIPTION_LENGTH = 255


def access_key_argument_spec() -> dict:
    return {
        **connection_argument_spec(),
        "user_id": {"type": "str"},
        "user_name": {"type": "str"},
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


ACCESS_KEY_MUTUALLY_EXCLUSIVE = [("user_id", "user_name")]
ACCESS_KEY_REQUIRED_IF = [("rotate", "when_older", ("max_age",))]


class OptionError(ValueError):
    """Option values that the argument spec alone cannot check."""


def check_access_key_options(params: dict) -> int:
    """Checks across options; returns the file mode as an int."""
    description = params.get("description")
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        raise OptionError(f"description is {len(description)} characters long; IAM allows at most {MAX_DESCRIPTION_LENGTH}.")
    max_age = params.get("max_age")
    if max_age is not None and max_age < 1:
        raise OptionError(f"max_age is in days and must be at least 1, not {max_age}.")
    if params.get("verify_timeout", 0) < 0:
        raise OptionError("verify_timeout must be 0 or more seconds.")
    return parse_mode(params.get("mode"))


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
