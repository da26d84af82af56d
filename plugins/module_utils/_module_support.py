# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every module of the collection does the same way: options, client, failures.

Private to the keywarden.iam collection: the interface may change without notice.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import (
    connection_argument_spec,
    settings_from_params,
)
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._results import failure_result


def iam_module(argument_spec: dict, **kwargs) -> AnsibleModule:
    """An AnsibleModule whose options are the module's own plus the shared connection options."""
    return AnsibleModule(argument_spec={**connection_argument_spec(), **argument_spec}, **kwargs)


def client_for(module: AnsibleModule) -> IamClient:
    """A client for the module's connection options; bad options end the module with a clear message."""
    try:
        settings = settings_from_params(module.params)
    except TaskError as error:
        fail_with(module, error)
    for warning in settings.warnings:
        module.warn(warning)
    # A secret read from a clouds.yaml entry is no option value, so Ansible does not mask it by itself.
    module.no_log_values.update(settings.secrets)
    return IamClient(settings)


def fail_with(module: AnsibleModule, error: TaskError, **result) -> None:
    failed = failure_result(error, **result)
    del failed["failed"]  # fail_json sets it
    module.fail_json(**failed)


def refuse_standalone(name: str, argument_spec: dict, **kwargs) -> None:
    """main() of a module whose same-named action plugin does all the work on the controller.

    Reached only if the module is somehow run on its own; it still declares its options, so
    that ansible-doc and the sanity tests see the same argument spec as the action plugin.
    """
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **kwargs)
    module.fail_json(msg=f"keywarden.iam.{name} runs on the controller through its action plugin; "
                         "call it as a task, not as a standalone module.")
