# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import threading
from pathlib import Path

import pytest

from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.plugin_utils import _atomic_file
from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import (
    AtomicWriteError,
    TemporaryListings,
    UnsafePathError,
    check_writable,
    leftover_temporaries,
    link_previous,
    read_regular,
    remove_durably,
    restore_previous,
    set_mode,
    write_atomic,
)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    """Set a umask for one test, restoring the old one after."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield os.umask
    os.umask(saved)


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077, 0o277])
@pytest.mark.parametrize("mode", [0o600, 0o640])
def test_the_mode_is_exact_whatever_the_umask(tmp_path: Path, umask, mask: int, mode: int) -> None:
    umask(mask)
    target = tmp_path / "creds"
    assert write_atomic(str(target), b"data", mode=mode) is None
    assert target.read_bytes() == b"data"
    assert mode_of(target) == mode


def test_the_file_is_private_from_its_first_byte(tmp_path: Path, umask, monkeypatch: pytest.MonkeyPatch) -> None:
    umask(0o000)  # the most permissive umask must not matter
    modes = []
    real_write = os.write

    def spying_write(descriptor: int, data) -> int:
        modes.append(stat.S_IMODE(os.fstat(descriptor).st_mode))
        return real_write(descriptor, data)

    monkeypatch.setattr(os, "write", spying_write)
    write_atomic(str(tmp_path / "creds"), b"secret", mode=0o644)
    assert modes and set(modes) == {0o600}
    assert mode_of(tmp_path / "creds") == 0o644  # the requested mode comes only once complete


def test_a_failure_leaves_the_original_and_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "creds"
    target.write_bytes(b"old")
    target.chmod(0o600)
    seen = {}

    def failing_fsync(descriptor: int) -> None:
        # at this point the data is written: the temporary file must still be private
        seen["mode"] = stat.S_IMODE(os.fstat(descriptor).st_mode)
        seen["files"] = sorted(path.name for path in tmp_path.iterdir())
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(AtomicWriteError) as caught:
        write_atomic(str(target), b"new")
    assert str(caught.value) == f"Failed to write {target}: Input/output error"
    assert seen["mode"] == 0o600
    assert len(seen["files"]) == 2 and seen["files"][0].startswith(".creds.")  # the temporary file, then...
    assert [path.name for path in tmp_path.iterdir()] == ["creds"]  # ...it is gone
    assert target.read_bytes() == b"old"


def test_a_failed_write_removes_its_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "creds"
    target.write_bytes(b"old")
    calls = []
    real_fsync = os.fsync

    def second_fsync_fails(descriptor: int) -> None:
        calls.append(descriptor)
        if len(calls) == 2:  # the first is the backup's, the second the temporary file's
            raise OSError(5, "Input/output error")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", second_fsync_fails)
    with pytest.raises(AtomicWriteError, match="Failed to write"):
        write_atomic(str(target), b"new", backup=True)
    assert [path.name for path in tmp_path.iterdir()] == ["creds"]
    assert target.read_bytes() == b"old"


def test_a_failed_backup_stops_the_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "creds"
    target.write_bytes(b"old")

    def failing_fsync(descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(AtomicWriteError) as caught:
        write_atomic(str(target), b"new", backup=True)
    assert str(caught.value) == f"Failed to back up {target} before writing it: Input/output error"
    assert [path.name for path in tmp_path.iterdir()] == ["creds"]
    assert target.read_bytes() == b"old"


def test_a_failed_rename_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_replace(source, destination) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(AtomicWriteError, match="No space left on device"):
        write_atomic(str(tmp_path / "creds"), b"new")
    assert list(tmp_path.iterdir()) == []


def test_replaces_existing_content(tmp_path: Path) -> None:
    target = tmp_path / "creds"
    target.write_bytes(b"old old old old")
    target.chmod(0o644)
    write_atomic(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert mode_of(target) == 0o600


def test_backup_keeps_the_old_content_privately(tmp_path: Path, umask) -> None:
    umask(0o000)
    target = tmp_path / "creds"
    target.write_bytes(b"old")
    target.chmod(0o644)  # the backup must not inherit a looser mode
    backup = write_atomic(str(target), b"new", backup=True)
    assert backup is not None
    assert re.fullmatch(rf"{re.escape(str(target))}\.\d{{8}}T\d{{6}}\.{os.getpid()}~", backup)
    assert Path(backup).read_bytes() == b"old"
    assert mode_of(Path(backup)) == 0o600
    assert target.read_bytes() == b"new"


def test_two_backups_in_one_second_do_not_clobber(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = _atomic_file.time.gmtime(0)
    monkeypatch.setattr(_atomic_file.time, "gmtime", lambda: frozen)
    target = tmp_path / "creds"
    target.write_bytes(b"first")
    first = write_atomic(str(target), b"second", backup=True)
    second = write_atomic(str(target), b"third", backup=True)
    assert first != second and second.endswith(".1~")
    assert (Path(first).read_bytes(), Path(second).read_bytes()) == (b"first", b"second")


def test_no_backup_without_an_existing_file(tmp_path: Path) -> None:
    assert write_atomic(str(tmp_path / "creds"), b"new", backup=True) is None
    assert [path.name for path in tmp_path.iterdir()] == ["creds"]


def test_a_symlink_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_bytes(b"old")
    real.chmod(0o644)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(UnsafePathError) as caught:
        write_atomic(str(link), b"new", mode=0o600, backup=True)
    assert str(caught.value).startswith(f"Refusing to write {link}: it is a symbolic link, which is never followed")
    assert link.is_symlink() and real.read_bytes() == b"old" and mode_of(real) == 0o644
    assert sorted(path.name for path in tmp_path.iterdir()) == ["link", "real"]  # no backup, no temporary file


def test_a_dangling_symlink_is_refused_and_nothing_created(tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "created")
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        write_atomic(str(link), b"new")
    assert [path.name for path in tmp_path.iterdir()] == ["link"]


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "creds"
    os.mkfifo(fifo, 0o600)
    outcome = run_briefly(fifo, write_atomic, str(fifo), b"new", backup=True)
    assert isinstance(outcome, UnsafePathError) and "it is a FIFO (named pipe), not a regular file" in str(outcome)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_device_is_never_replaced(tmp_path: Path) -> None:
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod needs CAP_MKNOD")
    with pytest.raises(UnsafePathError, match="it is a character device, not a regular file"):
        write_atomic(str(device), b"new")
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_a_directory_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "creds").mkdir()
    with pytest.raises(UnsafePathError, match="it is a directory"):
        write_atomic(str(tmp_path / "creds"), b"new")


def test_special_mode_bits_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="0o4600"):
        write_atomic(str(tmp_path / "creds"), b"new", mode=0o4600)
    assert list(tmp_path.iterdir()) == []


def test_errors_are_task_errors() -> None:
    assert issubclass(UnsafePathError, AtomicWriteError) and issubclass(AtomicWriteError, TaskError)


def run_briefly(fifo: Path, function, *args, **kwargs):
    """Call ``function`` in a thread and return what it returned or raised; fail if it blocks (on ``fifo``)."""
    outcome: list = []

    def target() -> None:
        try:
            outcome.append(function(*args, **kwargs))
        except BaseException as error:  # handed to the test
            outcome.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(2)
    if thread.is_alive():  # let the blocked open return, then fail
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"{function.__name__} opened the FIFO and waited")
    return outcome[0]


# set_mode


def test_set_mode_changes_the_mode_and_says_so(tmp_path: Path) -> None:
    target = tmp_path / "creds"
    target.write_bytes(b"data")
    target.chmod(0o644)
    assert set_mode(str(target), 0o600) is True
    assert mode_of(target) == 0o600
    assert set_mode(str(target), 0o600) is False
    assert target.read_bytes() == b"data"


def test_set_mode_never_changes_a_second_name_of_the_file(tmp_path: Path) -> None:
    # A kept previous version, or a file another user hard-linked here: chmod would change both.
    target, other = tmp_path / "creds", tmp_path / "other"
    target.write_bytes(b"data")
    target.chmod(0o600)
    os.link(target, other)
    assert set_mode(str(target), 0o644) is True
    assert (mode_of(target), target.read_bytes()) == (0o644, b"data")
    assert mode_of(other) == 0o600 and target.stat().st_ino != other.stat().st_ino
    assert sorted(path.name for path in tmp_path.iterdir()) == ["creds", "other"]


def test_set_mode_refuses_special_bits(tmp_path: Path) -> None:
    target = tmp_path / "creds"
    target.write_bytes(b"data")
    target.chmod(0o644)
    for mode in (0o4600, 0o2600, 0o1600):
        with pytest.raises(ValueError):
            set_mode(str(target), mode)
    assert mode_of(target) == 0o644


def test_set_mode_never_follows_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_bytes(b"data")
    real.chmod(0o644)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        set_mode(str(tmp_path / "link"), 0o600)
    assert mode_of(real) == 0o644


def test_set_mode_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "creds"
    os.mkfifo(fifo, 0o644)
    outcome = run_briefly(fifo, set_mode, str(fifo), 0o600)
    assert isinstance(outcome, UnsafePathError) and "FIFO" in str(outcome)
    assert mode_of(fifo) == 0o644


def test_set_mode_of_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AtomicWriteError, match="it does not exist"):
        set_mode(str(tmp_path / "creds"), 0o600)


def test_set_mode_checks_what_it_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A FIFO swapped in between the lstat and the open: fstat must catch it, and no chmod happen.
    target = tmp_path / "creds"
    target.write_bytes(b"data")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o644)
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, flags, *rest: real_open(fifo, flags, *rest))
    outcome = run_briefly(fifo, set_mode, str(target), 0o600)
    assert isinstance(outcome, UnsafePathError) and "FIFO" in str(outcome)
    assert mode_of(fifo) == 0o644


# read_regular


def test_read_regular_reads_a_file_or_none(tmp_path: Path) -> None:
    target = tmp_path / "creds"
    assert read_regular(str(target)) is None
    target.write_bytes(b"x" * 200_000)
    assert read_regular(str(target)) == b"x" * 200_000
    target.write_bytes(b"")
    assert read_regular(str(target)) == b""


def test_read_regular_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "creds"
    os.mkfifo(fifo, 0o600)
    outcome = run_briefly(fifo, read_regular, str(fifo))
    assert isinstance(outcome, UnsafePathError)
    assert str(outcome).startswith(f"Refusing to read {fifo}: it is a FIFO (named pipe), not a regular file")


def test_read_regular_checks_what_it_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A FIFO swapped in between the lstat and the open: O_NONBLOCK keeps the open from waiting.
    target = tmp_path / "creds"
    target.write_bytes(b"data")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, flags, *rest: real_open(fifo, flags, *rest))
    outcome = run_briefly(fifo, read_regular, str(target))
    assert isinstance(outcome, UnsafePathError) and "FIFO" in str(outcome)


def test_read_regular_never_follows_a_link(tmp_path: Path) -> None:
    (tmp_path / "real").write_bytes(b"data")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        read_regular(str(tmp_path / "link"))


def test_read_regular_refuses_a_character_device() -> None:
    with pytest.raises(UnsafePathError, match="character device"):
        read_regular("/dev/null")


# link_previous and restore_previous


def test_the_kept_version_survives_a_write_and_comes_back(tmp_path: Path) -> None:
    target, keep = tmp_path / "creds", tmp_path / ".creds.previous"
    target.write_bytes(b"old")
    target.chmod(0o640)
    assert link_previous(str(target), str(keep)) is True
    assert keep.read_bytes() == b"old"
    write_atomic(str(target), b"new")
    assert (target.read_bytes(), keep.read_bytes()) == (b"new", b"old")
    restore_previous(str(keep), str(target))
    assert target.read_bytes() == b"old" and mode_of(target) == 0o640
    assert sorted(path.name for path in tmp_path.iterdir()) == ["creds"]


def test_link_previous_of_a_missing_file_keeps_nothing(tmp_path: Path) -> None:
    assert link_previous(str(tmp_path / "creds"), str(tmp_path / "keep")) is False
    assert list(tmp_path.iterdir()) == []


def test_link_previous_replaces_a_stale_copy(tmp_path: Path) -> None:
    target, keep = tmp_path / "creds", tmp_path / "keep"
    target.write_bytes(b"current")
    keep.write_bytes(b"stale")
    assert link_previous(str(target), str(keep)) is True
    assert keep.read_bytes() == b"current"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["creds", "keep"]  # no temporary name left


def test_link_previous_replaces_a_stale_link_without_following_it(tmp_path: Path) -> None:
    target, keep, victim = tmp_path / "creds", tmp_path / "keep", tmp_path / "victim"
    target.write_bytes(b"current")
    victim.write_bytes(b"precious")
    keep.symlink_to(victim)
    assert link_previous(str(target), str(keep)) is True
    assert not keep.is_symlink() and keep.read_bytes() == b"current" and victim.read_bytes() == b"precious"


@pytest.mark.parametrize("code", [errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK])
def test_link_previous_copies_where_hard_links_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def no_link(*_args, **_kwargs) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "link", no_link)
    target, keep = tmp_path / "creds", tmp_path / "keep"
    target.write_bytes(b"old")
    target.chmod(0o600)
    assert link_previous(str(target), str(keep)) is True
    assert keep.read_bytes() == b"old" and mode_of(keep) == 0o600
    assert keep.stat().st_ino != target.stat().st_ino
    write_atomic(str(target), b"new")
    restore_previous(str(keep), str(target))
    assert target.read_bytes() == b"old"


def test_link_previous_reports_other_failures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(*_args, **_kwargs) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "link", no_space)
    (tmp_path / "creds").write_bytes(b"old")
    with pytest.raises(AtomicWriteError, match=r"Failed to keep the previous version of .*: No space left on device"):
        link_previous(str(tmp_path / "creds"), str(tmp_path / "keep"))
    assert [path.name for path in tmp_path.iterdir()] == ["creds"]


def test_link_previous_refuses_a_link(tmp_path: Path) -> None:
    (tmp_path / "real").write_bytes(b"data")
    (tmp_path / "creds").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        link_previous(str(tmp_path / "creds"), str(tmp_path / "keep"))
    assert not (tmp_path / "keep").exists()


def test_the_previous_version_is_durable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        if stat.S_ISDIR(os.fstat(descriptor).st_mode):
            synced.append(os.fstat(descriptor).st_ino)
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    (tmp_path / "creds").write_bytes(b"old")
    link_previous(str(tmp_path / "creds"), str(tmp_path / "keep"))
    assert synced == [tmp_path.stat().st_ino]
    restore_previous(str(tmp_path / "keep"), str(tmp_path / "creds"))
    assert synced == [tmp_path.stat().st_ino] * 2


def test_restore_previous_without_a_kept_version_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "creds").write_bytes(b"new")
    with pytest.raises(AtomicWriteError, match=r"its previous version .* is gone"):
        restore_previous(str(tmp_path / "keep"), str(tmp_path / "creds"))
    assert (tmp_path / "creds").read_bytes() == b"new"


def test_restore_previous_refuses_a_link_as_the_kept_version(tmp_path: Path) -> None:
    (tmp_path / "creds").write_bytes(b"new")
    (tmp_path / "keep").symlink_to("/etc/passwd")
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        restore_previous(str(tmp_path / "keep"), str(tmp_path / "creds"))
    assert (tmp_path / "creds").read_bytes() == b"new"


def test_check_writable_accepts_a_new_file_in_a_writable_directory(tmp_path: Path) -> None:
    check_writable(str(tmp_path / "creds"))


def test_check_writable_refuses_a_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "creds"
    with pytest.raises(AtomicWriteError) as caught:
        check_writable(str(path))
    assert str(caught.value) == f"Cannot write {path}: the directory {tmp_path / 'missing'} does not exist"


def test_check_writable_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(AtomicWriteError, match="it is a directory"):
        check_writable(str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_check_writable_refuses_a_read_only_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(AtomicWriteError, match="is not writable"):
            check_writable(str(locked / "creds"))
    finally:
        locked.chmod(0o700)


def test_check_writable_refuses_a_read_only_directory_as_seen_by_access(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs even as root, where the real permission check always passes.
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(AtomicWriteError) as caught:
        check_writable(str(tmp_path / "creds"))
    assert str(caught.value) == f"Cannot write {tmp_path / 'creds'}: the directory {tmp_path} is not writable"


# remove_durably


def test_remove_durably_removes_and_flushes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda descriptor: (synced.append(os.fstat(descriptor).st_ino),
                                                         real_fsync(descriptor))[1])
    (tmp_path / "journal").write_bytes(b"x")
    assert remove_durably(str(tmp_path / "journal")) is True
    assert list(tmp_path.iterdir()) == [] and synced == [tmp_path.stat().st_ino]
    assert remove_durably(str(tmp_path / "journal")) is False


def test_remove_durably_removes_a_link_not_its_target(tmp_path: Path) -> None:
    (tmp_path / "real").write_bytes(b"precious")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert remove_durably(str(tmp_path / "link")) is True
    assert [path.name for path in tmp_path.iterdir()] == ["real"]


def test_remove_durably_reports_a_failure(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(AtomicWriteError, match=f"Cannot remove {re.escape(str(tmp_path / 'dir'))}: "):
        remove_durably(str(tmp_path / "dir"))


def test_leftover_temporaries_are_the_interrupted_writes_of_this_file_only(tmp_path) -> None:
    target = tmp_path / "creds.yml"
    ours = [".creds.yml.0123456789abcdef.tmp", "..creds.yml.journal.fedcba9876543210.tmp",
            "..creds.yml.previous.00112233445566ff.tmp", "..creds.yml.fingerprint.0011223344556677.tmp"]
    others = [".creds.yml.lock", ".creds.yml.journal", ".other.yml.0123456789abcdef.tmp", ".creds.yml.12345.tmp",
              "creds.yml"]
    for name in ours + others:
        (tmp_path / name).write_text("x")
    (tmp_path / ".creds.yml.aaaaaaaaaaaaaaaa.tmp").symlink_to(tmp_path / "creds.yml")  # never a link
    assert sorted(leftover_temporaries(str(target))) == sorted(str(tmp_path / name) for name in ours)


def test_a_shared_listing_finds_what_a_listing_of_its_own_finds_and_lists_each_directory_once(
        tmp_path, monkeypatch) -> None:
    names = [".a.yml.0123456789abcdef.tmp", "..b.yml.journal.fedcba9876543210.tmp", "a.yml", "b.yml",
             ".c.yml.lock"]
    for name in names:
        (tmp_path / name).write_text("x")
    listed = []
    real_listdir = os.listdir
    monkeypatch.setattr(_atomic_file.os, "listdir", lambda path: listed.append(path) or real_listdir(path))
    listings = TemporaryListings()
    for name in ("a.yml", "b.yml", "c.yml"):
        path = str(tmp_path / name)
        assert leftover_temporaries(path, listings) == leftover_temporaries(path)
    assert listed.count(str(tmp_path)) == 1 + 3  # the shared listing once, and each unshared call


def test_a_directory_that_cannot_be_listed_is_tried_again_by_the_next_file(tmp_path, monkeypatch) -> None:
    leftover = tmp_path / ".a.yml.0123456789abcdef.tmp"
    leftover.write_text("x")
    real_listdir = os.listdir
    failures = [OSError("EMFILE")]

    def listdir(path):
        if failures:
            raise failures.pop()
        return real_listdir(path)

    monkeypatch.setattr(_atomic_file.os, "listdir", listdir)
    listings = TemporaryListings()
    assert leftover_temporaries(str(tmp_path / "a.yml"), listings) == []
    assert leftover_temporaries(str(tmp_path / "a.yml"), listings) == [str(leftover)]


def test_a_shared_listing_does_not_report_a_leftover_removed_since(tmp_path) -> None:
    leftover = tmp_path / ".a.yml.0123456789abcdef.tmp"
    leftover.write_text("x")
    listings = TemporaryListings()
    assert leftover_temporaries(str(tmp_path / "a.yml"), listings) == [str(leftover)]
    leftover.unlink()  # by another run, between this task's listing and this file's turn
    assert leftover_temporaries(str(tmp_path / "a.yml"), listings) == []


def test_link_previous_twice_leaves_no_temporary_link(tmp_path) -> None:
    # A run killed after keeping the previous version, before its journal, leaves .previous as the
    # same file: renaming a link onto it would do nothing and leave the temporary link for good.
    target, keep = tmp_path / "creds.yml", tmp_path / ".creds.yml.previous"
    target.write_bytes(b"old")
    assert link_previous(str(target), str(keep))
    assert link_previous(str(target), str(keep))
    assert sorted(path.name for path in tmp_path.iterdir()) == [".creds.yml.previous", "creds.yml"]
    assert os.path.samefile(target, keep)
