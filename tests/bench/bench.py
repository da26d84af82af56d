"""make bench: keywarden.iam against the local IAM-compatible server with injected latency.

For N users (default 1, 100, 1,000 and 5,000), each holding two keys (an inactive one 200 days
old and an active one 120 days old, whose secret is in the user's vaulted file):

- rotation at the two-key limit (delete the inactive key, create, verify, deactivate the old one);
- the no-op check that follows (nothing to do);
- info (the users' keys listed, with their last use);

each in batch mode (one task for all users) at each worker count (default 32 and 128), and, for
the smaller sizes, as a loop of one task per user next to the floors of Ansible itself (loops of
``command: true`` and ``debug``). For every run: wall time, the physical limit (requests x
latency / workers) and the ratio to it, API requests per user (the server's counters), CPU per
user of the collection and of the server apart, and peak memory (the largest resident set of any
process of the run). It prints a table, writes docs/benchmarks.md and, beside it,
images/bench-wall-time.svg (wall time against users, next to the limit).

Then many accounts through Ansible's forks (tests/bench/accounts.py, default 20 accounts x 500
users), and a zero-downtime fleet rotation (role fleet_rotation) across ``--fleet-hosts`` local
hosts (default 100): wall time, API requests, time per host.

These are measurements, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.bench.plot import wall_time_plot  # noqa: E402
from tests.fakeiam.harness import FakeIam  # noqa: E402

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
BIN = Path(sys.executable).parent
# Made by install_collection, removed at the end of main: importing this module creates nothing.
COLLECTIONS = Path(tempfile.gettempdir()) / f"keywarden-bench-collections-{os.getpid()}"
VAULT_PASSWORD = "bench-vault-password"
ADMIN_AK, ADMIN_SK = "BENCHADMIN0000000001", "benchAdminSecret000000000000000000000001"
LOOP_SIZES = (1, 100)   # a loop of 1,000 tasks would take many minutes and show nothing new


@dataclass
class Measurement:
    scenario: str
    mode: str
    users: int
    seconds: float
    requests: int
    peak_mb: float
    changed: bool
    workers: int = 1
    client_cpu: float = 0.0   # CPU seconds of ansible-playbook and everything it started
    task_seconds: float = 0.0  # wall seconds of the keywarden.iam tasks alone (no start-up)
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    server_cpu: float = 0.0   # CPU seconds of the local server during the run
    latency_ms: int = 0

    @property
    def per_user(self) -> float:
        return self.requests / self.users if self.users else 0.0

    @property
    def limit(self) -> float:
        """The physical limit: requests x latency / workers (a loop runs one request at a time)."""
        workers = self.workers if self.mode == "batch" else 1
        return self.requests * self.latency_ms / 1000 / workers

    @property
    def ratio(self) -> float:
        return self.seconds / self.limit if self.limit else 0.0

    @property
    def task_ratio(self) -> float:
        return self.task_seconds / self.limit if self.limit else 0.0

    @property
    def cpu_floor(self) -> float:
        """The compute limit of this machine: all CPU the run needed (collection and server) / cores."""
        return (self.client_cpu + self.server_cpu) / self.cores


@dataclass
class Run:
    """One ansible-playbook run: wall seconds, peak MB, CPU seconds of its processes, and its output."""

    seconds: float
    peak_mb: float
    cpu: float
    output: str
    task_seconds: float  # of the keywarden.iam tasks alone, from callback_plugins/bench_task_time.py


def install_collection() -> None:
    """Build the collection and install the tarball into a path of the bench's own.

    The bench measures the packaged artifact, and no other build can swap it out mid-run.
    """
    COLLECTIONS.mkdir(mode=0o700, exist_ok=True)
    if COLLECTIONS.is_symlink() or COLLECTIONS.stat().st_uid != os.getuid():
        raise SystemExit(f"{COLLECTIONS} is not this user's own directory; remove it and run the bench again")
    dist = COLLECTIONS / "dist"
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(REPO), "--output-path", str(dist)],
                   check=True, capture_output=True)
    tarball = next(dist.glob("keywarden-iam-*.tar.gz"))
    # --force: without it, a copy already on ANSIBLE_COLLECTIONS_PATH counts as installed.
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--force", str(tarball), "-p", str(COLLECTIONS)],
                   check=True, capture_output=True)


def seed(users: int) -> dict:
    """An account with an admin and N users, each at the two-key limit."""
    return {"accounts": [{
        "domain_id": "0b5e9c3a7d2f4e18a6c4b2d0e8f1a3c5", "domain_name": "bench",
        "users": [{"name": "admin", "admin": True, "keys": [{"access": ADMIN_AK, "secret": ADMIN_SK}]}] + [
            {"name": f"user{index:04d}", "keys": [
                {"status": "inactive", "age_days": 200, "description": "left from the last rotation"},
                {"status": "active", "age_days": 120, "description": "in use"},
            ]} for index in range(users)],
    }]}


def write_vaulted_files(iam: FakeIam, files_dir: Path) -> None:
    """Each user's file holds their active key, as the previous rotation would have left it.

    That is with the fingerprint beside it (``_file_fingerprint``): the steady state of a fleet
    that this collection keeps. A file written by other means costs its first run one more
    vault key derivation (about 3.5 ms of CPU) to read it.
    """
    sys.path.insert(0, str(COLLECTIONS))
    from ansible.parsing.vault import VaultLib, VaultSecret
    from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials, render
    from ansible_collections.keywarden.iam.plugins.plugin_utils._file_fingerprint import (
        CredentialFacts,
        Fingerprint,
        content_hash,
        write_fingerprint,
    )

    secret = ("default", VaultSecret(VAULT_PASSWORD.encode()))
    vault = VaultLib([secret])
    files_dir.mkdir(parents=True, exist_ok=True)
    for account in iam.state()["accounts"]:
        for user in account["users"]:
            if user["name"] == "admin":
                continue
            active = next(key for key in user["keys"] if key["status"] == "active")
            creds = Credentials(active["access"], active["secret"], user_id=user["id"], user_name=user["name"],
                                domain_id=account["domain_id"])
            content = vault.encrypt(render("yaml", creds), secret[1])
            path = files_dir / f"{user['name']}.yml"
            path.write_bytes(content)
            path.chmod(0o600)
            facts = CredentialFacts.of(creds)
            write_fingerprint(str(path), Fingerprint(content_hash(content), "yaml", "iam_", facts, whole=True,
                                                     current_for=facts))


def run_playbook(work: Path, playbook: str, variables: dict, *, inventory: Path | None = None,
                 forks: int = 5) -> tuple[float, float, str]:
    """Wall seconds, peak MB and output of one ansible-playbook run."""
    run = run_measured(work, playbook, variables, inventory=inventory, forks=forks)
    return run.seconds, run.peak_mb, run.output


def run_measured(work: Path, playbook: str, variables: dict, *, inventory: Path | None = None,
                 forks: int = 5) -> Run:
    """One ansible-playbook run, measured by a child Python that starts it and waits for it.

    The child reports, for the processes it waited for (ansible-playbook and, through it, its
    workers): the peak resident set (ru_maxrss, KiB on Linux) and their CPU time (user + system),
    so that the bench's own memory and CPU do not count. The wall time of the collection's own
    tasks comes from the bench's callback (``callback_plugins/bench_task_time.py``).
    """
    vars_file = work / "vars.json"
    task_times = work / "task-seconds"
    vars_file.write_text(json.dumps(variables))
    playbook_path = playbook if os.path.isabs(playbook) else str(PLAYBOOKS / playbook)
    command = [str(BIN / "ansible-playbook"), playbook_path, "-e", f"@{vars_file}",
               "--vault-password-file", str(work / "vault-password"), "--forks", str(forks)]
    if inventory is not None:
        command += ["-i", str(inventory)]
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(p.stdout[-4000:] + p.stderr[-4000:]); "
             "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
             "print('BENCH', time.perf_counter() - t, u.ru_maxrss, p.returncode, u.ru_utime + u.ru_stime)")
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_HOME": str(work / "ansible-home"),
           "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
           "ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).resolve().parent / "callback_plugins"),
           "ANSIBLE_CALLBACKS_ENABLED": "bench_task_time", "KEYWARDEN_BENCH_TASK_TIMES": str(task_times)}
    task_times.unlink(missing_ok=True)
    completed = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, env=env,
                               check=True)
    last = completed.stdout.strip().splitlines()[-1].split()
    seconds, peak_kib, returncode, cpu = float(last[1]), int(last[2]), int(last[3]), float(last[4])
    if returncode != 0:
        raise SystemExit(f"{playbook} failed:\n{completed.stdout[-6000:]}")
    task_seconds = float(task_times.read_text()) if task_times.exists() else 0.0
    return Run(seconds, peak_kib / 1024, cpu, completed.stdout, task_seconds)


def measure(iam: FakeIam, work: Path, scenario: str, mode: str, playbook: str, variables: dict,
            users: int, *, latency_ms: int = 0) -> Measurement:
    iam.reset_counters()
    server_before = iam.server_cpu_seconds()
    run = run_measured(work, playbook, variables)
    server_cpu = iam.server_cpu_seconds() - server_before
    counters = iam.counters()
    changed = "changed=0" not in run.output.split("PLAY RECAP")[-1]
    workers = int(variables.get("workers", 1)) if mode == "batch" else 1
    result = Measurement(scenario, mode, users, run.seconds, counters["total"], run.peak_mb, changed,
                         workers=workers, client_cpu=run.cpu, server_cpu=server_cpu, latency_ms=latency_ms,
                         task_seconds=run.task_seconds)
    limit = f"{result.ratio:5.2f}x limit (task {result.task_ratio:5.2f}x)" if result.limit else ""
    print(f"  {scenario:<22} {mode:<6} N={users:<5} w={workers:<4} {run.seconds:7.2f} s  {limit}  "
          f"{result.per_user:5.2f} req/user  cpu/user {1000 * run.cpu / users:6.2f} ms (server "
          f"{1000 * server_cpu / users:5.2f})  {run.peak_mb:6.1f} MB  changed={changed}", flush=True)
    return result


def bench_size(users: int, latency_ms: int, workers: int | list, *, loops: bool | None = None) -> list:
    """Batch rotation, no-op and info for ``users`` users at each worker count; loops with the floors."""
    worker_counts = [workers] if isinstance(workers, int) else list(workers)
    loops = users in LOOP_SIZES if loops is None else loops
    results = []
    with tempfile.TemporaryDirectory(prefix="keywarden-bench-") as tmp:
        work = Path(tmp)
        (work / "vault-password").write_text(VAULT_PASSWORD + "\n")
        seed_file = work / "seed.json"
        seed_file.write_text(json.dumps(seed(users)))
        with FakeIam(seed_file) as iam:
            domain_id = iam.state()["accounts"][0]["domain_id"]
            names = [f"user{index:04d}" for index in range(users)]
            base = {"iam_url": iam.url, "auth_ak": ADMIN_AK, "auth_sk": ADMIN_SK, "domain_id": domain_id,
                    "users": names, "files_dir": str(work / "files")}
            runs = [("batch", "batch.yml", count) for count in worker_counts]
            runs += [("loop", "loop.yml", 1)] if loops else []
            for mode, playbook, count in runs:
                shutil.rmtree(work / "files", ignore_errors=True)
                shutil.rmtree(work / "ansible-home", ignore_errors=True)
                iam.reset()
                write_vaulted_files(iam, work / "files")
                iam.set_latency(latency_ms)
                variables = {**base, "workers": count}
                results.append(measure(iam, work, "rotation at the limit", mode, playbook, variables, users,
                                       latency_ms=latency_ms))
                results.append(measure(iam, work, "no-op check", mode, playbook, variables, users,
                                       latency_ms=latency_ms))
                if mode == "batch":
                    results.append(measure(iam, work, "info", mode, "info_batch.yml", variables, users,
                                           latency_ms=latency_ms))
            if loops:
                for scenario, playbook in (("info", "info.yml"), ("floor: command true", "floor.yml"),
                                           ("floor: debug", "floor_debug.yml")):
                    results.append(measure(iam, work, scenario, "loop", playbook, base, users, latency_ms=latency_ms))
    return results


@dataclass
class FleetMeasurement:
    hosts: int
    seconds: float
    requests: int
    writes: int
    peak_mb: float
    forks: int


def bench_fleet(hosts: int, latency_ms: int, forks: int) -> FleetMeasurement:
    """One zero-downtime rotation of a key that ``hosts`` local hosts consume."""
    from ansible.parsing.vault import VaultLib, VaultSecret
    sys.path.insert(0, str(COLLECTIONS))
    from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials, render

    with tempfile.TemporaryDirectory(prefix="keywarden-bench-fleet-") as tmp:
        work = Path(tmp)
        (work / "vault-password").write_text(VAULT_PASSWORD + "\n")
        seed_file = work / "seed.json"
        seed_file.write_text(json.dumps({"accounts": [{
            "domain_id": "0b5e9c3a7d2f4e18a6c4b2d0e8f1a3c5", "domain_name": "bench",
            "users": [{"name": "admin", "admin": True, "keys": [{"access": ADMIN_AK, "secret": ADMIN_SK}]},
                      {"name": "app", "keys": [{"age_days": 120, "description": "the fleet's key"}]}]}]}))
        with FakeIam(seed_file) as iam:
            account = iam.state()["accounts"][0]
            app = next(user for user in account["users"] if user["name"] == "app")
            key = app["keys"][0]
            creds = Credentials(key["access"], key["secret"], user_id=app["id"], user_name="app",
                                domain_id=account["domain_id"])
            source = work / "app.yml"
            secret = VaultSecret(VAULT_PASSWORD.encode())
            source.write_bytes(VaultLib([("default", secret)]).encrypt(render("yaml", creds), secret))
            source.chmod(0o600)
            fleet = {}
            for index in range(hosts):
                directory = work / "fleet" / f"host{index:03d}"
                directory.mkdir(parents=True)
                (directory / "app.env").write_text(render("env", creds))
                (directory / "app.env").chmod(0o600)
                fleet[f"host{index:03d}"] = {"ansible_connection": "local", "host_dir": str(directory),
                                             "ansible_python_interpreter": sys.executable}
            inventory = work / "inventory.json"
            inventory.write_text(json.dumps({"fleet": {"hosts": fleet, "vars": {
                "fleet_rotation_files": [{"format": "env", "path": "{{ host_dir }}/app.env"}],
                "fleet_rotation_check_endpoint": {"iam_endpoint": iam.url}}}}))
            variables = {"iam_url": iam.url, "auth_ak": ADMIN_AK, "auth_sk": ADMIN_SK,
                         "fleet_rotation_user_name": "app", "fleet_rotation_credentials_file": str(source),
                         "fleet_rotation_hosts": list(fleet), "fleet_rotation_quiet_period": 1,
                         "fleet_rotation_poll_delay": 1, "fleet_rotation_wait": 60}
            iam.set_latency(latency_ms)
            iam.reset_counters()
            seconds, peak_mb, _output = run_playbook(work, "fleet.yml", variables, inventory=inventory, forks=forks)
            counters = iam.counters()
            states = {entry["status"] for entry in iam.keys_of("app")}
            if states != {"active", "inactive"}:
                raise SystemExit(f"the fleet rotation did not retire the old key: {states}")
    result = FleetMeasurement(hosts, seconds, counters["total"], counters["writes"], peak_mb, forks)
    print(f"  fleet rotation  {hosts} hosts  forks={forks}  {seconds:7.2f} s  {seconds / hosts:.3f} s/host  "
          f"{counters['total']} requests ({counters['writes']} writes)  {peak_mb:.0f} MB", flush=True)
    return result


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"


def _startup_note(batch: list) -> str:
    """What starting ansible-playbook adds to the collection's CPU per user, from the 1-user runs."""
    single = [r.client_cpu for r in batch if r.users == 1]
    if not single:
        return ""
    startup = min(single)
    largest = sorted({r.users for r in batch if r.users > 1})[-2:]
    shares = ", ".join(f"{1000 * startup / users:.2f} ms per user at {users:,} users" for users in largest)
    return (f" The collection's includes starting ansible-playbook (about {startup:.2f} s of CPU per run, the "
            f"1-user rows){': ' + shares if shares else ''}.")


def derivation_ms() -> float:
    """CPU milliseconds of one Ansible Vault key derivation (PBKDF2-SHA256, 10,000 rounds) here.

    Every vaulted file needs a fresh salt (one salt for two files would repeat the AES-CTR
    keystream), so a rotation, which writes one, derives a key once whatever else it saves.
    """
    from ansible.parsing.vault import VaultAES256

    rounds = 50
    started = time.process_time()
    for _round in range(rounds):
        VaultAES256._gen_key_initctr(b"bench", os.urandom(32))
    return 1000 * (time.process_time() - started) / rounds


def _rotation_floor_note(batch: list, derive_ms: float | None) -> list:
    """What one rotation costs this machine's cores at the least, from the largest rotation run."""
    rotations = [r for r in batch if r.scenario == "rotation at the limit" and r.users > 1]
    if derive_ms is None or not rotations:
        return []
    largest = max(rotations, key=lambda r: (r.users, -r.workers))
    server_ms = 1000 * largest.server_cpu / largest.users
    cores = largest.cores
    return [
        "",
        f"**What a rotation costs these {cores} cores at the least.** One vault key derivation takes "
        f"{derive_ms:.1f} ms of CPU here, and a rotation must make one: the new file needs a fresh salt. The "
        f"local server spends {server_ms:.1f} ms per rotation on the same cores (the {largest.users:,}-user run "
        f"at {largest.workers} workers). Those two alone make {derive_ms + server_ms:.1f} ms per user before "
        f"the five signed requests, the journal and the file: {largest.users:,} rotations need at least "
        f"{largest.users * (derive_ms + server_ms) / 1000 / cores:.1f} s of these cores, whatever the number "
        "of workers.",
    ]


def report(results: list, latency_ms: int, workers: int | list, fleet: FleetMeasurement | None = None,
           accounts: list | None = None, plot: str | None = None, derive_ms: float | None = None) -> str:
    worker_counts = [workers] if isinstance(workers, int) else list(workers)
    batch = [r for r in results if r.mode == "batch"]
    loop = [r for r in results if r.mode == "loop"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {datetime.date.today().isoformat()}: {machine()}.",
        f"The local IAM-compatible server answers every API request after {latency_ms} ms of injected latency. "
        "Each user starts at the two-key limit (an inactive key 200 days old, an active key 120 days old whose "
        "secret is in the user's vaulted file). Requests are the server's own count; peak memory is the largest "
        "resident set of any process of the run; wall time includes starting ansible-playbook. CPU is per user: "
        "the collection's (ansible-playbook and every process it started) and the local server's, measured apart "
        "in the same run, so one can be told from the other." + _startup_note(batch),
        "",
        "The **physical limit** is what the network alone costs: requests x latency / workers (the requests the "
        "run made, the server's count; a loop sends one at a time). No client can beat it with that many "
        "requests in flight; the ratio says how close the run came. *Task time* is the batch task alone, from "
        "its start to its result (a callback of the bench's own), without starting ansible-playbook; the *task "
        "ratio* compares it with the limit. The **CPU floor** is the other limit of this machine: all the CPU "
        "the run used, the collection's and the local server's, divided by its cores. A run cannot finish "
        "sooner than the larger of the two limits. The server shares the cores here; a cloud's does not. "
        "Wall times of the same run differ by about 10% from one bench to the next on this machine, which "
        "others share: compare figures within one report.",
        "",
        f"## Batch mode: one task for all users ({', '.join(str(count) for count in worker_counts)} workers)",
        "",
    ]
    if plot:
        lines += [f"![Wall time against users, next to the physical limit]({plot})", ""]
    lines += [
        "| scenario | users | workers | wall time (s) | physical limit (s) | ratio | task time (s) | task ratio "
        "| CPU floor (s) | requests per user | collection CPU per user (ms) | server CPU per user (ms) "
        "| peak memory (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(batch, key=lambda r: (r.users, r.workers)):
        lines.append(f"| {r.scenario} | {r.users} | {r.workers} | {r.seconds:.2f} | {r.limit:.2f} | {r.ratio:.2f} | "
                     f"{r.task_seconds:.2f} | {r.task_ratio:.2f} | {r.cpu_floor:.2f} | "
                     f"{r.per_user:.2f} | {1000 * r.client_cpu / r.users:.2f} | {1000 * r.server_cpu / r.users:.2f} | "
                     f"{r.peak_mb:.0f} |")
    lines += _rotation_floor_note(batch, derive_ms)
    if loop:
        lines += [
            "",
            "## Loop mode: one task per user, next to the floors of Ansible itself",
            "",
            "A loop pays Ansible's own cost per item. `command: true` is the floor of a module that runs through "
            "AnsiballZ; `debug` is the floor of an action that runs on the controller. access_key always runs on "
            "the controller; access_key_info does too when the task runs on localhost.",
            "",
            "The network alone costs a loop requests x latency (one request at a time); *beyond the network* "
            "is the rest of the wall time per user: the collection's and Ansible's own cost per item.",
            "",
            "| scenario | users | wall time (s) | per user (s) | beyond the network per user (s) | requests per user "
            "| collection CPU per user (ms) | peak memory (MB) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in sorted(loop, key=lambda r: r.users):
            lines.append(f"| {r.scenario} | {r.users} | {r.seconds:.2f} | {r.seconds / r.users:.3f} | "
                         f"{(r.seconds - r.limit) / r.users:.3f} | {r.per_user:.2f} | "
                         f"{1000 * r.client_cpu / r.users:.1f} | {r.peak_mb:.0f} |")
    if accounts:
        from tests.bench.accounts import report_lines
        lines += ["", *report_lines(accounts, latency_ms)]
    if fleet is not None:
        lines += [
            "",
            "## A zero-downtime fleet rotation",
            "",
            f"Role `fleet_rotation` (`tests/bench/playbooks/fleet.yml`): rotate on the controller, deliver and verify "
            f"a quarter of the fleet at a time ({fleet.forks} forks, local connections), retire the old key after a "
            "1 s quiet period, report. Same latency. No services run on the hosts here; "
            "`tests/integration/test_fleet_zero_downtime.py` proves zero failed requests with five.",
            "",
            "| hosts | wall time (s) | per host (s) | API requests | of which writes | requests per host | peak memory (MB) |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {fleet.hosts} | {fleet.seconds:.1f} | {fleet.seconds / fleet.hosts:.3f} | {fleet.requests} | "
            f"{fleet.writes} | {fleet.requests / fleet.hosts:.2f} | {fleet.peak_mb:.0f} |",
        ]
    lines += ["", "Regenerate with `make bench` (about a quarter of an hour on this machine).", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1,100,1000,5000")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", default="32,128", help="worker counts for batch mode, comma-separated")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--fleet-hosts", type=int, default=100)
    parser.add_argument("--fleet-forks", type=int, default=10)
    parser.add_argument("--accounts", type=int, default=20, help="accounts for the many-accounts run (0: none)")
    parser.add_argument("--account-users", type=int, default=500)
    parser.add_argument("--account-forks", type=int, default=10)
    parser.add_argument("--account-workers", type=int, default=8, help="users at once per account")
    args = parser.parse_args()
    worker_counts = [int(count) for count in args.workers.split(",") if count]
    results = []
    started = time.perf_counter()
    install_collection()
    for users in (int(size) for size in args.sizes.split(",") if size):
        print(f"N = {users}", flush=True)
        results += bench_size(users, args.latency_ms, worker_counts)
    accounts = None
    if args.accounts:
        from tests.bench.accounts import bench_accounts
        print(f"{args.accounts} accounts x {args.account_users} users, {args.account_forks} forks", flush=True)
        accounts = bench_accounts(args.accounts, args.account_users, latency_ms=args.latency_ms,
                                  forks=args.account_forks, workers=args.account_workers)
    fleet = bench_fleet(args.fleet_hosts, args.latency_ms, args.fleet_forks) if args.fleet_hosts else None
    plot_rows = [(r.scenario, r.workers, r.users, r.seconds, r.limit) for r in results
                 if r.mode == "batch" and r.users > 1]
    plot = None
    if plot_rows:
        plot_path = args.output.parent / "images" / "bench-wall-time.svg"
        plot_path.parent.mkdir(parents=True, exist_ok=True)
        plot_path.write_text(wall_time_plot(plot_rows, title=f"Batch mode at {args.latency_ms} ms latency, "
                                                             f"{datetime.date.today().isoformat()}"))
        plot = os.path.relpath(plot_path, args.output.parent)
    text = report(results, args.latency_ms, worker_counts, fleet, accounts, plot, derivation_ms())
    args.output.write_text(text)
    print("\n" + text)
    print(f"(bench took {time.perf_counter() - started:.0f} s; written to {args.output})")
    shutil.rmtree(COLLECTIONS, ignore_errors=True)


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy's: tests/bench/accounts.py imports this
    # file as tests.bench.bench, and both must see one collections path.
    from tests.bench import bench as _bench
    _bench.main()
