"""make bench: keywarden.iam against the local IAM-compatible server with injected latency.

For N users (default 1, 100 and 1,000), each holding two keys (an inactive one 200 days old and
an active one 120 days old, whose secret is in the user's vaulted file):

- rotation at the two-key limit (delete the inactive key, create, verify, deactivate the old one);
- the no-op check that follows (nothing to do);
- info (the users' keys listed);

each in batch mode (one task for all users) and, for the smaller sizes, as a loop of one task per
user, next to the floor of Ansible itself (a loop of ansible.builtin.command: true). It reports
wall time, API requests per user per operation (the server's counters) and peak memory (the
largest resident set of any process of the run), prints a table and writes docs/benchmarks.md.

And a zero-downtime fleet rotation (role fleet_rotation) across ``--fleet-hosts`` local hosts
(default 100): wall time, API requests, time per host.

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
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.fakeiam.harness import FakeIam  # noqa: E402

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
BIN = Path(sys.executable).parent
COLLECTIONS = Path(tempfile.mkdtemp(prefix="keywarden-bench-collections-"))
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

    @property
    def per_user(self) -> float:
        return self.requests / self.users if self.users else 0.0


def install_collection() -> None:
    """Build the collection and install the tarball into a path of the bench's own.

    The bench measures the packaged artifact, and no other build can swap it out mid-run.
    """
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


def write_vaulted_files(iam: FakeIam, files_dir: Path, users: int) -> None:
    """Each user's file holds their active key, as the previous rotation would have left it."""
    sys.path.insert(0, str(COLLECTIONS))
    from ansible.parsing.vault import VaultLib, VaultSecret
    from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials, render

    secret = ("default", VaultSecret(VAULT_PASSWORD.encode()))
    vault = VaultLib([secret])
    files_dir.mkdir(parents=True, exist_ok=True)
    for account in iam.state()["accounts"]:
        for user in account["users"]:
            if user["name"] == "admin":
                continue
            active = next(key for key in user["keys"] if key["status"] == "active")
            text = render("yaml", Credentials(active["access"], active["secret"], user_id=user["id"],
                                              user_name=user["name"], domain_id=account["domain_id"]))
            path = files_dir / f"{user['name']}.yml"
            path.write_bytes(vault.encrypt(text, secret[1]))
            path.chmod(0o600)
    del users


def run_playbook(work: Path, playbook: str, variables: dict, *, inventory: Path | None = None,
                 forks: int = 5) -> tuple[float, float, str]:
    """Wall seconds, peak MB and output of one ansible-playbook run."""
    vars_file = work / "vars.json"
    vars_file.write_text(json.dumps(variables))
    command = [str(BIN / "ansible-playbook"), str(PLAYBOOKS / playbook), "-e", f"@{vars_file}",
               "--vault-password-file", str(work / "vault-password"), "--forks", str(forks)]
    if inventory is not None:
        command += ["-i", str(inventory)]
    # A child Python reports the peak resident set of the run's processes (ru_maxrss of its
    # waited-for descendants, in KiB on Linux), so the bench's own memory does not count.
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(p.stdout[-4000:] + p.stderr[-4000:]); "
             "print('BENCH', time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)")
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_HOME": str(work / "ansible-home"),
           "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    completed = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, env=env,
                               check=True)
    last = completed.stdout.strip().splitlines()[-1].split()
    seconds, peak_kib, returncode = float(last[1]), int(last[2]), int(last[3])
    if returncode != 0:
        raise SystemExit(f"{playbook} failed:\n{completed.stdout[-6000:]}")
    return seconds, peak_kib / 1024, completed.stdout


def measure(iam: FakeIam, work: Path, scenario: str, mode: str, playbook: str, variables: dict,
            users: int) -> Measurement:
    iam.reset_counters()
    seconds, peak_mb, output = run_playbook(work, playbook, variables)
    counters = iam.counters()
    changed = "changed=0" not in output.split("PLAY RECAP")[-1]
    result = Measurement(scenario, mode, users, seconds, counters["total"], peak_mb, changed)
    print(f"  {scenario:<22} {mode:<6} N={users:<5} {seconds:7.2f} s  {result.per_user:5.2f} req/user  "
          f"{peak_mb:6.1f} MB  changed={changed}", flush=True)
    return result


def bench_size(users: int, latency_ms: int, workers: int) -> list:
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
                    "users": names, "files_dir": str(work / "files"), "workers": workers}
            modes = [("batch", "batch.yml")] + ([("loop", "loop.yml")] if users in LOOP_SIZES else [])
            for mode, playbook in modes:
                iam.reset()
                write_vaulted_files(iam, work / "files", users)
                iam.set_latency(latency_ms)
                results.append(measure(iam, work, "rotation at the limit", mode, playbook, base, users))
                results.append(measure(iam, work, "no-op check", mode, playbook, base, users))
            results.append(measure(iam, work, "info", "batch", "info_batch.yml", base, users))
            if users in LOOP_SIZES:
                results.append(measure(iam, work, "info", "loop", "info.yml", base, users))
                results.append(measure(iam, work, "floor: command true", "loop", "floor.yml", base, users))
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


def report(results: list, latency_ms: int, workers: int, fleet: FleetMeasurement | None = None) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {datetime.date.today().isoformat()}: {machine()}.",
        f"The local IAM-compatible server answers every API request after {latency_ms} ms of injected latency; "
        f"batch mode runs {workers} users at once. Each user starts at the two-key limit (an inactive key "
        "200 days old, an active key 120 days old whose secret is in the user's vaulted file). "
        "Requests are the server's own count; peak memory is the largest resident set of any process of the run. "
        "Wall time includes starting ansible-playbook.",
        "",
        "| scenario | mode | users | wall time (s) | per user (s) | API requests per user | peak memory (MB) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.scenario} | {r.mode} | {r.users} | {r.seconds:.2f} | {r.seconds / r.users:.3f} | "
                     f"{r.per_user:.2f} | {r.peak_mb:.0f} |")
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
    lines += ["", "Regenerate with `make bench` (about ten minutes on this machine).", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1,100,1000")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--fleet-hosts", type=int, default=100)
    parser.add_argument("--fleet-forks", type=int, default=10)
    args = parser.parse_args()
    results = []
    started = time.perf_counter()
    install_collection()
    for users in (int(size) for size in args.sizes.split(",") if size):
        print(f"N = {users}", flush=True)
        results += bench_size(users, args.latency_ms, args.workers)
    fleet = bench_fleet(args.fleet_hosts, args.latency_ms, args.fleet_forks) if args.fleet_hosts else None
    text = report(results, args.latency_ms, args.workers, fleet)
    args.output.write_text(text)
    print("\n" + text)
    print(f"(bench took {time.perf_counter() - started:.0f} s; written to {args.output})")
    shutil.rmtree(COLLECTIONS, ignore_errors=True)


if __name__ == "__main__":
    main()
