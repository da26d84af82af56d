"""Test-only: make the credentials file's final rename fail, to prove the rollback.

The integration tests put this directory on PYTHONPATH of one ansible-playbook run and name
the file in KEYWARDEN_FAIL_WRITES_TO; Python imports sitecustomize at start-up, so the
controller (and its forked workers) then fail to rename a finished temporary file onto that
path, like a full disk would. Production code has no hook for this.
"""

import os

_TARGET = os.environ.get("KEYWARDEN_FAIL_WRITES_TO")

if _TARGET:
    _real_replace = os.replace

    def _failing_replace(src, dst, *args, **kwargs):
        if os.path.abspath(os.fspath(dst)) == os.path.abspath(_TARGET):
            raise OSError(28, "No space left on device (injected by the test)")
        return _real_replace(src, dst, *args, **kwargs)

    os.replace = _failing_replace
