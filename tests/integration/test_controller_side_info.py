"""access_key_info and access_key_compliance in-process on the controller, and as modules elsewhere.

On localhost over a local connection (no become, no task environment, not async) their action
plugins run the module's logic themselves: no AnsiballZ, no module arguments written anywhere,
so the admin secret cannot leak through ANSIBLE_DEBUG or ANSIBLE_KEEP_REMOTE_FILES. Anywhere
else the module runs as before, and its results must be the very same.

The admin's key comes from a vault-encrypted vars file (see controller_side_info.yml), so a
plain copy of its secret in any file of the test's directory is a leak. The module path is forced
honestly, in the two ways the rule names: a task environment (which the module sees), and a
connection that is not local (ansible-core's local connection plugin under another name, so it
reaches this machine without a server).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import stat
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from ansible.plugins.connection import local as local_connection

from tests.integration.conftest import ADMIN

SECRET = ADMIN["auth_sk"]
MODULE_ENVIRONMENT = {"KEYWARDEN_TEST_PATH": "module"}
IN_PROCESS = "running in-process on the controller"
TASKS = ("access_key_info", "access_key_compliance")
ISO_TIME = re.compile(r"(\d{4}-\d\d-\d\d)T\d\d:\d\d:\d\d(?:\.\d+)?Z")
BASE64_RUN = re.compile(rb"[A-Za-z0-9+/=\s]{2000,}")


def play(workdir, **options):
    """One run of controller_side_info.yml, the admin's key read from a vaulted vars file."""
    secrets = workdir.path / "admin-key.yml"
    if not secrets.exists():
        workdir.write_vaulted(secrets, f"auth_ak: {ADMIN['auth_ak']}\nauth_sk: {SECRET}\n")
    return workdir.run("controller_side_info.yml", secrets_file=str(secrets), **options)


def results(run, *replacements: tuple) -> dict:
    """Each task's status and result, with what may differ from one run to the next made equal.

    Time stamps count to the day (the runs are seconds apart, and the admin key signs each one);
    ``replacements`` are (text, placeholder) pairs such as a run's own report directory.
    """
    found = {}
    for task in TASKS:
        entry = next(entry for entry in reversed(run.results) if entry["task"] == task)
        text = ISO_TIME.sub(r"\1", json.dumps({"status": entry["status"], **entry["result"]}, sort_keys=True))
        for old, new in replacements:
            text = text.replace(old, new)
        found[task] = json.loads(text)
    return found


def took_module_path(run) -> bool:
    module_path = all(f"AnsiballZ_{task}.py" in run.output for task in TASKS)
    in_process = IN_PROCESS in run.output
    assert module_path != in_process, "a run takes one path or the other, never both"
    return module_path


def wait_out_midnight(iam) -> None:
    """Sleep past midnight (UTC, by the server's clock) if it is less than three minutes away.

    The two runs compared are seconds apart and time stamps count to the day; a date that turns
    between them is no difference between the paths.
    """
    now = datetime.strptime(ISO_TIME.search(iam.clock()["now"]).group(0)[:19], "%Y-%m-%dT%H:%M:%S")
    left = (now.replace(hour=0, minute=0, second=0) + timedelta(days=1) - now).total_seconds()
    if left < 180:
        time.sleep(left + 2)


def files_holding(directory: Path, secret: str) -> list:
    """Every file under ``directory`` that holds ``secret``, also inside an AnsiballZ payload."""
    wanted = secret.encode()
    found = []
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if wanted in data or any(wanted in member for member in _zip_members(data)):
            found.append(str(path.relative_to(directory)))
    return found


def _zip_members(data: bytes):
    """The files of any base64-encoded zip archive in ``data`` (how AnsiballZ ships a module)."""
    for run in BASE64_RUN.findall(data):
        try:
            archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(b"".join(run.split()))))
        except (ValueError, zipfile.BadZipFile):
            continue
        for name in archive.namelist():
            yield archive.read(name)


# ---- (a) no secret anywhere, on localhost -------------------------------------------------------

@pytest.mark.parametrize("debugging", [{"ANSIBLE_DEBUG": "1"}, {"ANSIBLE_KEEP_REMOTE_FILES": "1"}],
                         ids=["ANSIBLE_DEBUG", "ANSIBLE_KEEP_REMOTE_FILES"])
def test_on_localhost_the_admin_secret_is_in_no_output_and_no_file(workdir, iam, debugging):
    remote_tmp, local_tmp = workdir.path / "remote-tmp", workdir.path / "local-tmp"
    reports = workdir.path / "reports"
    reports.mkdir()
    run = play(workdir, env={**debugging, "ANSIBLE_REMOTE_TMP": str(remote_tmp),
                             "ANSIBLE_LOCAL_TEMP": str(local_tmp)},
               users=["alice", "bob"], report_dir=str(reports))
    assert run.rc == 0, run.output[-3000:]
    assert not any(run.result(task).get("failed") for task in TASKS)
    assert len(run.result("access_key_info")["access_keys"]) == 3
    assert sorted(path.name for path in reports.iterdir()) == ["keys.csv", "keys.html", "keys.json"]
    # Workdir.run has searched the screen output, the log and the recorded results; now every file.
    assert SECRET not in run.output
    assert files_holding(workdir.path, SECRET) == []
    assert not took_module_path(run)
    assert not list(workdir.path.rglob("AnsiballZ_*"))


# ---- (b) the same results on both paths ---------------------------------------------------------

def scenarios(iam) -> dict:
    return {
        # two users read, one name unknown: failures and a warning
        "several": {"users": ["alice", "nobody"], "user_ids": [iam.user("bob")["id"]], "root_users": ["admin"],
                    "max_key_age": 100},
        # nobody could be read (info fails with the API error); compliance fails on a severity
        "failing": {"user_name": "nobody", "fail_on_severity": "medium"},
        # options that cannot go together: refused before any request, by each path's checks
        "refused": {"all_users": True, "users": ["alice"], "compliance_user_name": "alice", "max_key_age": -1},
        # a value out of range, and an option the modules do not know
        "out of range": {"user_id": iam.user("bob")["id"], "max_workers": 0, "compliance_no_such_option": "x"},
    }


@pytest.mark.parametrize("scenario", ["several", "failing", "refused", "out of range"])
def test_in_process_and_module_results_are_the_same(workdir, iam, scenario):
    wait_out_midnight(iam)
    variables = scenarios(iam)[scenario]
    in_process = play(workdir, **variables)
    module = play(workdir, module_environment=MODULE_ENVIRONMENT, **variables)
    assert not took_module_path(in_process) and took_module_path(module)
    assert "since the task sets environment variables (KEYWARDEN_TEST_PATH)" in module.output
    assert in_process.rc == module.rc
    assert results(in_process) == results(module)


def test_reports_check_mode_and_reruns_are_the_same_on_both_paths(workdir, iam):
    """Check mode writes nothing; a real run writes alike (content, mode, owner); a rerun changes nothing."""
    wait_out_midnight(iam)
    dirs = {name: workdir.path / name for name in ("in-process", "module")}
    for directory in dirs.values():
        directory.mkdir()
        existing = directory / "keys.json"
        existing.write_text("an older report\n")
        existing.chmod(0o604)  # replaced, it keeps its mode; the new files get 0666 minus the umask

    def both(**options):
        return {name: play(workdir, report_dir=str(directory), root_users=["admin"],
                           **({"module_environment": MODULE_ENVIRONMENT} if name == "module" else {}), **options)
                for name, directory in dirs.items()}

    def compared(runs):
        assert took_module_path(runs["module"]) and not took_module_path(runs["in-process"])
        return [results(run, (str(dirs[name]), "<reports>")) for name, run in runs.items()]

    umask = os.umask(0o027)
    try:
        checked = both(check=True)
        first_in_process, first_module = compared(checked)
        assert first_in_process == first_module
        assert first_module["access_key_compliance"]["changed"] is True
        for directory in dirs.values():
            assert [path.name for path in directory.iterdir()] == ["keys.json"]
            assert (directory / "keys.json").read_text() == "an older report\n"

        written_in_process, written_module = compared(both())
        assert written_in_process == written_module
        assert written_module["access_key_compliance"]["changed"] is True
        assert report_files(dirs["in-process"]) == report_files(dirs["module"])
        assert {name: mode for name, (mode, _owner, _text) in report_files(dirs["module"]).items()} == {
            "keys.csv": 0o640, "keys.html": 0o640, "keys.json": 0o604}

        stamps = {name: mtimes(directory) for name, directory in dirs.items()}
        again_in_process, again_module = compared(both())
        assert again_in_process == again_module
        assert again_module["access_key_compliance"]["changed"] is False
        assert {name: mtimes(directory) for name, directory in dirs.items()} == stamps
    finally:
        os.umask(umask)


def report_files(directory: Path) -> dict:
    """name -> (mode, (uid, gid), text with the time it was made taken out)."""
    found = {}
    for path in sorted(directory.iterdir()):
        text = ISO_TIME.sub(r"\1", path.read_text())
        text = re.sub(r'"time": \d+', '"time": 0', text)
        text = re.sub(r"Generated [^<]*? by the IAM", "Generated by the IAM", text)
        status = path.stat()
        found[path.name] = (stat.S_IMODE(status.st_mode), (status.st_uid, status.st_gid), text)
    return found


def mtimes(directory: Path) -> dict:
    return {path.name: path.stat().st_mtime_ns for path in directory.iterdir()}


# ---- (c) a connection that is not local runs the module ------------------------------------------

def test_a_connection_that_is_not_local_runs_the_modules_with_the_same_results(workdir, iam):
    plugins = workdir.path / "connection_plugins"
    plugins.mkdir()
    # ansible-core's local connection plugin under another name: not local by its transport, as
    # any remote connection, yet reaching this machine, so that the test needs no server.
    source = Path(local_connection.__file__).read_text()
    source = source.replace("name: local", "name: keywarden_relay", 1)
    source = source.replace("transport = 'local'", "transport = 'keywarden_relay'", 1)
    assert "transport = 'keywarden_relay'" in source
    (plugins / "keywarden_relay.py").write_text(source)
    inventory = workdir.path / "inventory"
    inventory.write_text("relay ansible_connection=keywarden_relay\n")
    remote_tmp = workdir.path / "remote-tmp"
    wait_out_midnight(iam)
    variables = {"users": ["alice", "nobody"], "max_key_age": 100}
    in_process = play(workdir, **variables)
    relayed = play(workdir, target="relay", inventory=inventory, env={
        "ANSIBLE_CONNECTION_PLUGINS": str(plugins), "ANSIBLE_KEEP_REMOTE_FILES": "1",
        "ANSIBLE_REMOTE_TMP": str(remote_tmp)}, **variables)
    assert relayed.rc == 0, relayed.output[-3000:]
    assert took_module_path(relayed) and not took_module_path(in_process)
    assert "since the connection is keywarden_relay, not local" in relayed.output
    # The module went there with its arguments, as on any remote host: what the docs warn of.
    assert sorted(path.name for path in remote_tmp.rglob("AnsiballZ_*")) == [
        "AnsiballZ_access_key_compliance.py", "AnsiballZ_access_key_info.py"]
    assert len(files_holding(remote_tmp, SECRET)) == 2
    assert results(in_process) == results(relayed)
