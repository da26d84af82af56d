# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bench's clock for the collection's own tasks, without ansible-playbook's start-up.

A measurement aid for tests/bench/bench.py, never shipped: it is enabled only by the bench,
through ANSIBLE_CALLBACK_PLUGINS and ANSIBLE_CALLBACKS_ENABLED. It writes to the file named by
KEYWARDEN_BENCH_TASK_TIMES the wall seconds from the start of each keywarden.iam task to its last
host's result, summed over those tasks. Start-up (Python, imports, inventory, playbook parsing)
is a fixed cost of every ansible-playbook run, not of the batch; the bench reports it apart.
"""

from __future__ import annotations

import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_task_time
type: aggregate
short_description: wall seconds of the keywarden.iam tasks of a run (bench only)
description:
  - Writes the summed wall time of the run's keywarden.iam tasks to KEYWARDEN_BENCH_TASK_TIMES.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_task_time"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._started: dict = {}   # task uuid -> perf_counter at its start
        self._finished: dict = {}  # task uuid -> perf_counter at its latest host result

    def v2_playbook_on_task_start(self, task, is_conditional) -> None:
        if task.action.startswith("keywarden.iam."):
            self._started[task._uuid] = time.perf_counter()

    def _result_arrived(self, result, *args, **kwargs) -> None:
        uuid = result._task._uuid
        if uuid in self._started:
            self._finished[uuid] = time.perf_counter()

    v2_runner_on_ok = _result_arrived
    v2_runner_on_failed = _result_arrived
    v2_runner_on_skipped = _result_arrived
    v2_runner_on_unreachable = _result_arrived

    def v2_playbook_on_stats(self, stats) -> None:
        destination = os.environ.get("KEYWARDEN_BENCH_TASK_TIMES")
        if not destination:
            return
        seconds = sum(self._finished[uuid] - started for uuid, started in self._started.items()
                      if uuid in self._finished)
        with open(destination, "w", encoding="utf-8") as handle:
            handle.write(f"{seconds:.6f}\n")
