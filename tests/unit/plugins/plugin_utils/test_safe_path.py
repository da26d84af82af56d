# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""resolve_destination: which links are followed, which paths are refused, and that a refusal touches nothing.

Another user is simulated by giving a file to uid 65534 (nobody), which needs root: those tests
are skipped otherwise. pytest's tmp_path is private (0700, under a sticky /tmp), so it is a safe
place for a link unless a test makes it otherwise.
"""
from __future__ import annotations

import contextlib
import os
import re
import stat
import threading
from pathlib import Path

import pytest

from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.plugin_utils._atomic_file import AtomicWriteError
from ansible_collections.keywarden.iam.plugins.plugin_utils._safe_path import (
    MAX_SYMLINKS,
    SafeDestination,
    UnsafePathError,
    resolve_destination,
)

OTHER = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")


def snapshot(path: Path) -> tuple[bytes, int, int, int]:
    status = path.stat()
    return path.read_bytes(), status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)


def private_dir(path: Path) -> Path:
    path.mkdir()
    path.chmod(0o700)
    return path


def run_briefly(function, *args):
    """Run ``function`` in a thread; fail (instead of hanging) if it has not returned within 2 seconds."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(2)
    return thread.is_alive(), outcome


def unblock(fifo: Path) -> None:
    # A reader blocked in open() returns once a writer opens the FIFO.
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file an attacker would like root to overwrite."""
    path = private_dir(tmp_path / "etc") / "shadow"
    path.write_bytes(b"precious")
    path.chmod(0o640)
    return path


def test_errors_are_task_errors() -> None:
    assert issubclass(UnsafePathError, AtomicWriteError)
    assert issubclass(AtomicWriteError, TaskError)


def test_a_plain_path_resolves_to_itself(tmp_path: Path) -> None:
    path = tmp_path / "creds.yml"
    assert resolve_destination(str(path)) == SafeDestination(given=str(path), resolved=str(path), warnings=())
    path.write_bytes(b"x")
    assert resolve_destination(str(path)).resolved == str(path)


def test_a_relative_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = resolve_destination("./creds.yml")
    assert (result.given, result.resolved) == (str(tmp_path / "creds.yml"),) * 2


def test_a_link_of_this_user_in_a_safe_directory_is_followed(tmp_path: Path) -> None:
    real = private_dir(tmp_path / "real") / "creds.yml"
    real.write_bytes(b"x")
    link = tmp_path / "creds.yml"
    link.symlink_to(real)
    assert resolve_destination(str(link)) == SafeDestination(given=str(link), resolved=str(real), warnings=())


def test_a_dangling_link_of_this_user_leads_to_the_file_to_create(tmp_path: Path) -> None:
    real = private_dir(tmp_path / "real") / "creds.yml"
    link = tmp_path / "creds.yml"
    link.symlink_to(real)
    assert resolve_destination(str(link)).resolved == str(real)
    assert not real.exists()


def test_a_chain_of_links_and_dot_dot_resolve_like_realpath(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (tmp_path / "a" / "creds.yml").write_bytes(b"x")
    (tmp_path / "dirlink").symlink_to("a/b")  # relative
    (tmp_path / "second").symlink_to(tmp_path / "dirlink" / ".." / "creds.yml")  # ".." after a link
    (tmp_path / "first").symlink_to("second")
    path = tmp_path / "first"
    result = resolve_destination(str(path))
    assert result.resolved == os.path.realpath(path) == str(tmp_path / "a" / "creds.yml")
    # ".." in the given path climbs from where the link leads, not from the link's directory
    path = tmp_path / "dirlink" / ".." / "creds.yml"
    result = resolve_destination(str(path))
    assert (result.given, result.resolved) == (str(path), str(tmp_path / "a" / "creds.yml"))


@as_root
def test_a_link_planted_by_another_user_is_refused_and_its_target_untouched(tmp_path: Path, victim: Path) -> None:
    before = snapshot(victim)
    link = tmp_path / "creds.yml"
    link.symlink_to(victim)
    os.lchown(link, OTHER, OTHER)
    with pytest.raises(UnsafePathError) as caught:
        resolve_destination(str(link))
    message = str(caught.value)
    assert f"the symbolic link {link} is owned by uid {OTHER}" in message
    assert "not followed" in message and "credentials_file to the real file" in message
    assert snapshot(victim) == before


@as_root
def test_a_dangling_link_planted_by_another_user_is_refused_and_nothing_created(tmp_path: Path) -> None:
    target = private_dir(tmp_path / "root-only") / "created"
    link = tmp_path / "creds.yml"
    link.symlink_to(target)
    os.lchown(link, OTHER, OTHER)
    with pytest.raises(UnsafePathError, match=f"owned by uid {OTHER}"):
        resolve_destination(str(link))
    assert not target.exists() and os.listdir(target.parent) == []


@as_root
def test_a_link_in_a_chain_planted_by_another_user_is_refused(tmp_path: Path, victim: Path) -> None:
    (tmp_path / "second").symlink_to(victim)
    os.lchown(tmp_path / "second", OTHER, OTHER)
    (tmp_path / "first").symlink_to(tmp_path / "second")  # root's own link, leading to the planted one
    with pytest.raises(UnsafePathError, match=f"link {tmp_path / 'second'} is owned by uid {OTHER}"):
        resolve_destination(str(tmp_path / "first"))


@as_root
def test_a_directory_link_of_another_user_is_refused(tmp_path: Path) -> None:
    real = private_dir(tmp_path / "real")
    (real / "creds.yml").write_bytes(b"x")
    (tmp_path / "dir").symlink_to(real)
    os.lchown(tmp_path / "dir", OTHER, OTHER)
    with pytest.raises(UnsafePathError, match=f"link {tmp_path / 'dir'} is owned by uid {OTHER}"):
        resolve_destination(str(tmp_path / "dir" / "creds.yml"))


@as_root
def test_the_running_user_may_own_links_and_files(tmp_path: Path) -> None:
    real = private_dir(tmp_path / "real") / "creds.yml"
    real.write_bytes(b"x")
    os.chown(real, OTHER, OTHER)
    link = tmp_path / "creds.yml"
    link.symlink_to(real)
    os.lchown(link, OTHER, OTHER)
    assert resolve_destination(str(link), euid=OTHER).resolved == str(real)
    with pytest.raises(UnsafePathError, match=f"owned by uid {OTHER}"):
        resolve_destination(str(link))  # as root, the same link is another user's


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o757])
def test_a_link_in_a_directory_others_can_write_is_refused(tmp_path: Path, victim: Path, mode: int) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    link = shared / "creds.yml"
    link.symlink_to(victim)  # owned by this user, but anyone who can write the directory can swap it
    before = snapshot(victim)
    with pytest.raises(UnsafePathError) as caught:
        resolve_destination(str(link))
    assert f"the symbolic link {link} is in {shared}, which is writable by" in str(caught.value)
    assert f"(mode {mode:04o}) without the sticky bit" in str(caught.value)
    assert snapshot(victim) == before


@as_root
def test_a_link_in_a_directory_of_another_user_is_refused(tmp_path: Path, victim: Path) -> None:
    theirs = private_dir(tmp_path / "theirs")
    os.chown(theirs, OTHER, OTHER)
    (theirs / "creds.yml").symlink_to(victim)
    with pytest.raises(UnsafePathError, match=f"is in {theirs}, which is owned by uid {OTHER}"):
        resolve_destination(str(theirs / "creds.yml"))


def test_a_link_in_a_sticky_world_writable_directory_may_be_followed(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    real = private_dir(tmp_path / "real") / "creds.yml"
    (shared / "creds.yml").symlink_to(real)  # our own link: others cannot swap it in a sticky directory
    assert resolve_destination(str(shared / "creds.yml")).resolved == str(real)


def test_a_hard_linked_link_in_a_shared_sticky_directory_is_refused(tmp_path: Path, victim: Path) -> None:
    # With fs.protected_hardlinks off, another user can give root's own link a name in /tmp.
    roots = private_dir(tmp_path / "roots") / "link"
    roots.symlink_to(victim)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    os.link(roots, shared / "creds.yml", follow_symlinks=False)
    with pytest.raises(UnsafePathError, match=re.escape("others can write (mode 1777), and the link has 2 hard links")):
        resolve_destination(str(shared / "creds.yml"))
    assert resolve_destination(str(roots)).resolved == str(victim)  # in a private directory, it is root's


@pytest.mark.parametrize("mode", [0o770, 0o775, 0o707])
def test_a_link_into_a_directory_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "inner").mkdir(mode=0o700)
    loose.chmod(mode)  # not the file's own directory: a grandparent is enough to swap it
    link = tmp_path / "creds.yml"
    link.symlink_to(loose / "inner" / "creds.yml")
    with pytest.raises(UnsafePathError) as caught:
        resolve_destination(str(link))
    assert f"{loose} is writable by" in str(caught.value) and f"chmod go-w {loose}" in str(caught.value)
    assert not (loose / "inner" / "creds.yml").exists()


def test_without_a_link_the_directory_chain_is_the_authors_choice(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o770)
    assert resolve_destination(str(loose / "creds.yml")).resolved == str(loose / "creds.yml")


@pytest.mark.parametrize("count", [1, 2])
def test_a_loop_of_links_is_refused_clearly(tmp_path: Path, count: int) -> None:
    names = [tmp_path / f"link{index}" for index in range(count)]
    for index, name in enumerate(names):
        name.symlink_to(names[(index + 1) % count])
    hung, outcome = run_briefly(resolve_destination, str(names[0]))
    assert not hung, "resolve_destination went round the loop"
    assert isinstance(outcome.get("error"), UnsafePathError)
    assert f"more than {MAX_SYMLINKS} symbolic links, most likely a loop" in str(outcome["error"])


def test_a_long_chain_within_the_limit_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "creds.yml"
    previous = real
    for index in range(MAX_SYMLINKS):
        link = tmp_path / f"link{index}"
        link.symlink_to(previous)
        previous = link
    assert resolve_destination(str(previous)).resolved == str(real)


def test_a_character_device_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsafePathError, match="/dev/null: it is a character device, not a regular file"):
        resolve_destination("/dev/null")
    (tmp_path / "creds.yml").symlink_to("/dev/null")
    with pytest.raises(UnsafePathError, match=r"\(which leads to /dev/null\): it is a character device"):
        resolve_destination(str(tmp_path / "creds.yml"))
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "creds.yml"
    os.mkfifo(fifo, 0o600)
    hung, outcome = run_briefly(resolve_destination, str(fifo))
    if hung:
        unblock(fifo)
    assert not hung, "resolve_destination opened the FIFO"
    assert isinstance(outcome.get("error"), UnsafePathError)
    assert "it is a FIFO (named pipe), not a regular file" in str(outcome["error"])


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsafePathError, match="it is a directory, not a regular file"):
        resolve_destination(str(tmp_path))


def test_a_socket_is_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s"
    if len(str(path)) > 100:
        pytest.skip("path too long for a UNIX socket")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(UnsafePathError, match="it is a socket"):
            resolve_destination(str(path))


@as_root
def test_a_file_of_another_user_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "creds.yml"
    path.write_bytes(b"theirs")
    os.chown(path, OTHER, OTHER)
    before = snapshot(path)
    with pytest.raises(UnsafePathError) as caught:
        resolve_destination(str(path))
    assert f"{path}: it is owned by uid {OTHER}" in str(caught.value)
    assert "chown" in str(caught.value)
    assert snapshot(path) == before


def test_a_missing_directory_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "creds.yml"
    with pytest.raises(AtomicWriteError) as caught:
        resolve_destination(str(path))
    assert str(caught.value).startswith(f"Cannot write {path}: the directory {tmp_path / 'missing'} does not exist")


def test_a_file_as_a_directory_is_reported(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(AtomicWriteError, match="is a regular file, not a directory"):
        resolve_destination(str(tmp_path / "file" / "creds.yml"))


def test_a_directory_this_user_cannot_write_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs even as root, where the real permission check always passes.
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(AtomicWriteError, match=f"the directory {tmp_path} is not writable by this user"):
        resolve_destination(str(tmp_path / "creds.yml"))


def test_a_world_writable_sticky_directory_gives_a_warning(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    result = resolve_destination(str(shared / "creds.yml"))
    assert result.resolved == str(shared / "creds.yml")
    assert len(result.warnings) == 1
    assert "writable by all users (mode 1777): other users can create files beside the credentials" in (
        result.warnings[0])
    assert "A private directory (mode 0700) is better" in result.warnings[0]


def test_a_private_directory_gives_no_warning(tmp_path: Path) -> None:
    assert resolve_destination(str(tmp_path / "creds.yml")).warnings == ()
