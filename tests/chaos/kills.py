"""The kill campaign: real ansible-playbook rotations killed at every step, then rerun and checked.

Every round rotates one key at the two-key limit: the local IAM server (tests/fakeiam) is reset
to the demo admin, who signs the task, and a user ``carol`` holding two keys, OLD (inactive,
200 days old) and CUR (active, 100 days old, used yesterday); carol's vault-encrypted
credentials file holds CUR. The task (tests/integration/playbooks/access_key.yml) rotates
when_older with max_age 90 and old_key deactivate, so it goes: journal -> delete OLD (make
room) -> create NEW -> store NEW's secret (temp file, rename) -> verify NEW -> deactivate CUR ->
close the journal. The run is stopped at one step, deterministically:

  make_room        delete_credential held by the server ("hold": killed before the delete, odd
                   rounds) or answered late ("delay": killed after it, even rounds); the kill
                   lands once the server has counted the request (and, for delay, once it is done)
  create_sent      the same with create_credential
  create_answered  kill point before_temp: the new secret's temp file is about to be created
  temp_written     kill point before_rename: the temp file is complete, the rename not done
  renamed          kill point after_rename: the file holds the new key, the journal says so not yet
  verify           new keys propagate for 30 s, so verification keeps failing; the kill lands
                   0.3 s after the file was renamed, once the first verify request has arrived
  retire           update_credential (the deactivation of CUR) held or answered late

The kill points are tests/chaos/kill_points/sitecustomize.py on the run's PYTHONPATH: the
worker pauses there (or just marks it) until released. The signals:

  SIGKILL tree     SIGKILL to ansible-playbook and every descendant (the worker called setsid,
                   so it is in a session of its own: the tree is walked in /proc)
  SIGTERM parent   SIGTERM to ansible-playbook only; it forwards it to its workers
  SIGINT group     SIGINT to ansible-playbook's process group (it is started in a session of
                   its own), as Ctrl-C in a terminal would; workers get it forwarded as well

After the signal: wait for ansible-playbook to exit, release any paused worker that survived
(as a real surviving worker would go on), wait for every descendant to exit, clear the faults
and the propagation delay, and run the same playbook plainly, twice. Then check:

  1. no key whose secret nobody holds: each of carol's keys is OLD, CUR or the file's key with
     exactly its secret
  2. the file decrypts, and its key exists, is active and signs a request
  3. no temp file, journal or kept previous version is left beside the file (the lock may stay, and
     a fingerprint, which must tell the truth when its hash matches the file)
  4. at most two keys
  5. no active key that the rotation meant to retire: once the file holds another key, CUR is
     inactive or gone
  6. the rerun succeeds and the run after it changes nothing
  and no secret the server ever issued (nor the vault password) appears in any run's output.

Every round runs a private copy of the installed collection (.build/collections, checked against
its FILES.json), taken when the campaign starts, so a `make install` meanwhile changes nothing.
``run_campaign`` returns a Report (``table()``, ``violations``, ``harness_problems``).
tests/integration/test_kill_campaign.py runs one round per step inside make test, and the full
matrix (KEYWARDEN_KILL_ROUNDS rounds for each step and signal) for make chaos. Standalone:
``python -m tests.chaos.kills --rounds 5`` (starts its own server; needs `make install`).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fakeiam.harness import SEEDS, FakeIam  # noqa: E402

INSTALLED = Path(os.environ.get("ANSIBLE_COLLECTIONS_PATH", REPO / ".build" / "collections"))
PLAYBOOK = REPO / "tests" / "integration" / "playbooks" / "access_key.yml"
CALLBACKS = REPO / "tests" / "integration" / "callback_plugins"
KILL_POINTS = Path(__file__).resolve().parent / "kill_points"
BIN = Path(sys.executable).parent
VAULT_PASSWORD = "kill-campaign-vault-password"
USER = "carol"

STEPS = ("make_room", "create_sent", "create_answered", "temp_written", "renamed", "verify", "retire")
SIGKILL_TREE, SIGTERM_PARENT, SIGINT_GROUP = "SIGKILL tree", "SIGTERM parent", "SIGINT group"
SIGNALS = (SIGKILL_TREE, SIGTERM_PARENT, SIGINT_GROUP)

# Steps reached through a server fault on this operation: "hold" in odd rounds, "delay" in even ones.
FAULT_STEPS = {"make_room": "delete_credential", "create_sent": "create_credential", "retire": "update_credential"}
# Steps reached through a kill point: (point, mode).
POINT_STEPS = {"create_answered": ("before_temp", "pause"), "temp_written": ("before_rename", "pause"),
               "renamed": ("after_rename", "pause"), "verify": ("after_rename", "mark")}
FAULT_SECONDS = 90        # longer than any wait below: the kill always lands during the hold or delay
PROPAGATION = 30          # verify step: the new key stays unknown this long (verify_timeout is 40)
VERIFY_KILL_AFTER = 0.3   # verify step: seconds between the marker and the kill

TRIGGER_TIMEOUT = 120     # a run must reach its step within this
EXIT_TIMEOUT = 30         # ansible-playbook must exit this long after the signal
DESCENDANT_TIMEOUT = 60   # and every descendant this long after the release
RUN_TIMEOUT = 600         # a plain rerun
POLL = 0.01

TASK = {"user_name": USER, "rotate": "when_older", "max_age": 90, "old_key": "deactivate", "verify_timeout": 40}


# ---- results ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Round:
    """One round to run: the step to stop at, the signal, its number within its (step, signal) cell."""

    step: str
    signal: str
    number: int = 1

    @property
    def fault_kind(self) -> str | None:
        if self.step not in FAULT_STEPS:
            return None
        return "hold" if self.number % 2 else "delay"

    def label(self) -> str:
        kind = f" ({self.fault_kind})" if self.fault_kind else ""
        return f"{self.step}{kind} / {self.signal} / round {self.number}"


@dataclass
class RoundResult:
    round: Round
    violations: list = field(default_factory=list)
    harness_problems: list = field(default_factory=list)
    killed_rc: int | None = None
    tree: int = 0               # processes under ansible-playbook when the signal was sent (its worker)
    went_on: bool = False       # a paused worker survived the signal and went on once released
    after_kill: str = ""        # what the server and the directory held after the kill
    rerun_plan: list = field(default_factory=list)
    rerun_changed: bool | None = None
    second_changed: bool | None = None
    seconds: float = 0.0

    def describe(self) -> str:
        status = "ok" if not self.violations and not self.harness_problems else "PROBLEM"
        lines = [f"{self.round.label()}: {status} in {self.seconds:.1f}s; killed run rc {self.killed_rc} "
                 f"({self.tree} descendant(s) at the signal{', a worker survived it' if self.went_on else ''}); "
                 f"after the kill: {self.after_kill}",
                 f"    rerun (changed={self.rerun_changed}): " + " | ".join(self.rerun_plan)]
        lines += [f"    VIOLATION: {problem}" for problem in self.violations]
        lines += [f"    HARNESS: {problem}" for problem in self.harness_problems]
        return "\n".join(lines)


@dataclass
class Report:
    results: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def violations(self) -> int:
        return sum(len(result.violations) for result in self.results)

    @property
    def harness_problems(self) -> list:
        return [f"{result.round.label()}: {problem}" for result in self.results for problem in result.harness_problems]

    @property
    def rounds(self) -> int:
        return len(self.results)

    def table(self) -> str:
        cells: dict = {}
        for result in self.results:
            cell = cells.setdefault((result.round.step, result.round.signal), [0, 0, 0])
            cell[0] += 1
            cell[1] += len(result.violations)
            cell[2] += len(result.harness_problems)
        lines = [f"{'step':<16} {'signal':<15} {'rounds':>6} {'violations':>10} {'harness':>7}"]
        for step in STEPS:
            for sig in SIGNALS:
                if (step, sig) in cells:
                    rounds, violations, harness = cells[(step, sig)]
                    lines.append(f"{step:<16} {sig:<15} {rounds:>6} {violations:>10} {harness:>7}")
        lines.append(f"rounds {self.rounds} in {self.seconds:.0f}s")
        lines.append(f"violations {self.violations}")
        problems = self.harness_problems
        lines.append(f"harness problems {len(problems)}")
        lines += [f"  {problem}" for problem in problems]
        for result in self.results:
            if result.violations:
                lines.append(result.describe())
        return "\n".join(lines)


def full_matrix(rounds: int) -> list:
    """Every step with every signal, ``rounds`` times each."""
    return [Round(step, sig, number) for step in STEPS for sig in SIGNALS for number in range(1, rounds + 1)]


def short_matrix() -> list:
    """One round per step, the signals rotating over the steps; the fault steps alternate hold and delay."""
    numbers = {"make_room": 1, "create_sent": 2, "retire": 1}  # hold, delay, hold
    return [Round(step, SIGNALS[index % len(SIGNALS)], numbers.get(step, 1)) for index, step in enumerate(STEPS)]


# ---- processes ------------------------------------------------------------------------------------

def _start_time(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/pid/stat), None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def descendants(pid: int) -> dict:
    """Every descendant of ``pid`` (children, their children...): pid -> start time."""
    found: dict = {}
    pending = [pid]
    while pending:
        parent = pending.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                pids = [int(child) for child in children.read_text().split()]
            except OSError:
                continue
            for child in pids:
                started = _start_time(child)
                if child not in found and started is not None:
                    found[child] = started
                    pending.append(child)
    return found


def _alive(pid: int, started: str) -> bool:
    return _start_time(pid) == started


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def kill_tree(root: int) -> dict:
    """SIGKILL ``root`` and every descendant; stop them all first so none can fork meanwhile."""
    _signal(root, signal.SIGSTOP)
    tree: dict = {}
    while True:
        found = {pid: started for pid, started in descendants(root).items() if pid not in tree}
        for pid in found:
            _signal(pid, signal.SIGSTOP)
        tree.update(found)
        if not found:
            break
        # Walk once more: a process stopped just after forking has children the first walk missed.
    for pid, started in tree.items():
        if _alive(pid, started):
            _signal(pid, signal.SIGKILL)
    _signal(root, signal.SIGKILL)
    return tree


def _wait_until(condition: Callable[[], Any], timeout: float, *, stop: Callable[[], bool] | None = None) -> Any:
    """Poll ``condition`` until it is truthy (returned) or ``timeout`` passes or ``stop`` says so (None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline or (stop is not None and stop()):
            return None
        time.sleep(POLL)


# ---- one playbook run -----------------------------------------------------------------------------

@dataclass(frozen=True)
class RunFiles:
    """Where one ansible-playbook run's output goes."""

    directory: Path

    @property
    def results_file(self) -> Path:
        return self.directory / "results.jsonl"

    @property
    def log_file(self) -> Path:
        return self.directory / "ansible.log"

    @property
    def stdout(self) -> Path:
        return self.directory / "stdout"

    @property
    def stderr(self) -> Path:
        return self.directory / "stderr"

    @property
    def temp_dirs(self) -> list:
        return [self.directory / "tmp", self.directory / "ansible-tmp"]


@dataclass(frozen=True)
class Run(RunFiles):
    """One ansible-playbook run, started in a session of its own, its output in files."""

    process: subprocess.Popen

    def output(self) -> str:
        files = (self.stdout, self.stderr, self.log_file, self.results_file)
        return "".join(path.read_text(errors="replace") for path in files if path.exists())

    def results(self) -> list:
        if not self.results_file.exists():
            return []
        entries = []
        for line in self.results_file.read_text().splitlines():
            with contextlib.suppress(ValueError):  # a line cut short by the kill
                entries.append(json.loads(line))
        return entries

    def result(self) -> dict:
        matches = [entry["result"] for entry in self.results() if entry.get("task") == "access_key"]
        return matches[-1] if matches else {}

    def tail(self, chars: int = 1500) -> str:
        text = "".join(path.read_text(errors="replace") for path in (self.stdout, self.stderr) if path.exists())
        return text[-chars:]


def snapshot_collection(destination: Path, source: Path = INSTALLED, timeout: float = 120) -> Path:
    """A private copy of the installed keywarden.iam, checked against its own FILES.json; its path.

    Others may run `make install` while a campaign runs (it removes the installed collection,
    then unpacks the tarball again): every round runs this copy, so all of them test one build
    and none catches the collection half-installed. A copy that does not match its checksums
    (taken mid-install) is taken again until it does, or until ``timeout``.
    """
    collection = Path("ansible_collections") / "keywarden" / "iam"
    deadline = time.monotonic() + timeout
    while True:
        shutil.rmtree(destination, ignore_errors=True)
        try:
            shutil.copytree(source / collection, destination / collection,
                            ignore=shutil.ignore_patterns("__pycache__"))
            problem = _unlike_its_manifest(destination / collection)
        except (OSError, ValueError, KeyError) as error:
            problem = f"{type(error).__name__}: {error}"
        if problem is None:
            return destination
        if time.monotonic() >= deadline:
            raise RuntimeError(f"no complete copy of {source / collection} within {timeout}s: {problem}; "
                               "run make install")
        time.sleep(0.5)


def _unlike_its_manifest(root: Path) -> str | None:
    """None when every file FILES.json lists (and FILES.json itself, per MANIFEST.json) is there, unchanged."""
    def sha256(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    manifest = json.loads((root / "MANIFEST.json").read_text())["file_manifest_file"]
    if sha256(root / manifest["name"]) != manifest["chksum_sha256"]:
        return f"{manifest['name']} does not match MANIFEST.json"
    for entry in json.loads((root / manifest["name"]).read_text())["files"]:
        if entry["ftype"] == "file" and sha256(root / entry["name"]) != entry["chksum_sha256"]:
            return f"{entry['name']} does not match {manifest['name']}"
    return None


class Controller:
    """One controller (its ANSIBLE_HOME, vault password) running the task against one server."""

    def __init__(self, directory: Path, iam: FakeIam, collections: Path = INSTALLED) -> None:
        self.directory = directory
        self.iam = iam
        self.collections = collections
        self.vault_password_file = directory / "vault-password"
        self.vault_password_file.write_text(VAULT_PASSWORD + "\n")
        self.home = directory / "ansible-home"
        self.runs = 0

    def start(self, variables: dict, *, env: dict | None = None) -> Run:
        self.runs += 1
        run_dir = self.directory / f"run{self.runs}"
        run_dir.mkdir()
        run = RunFiles(run_dir)
        vars_file = run_dir / "vars.json"
        vars_file.write_text(json.dumps({"iam_url": self.iam.url, **variables}))
        for directory in run.temp_dirs:
            directory.mkdir()
        # As tests/integration/conftest.py does, plus: no kill point unless this run asks for one.
        environment = {key: value for key, value in os.environ.items()
                       if not key.startswith(("HUAWEICLOUD_SDK_", "HW_", "OS_", "ANSIBLE_", "KEYWARDEN_",
                                              "PYTHONPATH"))}
        environment.update({
            "ANSIBLE_COLLECTIONS_PATH": str(self.collections),
            "ANSIBLE_HOME": str(self.home),
            "TMPDIR": str(run.temp_dirs[0]),
            "ANSIBLE_LOCAL_TEMP": str(run.temp_dirs[1]),
            "ANSIBLE_LOG_PATH": str(run.log_file),
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
            "ANSIBLE_CALLBACKS_ENABLED": "record_results",
            "KEYWARDEN_RESULTS_FILE": str(run.results_file),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            **(env or {}),
        })
        command = [str(BIN / "ansible-playbook"), str(PLAYBOOK), "-vvvv", "-e", f"@{vars_file}",
                   "--vault-password-file", str(self.vault_password_file)]
        with open(run.stdout, "wb") as stdout, open(run.stderr, "wb") as stderr:
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                       env=environment, cwd=run_dir, start_new_session=True)
        return Run(run_dir, process)

    def run(self, variables: dict) -> Run:
        run = self.start(variables)
        try:
            run.process.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            kill_tree(run.process.pid)
            run.process.wait()
        return run


# ---- the round ------------------------------------------------------------------------------------

def round_seed() -> dict:
    """The demo account with only its admin (who signs the task) and carol at the two-key limit."""
    account = json.loads((SEEDS / "demo.json").read_text())["accounts"][0]
    admin = next(user for user in account["users"] if user["name"] == "admin")
    carol = {"name": USER, "keys": [
        {"status": "inactive", "age_days": 200, "description": "carol OLD"},
        {"status": "active", "age_days": 100, "last_use_age_days": 1, "description": "carol CUR"},
    ]}
    return {"accounts": [{"domain_id": account["domain_id"], "domain_name": account["domain_name"],
                          "access_key_management": False, "users": [admin, carol]}]}


def _collection():
    """The collection's own modules (the checkout under pytest, else the installed copy)."""
    try:
        import ansible_collections.keywarden.iam  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(INSTALLED))
    from ansible_collections.keywarden.iam.plugins.module_utils import (
        _client,
        _connection,
        _credential_formats,
        _errors,
        _signer,
    )
    return _client, _connection, _credential_formats, _errors, _signer


def _vault():
    from ansible.parsing.vault import VaultLib, VaultSecret
    return VaultLib, VaultSecret(VAULT_PASSWORD.encode())


def write_credentials(path: Path, key: dict, user: dict) -> None:
    """The file as the collection writes it: its own yaml rendering, vault-encrypted, mode 0600."""
    _client, _connection, formats, _errors, _signer = _collection()
    creds = formats.Credentials(key["access"], key["secret"], user_id=user["id"], user_name=user["name"],
                                domain_id=user["domain_id"])
    vault_lib, secret = _vault()
    path.write_bytes(vault_lib().encrypt(formats.render("yaml", creds), secret, vault_id="default"))
    path.chmod(0o600)


def read_credentials(path: Path) -> dict:
    """What the file holds; raises when it is missing, does not decrypt or is not the yaml we write."""
    import yaml

    vault_lib, secret = _vault()
    data = yaml.safe_load(vault_lib([("default", secret)]).decrypt(path.read_bytes()))
    if not isinstance(data, dict):
        raise ValueError("not a mapping")
    return data


def signs(iam: FakeIam, access: str, secret_key: str) -> str | None:
    """None when a request signed with this key succeeds, else why not."""
    client_module, connection, _formats, errors, signer = _collection()
    settings = connection.ConnectionSettings(endpoint=iam.url, signing_key=signer.SigningKey(access, secret_key),
                                             timeout=10, retries=1)
    try:
        client_module.IamClient(settings).list_keys()
    except errors.TaskError as error:
        return str(error)
    return None


class KillRound:
    def __init__(self, iam: FakeIam, directory: Path, spec: Round, collections: Path = INSTALLED) -> None:
        self.iam = iam
        self.spec = spec
        self.directory = directory
        self.files = directory / "files"
        self.files.mkdir(parents=True)
        self.path = self.files / f"{USER}.yml"
        self.marker = directory / "kill-point.marker"
        self.release = Path(f"{self.marker}.release")
        self.controller = Controller(directory, iam, collections)
        self.result = RoundResult(spec)
        self.runs: list = []

    # -- set-up -------------------------------------------------------------------------------

    def set_up(self) -> None:
        iam = self.iam
        iam.reset(round_seed())
        admin_key = iam.user("admin")["keys"][0]
        self.admin = {"auth_ak": admin_key["access"], "auth_sk": admin_key["secret"]}
        self.carol = iam.user(USER)
        old, cur = self.carol["keys"]
        assert (old["status"], cur["status"]) == ("inactive", "active"), "the seed did not give carol OLD and CUR"
        self.old, self.cur = old, cur
        self.seeded = {old["access"]: old["secret"], cur["access"]: cur["secret"]}
        write_credentials(self.path, cur, self.carol)
        self.variables = {**self.admin, **TASK, "credentials_file": str(self.path)}

    # -- the killed run -----------------------------------------------------------------------

    def killed_run(self) -> None:
        spec, iam = self.spec, self.iam
        env: dict = {}
        if spec.fault_kind:
            iam.inject_fault(FAULT_STEPS[spec.step], spec.fault_kind, seconds=FAULT_SECONDS)
        else:
            point, mode = POINT_STEPS[spec.step]
            env = {"PYTHONPATH": str(KILL_POINTS), "KEYWARDEN_KILL_POINT": point,
                   "KEYWARDEN_KILL_TARGET": str(self.path), "KEYWARDEN_KILL_MARKER": str(self.marker),
                   "KEYWARDEN_KILL_MODE": mode}
            if spec.step == "verify":
                iam.set_propagation_delay(PROPAGATION)
        run = self.controller.start(self.variables, env=env)
        self.runs.append(run)
        process = run.process
        reached = _wait_until(self._reached, TRIGGER_TIMEOUT, stop=lambda: process.poll() is not None)
        if not reached:
            self.result.harness_problems.append(
                f"the run never reached the step (rc {process.poll()}): {run.tail(800)!r}")
            if process.poll() is None:
                kill_tree(process.pid)
            process.wait()
            self.result.killed_rc = process.returncode
            return
        self._kill(process)

    def _reached(self) -> bool:
        spec, iam = self.spec, self.iam
        if spec.fault_kind:
            operation = FAULT_STEPS[spec.step]
            if iam.counters()["by_operation"].get(operation, 0) < 1:
                return False
            return spec.fault_kind == "hold" or self._committed()
        if not self.marker.exists():
            return False
        if spec.step == "verify":
            # In verification: the first list request signed with the new key has arrived (the
            # run's own listing of carol's keys was the first).
            if iam.counters()["by_operation"].get("list_credentials", 0) < 2:
                return False
            time.sleep(VERIFY_KILL_AFTER)
        return True

    def _committed(self) -> bool:
        """For a delay fault: the server has done the operation (only its answer is late)."""
        keys = {key["access"]: key for key in self.iam.keys_of(USER)}
        if self.spec.step == "make_room":
            return self.old["access"] not in keys
        if self.spec.step == "create_sent":
            return any(access not in self.seeded for access in keys)
        return keys.get(self.cur["access"], {}).get("status") == "inactive"  # retire

    def _kill(self, process: subprocess.Popen) -> None:
        tree = descendants(process.pid)
        self.result.tree = len(tree)
        if not tree:
            # The task runs in a worker forked by ansible-playbook: without one, this is not the kill meant.
            self.result.harness_problems.append("no worker process under ansible-playbook at the signal")
        if self.spec.signal == SIGKILL_TREE:
            tree.update(kill_tree(process.pid))
        elif self.spec.signal == SIGTERM_PARENT:
            _signal(process.pid, signal.SIGTERM)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.result.harness_problems.append(f"ansible-playbook did not exit within {EXIT_TIMEOUT}s of the signal")
            tree.update(kill_tree(process.pid))
            process.wait()
        self.result.killed_rc = process.returncode
        # Any worker that survived goes on, as it would for real.
        self.release.touch()
        remaining = _wait_until(lambda: not any(_alive(pid, started) for pid, started in tree.items()),
                                DESCENDANT_TIMEOUT)
        if not remaining:
            left = [pid for pid, started in tree.items() if _alive(pid, started)]
            self.result.harness_problems.append(
                f"descendant(s) {left} still running {DESCENDANT_TIMEOUT}s after the release; killed")
            for pid in left:
                _signal(pid, signal.SIGKILL)
        if self.marker.exists():
            self.result.went_on = "went on" in self.marker.read_text()

    def snapshot(self) -> str:
        keys = self.iam.keys_of(USER)
        names = {self.old["access"]: "OLD", self.cur["access"]: "CUR"}
        held = " ".join(f"{names.get(key['access'], 'NEW ' + key['access'])}({key['status']})" for key in keys)
        try:
            in_file = read_credentials(self.path).get("iam_access_key")
            in_file = names.get(in_file, in_file)
        except Exception as error:  # reported, not raised
            in_file = f"unreadable ({type(error).__name__})"
        journal = self.files / f".{self.path.name}.journal"
        phase = json.loads(journal.read_text())["phase"] if journal.exists() else None
        extra = sorted(entry.name for entry in self.files.iterdir() if entry.name not in (self.path.name,))
        return f"server [{held}]; file holds {in_file}; journal {phase}; beside it {extra}"

    # -- after the kill -----------------------------------------------------------------------

    def rerun_and_check(self) -> None:
        self.iam.clear_faults()
        self.iam.set_propagation_delay(0)
        self.result.after_kill = self.snapshot()
        rerun = self.controller.run(self.variables)
        second = self.controller.run(self.variables)
        self.runs += [rerun, second]
        result, second_result = rerun.result(), second.result()
        self.result.rerun_plan = list(result.get("plan") or [])
        self.result.rerun_changed = result.get("changed")
        self.result.second_changed = second_result.get("changed")
        violations = self.result.violations
        # 6. the rerun converges
        if rerun.process.returncode != 0 or result.get("failed"):
            violations.append(f"(6) the rerun failed (rc {rerun.process.returncode}): "
                              f"{result.get('msg') or rerun.tail(800)!r}")
        if second.process.returncode != 0 or second_result.get("failed") or second_result.get("changed") is not False:
            violations.append(f"(6) the second rerun was not a no-op (rc {second.process.returncode}, changed "
                              f"{second_result.get('changed')}): {second_result.get('plan') or second.tail(800)!r}")
        for run in (rerun, second):
            left = [str(path) for directory in run.temp_dirs for path in directory.rglob("*") if path.is_file()]
            if left:
                violations.append(f"temporary files left in a rerun's temp dirs: {left}")
        violations += self.check_state()
        violations += self.check_secrets()

    def check_state(self) -> list:
        problems = []
        keys = {key["access"]: key for key in self.iam.keys_of(USER)}
        try:
            held = read_credentials(self.path)
        except Exception as error:  # a violation, not a crash of the campaign
            held = {}
            problems.append(f"(2) the credentials file does not decrypt: {type(error).__name__}: {error}")
        access, secret_key = held.get("iam_access_key"), held.get("iam_secret_key")
        # 1. no key whose secret nobody holds
        for key_id, key in keys.items():
            if self.seeded.get(key_id) == key["secret"]:
                continue
            if key_id == access and key["secret"] == secret_key:
                continue
            problems.append(f"(1) key {key_id} ({key['status']}) is on the server and nobody holds its secret")
        # 2. the file's key exists, is active and signs
        if held:
            if access not in keys:
                problems.append(f"(2) the file holds {access}, which does not exist")
            elif keys[access]["secret"] != secret_key:
                problems.append(f"(2) the file holds {access} with a wrong secret")
            elif keys[access]["status"] != "active":
                problems.append(f"(2) the file holds {access}, which is {keys[access]['status']}")
            else:
                why = signs(self.iam, access, secret_key or "")
                if why is not None:
                    problems.append(f"(2) the file's key {access} does not sign a request: {why}")
        # 3. nothing left beside the file but the lock and a fingerprint that tells the truth (one whose
        # hash does not match the file's bytes is ignored by every run, so it may be stale)
        fingerprint = self.files / f".{self.path.name}.fingerprint"
        allowed = {self.path.name, f".{self.path.name}.lock", fingerprint.name}
        left = sorted(entry.name for entry in self.files.iterdir() if entry.name not in allowed)
        if left:
            problems.append(f"(3) left beside the credentials file: {left}")
        if fingerprint.exists() and self.path.exists():
            record = json.loads(fingerprint.read_text())
            if record["sha256"] == hashlib.sha256(self.path.read_bytes()).hexdigest() \
                    and record["holds"]["access_key_id"] != access:
                problems.append(f"(3) the fingerprint says the file holds {record['holds']['access_key_id']}, "
                                f"it holds {access}")
        # 4. the two-key limit
        if len(keys) > 2:
            problems.append(f"(4) carol holds {len(keys)} keys")
        # 5. the replaced key is retired once the file holds another one
        cur = keys.get(self.cur["access"])
        if access and access != self.cur["access"] and cur is not None and cur["status"] == "active":
            problems.append(f"(5) the file holds {access} and CUR {self.cur['access']} is still active")
        return problems

    def check_secrets(self) -> list:
        secrets = set(self.iam.issued_secrets()) | {VAULT_PASSWORD}
        problems = []
        for number, run in enumerate(self.runs, start=1):
            text = run.output()
            leaked = sum(1 for secret in secrets if secret and secret in text)
            if leaked:
                problems.append(f"{leaked} secret(s) leaked into the output of run {number}")
        return problems


def run_round(iam: FakeIam, directory: Path, spec: Round, collections: Path = INSTALLED) -> RoundResult:
    started = time.monotonic()
    kill_round = KillRound(iam, directory, spec, collections)
    try:
        kill_round.set_up()
        kill_round.killed_run()
        kill_round.rerun_and_check()
    finally:
        iam.clear_faults()
        iam.set_propagation_delay(0)
        kill_round.result.seconds = time.monotonic() - started
    return kill_round.result


def run_campaign(iam: FakeIam, directory: Path, rounds: Iterable[Round], *,
                 log: Callable[[str], None] | None = None) -> Report:
    """Run ``rounds`` (see full_matrix, short_matrix) against ``iam``, in ``directory``."""
    report = Report()
    started = time.monotonic()
    collections = snapshot_collection(directory / "collections")
    for index, spec in enumerate(rounds, start=1):
        safe = re.sub(r"[^a-z0-9]+", "-", f"{spec.step}-{spec.signal}-{spec.number}".lower())
        result = run_round(iam, directory / f"{index:03d}-{safe}", spec, collections)
        report.results.append(result)
        if log is not None:
            log(result.describe())
    report.seconds = time.monotonic() - started
    return report


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=0,
                        help="rounds per (step, signal); 0: the short version, one round per step")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    options = parser.parse_args(argv)
    rounds = full_matrix(options.rounds) if options.rounds else short_matrix()
    directory = Path(tempfile.mkdtemp(prefix="keywarden-kills-"))
    with FakeIam(SEEDS / "demo.json") as iam:
        report = run_campaign(iam, directory, rounds, log=print)
    print(report.table())
    if options.keep:
        print(f"work directory: {directory}")
    else:
        shutil.rmtree(directory, ignore_errors=True)
    return 0 if report.violations == 0 and not report.harness_problems else 1


if __name__ == "__main__":
    sys.exit(main())
