# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from ansible_collections.keywarden.iam.plugins.plugin_utils import _atomic_file
from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import (
    AtomicWriteError,
    check_writable,
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


def test_a_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_bytes(b"old")
    link = tmp_path / "link"
    link.symlink_to(real)
    write_atomic(str(link), b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


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


def test_check_writable_refuses_a_read_only_directory_as_seen_by_access(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs even as root, where the real permission check always passes.
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(AtomicWriteError) as caught:
        check_writable(str(tmp_path / "creds"))
    assert str(caught.value) == f"Cannot write {tmp_path / 'creds'}: the directory {tmp_path} is not writable"
