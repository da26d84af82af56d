"""Real ansible-playbook runs against the local IAM-compatible server.

Each run uses the collection as installed from its built tarball (make integration puts it in
.build/collections), a fresh ANSIBLE_HOME, local temp dir and log file under the test's own
directory, and a test-only callback that records every task result as JSON. After every run
the screen output, the log and the recorded results are searched for every secret the server
ever issued, as ansible-core's own no_log test does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakeiam.harness import FakeIam

REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
CALLBACKS = Path(__file__).resolve().parent / "callback_plugins"
INSTALLED = Path(os.environ.get("ANSIBLE_COLLECTIONS_PATH", REPO / ".build" / "collections"))
BIN = Path(sys.executable).parent
VAULT_PASSWORD = "integration-vault-password"

ADMIN = {"auth_ak": "CVKK734506UOYW5P4XW2", "auth_sk": "8iXmKEWTu6IAMHt0vln3mwV3rRFpNLTRrsogxD1X"}


@dataclass
class PlaybookRun:
    rc: int
    output: str
    results: list = field(default_factory=list)

    def result(self, task: str = "access_key") -> dict:
        matches = [entry["result"] for entry in self.results if entry["task"] == task]
        assert matches, f"no result for task {task!r}:\n{self.output[-3000:]}"
        return matches[-1]


class Workdir:
    """A directory for one test's playbook runs, files and vault password."""

    def __init__(self, path: Path, iam: FakeIam) -> None:
        self.path = path
        self.iam = iam
        self.vault_password_file = path / "vault-password"
        self.vault_password_file.write_text(VAULT_PASSWORD + "\n")
        self.runs = 0
        self._runs_lock = threading.Lock()

    def run(self, playbook: str = "access_key.yml", *, check: bool = False, diff: bool = True,
            vault_args: list | None = None, env: dict | None = None, inventory: Path | None = None,
            **extra_vars) -> PlaybookRun:
        with self._runs_lock:  # tests may start runs from several threads at once
            self.runs += 1
            run_dir = self.path / f"run{self.runs}"
        run_dir.mkdir()
        variables = {"iam_url": self.iam.url, **extra_vars}
        vars_file = run_dir / "vars.json"
        vars_file.write_text(json.dumps(variables))
        results_file = run_dir / "results.jsonl"
        log_file = run_dir / "ansible.log"
        # A bare name is one of the test playbooks; a path (the demo's, say) is taken as given.
        command = [str(BIN / "ansible-playbook"), str(PLAYBOOKS / playbook), "-vvvv", "-e", f"@{vars_file}"]
        command += vault_args if vault_args is not None else ["--vault-password-file", str(self.vault_password_file)]
        if inventory is not None:
            command += ["-i", str(inventory)]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        environment = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("HUAWEICLOUD_SDK_", "HW_", "OS_", "ANSIBLE_"))
        }
        temp_dirs = [run_dir / "tmp", run_dir / "ansible-tmp"]
        for directory in temp_dirs:
            directory.mkdir()
        environment.update({
            "ANSIBLE_COLLECTIONS_PATH": str(INSTALLED),
            "ANSIBLE_HOME": str(self.path / "ansible-home"),
            "TMPDIR": str(temp_dirs[0]),
            "ANSIBLE_LOCAL_TEMP": str(temp_dirs[1]),
            "ANSIBLE_LOG_PATH": str(log_file),
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
            "ANSIBLE_CALLBACKS_ENABLED": "record_results",
            "KEYWARDEN_RESULTS_FILE": str(results_file),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            **(env or {}),
        })
        completed = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=run_dir,
                                   timeout=600, check=False)
        output = completed.stdout + completed.stderr
        results = [json.loads(line) for line in results_file.read_text().splitlines()] if results_file.exists() else []
        log = log_file.read_text() if log_file.exists() else ""
        assert_no_secret_in(self.iam, output + log + (results_file.read_text() if results_file.exists() else ""))
        assert_no_temp_files_left(temp_dirs)
        return PlaybookRun(completed.returncode, output, results)

    def write_vaulted(self, path: Path, plaintext: str, mode: int = 0o600) -> None:
        """Plant a vault-encrypted file, as a user (or ansible-vault encrypt) would have made it."""
        from ansible.parsing.vault import VaultLib, VaultSecret

        path.write_bytes(VaultLib().encrypt(plaintext, VaultSecret(VAULT_PASSWORD.encode()), vault_id="default"))
        path.chmod(mode)

    def decrypt(self, path: Path) -> str:
        completed = subprocess.run(
            [str(BIN / "ansible-vault"), "view", "--vault-password-file", str(self.vault_password_file), str(path)],
            capture_output=True, text=True, check=True, env={**os.environ, "ANSIBLE_HOME": str(self.path / "ansible-home")})
        return completed.stdout


def assert_no_secret_in(iam: FakeIam, text: str) -> None:
    """No secret the server ever issued, nor the vault password, may appear in ``text``."""
    secrets = set(iam.issued_secrets()) | {VAULT_PASSWORD}
    leaked = sorted(secret for secret in secrets if secret and secret in text)
    assert not leaked, f"{len(leaked)} secret(s) leaked into the output"


def assert_no_temp_files_left(directories: list) -> None:
    """The run's temporary directories are empty again: no temp file, plaintext or not, stays."""
    left = [str(path) for directory in directories for path in directory.rglob("*") if path.is_file()]
    assert not left, f"temporary files left behind: {left}"


@pytest.fixture(scope="session", autouse=True)
def installed_collection():
    assert (INSTALLED / "ansible_collections" / "keywarden" / "iam").is_dir(), (
        "the collection is not installed from its tarball; run the tests with `make integration`")


@pytest.fixture
def workdir(tmp_path, iam):
    return Workdir(tmp_path, iam)
