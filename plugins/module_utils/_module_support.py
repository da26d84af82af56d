# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the collection's modules do the same way: failures, and refusing to run without their action plugin.

Private to the keywarden.iam collection: the interface may change without notice.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._results import failure_result


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
