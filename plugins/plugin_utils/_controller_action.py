# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The base of the collection's action plugins that run a whole task on the controller.

Private to the keywarden.iam collection.

They run there, not on a managed node, because a new secret must be encrypted with the play's
vault secrets, which exist only on the controller, and must never travel anywhere in plain
text. A subclass names its options and its run function; this validates the task's arguments
(applying defaults and environment fallbacks), hands over what the run needs from the play,
and passes warnings on, with every secret masked in them and in the result as AnsibleModule
masks a module's: the values of the options marked no_log, a password in the endpoint, and what
the run read from elsewhere (a clouds.yaml entry's secret).
"""

from __future__ import annotations

import os

from ansible import constants as C
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.keywarden.iam.plugins.module_utils._connection import endpoint_secrets
from ansible_collections.keywarden.iam.plugins.plugin_utils._in_process_host import masked, no_log_values
from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import RunContext
from ansible_collections.keywarden.iam.plugins.plugin_utils._vault_secret import loader_vault_secrets


class ControllerAction(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def options(self) -> tuple:
        """(argument_spec, mutually_exclusive, required_if) of the module."""
        raise NotImplementedError

    def run_task(self, params: dict, context: RunContext) -> dict:
        """The task's result for validated ``params``."""
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # unused: nothing is copied to a managed node
        argument_spec, mutually_exclusive, required_if = self.options()
        _validation, params = self.validate_argument_spec(
            argument_spec=argument_spec, mutually_exclusive=mutually_exclusive, required_if=required_if)
        warnings: list = []
        context = RunContext(
            vault_secrets=loader_vault_secrets(self._loader),
            default_encrypt_identity=C.DEFAULT_VAULT_ENCRYPT_IDENTITY,
            check_mode=bool(self._task.check_mode),
            diff=bool(self._task.diff),
            warn=warnings.append,
            state_dir=os.path.join(C.ANSIBLE_HOME, "keywarden"),
            secrets=no_log_values(argument_spec, params) | set(endpoint_secrets(params)),
        )
        result.update(masked(self.run_task(params, context), context.secrets))
        if warnings:
            result["warnings"] = [remove_values(warning, context.secrets) for warning in warnings]
        return result
