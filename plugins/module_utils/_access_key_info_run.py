# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One run of keywarden.iam.access_key_info, as a module or in-process on the controller.

Private to the keywarden.iam collection: the interface may change without notice.

The module's main() and the action plugin both validate the options against ``argument_spec()``
and hand them to ``run_access_key_info`` with their TaskHost (see _audit_task.py).
"""

from __future__ import annotations

from ansible_collections.keywarden.iam.plugins.module_utils._audit_task import TaskHost, audit_client, warn
from ansible_collections.keywarden.iam.plugins.module_utils._connection import connection_argument_spec
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._inventory import (
    SELECTION_MUTUALLY_EXCLUSIVE,
    collect,
    failures_warning,
    inventory_result,
    is_batch,
    selection_argument_spec,
    selection_problem,
    selectors_from_params,
)
from ansible_collections.keywarden.iam.plugins.module_utils._results import failure_result

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
    try:
        with audit_client(params, host) as client:
            inventory = collect(client, selectors_from_params(params), last_used=params["last_used"],
                                max_workers=params["max_workers"], root_users=params["root_users"])
    except TaskError as error:
        return failure_result(error)
    result = inventory_result(inventory)
    if inventory.every_user_failed:
        return failure_result(inventory.failures[0].error, **result)
    warning = failures_warning(inventory)
    if warning:
        warn(host, warning)
    if not is_batch(params):
        result["user_id"] = inventory.users[0].user_id
    return {"changed": False, **result}
