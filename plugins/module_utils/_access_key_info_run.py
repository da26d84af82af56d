# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One run of keywarden.iam.access_key_info, as a module or in-process on the controller.

Private to the keywarden.iam collection: the interface may change without notice.

The module's main() and the action plugin both validate the options against ``argument_spec()``
and hand them to ``run_access_key_info`` with their TaskHost (see _audit_task.py).
"""

from __future__ import annotations

from ansible_collections.keywarden.iam.plugins.module_utils._audit_task import Audit, TaskHost, audit
from ansible_collections.keywarden.iam.plugins.module_utils._connection import connection_argument_spec
from ansible_collections.keywarden.iam.plugins.module_utils._inventory import (
    SELECTION_MUTUALLY_EXCLUSIVE,
    is_batch,
    selection_argument_spec,
    selection_problem,
)

MUTUALLY_EXCLUSIVE = SELECTION_MUTUALLY_EXCLUSIVE


def argument_spec() -> dict:
    """Every option of access_key_info, the shared connection options included."""
    return {
        **connection_argument_spec(),
        **selection_argument_spec(),
        "last_used": {"type": "bool", "default": True},
        "root_users": {"type": "list", "elements": "str", "default": []},
    }


def run_access_key_info(params: dict, host: TaskHost) -> dict:
    """The task's result for ``params`` (validated against ``argument_spec()``)."""
    problem = selection_problem(params)
    if problem:
        return {"failed": True, "msg": problem}
    read = audit(params, host, last_used=params["last_used"])
    if not isinstance(read, Audit):
        return read
    result = read.result
    if not is_batch(params):
        result["user_id"] = read.inventory.users[0].user_id
    return {"changed": False, **result}
