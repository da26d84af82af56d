"""Test-only: stop (or mark) an ansible-playbook run at a chosen point of writing the credentials file.

The kill campaign (tests/chaos/kills.py) puts this directory on PYTHONPATH of one
ansible-playbook run; Python imports sitecustomize at start-up, so the controller and the
workers it forks carry these patches of ``os`` functions. Production code has no hook: like
tests/integration/fault_injection, only os functions are patched.

Environment:
  KEYWARDEN_KILL_POINT   before_temp    os.open(O_EXCL) of the new secret's temporary file,
                                        ``.<name of target>.<16 hex>.tmp`` in the target's directory
                                        (not the journal's ``.<name>.journal.<hex>.tmp``, nor the
                                        kept previous version's), before it is created
                         before_rename  os.replace(src, target), before it happens
                         after_rename   os.replace(src, target), right after it returned
  KEYWARDEN_KILL_TARGET  the credentials file
  KEYWARDEN_KILL_MARKER  a file created (O_EXCL) when the point is reached; only the first
                         process to reach it acts, once
  KEYWARDEN_KILL_MODE    pause (default): create the marker, then sleep in short steps until
                         ``<marker>.release`` exists or 60 s pass, then add a line "went on"
                         to the marker (only a process the signal did not end gets there) and go on
                         mark: create the marker and go on at once

Without KEYWARDEN_KILL_POINT, nothing is patched.
"""

import os
import re
import time

_POINT = os.environ.get("KEYWARDEN_KILL_POINT")
_TARGET = os.environ.get("KEYWARDEN_KILL_TARGET")
_MARKER = os.environ.get("KEYWARDEN_KILL_MARKER")
_MODE = os.environ.get("KEYWARDEN_KILL_MODE", "pause")
_POINTS = ("before_temp", "before_rename", "after_rename")
_PAUSE_LIMIT = 60.0
_PAUSE_STEP = 0.02

if _POINT:
    if _POINT not in _POINTS or not _TARGET or not _MARKER or _MODE not in ("pause", "mark"):
        raise SystemExit(f"kill_points sitecustomize: bad settings (point {_POINT!r}, mode {_MODE!r}; "
                         f"points are {', '.join(_POINTS)}; target and marker are required)")

    _target = os.path.abspath(_TARGET)
    _directory, _name = os.path.split(_target)
    _temporary = re.compile(re.escape(f".{_name}.") + r"[0-9a-f]{16}\.tmp")
    _real_open = os.open
    _real_replace = os.replace

    def _reached():
        """Create the marker (the first process to get here wins), then pause or go on."""
        try:
            descriptor = _real_open(_MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            return  # reached before (another process, or this one): act once per run
        try:
            os.write(descriptor, f"{_POINT} {os.getpid()}\n".encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if _MODE == "pause":
            release = _MARKER + ".release"
            deadline = time.monotonic() + _PAUSE_LIMIT
            while not os.path.exists(release) and time.monotonic() < deadline:
                time.sleep(_PAUSE_STEP)
            # Only a process that survived the signal gets here: say so, for the campaign's report.
            how = "released" if os.path.exists(release) else f"after {_PAUSE_LIMIT:.0f} s"
            with open(_MARKER, "a") as marker:
                marker.write(f"went on {os.getpid()} ({how})\n")

    def _is_target(path):
        try:
            return os.path.abspath(os.fspath(path)) == _target
        except TypeError:
            return False

    def _is_new_secret_temporary(path, flags, dir_fd):
        if dir_fd is not None or not flags & os.O_CREAT or not flags & os.O_EXCL:
            return False
        try:
            directory, name = os.path.split(os.path.abspath(os.fspath(path)))
        except TypeError:
            return False
        return directory == _directory and _temporary.fullmatch(name) is not None

    if _POINT == "before_temp":
        def _open(path, flags, mode=0o777, *, dir_fd=None):
            if _is_new_secret_temporary(path, flags, dir_fd):
                _reached()
            return _real_open(path, flags, mode, dir_fd=dir_fd)

        os.open = _open
    else:
        def _replace(src, dst, *args, **kwargs):
            if _POINT == "before_rename" and _is_target(dst):
                _reached()
            result = _real_replace(src, dst, *args, **kwargs)
            if _POINT == "after_rename" and _is_target(dst):
                _reached()
            return result

        os.replace = _replace
