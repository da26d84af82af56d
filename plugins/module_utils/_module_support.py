# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every module of the collection does the same way: options, client, failures.

Private to the keywarden.iam collection: the interface may change without notice.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import (
    ConnectionOptionsError,
    connection_argument_spec,
    settings_from_params,
)
from ansible_collections.keywarden.iam.plugins.module_utils._endpoints import EndpointError
from ansible_collections.keywarden.iam.plugins.module_utils._errors import IamError


def iam_module(argument_spec: dict, **kwargs) -> AnsibleModule:
    """An AnsibleModule whose options are the module's own plus the shared connection options."""
    return AnsibleModule(argument_spec={**connection_argument_spec(), **argument_spec}, **kwargs)


def client_for(module: AnsibleModule) -> IamClient:
    """A client for the module's connection options; bad options end the module with a clear message."""
    try:
        settings = settings_from_params(module.params)
    except (ConnectionOptionsError, EndpointError) as error:
        module.fail_json(msg=str(error))
    for warning in settings.warnings:
        module.warn(warning)
    return IamClient(settings)


def fail_with(module: AnsibleModule, error: IamError, **result) -> None:
    module.fail_json(msg=error.message, error=error.details(), **result)
