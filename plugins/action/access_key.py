# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin for keywarden.iam.access_key: the whole task runs on the controller.

The work is in plugin_utils/_access_key_run.py; why it runs on the controller, in
plugin_utils/_controller_action.py.
"""

from __future__ import annotations

from ansible_collections.keywarden.iam.plugins.module_utils._access_key_options import (
    ACCESS_KEY_MUTUALLY_EXCLUSIVE,
    ACCESS_KEY_REQUIRED_IF,
    access_key_argument_spec,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._access_key_run import run_access_key
from ansible_collections.keywarden.iam.plugins.plugin_utils._controller_action import ControllerAction


class ActionModule(ControllerAction):
    def options(self):
        return access_key_argument_spec(), ACCESS_KEY_MUTUALLY_EXCLUSIVE, ACCESS_KEY_REQUIRED_IF

    def run_task(self, params, context):
        return run_access_key(params, context)
