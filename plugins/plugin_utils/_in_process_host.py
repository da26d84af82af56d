# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What AnsibleModule does for a module, done for a run inside an action plugin on the controller.

Private to the keywarden.iam collection: the interface may change without notice.

access_key_info and access_key_compliance run in-process when the task runs on the controller
anyway (see _in_process_action.py). Their results must then be what the module would have
returned: the same option checks and messages, the same ``invocation``, the same masking of
secret values, and report files replaced the way ``AnsibleModule.atomic_move`` replaces them.
``InProcessHost`` is the TaskHost (module_utils/_audit_task.py) that does all of that.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import stat
import time
from typing import Any, Mapping

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError

try:
    from ansible.module_utils.compat import selinux as _selinux
except ImportError:  # no libselinux here, as for AnsibleModule
    _selinux = None

# What AnsibleModule.atomic_move gives a file it creates, before the umask.
_NEW_FILE_MODE = 0o666


class InProcessHost:
    """A TaskHost for a run in an action plugin: the module's checks, warnings, masking and moves."""

    def __init__(self, *, check_mode: bool, module_name: str) -> None:
        self.check_mode = check_mode
        self.module_name = module_name
        self.no_log_values: set = set()
        self.warnings: list = []

    def warn(self, warning: str) -> None:
        self.warnings.append(warning)

    def atomic_move(self, src: str, dest: str) -> None:
        atomic_move(src, dest)

    def validate(self, argument_spec: dict, args: Mapping[str, Any], **checks) -> tuple[dict, str | None]:
        """(the options, or why they are wrong), validated as AnsibleModule validates a module's.

        ``checks`` are the validator's mutually_exclusive, required_if, ... The secret values
        among the options join ``no_log_values``; an option set together with its alias draws
        AnsibleModule's warning.
        """
        validation = ArgumentSpecValidator(argument_spec, **checks).validate(dict(args))
        params = {**args, **validation.validated_parameters}
        self.no_log_values.update(no_log_values(argument_spec, params))
        for name, spec in argument_spec.items():
            for alias in spec.get("aliases") or ():
                if name in args and alias in args:
                    self.warn(f"Both option {name} and its alias {alias} are set.")
        if not validation.error_messages:
            return params, None
        message = validation.errors.msg
        if isinstance(validation.errors[0], UnsupportedError):
            message = f"Unsupported parameters for ({self.module_name}) module: {message}"
        return params, message

    def result(self, result: dict, params: Mapping[str, Any]) -> dict:
        """``result`` as AnsibleModule's exit_json or fail_json would return it for ``params``."""
        result = {"invocation": {"module_args": dict(params)}, **result}
        if self.warnings:
            result["warnings"] = list(self.warnings)
        return masked(result, self.no_log_values)


def masked(result: dict, secrets: set) -> dict:
    """``result`` with every secret value masked, as AnsibleModule masks a module's result.

    As AnsibleModule does, booleans and None are never masked, whatever ``secrets`` holds.
    """
    if not _may_hold(result, secrets):
        return result  # the usual case, told in one pass: a batch's result is large
    preserved = {key: value for key, value in result.items() if value is None or isinstance(value, bool)}
    try:
        hidden = remove_values(result, secrets)
    except TypeError:
        # remove_values names the value it cannot walk, which may be the secret itself.
        raise TypeError("the task's result holds a value of a type that cannot be masked") from None
    hidden.update(preserved)
    return hidden


# Characters JSON writes escaped: a secret holding one may not appear verbatim in the text.
_ESCAPED_IN_JSON = re.compile(r'["\\\x00-\x1f]')


def _may_hold(result: dict, secrets: set) -> bool:
    """Whether any of ``secrets`` may appear in ``result``: its JSON text, which holds every key
    and value (numbers too, as remove_values compares them), is searched for them.

    Only plain JSON types are searched so: bytes, sets and other objects have no JSON text that
    holds their content verbatim, so a result with any of them is walked.
    """
    texts = [str(secret) for secret in secrets]
    if any(_ESCAPED_IN_JSON.search(text) for text in texts):
        return True  # not found verbatim even where present: walk the result
    try:
        document = json.dumps(result, ensure_ascii=False, default=_not_plain)
    except (TypeError, ValueError):
        return True
    return any(text in document for text in texts)


def _not_plain(value: Any) -> Any:
    raise TypeError("not a plain JSON value")


def no_log_values(argument_spec: dict, params: Mapping[str, Any]) -> set:
    """The values of the options marked no_log, as AnsibleModule collects them."""
    found: set = set()
    for name, spec in argument_spec.items():
        if spec.get("no_log") and params.get(name):
            found.update(_strings_of(params[name]))
    return found


def _strings_of(value: Any) -> set:
    if isinstance(value, Mapping):
        return {text for item in value.values() for text in _strings_of(item)}
    if isinstance(value, (list, tuple, set, frozenset)):
        return {text for item in value for text in _strings_of(item)}
    return {str(value)}


def atomic_move(src: str, dest: str) -> None:
    """Rename ``src`` over ``dest`` (same directory) with the outcome of AnsibleModule.atomic_move.

    An existing ``dest`` passes its owner, group, mode and SELinux context on to the new file
    (the owner only where this process may set it: a local connection without become writes as
    the same user on the same machine as the module would). A new file gets 0666 minus the
    umask, this process's user and group (the directory's group if the directory is setgid),
    and the SELinux context the policy gives that path.
    """
    dest = os.path.abspath(dest)
    if os.path.exists(dest):
        try:
            dest_stat = os.stat(dest)
            os.chown(src, dest_stat.st_uid, dest_stat.st_gid)
            shutil.copystat(dest, src)
            now = time.time()
            os.utime(src, times=(now, now))
        except OSError as error:
            if error.errno != errno.EPERM:
                raise
        context = _selinux_context(dest)
    else:
        context = _selinux_default_context(dest)
    creating = not os.path.exists(dest)
    os.rename(src, dest)
    if creating:
        os.chmod(dest, _NEW_FILE_MODE & ~current_umask())
        directory_stat = os.stat(os.path.dirname(dest))
        group = directory_stat.st_gid if directory_stat.st_mode & stat.S_ISGID else os.getegid()
        # As AnsibleModule: only root may give a file away, and the best effort is enough.
        with contextlib.suppress(OSError):
            os.chown(dest, os.geteuid(), group)
    if context is not None:
        _set_selinux_context(dest, context)


def current_umask() -> int:
    """This process's umask, read without changing it when the system says (Linux 4.7 and later)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _selinux_enabled() -> bool:
    return _selinux is not None and _selinux.is_selinux_enabled() == 1


def _selinux_context(path: str) -> str | None:
    if not _selinux_enabled():
        return None
    rc, context = _selinux.lgetfilecon_raw(path)
    return None if rc == -1 else context


def _selinux_default_context(path: str) -> str | None:
    if not _selinux_enabled():
        return None
    try:
        rc, context = _selinux.matchpathcon(path, 0)
    except OSError:
        return None
    return None if rc == -1 else context


def _set_selinux_context(path: str, context: str) -> None:
    if _selinux_context(path) == context:
        return
    try:
        _selinux.lsetfilecon(path, context)
    except OSError as error:
        # File systems without labels (NFS, vfat, ...) refuse any; AnsibleModule leaves them alone too.
        if error.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
