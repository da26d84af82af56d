# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One TLS context per process and certificate setting, built on first use and shared.

Private to the keywarden.iam collection: the interface may change without notice.

Building a context loads the system's CA store (about 16 ms, holding the GIL). A loop of tasks
runs in one worker process and makes a client per item, so a context per client would cost
that once per item, and a plain http:// endpoint would pay for a context it never uses. SSL
contexts are safe to share between threads and clients; none is built until an https://
connection needs it.
"""

from __future__ import annotations

import os
import ssl
import threading

from ansible.module_utils.urls import make_context

_lock = threading.Lock()
_contexts: dict = {}


def shared_context(*, validate_certs: bool, ca_path: str | None) -> ssl.SSLContext:
    """The process's context for these settings; the same object for every caller.

    The CA file's identity (device, inode, size, modification time) is part of the key, so a
    bundle replaced at the same path gets a new context instead of a stale one. A file that
    cannot be read fails here, each time, as ``make_context`` fails for it.
    """
    key = (bool(validate_certs), ca_path, _file_identity(ca_path))
    with _lock:
        context = _contexts.get(key)
        if context is None:
            # Built under the lock: threads of a batch wait for the first one's context
            # rather than each loading the CA store at once.
            context = make_context(cafile=ca_path, validate_certs=validate_certs)
            _contexts[key] = context
        return context


def _file_identity(path: str | None) -> tuple | None:
    if not path:
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)
