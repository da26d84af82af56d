# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin for keywarden.iam.access_key_info: in-process on the controller when it may.

When the task runs on the controller anyway, the logic of module_utils/_access_key_info_run.py
runs here, with no AnsiballZ and no module arguments written anywhere; else the module runs on
its host. The rule, and why, are in plugin_utils/_in_process_action.py.
"""

from __future__ import annotations

from ansible_collections.keywarden.iam.plugins.module_utils._access_key_info_run import (
    MUTUALLY_EXCLUSIVE,
    argument_spec,
    run_access_key_info,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._in_process_action import InProcessOrModule


class ActionModule(InProcessOrModule):
    def options(self):
        return argument_spec(), {"mutually_exclusive": MUTUALLY_EXCLUSIVE}

    def run_in_process(self, params, host):
        return run_access_key_info(params, host)
