"""access_key_info in a loop over N users: in-process on the controller vs the module (AnsiballZ).

    .venv/bin/python tools/bench_in_process.py [--users 100] [--rounds 3] [--latency-ms 0]

Builds the collection and installs it into a temp dir of its own, starts the local IAM-compatible
server with an admin and N users (two keys each), then runs one playbook that lists each user's
keys, one task per user (``loop``), on localhost, alternately:

- in-process: a local connection, no become, no task environment: the action plugin runs the
  module's logic itself;
- module: the same task with a task ``environment:`` (one unrelated variable), which makes the
  action plugin run the module through AnsiballZ, as before;
- floor: the same loop of ``ansible.builtin.debug``, what Ansible itself costs per loop item.

Wall time of the whole ansible-playbook run, median of the rounds; the server's request count
proves both paths make the same requests. A measurement, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.bench.bench import ADMIN_AK, ADMIN_SK, seed  # noqa: E402  (the same account as make bench)
from tests.fakeiam.harness import FakeIam  # noqa: E402

BIN = Path(sys.executable).parent
PLAYBOOK = """
- name: access_key_info for each user, one task per user
  hosts: localhost
  gather_facts: false
  tasks:
    - name: access_key_info
      keywarden.iam.access_key_info:
        iam_endpoint: "{{ iam_url }}"
        access_key: "{{ auth_ak }}"
        secret_key: "{{ auth_sk }}"
        domain_id: "{{ domain_id }}"
        user_name: "{{ item }}"
      environment: "{{ module_environment }}"
      loop: "{{ users }}"
      when: mode != 'floor'
    - name: floor
      ansible.builtin.debug:
        msg: "{{ item }}"
      loop: "{{ users }}"
      when: mode == 'floor'
"""
MODES = {"in-process": {}, "module": {"KEYWARDEN_BENCH": "module"}, "floor": {}}


def install(work: Path) -> Path:
    collections = work / "collections"
    dist = work / "dist"
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(REPO), "--output-path", str(dist)],
                   check=True, capture_output=True)
    tarball = next(dist.glob("keywarden-iam-*.tar.gz"))
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--force", str(tarball), "-p",
                    str(collections)], check=True, capture_output=True)
    return collections


def run(work: Path, collections: Path, iam: FakeIam, mode: str, users: int) -> tuple[float, int]:
    variables = {"iam_url": iam.url, "auth_ak": ADMIN_AK, "auth_sk": ADMIN_SK,
                 "domain_id": "0b5e9c3a7d2f4e18a6c4b2d0e8f1a3c5", "users": [f"user{i:04d}" for i in range(users)],
                 "module_environment": MODES[mode], "mode": mode}
    (work / "vars.json").write_text(json.dumps(variables))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")},
           "ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_HOME": str(work / "ansible-home"),
           "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
           "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    iam.reset_counters()
    start = time.perf_counter()
    completed = subprocess.run([str(BIN / "ansible-playbook"), str(work / "info.yml"), "-e", f"@{work / 'vars.json'}"],
                               capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{completed.stdout[-4000:]}{completed.stderr[-2000:]}")
    return seconds, iam.counters()["total"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="keywarden-bench-in-process-") as tmp:
        work = Path(tmp)
        collections = install(work)
        (work / "info.yml").write_text(PLAYBOOK)
        (work / "seed.json").write_text(json.dumps(seed(options.users)))
        times: dict = {mode: [] for mode in MODES}
        requests: dict = {}
        with FakeIam(work / "seed.json") as iam:
            iam.set_latency(options.latency_ms)
            for _round in range(options.rounds):
                for mode in MODES:  # alternating, so that a slow moment of the machine hits every mode
                    seconds, count = run(work, collections, iam, mode, options.users)
                    times[mode].append(seconds)
                    requests[mode] = count
                    print(f"  {mode:<10} {seconds:7.2f} s  {count} requests", flush=True)
    median = {mode: statistics.median(values) for mode, values in times.items()}
    print(f"\naccess_key_info, a loop over {options.users} users, {options.latency_ms} ms server latency, "
          f"median of {options.rounds} rounds (Python {sys.version.split()[0]}):")
    print("| path | wall time (s) | per user (s) | above the floor, per user (s) | API requests |")
    print("|---|---:|---:|---:|---:|")
    for mode in MODES:
        above = (median[mode] - median["floor"]) / options.users
        print(f"| {mode} | {median[mode]:.2f} | {median[mode] / options.users:.3f} | {above:.3f} | {requests[mode]} |")
    ratio = median["module"] / median["in-process"]
    above_ratio = (median["module"] - median["floor"]) / max(median["in-process"] - median["floor"], 1e-9)
    print(f"\nmodule / in-process: {ratio:.2f}x wall time, {above_ratio:.1f}x above the floor")


if __name__ == "__main__":
    main()
