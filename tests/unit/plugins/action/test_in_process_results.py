"""The same task, run by the module's main() and in-process by its action plugin: the same result.

Both run against the local IAM-compatible server with the same options: successes, partial
failures with their warning, every kind of failure (the options' checks, the server's answers,
no credentials), check mode, reports written from a relative path, masking of secret values.
The module's result is its JSON output, as AnsiballZ would hand it over; warnings are compared
by their message (ansible-core turns both kinds into the same warning on the controller).
"""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import connection_loader
from ansible.template import Templar

from ansible_collections.keywarden.iam.plugins.action import access_key_compliance as compliance_action
from ansible_collections.keywarden.iam.plugins.action import access_key_info as info_action
from ansible_collections.keywarden.iam.plugins.modules import access_key_compliance, access_key_info

ADMIN = {"access_key": "CVKK734506UOYW5P4XW2", "secret_key": "8iXmKEWTu6IAMHt0vln3mwV3rRFpNLTRrsogxD1X"}
BOB_ID = "c5f43f21f19448e4ae2f751b3d1d739d"
ISO_TIME = re.compile(r"(\d{4}-\d\d-\d\d)T\d\d:\d\d:\d\d(?:\.\d+)?Z")
REQUEST_ID = re.compile(r"request id [0-9a-f]+")
PLUGINS = {"access_key_info": (access_key_info, info_action.ActionModule),
           "access_key_compliance": (access_key_compliance, compliance_action.ActionModule)}


@contextmanager
def module_args(args: dict):
    """The module's arguments, as AnsiballZ would pass them (ansible-core 2.18 and 2.19+).

    Also what else a module's process starts with: no warnings yet, and (2.19+) not being the
    controller, which this test process has become by building action plugins; a module's
    warnings would otherwise go to the screen instead of into its result.
    """
    module_warnings._global_warnings.clear()
    module_warnings._global_deprecations.clear()
    internal = getattr(module_utils_internal, "is_controller", None)
    if internal is not None:
        module_utils_internal.is_controller = False
    try:
        try:
            from ansible.module_utils.testing import patch_module_args
        except ImportError:  # ansible-core 2.18: the arguments AnsibleModule reads
            saved, basic._ANSIBLE_ARGS = basic._ANSIBLE_ARGS, json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
            try:
                yield
            finally:
                basic._ANSIBLE_ARGS = saved
            return
        with patch_module_args(args):
            yield
    finally:
        if internal is not None:
            module_utils_internal.is_controller = internal


def as_module(name: str, args: dict, capsys, *, check_mode: bool) -> dict:
    module = PLUGINS[name][0]
    internal = {"_ansible_check_mode": check_mode, "_ansible_module_name": f"keywarden.iam.{name}"}
    with module_args({**args, **internal}), pytest.raises(SystemExit):
        module.main()
    result = json.loads(capsys.readouterr().out)
    if "warnings" in result:  # ansible-core 2.19+ sends each as a structure holding its message
        result["warnings"] = [warning["event"]["msg"] if isinstance(warning, dict) else warning
                              for warning in result["warnings"]]
    return result


def in_process(name: str, args: dict, *, check_mode: bool) -> dict:
    loader = DataLoader()
    task = Task()
    task.action = f"keywarden.iam.{name}"
    task.args = args
    task.check_mode = check_mode
    play_context = PlayContext()
    connection = connection_loader.get("local", play_context, os.devnull)
    plugin = PLUGINS[name][1](task, connection, play_context, loader, Templar(loader=loader), None)

    def no_module(**_kwargs):
        raise AssertionError("the module ran, over a local connection without become")

    plugin._execute_module = no_module
    return plugin.run(task_vars={})


def comparable(value, *replacements: tuple):
    """``value`` with what differs from one request to the next made equal, types kept.

    Time stamps count to the day (the two runs are a moment apart); request ids are the server's;
    ``replacements`` are (text, placeholder) pairs, such as a run's own working directory.
    """
    if isinstance(value, dict):
        return {key: "<request id>" if key == "request_id" and item else comparable(item, *replacements)
                for key, item in value.items()}
    if isinstance(value, list):
        return [comparable(item, *replacements) for item in value]
    if isinstance(value, str):
        value = REQUEST_ID.sub("request id <request id>", ISO_TIME.sub(r"\1", value))
        for text, placeholder in replacements:
            value = value.replace(text, placeholder)
    return value


def both(name: str, args: dict, capsys, *, check_mode: bool = False) -> dict:
    """The result of the in-process run, after checking that the module's is the same."""
    here = in_process(name, args, check_mode=check_mode)
    there = as_module(name, args, capsys, check_mode=check_mode)
    assert comparable(here) == comparable(there)
    return here


@pytest.fixture(autouse=True)
def no_cloud_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("HUAWEICLOUD_SDK_", "HW_", "OS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))  # no clouds.yaml of this machine's
    monkeypatch.chdir(tmp_path)


INFO_CASES = {
    "one user by name": {"user_name": "alice"},
    "the caller": {},
    "several, one unknown": {"users": ["alice", "nobody"], "user_ids": [BOB_ID], "root_users": ["admin"]},
    "every user, no last use": {"all_users": True, "last_used": False},
    "nobody readable": {"user_name": "nobody"},
    "no such user id": {"user_id": "0" * 32},
    "empty list": {"users": []},
    "out of range": {"all_users": True, "max_workers": 129},
    "mutually exclusive": {"user_id": BOB_ID, "user_name": "bob"},
    "unknown option": {"user_id": BOB_ID, "bogus": True},
    "wrong type": {"user_id": BOB_ID, "last_used": "sometimes"},
    "an option and its alias": {"user_name": "bob", "ak": ADMIN["access_key"]},
    "the secret elsewhere too": {"user_name": "bob", "root_users": [ADMIN["secret_key"], "x"]},
}


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("case", sorted(INFO_CASES))
def test_access_key_info(iam, capsys, case, check_mode):
    result = both("access_key_info", {"iam_endpoint": iam.url, **ADMIN, **INFO_CASES[case]}, capsys,
                  check_mode=check_mode)
    assert ADMIN["secret_key"] not in repr(result)
    assert result["invocation"]["module_args"]["secret_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_access_key_info_cases_cover_what_they_say(iam, capsys):
    def run(case):
        return both("access_key_info", {"iam_endpoint": iam.url, **ADMIN, **INFO_CASES[case]}, capsys)

    assert run("several, one unknown")["warnings"][0].startswith("The keys of 1 user(s) could not be read")
    assert run("nobody readable")["error"]["error_type"] == "NotFound"
    assert run("unknown option")["msg"].startswith("Unsupported parameters for (keywarden.iam.access_key_info)")
    assert run("an option and its alias")["warnings"] == ["Both option access_key and its alias ak are set."]
    masked = run("the secret elsewhere too")["invocation"]["module_args"]["root_users"]
    assert masked == ["VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "x"]


@pytest.mark.parametrize("endpoint", ["{url}", "https://[::1"], ids=["parsable", "a broken IPv6 literal"])
def test_a_password_in_the_endpoint_is_refused_and_masked_in_the_options_shown(iam, capsys, endpoint):
    # The broken one found in review: urlsplit refuses it, and the password was not masked.
    endpoint = endpoint.format(url=iam.url).replace("://", "://bob:S3cretPw@")
    result = both("access_key_info", {"iam_endpoint": endpoint, **ADMIN, "user_name": "bob"}, capsys)
    assert result["failed"] is True and "S3cretPw" not in repr(result)
    if "[" not in endpoint:
        assert "must not contain a user name or password" in result["msg"]


def test_no_credentials_and_a_secret_from_clouds_yaml(iam, capsys, tmp_path, monkeypatch):
    failed = both("access_key_info", {"iam_endpoint": iam.url, "user_name": "bob"}, capsys)
    assert failed["failed"] is True and failed["msg"].startswith("No credentials")
    # Environment fallbacks are read where the run happens: here, as in the module's process.
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", ADMIN["access_key"])
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", ADMIN["secret_key"])
    from_environment = both("access_key_info", {"iam_endpoint": iam.url, "user_name": "bob"}, capsys)
    assert from_environment["invocation"]["module_args"]["secret_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    monkeypatch.delenv("HUAWEICLOUD_SDK_AK")
    monkeypatch.delenv("HUAWEICLOUD_SDK_SK")
    # A secret from a clouds.yaml entry is no option value: the run registers it for masking.
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(f"clouds:\n  demo:\n    auth:\n      auth_url: {iam.url}\n      ak: {ADMIN['access_key']}\n"
                      f"      sk: {ADMIN['secret_key']}\n")
    result = both("access_key_info", {"cloud": "demo", "users": ["bob", ADMIN["secret_key"]]}, capsys)
    assert ADMIN["secret_key"] not in repr(result)
    assert result["invocation"]["module_args"]["users"] == ["bob", "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"]


COMPLIANCE_CASES = {
    "every user, reports": {"all_users": True, "root_users": ["admin"], "report_json": "keys.json",
                            "report_csv": "keys.csv", "report_html": "keys.html"},
    "fails on a severity": {"users": ["alice"], "fail_on_severity": "medium", "report_json": "keys.json"},
    "bad thresholds": {"max_key_age": -1, "max_active_keys": 0},
    "no report directory": {"report_csv": "missing/keys.csv"},
    "nobody readable": {"user_id": "0" * 32},
    "rotate by age": {"users": ["alice", "bob"], "age_remediation": "rotate", "max_key_age": 30},
}


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize("case", sorted(COMPLIANCE_CASES))
def test_access_key_compliance(iam, capsys, tmp_path, monkeypatch, case, check_mode):
    args = {"iam_endpoint": iam.url, **ADMIN, **COMPLIANCE_CASES[case]}
    here_dir, there_dir = tmp_path / "in-process", tmp_path / "module"
    here_dir.mkdir()
    there_dir.mkdir()
    # Report paths are relative: each path writes in a working directory of its own.
    monkeypatch.chdir(here_dir)
    here = in_process("access_key_compliance", args, check_mode=check_mode)
    monkeypatch.chdir(there_dir)
    there = as_module("access_key_compliance", args, capsys, check_mode=check_mode)
    assert comparable(here, (str(here_dir), "<cwd>")) == comparable(there, (str(there_dir), "<cwd>"))
    assert sorted(os.listdir(here_dir)) == sorted(os.listdir(there_dir))
    if check_mode:
        assert os.listdir(here_dir) == []
    assert ADMIN["secret_key"] not in repr(here)


def test_compliance_writes_from_a_relative_path_and_a_rerun_changes_nothing(iam, capsys, tmp_path):
    """AnsibleModule.atomic_move stumbles on a bare file name once it has renamed; the run hands it an absolute one."""
    args = {"iam_endpoint": iam.url, **ADMIN, "all_users": True, "report_json": "keys.json"}
    first = as_module("access_key_compliance", args, capsys, check_mode=False)
    assert first["changed"] is True and not first.get("failed"), first
    assert Path("keys.json").is_file()
    assert both("access_key_compliance", args, capsys)["changed"] is False
