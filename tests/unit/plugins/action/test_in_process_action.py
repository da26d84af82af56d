"""Where access_key_info and access_key_compliance run: in-process on the controller, or as modules.

The rule (``module_path_reason``) over every condition, then the action plugins as ansible-core
builds them (a real Task, PlayContext, DataLoader and connection plugin): in-process over a local
connection, and the module, through _execute_module, over any other or with become, a task
environment or async.
"""

from __future__ import annotations

import os

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import connection_loader
from ansible.template import Templar

from ansible_collections.keywarden.iam.plugins.action import access_key_compliance, access_key_info
from ansible_collections.keywarden.iam.plugins.plugin_utils._in_process_action import module_path_reason

ADMIN = {"access_key": "CVKK734506UOYW5P4XW2", "secret_key": "8iXmKEWTu6IAMHt0vln3mwV3rRFpNLTRrsogxD1X"}
PLUGINS = {"access_key_info": access_key_info.ActionModule, "access_key_compliance": access_key_compliance.ActionModule}
MODULE_RESULT = {"changed": False, "from": "the module"}


def template(text: str) -> str:
    """``text`` as a playbook's template: trusted on ansible-core 2.19+, any string before."""
    try:
        from ansible.template import trust_as_template
    except ImportError:
        return text
    return trust_as_template(text)


def rule(transport="local", become=False, environment=None, async_seconds=0):
    return module_path_reason(transport=transport, become=become, environment=environment or {},
                              async_seconds=async_seconds)


@pytest.mark.parametrize("transport", ["local", "ansible.builtin.local"])
def test_local_without_become_environment_or_async_runs_in_process(transport):
    assert rule(transport=transport) is None


@pytest.mark.parametrize("transport", ["ssh", "ansible.builtin.ssh", "paramiko_ssh", "community.docker.docker",
                                       "winrm", "psrp", "keywarden_relay", "", None])
def test_any_other_connection_runs_the_module(transport):
    assert rule(transport=transport) == f"the connection is {transport}, not local: the module runs on that host"


def test_become_environment_and_async_each_run_the_module():
    assert rule(become=True) == "become is on: the module runs as the become user"
    assert rule(environment={"HW_REGION_NAME": "eu-de", "A": "1"}) == (
        "the task sets environment variables (A, HW_REGION_NAME) for the module")
    assert rule(async_seconds=30) == "the task is async"
    # The connection is judged first: a remote host is a remote host, whatever else.
    assert rule(transport="ssh", become=True).startswith("the connection is ssh")


# ---- the action plugins as ansible-core builds them ---------------------------------------------

def action(name: str, args: dict, *, connection="local", become=False, environment=None, async_seconds=0,
           check_mode=False):
    loader = DataLoader()
    task = Task()
    task.action = f"keywarden.iam.{name}"
    task.args = args
    task.check_mode = check_mode
    if environment is not None:
        task.environment = environment
    if async_seconds:
        task.async_val = async_seconds
    play_context = PlayContext()
    play_context.become = become
    plugin = connection_loader.get(connection, play_context, os.devnull)
    built = PLUGINS[name](task, plugin, play_context, loader, Templar(loader=loader), None)
    calls = []

    def execute_module(**kwargs):
        calls.append(kwargs)
        return dict(MODULE_RESULT)

    built._execute_module = execute_module
    built._remove_tmp_path = lambda path: None
    return built, calls


@pytest.mark.parametrize("name", sorted(PLUGINS))
@pytest.mark.parametrize("setting", [
    {"connection": "ssh"},
    {"connection": "paramiko_ssh"},
    {"become": True},
    {"environment": [{"KEYWARDEN_ANY": "1"}]},
    {"environment": [template("{{ {'FROM_A_TEMPLATE': 'yes'} }}")]},
    {"async_seconds": 30},
], ids=["ssh", "paramiko_ssh", "become", "environment", "templated environment", "async"])
def test_the_module_runs_when_the_task_is_not_plainly_local(name, setting):
    built, calls = action(name, {"user_id": "x", **ADMIN}, **setting)
    result = built.run(task_vars={})
    assert result == MODULE_RESULT
    assert calls == [{"task_vars": {}, "wrap_async": bool(setting.get("async_seconds"))}]


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_localhost_runs_in_process(iam, name):
    built, calls = action(name, {"user_name": "alice", "iam_endpoint": iam.url, **ADMIN},
                          environment=[{}, template("{{ {} }}")])  # environments that set nothing
    result = built.run(task_vars={})
    assert calls == []
    assert not result.get("failed"), result
    assert [key["description"] for key in result["access_keys"]] == ["alice laptop", "alice old ci"]
    assert result["invocation"]["module_args"]["secret_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert ADMIN["secret_key"] not in repr(result)


def test_in_process_check_mode_and_bad_options(iam):
    built, _calls = action("access_key_info", {"users": [], "iam_endpoint": iam.url, **ADMIN}, check_mode=True)
    assert built.run(task_vars={})["msg"] == "users name no user: name at least one, or set all_users=true"
    built, _calls = action("access_key_info", {"user_id": "x", "bogus": 1, **ADMIN})
    result = built.run(task_vars={})
    assert result["failed"] is True
    assert result["msg"].startswith("Unsupported parameters for (keywarden.iam.access_key_info) module: bogus.")
    built, _calls = action("access_key_info", {"user_id": "x", "user_name": "y", **ADMIN})
    assert built.run(task_vars={})["msg"] == (
        "parameters are mutually exclusive: user_id|user_name|users, user_id|user_name|user_ids")
