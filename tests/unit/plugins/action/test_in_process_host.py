"""InProcessHost: what AnsibleModule would have done, done in the action plugin.

Above all the report files: ``atomic_move`` must leave a file exactly as AnsibleModule.atomic_move
leaves it (mode, owner, group), for a new file and for one it replaces, so each case below runs
both and compares. Ownership cases need root (to plant files of other users and groups).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keywarden.iam.plugins.plugin_utils import _in_process_host as host_module
from ansible_collections.keywarden.iam.plugins.plugin_utils._in_process_host import (
    InProcessHost,
    atomic_move,
    current_umask,
    no_log_values,
)
from tests.unit.plugins.action.test_in_process_results import module_args

ROOT = os.geteuid() == 0


@pytest.fixture
def ansible_module():
    with module_args({}):
        yield AnsibleModule(argument_spec={})


def moved(move, directory: Path, name: str, *, existing_mode=None, existing_owner=None) -> tuple:
    """(mode, uid, gid, text) of ``name`` after ``move`` put a freshly written temp file there."""
    dest = directory / name
    if existing_mode is not None:
        dest.write_text("old\n")
        dest.chmod(existing_mode)
        if existing_owner is not None:
            os.chown(dest, *existing_owner)
    handle, temp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
    os.write(handle, b"new\n")
    os.close(handle)
    move(temp, str(dest))
    status = dest.stat()
    assert not Path(temp).exists()
    return stat.S_IMODE(status.st_mode), status.st_uid, status.st_gid, dest.read_text()


def both(ansible_module, tmp_path: Path, **case) -> tuple:
    results = []
    for name, move in (("module", ansible_module.atomic_move), ("in-process", atomic_move)):
        directory = tmp_path / name
        directory.mkdir()
        if case.get("directory_group") is not None:
            os.chown(directory, -1, case["directory_group"])
            directory.chmod(0o2775)
        results.append(moved(move, directory, "report.json", existing_mode=case.get("existing_mode"),
                             existing_owner=case.get("existing_owner")))
    assert results[0] == results[1]
    return results[1]


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077, 0o002])
def test_a_new_file_gets_0666_minus_the_umask(ansible_module, tmp_path, umask):
    saved = os.umask(umask)
    try:
        mode, uid, gid, text = both(ansible_module, tmp_path)
    finally:
        os.umask(saved)
    assert (mode, uid, gid, text) == (0o666 & ~umask, os.geteuid(), os.getegid(), "new\n")


@pytest.mark.parametrize("existing_mode", [0o600, 0o604, 0o640, 0o444])
def test_a_replaced_file_keeps_its_mode(ansible_module, tmp_path, existing_mode):
    assert both(ansible_module, tmp_path, existing_mode=existing_mode)[0] == existing_mode


@pytest.mark.skipif(not ROOT, reason="planting files of other users needs root")
def test_a_replaced_file_keeps_its_owner_and_group(ansible_module, tmp_path):
    assert both(ansible_module, tmp_path, existing_mode=0o640, existing_owner=(4242, 4343))[:3] == (
        0o640, 4242, 4343)


@pytest.mark.skipif(not ROOT, reason="a directory of another group needs root")
def test_a_new_file_in_a_setgid_directory_gets_its_group(ansible_module, tmp_path):
    saved = os.umask(0o022)
    try:
        assert both(ansible_module, tmp_path, directory_group=4343)[:3] == (0o644, os.geteuid(), 4343)
    finally:
        os.umask(saved)


def test_a_bare_file_name_is_taken_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    handle, temp = tempfile.mkstemp(dir=tmp_path)
    os.close(handle)
    atomic_move(os.path.basename(temp), "report.csv")
    assert (tmp_path / "report.csv").is_file()


def test_the_umask_is_read_without_changing_it():
    saved = os.umask(0o037)
    try:
        assert current_umask() == 0o037
        assert os.umask(0o037) == 0o037
    finally:
        os.umask(saved)


class FakeSelinux:
    """libselinux as ansible.module_utils.compat.selinux wraps it, for a system that enforces it."""

    def __init__(self) -> None:
        self.contexts: dict = {}  # by inode: a rename carries a file's context along
        self.set: list = []

    def is_selinux_enabled(self) -> int:
        return 1

    def lgetfilecon_raw(self, path):
        return [0, self.contexts.get(os.stat(path).st_ino, "system_u:object_r:tmp_t:s0")]

    def matchpathcon(self, path, mode):
        return [0, "system_u:object_r:var_lib_t:s0"]

    def lsetfilecon(self, path, context):
        self.set.append((os.path.basename(path), context))
        self.contexts[os.stat(path).st_ino] = context


def test_selinux_contexts_follow_the_destination(tmp_path, monkeypatch):
    selinux = FakeSelinux()
    monkeypatch.setattr(host_module, "_selinux", selinux)
    existing = tmp_path / "kept.json"
    existing.write_text("old\n")
    selinux.contexts[existing.stat().st_ino] = "system_u:object_r:admin_home_t:s0"
    for name in ("kept.json", "new.json"):
        handle, temp = tempfile.mkstemp(dir=tmp_path)
        os.close(handle)
        atomic_move(temp, str(tmp_path / name))
    # The replaced file keeps its context; the new one gets the policy's for its path.
    assert selinux.set == [("kept.json", "system_u:object_r:admin_home_t:s0"),
                           ("new.json", "system_u:object_r:var_lib_t:s0")]


def test_no_log_values_as_ansible_module_collects_them():
    spec = {"secret_key": {"type": "str", "no_log": True}, "tokens": {"type": "list", "no_log": True},
            "access_key": {"type": "str", "no_log": False}, "password": {"type": "str", "no_log": True}}
    params = {"secret_key": "s3cret", "tokens": ["t1", {"deep": "t2"}], "access_key": "AK", "password": None}
    assert no_log_values(spec, params) == {"s3cret", "t1", "t2"}


def test_results_are_masked_and_shaped_as_a_module_s():
    host = InProcessHost(check_mode=False, module_name="keywarden.iam.access_key_info")
    spec = {"secret_key": {"type": "str", "no_log": True, "aliases": ["sk"]}, "user_name": {"type": "str"}}
    params, problem = host.validate(spec, {"secret_key": "s3cret-value", "sk": "s3cret-value", "user_name": "x"})
    assert problem is None
    host.warn("no secret here")
    result = host.result({"changed": False, "msg": "the s3cret-value leaked", "failed": None, "user": "s3cret-value"},
                         params)
    assert result == {
        "changed": False, "failed": None, "msg": "the ******** leaked", "user": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER",
        "warnings": ["Both option secret_key and its alias sk are set.", "no secret here"],
        "invocation": {"module_args": {"secret_key": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER",
                                       "sk": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "user_name": "x"}}}


@pytest.mark.parametrize("secret", ["S3cret-value", 'with "quotes"', "back\\slash", "tab\there", "12345", "ünïcode"])
def test_masked_is_remove_values_for_any_secret_and_passes_a_result_without_one_as_it_is(secret):
    from ansible.module_utils.common.parameters import remove_values

    from ansible_collections.keywarden.iam.plugins.plugin_utils._in_process_host import masked

    holding = {"changed": True, "failed": None, "results": [{"user_name": secret, "id": 12345, "msg": f"at {secret}!"},
                                                            {secret: "as a key", "n": 1.5}]}
    expected = remove_values(holding, {secret})
    expected.update(changed=True, failed=None)
    assert masked(holding, {secret}) == expected != holding
    clean = {"changed": False, "results": [{"user_name": "bob", "id": 7}]}
    assert masked(clean, {secret}) == clean
    if not any(character in secret for character in '"\\\t'):
        assert masked(clean, {secret}) is clean  # told by its JSON text: the result itself, not walked


@pytest.mark.parametrize("holder", [lambda secret: secret.encode(), lambda secret: {secret},
                                    lambda secret: (secret,)], ids=["bytes", "set", "tuple"])
def test_masked_walks_a_result_whose_values_have_no_plain_json_text(holder):
    # Found in review: their repr() escapes what remove_values finds (é, a no-break space), so the
    # JSON-text shortcut let them through unmasked.
    from ansible.module_utils.common.parameters import remove_values

    from ansible_collections.keywarden.iam.plugins.plugin_utils._in_process_host import masked

    secret = "é-secret\xa0x"
    result = {"changed": False, "held": holder(secret)}
    assert masked(result, {secret}) == remove_values(result, {secret}) != result


def test_a_value_masked_cannot_walk_is_refused_without_naming_it():
    from ansible_collections.keywarden.iam.plugins.plugin_utils._in_process_host import masked

    class Opaque:
        def __repr__(self):
            return "S3cret-value"

    with pytest.raises(TypeError) as refused:
        masked({"changed": False, "odd": Opaque(), "msg": "S3cret-value"}, {"S3cret-value"})
    assert "S3cret-value" not in str(refused.value)
