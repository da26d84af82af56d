# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin for keywarden.iam.temporary_access_key: the whole task runs on the controller.

It runs here, not on a managed node, because the new secret and security token must be
encrypted with the playbook's vault secrets, which exist only on the controller, and must never
travel anywhere in plain text. This file only validates the options and shapes the result; the
work is in plugin_utils/_temporary_key_run.py.
"""

from __future__ import annotations

from ansible import constants as C
from ansible.plugins.action import ActionBase

from ansible_collections.keywarden.iam.plugins.module_utils._temporary_key_options import (
    TEMPORARY_KEY_MUTUALLY_EXCLUSIVE,
    TEMPORARY_KEY_REQUIRED_IF,
    temporary_access_key_argument_spec,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import RunContext
from ansible_collections.keywarden.iam.plugins.plugin_utils._temporary_key_run import run_temporary_access_key
from ansible_collections.keywarden.iam.plugins.plugin_utils._vault_secret import loader_vault_secrets


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # unused: nothing is copied to a managed node
        _validation, params = self.validate_argument_spec(
            argument_spec=temporary_access_key_argument_spec(),
            mutually_exclusive=TEMPORARY_KEY_MUTUALLY_EXCLUSIVE,
            required_if=TEMPORARY_KEY_REQUIRED_IF,
        )
        warnings: list = []
        context = RunContext(
            vault_secrets=loader_vault_secrets(self._loader),
            default_encrypt_identity=C.DEFAULT_VAULT_ENCRYPT_IDENTITY,
            check_mode=bool(self._task.check_mode),
            diff=bool(self._task.diff),
            warn=warnings.append,
        )
        result.update(run_temporary_access_key(params, context))
        if warnings:
            result["warnings"] = warnings
        return result
