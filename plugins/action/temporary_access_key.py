# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin for keywarden.iam.temporary_access_key: the whole task runs on the controller.

The work is in plugin_utils/_temporary_key_run.py; why it runs on the controller, in
plugin_utils/_controller_action.py.
"""

from __future__ import annotations

from ansible_collections.keywarden.iam.plugins.module_utils._temporary_key_options import (
    TEMPORARY_KEY_MUTUALLY_EXCLUSIVE,
    TEMPORARY_KEY_REQUIRED_IF,
    temporary_access_key_argument_spec,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._controller_action import ControllerAction
from ansible_collections.keywarden.iam.plugins.plugin_utils._temporary_key_run import run_temporary_access_key


class ActionModule(ControllerAction):
    def options(self):
        return temporary_access_key_argument_spec(), TEMPORARY_KEY_MUTUALLY_EXCLUSIVE, TEMPORARY_KEY_REQUIRED_IF

    def run_task(self, params, context):
        return run_temporary_access_key(params, context)
