# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What access_key_info and access_key_compliance need from the place they run in.

Private to the keywarden.iam collection: the interface may change without notice.

Each of the two runs in one of two places. In-process, in its action plugin on the controller,
when the task runs there anyway (plugin_utils/_in_process_action.py says when); otherwise as a
module, through AnsiballZ, on the host the task targets. Their logic (_access_key_info_run.py,
_access_key_compliance_run.py) is the same on both paths: it takes the validated options and a
TaskHost and returns the task's result, failed or not. An AnsibleModule is a TaskHost as it is;
the action plugin brings one of its own that behaves alike (plugin_utils/_in_process_host.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from ansible.module_utils.common.parameters import remove_values

from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import endpoint_secrets, settings_from_params
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._inventory import (
    Inventory,
    collect,
    failures_warning,
    inventory_result,
    selectors_from_params,
)
from ansible_collections.keywarden.iam.plugins.module_utils._results import failure_result


class TaskHost(Protocol):
    """What a run needs from where it runs, with AnsibleModule's names and meanings."""

    check_mode: bool
    # Values to mask wherever they appear in the result, as AnsibleModule does with its own.
    no_log_values: set

    def warn(self, warning: str) -> None:
        """Show ``warning`` with the task's result."""

    def atomic_move(self, src: str, dest: str) -> None:
        """Rename ``src`` over ``dest``; an existing ``dest`` passes on its owner, group and mode."""


def audit_client(params: dict, host: TaskHost) -> IamClient:
    """A client for the connection options; a ConnectionOptionsError says what is wrong with them."""
    host.no_log_values.update(endpoint_secrets(params))  # before a refusal, which returns the options too
    settings = settings_from_params(params)
    # A secret read from a clouds.yaml entry is no option value, so nothing masks it by itself.
    host.no_log_values.update(settings.secrets)
    for warning in settings.warnings:
        warn(host, warning)
    return IamClient(settings)


@dataclass(frozen=True)
class Audit:
    """The users a task read: ``result`` holds what both tasks return of them; ``signing_key_id``
    is the access key the task signed with (None with password auth)."""

    inventory: Inventory
    result: dict
    signing_key_id: str | None


def audit(params: dict, host: TaskHost, **collect_options: Any) -> Audit | dict:
    """Read the users ``params`` select; the task's failure result instead when none could be read.

    A user that fails alone is reported in the result and warned about; the others are kept.
    ``collect_options``: what else ``_inventory.collect`` takes (``last_used``).
    """
    try:
        with audit_client(params, host) as client:
            inventory = collect(client, selectors_from_params(params), max_workers=params["max_workers"],
                                root_users=params["root_users"], **collect_options)
    except TaskError as error:
        return failure_result(error)
    result = inventory_result(inventory)
    if inventory.every_user_failed:
        return failure_result(inventory.failures[0].error, **result)
    warning = failures_warning(inventory)
    if warning:
        warn(host, warning)
    return Audit(inventory, result, client.settings.auth_access_key)


def warn(host: TaskHost, warning: str) -> None:
    """Pass ``warning`` on with every secret value masked.

    AnsibleModule masks them in a result's values, but ansible-core 2.19 and later carry a
    module's warnings apart from them, unmasked; a warning may quote a user name, say, that
    happens to be a secret.
    """
    host.warn(remove_values(warning, host.no_log_values))


def exit_module(module: Any, result: dict) -> NoReturn:
    """End the module with ``result``: fail_json when it failed, else exit_json."""
    if result.get("failed"):
        module.fail_json(**{key: value for key, value in result.items() if key != "failed"})
    module.exit_json(**result)
    raise AssertionError("exit_json returned")  # pragma: no cover - it exits the process
