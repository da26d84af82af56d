# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: every task result as one JSON line, for the integration tests to read.

ansible-core ships no JSON callback (it moved to ansible.posix), and the tests should not need
another collection, so this small one records exactly what a JSON callback would show. The
tests also search this file for secrets, like the screen output.
"""

from __future__ import annotations

import json
import os

from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: record_results
type: notification
short_description: Record task results as JSON lines (keywarden.iam tests only)
description: Writes every task result to the file named by KEYWARDEN_RESULTS_FILE.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "record_results"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, status, result):
        path = os.environ.get("KEYWARDEN_RESULTS_FILE")
        if not path:
            return
        entry = {
            "task": result.task_name or result._task.get_name(),
            "host": result._host.get_name(),
            "status": status,
            "result": self._clean_results(result._result, result._task.action) or result._result,
        }
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, cls=AnsibleJSONEncoder, sort_keys=True) + "\n")

    def v2_runner_on_ok(self, result):
        self._record("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record("failed", result)

    def v2_runner_on_skipped(self, result):
        self._record("skipped", result)
