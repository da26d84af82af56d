"""The per-file lock: exclusive across processes, released on exit, with a clear time-out."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from ansible_collections.keywarden.iam.plugins.plugin_utils._file_lock import FileLock, FileLockTimeout


def hold(path, ready, release):
    with FileLock(path):
        ready.set()
        release.wait(10)


def test_a_second_holder_waits_then_times_out_with_a_clear_message(tmp_path):
    target = str(tmp_path / "creds.yml")
    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=hold, args=(target, ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(FileLockTimeout, match="run this task again"):
            FileLock(target, timeout=0.3).acquire()
    finally:
        release.set()
        holder.join(10)
    started = time.monotonic()
    with FileLock(target, timeout=5):
        assert time.monotonic() - started < 5
    assert (tmp_path / ".creds.yml.lock").exists()


def test_lock_is_dropped_when_the_holder_dies(tmp_path):
    target = str(tmp_path / "creds.yml")
    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=hold, args=(target, ready, release))
    holder.start()
    assert ready.wait(10)
    holder.kill()
    holder.join(10)
    with FileLock(target, timeout=2):
        pass
