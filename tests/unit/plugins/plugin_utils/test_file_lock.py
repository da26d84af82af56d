"""The per-file lock: exclusive across processes, released on exit, with a clear time-out, never through a link."""

from __future__ import annotations

import multiprocessing
import os
import re
import stat
import threading
import time

import pytest

from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.plugin_utils._file_lock import FileLock, FileLockTimeout, LockFileError
from ansible_collections.keywarden.iam.plugins.plugin_utils._safe_path import resolve_destination


@pytest.fixture
def umask_000():
    saved = os.umask(0)
    yield
    os.umask(saved)


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


def test_the_lock_file_is_private_and_beside_the_file(tmp_path, umask_000):
    with FileLock(str(tmp_path / "creds.yml")) as lock:
        assert lock.path == str(tmp_path / ".creds.yml.lock")
    assert stat.S_IMODE(os.stat(lock.path).st_mode) == 0o600


def test_errors_are_task_errors():
    assert issubclass(FileLockTimeout, TaskError) and issubclass(LockFileError, TaskError)


def test_two_links_to_one_file_share_one_lock(tmp_path):
    real = tmp_path / "real" / "creds.yml"
    real.parent.mkdir(mode=0o700)
    real.write_bytes(b"x")
    (tmp_path / "one.yml").symlink_to(real)
    (tmp_path / "two.yml").symlink_to(real)
    first = resolve_destination(str(tmp_path / "one.yml"))
    second = resolve_destination(str(tmp_path / "two.yml"))
    assert first.given != second.given and first.resolved == second.resolved == str(real)

    sleeps = []
    with FileLock(first.resolved):
        def sleep(seconds):
            sleeps.append(seconds)
            time.sleep(seconds)

        waiting = FileLock(second.resolved, timeout=0.3, sleep=sleep)
        with pytest.raises(FileLockTimeout, match=re.escape(f"working on {real} ")):
            waiting.acquire()
        assert sleeps  # it waited for the first holder, then gave up
        # Locked by the names the task wrote, the two runs would not have excluded each other:
        with FileLock(first.given, timeout=0), FileLock(second.given, timeout=0):
            pass


def test_a_link_at_the_lock_path_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    victim.chmod(0o644)
    before = (victim.read_bytes(), victim.stat().st_mode, victim.stat().st_uid, victim.stat().st_mtime_ns)
    (tmp_path / ".creds.yml.lock").symlink_to(victim)
    with pytest.raises(LockFileError) as caught:
        FileLock(str(tmp_path / "creds.yml"), timeout=0).acquire()
    assert str(caught.value) == (
        f"Refusing to lock {tmp_path / 'creds.yml'}: its lock file {tmp_path / '.creds.yml.lock'} is a symbolic "
        "link, which another user may have planted, and it is not followed; remove the link and run the task again"
    )
    assert (victim.read_bytes(), victim.stat().st_mode, victim.stat().st_uid, victim.stat().st_mtime_ns) == before


def test_a_dangling_link_at_the_lock_path_creates_nothing(tmp_path):
    target = tmp_path / "private" / "created"
    target.parent.mkdir(mode=0o700)
    (tmp_path / ".creds.yml.lock").symlink_to(target)
    with pytest.raises(LockFileError, match="is a symbolic link"):
        FileLock(str(tmp_path / "creds.yml"), timeout=0).acquire()
    assert not target.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_lock_file_of_another_user_is_refused(tmp_path):
    lock_path = tmp_path / ".creds.yml.lock"
    lock_path.write_bytes(b"")
    os.chown(lock_path, 65534, 65534)
    with pytest.raises(LockFileError, match="is owned by uid 65534, not by this user or root"):
        FileLock(str(tmp_path / "creds.yml"), timeout=0).acquire()


def test_a_hard_link_at_the_lock_path_is_refused(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"")
    os.link(victim, tmp_path / ".creds.yml.lock")
    with pytest.raises(LockFileError, match="has 2 hard links, not one"):
        FileLock(str(tmp_path / "creds.yml"), timeout=0).acquire()


def test_a_fifo_at_the_lock_path_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / ".creds.yml.lock", 0o600)
    outcome = {}

    def acquire():
        try:
            FileLock(str(tmp_path / "creds.yml"), timeout=0).acquire()
        except LockFileError as error:
            outcome["error"] = error

    thread = threading.Thread(target=acquire, daemon=True)
    thread.start()
    thread.join(2)
    if thread.is_alive():  # let the blocked open return, then fail
        os.close(os.open(tmp_path / ".creds.yml.lock", os.O_WRONLY | os.O_NONBLOCK))
    assert not thread.is_alive(), "the lock opened the FIFO and waited"
    assert "is not a regular file" in str(outcome["error"])


def test_a_special_file_at_the_lock_path_is_not_even_opened(tmp_path, monkeypatch):
    os.mkfifo(tmp_path / ".creds.yml.lock", 0o600)  # stands for a device, whose open may act on it
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *args: (opened.append(path), real_open(path, *args))[1])
    with pytest.raises(LockFileError, match="is not a regular file"):
        FileLock(str(tmp_path / "creds.yml"), timeout=0).acquire()
    assert opened == []


@pytest.mark.parametrize("plant, why", [
    (lambda path: (path.write_bytes(b""), os.link(path, path.parent / "second-name")), "has 2 hard links"),
    (lambda path: os.mkfifo(path, 0o600), "is not a regular file"),
], ids=["hard link", "fifo"])
def test_the_lock_checks_what_it_opened(tmp_path, monkeypatch, plant, why):
    # Something swapped in after the lstat: the fstat of the open lock file must still refuse it.
    plant(tmp_path / ".creds.yml.lock")

    def missing(path):
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(os, "lstat", missing)
    with pytest.raises(LockFileError, match=why):
        FileLock(str(tmp_path / "creds.yml"), timeout=0).acquire()


def test_any_lock_file_with_a_description(tmp_path):
    lock_path = str(tmp_path / "state" / "alice.lock")
    os.mkdir(os.path.dirname(lock_path), 0o700)
    with FileLock.at(lock_path, description="the access keys of user alice") as lock:
        assert lock.path == lock_path
        with pytest.raises(FileLockTimeout) as caught:
            FileLock.at(lock_path, description="the access keys of user alice", timeout=0).acquire()
    assert str(caught.value) == (
        f"Another run has been working on the access keys of user alice for over 0 seconds (it holds {lock_path}); "
        "run this task again once that run has finished."
    )
    assert os.listdir(os.path.dirname(lock_path)) == ["alice.lock"]


def test_a_lock_needs_one_path():
    with pytest.raises(TypeError):
        FileLock()
    with pytest.raises(TypeError):
        FileLock("a", lock_path="b")
