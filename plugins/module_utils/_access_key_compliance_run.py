# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One run of keywarden.iam.access_key_compliance, as a module or in-process on the controller.

Private to the keywarden.iam collection: the interface may change without notice.

The module's main() and the action plugin both validate the options against ``argument_spec()``
and hand them to ``run_access_key_compliance`` with their TaskHost (see _audit_task.py). The
reports are written here, through the host's ``atomic_move``, so both paths write them alike.
"""

from __future__ import annotations

import os
import re
import tempfile

from ansible_collections.keywarden.iam.plugins.module_utils import _compliance as compliance
from ansible_collections.keywarden.iam.plugins.module_utils import _reports as reports
from ansible_collections.keywarden.iam.plugins.module_utils._audit_task import Audit, TaskHost, audit
from ansible_collections.keywarden.iam.plugins.module_utils._connection import connection_argument_spec
from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._inventory import (
    SELECTION_MUTUALLY_EXCLUSIVE,
    selection_argument_spec,
    selection_problem,
)

MUTUALLY_EXCLUSIVE = SELECTION_MUTUALLY_EXCLUSIVE
RENDERERS = (("json", reports.render_json), ("csv", reports.render_csv), ("html", reports.render_html))
# What a rerun may change in a report without changing what it says. The rules count whole days,
# so a run later the same day that finds the same keys, statuses and findings leaves the files as
# they are and reports no change, instead of rewriting them for a new time stamp or for the
# task's own use of its key a moment ago. A new day changes the ages, and so the reports.
_NOT_CONTENT = {
    "json": (
        # Every "time"/"time_dt" member (when the report was made): json.dumps(indent=2) puts each
        # on a line of its own, and a JSON string cannot hold a line break, so no value fakes one.
        (re.compile(r'^([ \t]*"time(?:_dt)?": )[^\n]*?(,?)$', re.MULTILINE), r"\1\2"),
        (re.compile(r"(\d{4}-\d\d-\d\d)T\d\d:\d\d:\d\d(?:\.\d+)?Z"), r"\1"),
    ),
    "csv": ((re.compile(r"(\d{4}-\d\d-\d\d)T\d\d:\d\d:\d\d(?:\.\d+)?Z"), r"\1"),),
    # "Generated <minute> by the IAM service's clock"; descriptions are HTML-escaped, so none fakes
    # it. The HTML report shows last use to the day already.
    "html": ((re.compile(r'(<p class="meta">Generated )[^<]*?( by the IAM service)'), r"\1\2"),),
}


class ReportWriteError(TaskError):
    """A report could not be written; the message names the file and why."""


def argument_spec() -> dict:
    """Every option of access_key_compliance, the shared connection options included."""
    defaults = compliance.Thresholds()
    return {
        **connection_argument_spec(),
        **selection_argument_spec(),
        "root_users": {"type": "list", "elements": "str", "default": []},
        "rules": {"type": "list", "elements": "str", "choices": list(compliance.RULE_IDS),
                  "default": list(compliance.RULE_IDS)},
        # no_log=False: "key" in these names is an access key's, not a secret.
        "max_key_age": {"type": "int", "default": defaults.max_key_age, "no_log": False},
        "max_unused_days": {"type": "int", "default": defaults.max_unused_days},
        "max_inactive_days": {"type": "int", "default": defaults.max_inactive_days},
        "max_active_keys": {"type": "int", "default": defaults.max_active_keys, "no_log": False},
        "report_json": {"type": "path"},
        "report_csv": {"type": "path"},
        "report_html": {"type": "path"},
        "fail_on_severity": {"type": "str", "choices": list(compliance.SEVERITIES[1:])},
        "age_remediation": {"type": "str", "choices": list(compliance.AGE_ACTIONS), "default": compliance.DEACTIVATE},
    }


def says_the_same(fmt: str, old: str, new: str) -> bool:
    """Whether two reports of format ``fmt`` differ at most in time stamps finer than a day."""
    for pattern, replacement in _NOT_CONTENT.get(fmt, ()):
        old, new = pattern.sub(replacement, old), pattern.sub(replacement, new)
    return old == new


def write_report(host: TaskHost, path: str, text: str, fmt: str) -> bool:
    """Write ``text`` to ``path`` atomically unless it already says the same; True if it changed.

    "The same" ignores what _NOT_CONTENT lists: the file then keeps the time stamps of the run
    that first found what it says. In check mode nothing is written.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            if says_the_same(fmt, handle.read(), text):
                return False
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError):
        pass  # unreadable or not text: replace it
    if host.check_mode:
        return True
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ReportWriteError(f"Failed to write the report {path}: the directory {directory} does not exist.")
    temp_path = None
    try:
        handle_fd, temp_path = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
        with os.fdopen(handle_fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # Renames over the destination, keeping an existing file's mode and owner. The path is made
        # absolute since AnsibleModule.atomic_move fails on a bare file name once it has renamed.
        host.atomic_move(temp_path, os.path.abspath(path))
    except OSError as error:
        raise ReportWriteError(f"Failed to write the report {path}: {error.strerror or error}. Check that the user "
                               f"the task runs as may write to {directory}.") from error
    finally:
        if temp_path is not None and os.path.exists(temp_path):
            os.unlink(temp_path)
    return True


def run_access_key_compliance(params: dict, host: TaskHost) -> dict:
    """The task's result for ``params`` (validated against ``argument_spec()``)."""
    thresholds = compliance.Thresholds(max_key_age=params["max_key_age"], max_unused_days=params["max_unused_days"],
                                       max_inactive_days=params["max_inactive_days"],
                                       max_active_keys=params["max_active_keys"])
    problems = [problem for problem in [selection_problem(params), *thresholds.problems()] if problem]
    if problems:
        return {"failed": True, "msg": "; ".join(problems)}
    read = audit(params, host)
    if not isinstance(read, Audit):
        return read
    inventory, result = read.inventory, read.result
    findings = compliance.evaluate(inventory.users, inventory.now, thresholds, params["rules"])
    summary = compliance.summarize(inventory.users, findings, failures=len(inventory.failures))
    actions, skipped = compliance.plan_remediation(
        inventory.users, findings, inventory.now, thresholds, rule_ids=params["rules"],
        age_action=params["age_remediation"],
        protected_key_ids=[read.signing_key_id] if read.signing_key_id else [])
    report = reports.Report(generated=inventory.now, users=inventory.users, failures=inventory.failures,
                            findings=findings, thresholds=thresholds, rule_ids=params["rules"], summary=summary)
    changed = False
    try:
        for name, render in RENDERERS:
            path = params[f"report_{name}"]
            if path:
                changed = write_report(host, path, render(report), name) or changed
    except ReportWriteError as error:
        return {"failed": True, "msg": error.message}
    result.update(
        changed=changed,
        summary=summary,
        findings=[finding.as_dict() for finding in findings],
        remediation=[action.as_dict() for action in actions],
        remediation_skipped=skipped,
        reports={name: params[f"report_{name}"] for name, _render in RENDERERS},
    )
    severity = params["fail_on_severity"]
    blocking = compliance.at_or_above(findings, severity) if severity else []
    if blocking:
        result.update(failed=True, msg=f"{len(blocking)} finding(s) of severity {severity} or higher, the first: "
                                       f"{blocking[0].message}")
    return result
