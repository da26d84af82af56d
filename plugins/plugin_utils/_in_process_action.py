# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The base of the action plugins of access_key_info and access_key_compliance: in-process or module.

Private to the keywarden.iam collection: the interface may change without notice.

A module task goes through AnsiballZ: the module and its arguments, the signing secret among
them, are packed into a file that a new Python process runs. On a managed node that is the only
way. But these two tasks usually run on the controller itself (``hosts: localhost``, or
``delegate_to: localhost``), where it only costs time (a process and its imports per task, per
loop item) and exposes the secret: ANSIBLE_DEBUG prints the module arguments, and
ANSIBLE_KEEP_REMOTE_FILES keeps the AnsiballZ file that holds them.

So when the task would run on this very machine, as this very user, in this very environment,
the action plugin runs the module's logic itself, and no module arguments are written anywhere.
``module_path_reason`` is the rule; everything else runs the module as before.
"""

from __future__ import annotations

from typing import Any, Mapping

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.keywarden.iam.plugins.plugin_utils._in_process_host import InProcessHost

display = Display()

# The transport of ansible-core's local connection plugin (ansible.builtin.local).
LOCAL_TRANSPORTS = frozenset(("local", "ansible.builtin.local"))


def module_path_reason(*, transport: str | None, become: bool, environment: Mapping[str, Any],
                       async_seconds: int) -> str | None:
    """Why the task must run as a module on its host; None when it may run in-process here.

    In-process means on the controller, as the user that runs ansible-playbook, with its
    environment (which the module's environment fallbacks read) and its working directory.
    A module runs in exactly that place only over a local connection without become (which
    would run it as another user) and without task ``environment:`` (variables the module would
    see and an in-process run would not). An async task needs the module's own process.
    """
    if transport not in LOCAL_TRANSPORTS:
        return f"the connection is {transport}, not local: the module runs on that host"
    if become:
        return "become is on: the module runs as the become user"
    if environment:
        return f"the task sets environment variables ({', '.join(sorted(environment))}) for the module"
    if async_seconds:
        return "the task is async"
    return None


class InProcessOrModule(ActionBase):
    """Runs the task's module logic in-process on the controller when it may, else the module."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def options(self) -> tuple[dict, dict]:
        """(argument_spec, validator checks such as mutually_exclusive) of the module."""
        raise NotImplementedError

    def run_in_process(self, params: dict, host: InProcessHost) -> dict:
        """The task's result for validated ``params``, as the module's main() would compute it."""
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # unused, as in every action plugin since ansible-core 2.5
        reason = self.module_path_reason()
        if reason is None:
            display.vvv(f"{self._task.action}: running in-process on the controller (local connection, no become, "
                        "no task environment, not async): no AnsiballZ, no module arguments written",
                        host=self._play_context.remote_addr)
            result.update(self._run_in_process())
            return result
        display.vvv(f"{self._task.action}: running the module, since {reason}", host=self._play_context.remote_addr)
        # What ansible-core's own action plugin for plain modules (ansible.builtin.normal) does.
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def module_path_reason(self) -> str | None:
        """Why this task runs as a module; None when it runs in-process (see ``module_path_reason``)."""
        environment: dict = {}
        # The very variables that _execute_module would give the module, templated the same way.
        self._compute_environment_string(environment)
        become = bool(self._play_context.become) or getattr(self._connection, "become", None) is not None
        return module_path_reason(transport=getattr(self._connection, "transport", None), become=become,
                                  environment=environment, async_seconds=int(self._task.async_val or 0))

    def _run_in_process(self) -> dict:
        argument_spec, checks = self.options()
        host = InProcessHost(check_mode=bool(self._task.check_mode), module_name=self._task.action)
        params, problem = host.validate(argument_spec, self._task.args, **checks)
        if problem is not None:
            return host.result({"failed": True, "msg": problem}, params)
        return host.result(self.run_in_process(params, host), params)
