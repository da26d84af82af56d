"""A batch of access_key at several max_workers: wall time against the physical limit, CPU per user.

A measurement, not a test: nothing here asserts a time. Run from the repository root with the
project's virtual environment:

    .venv/bin/python tools/bench_workers.py [--users 1000] [--latency-ms 50] [--workers 8,16,32,64,128]

For each worker count: a fresh local server (every user at the two-key limit, as in make bench)
and a fresh vaulted file per user, then one batch rotation and one batch that changes nothing,
each through the action's run function in this process (no ansible-playbook start-up, which
``make bench`` includes). The physical limit is requests x latency / workers. CPU per user is
this process's (the collection's) and the server's, apart. The figures behind the default of
``max_workers`` (the rotation guide's table).
"""

from __future__ import annotations

import argparse
import atexit
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.bench import bench  # noqa: E402  (the same account and files as make bench)
from tests.fakeiam.harness import FakeIam  # noqa: E402


def _collection_on_path() -> None:
    """The collection imports itself as ansible_collections.keywarden.iam: a throw-away tree naming the checkout so."""
    tree = Path(tempfile.mkdtemp(prefix="keywarden-bench-workers-"))
    atexit.register(shutil.rmtree, tree, True)
    (tree / "ansible_collections" / "keywarden").mkdir(parents=True)
    (tree / "ansible_collections" / "keywarden" / "iam").symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(tree))


def measure(users: int, latency_ms: int, workers: int) -> list:
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    from ansible.parsing.vault import VaultSecret

    from ansible_collections.keywarden.iam.plugins.module_utils._access_key_options import access_key_argument_spec
    from ansible_collections.keywarden.iam.plugins.plugin_utils._access_key_run import run_access_key
    from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import RunContext

    rows = []
    work = Path(tempfile.mkdtemp(prefix="keywarden-bench-workers-run-"))
    try:
        seed = work / "seed.json"
        seed.write_text(json.dumps(bench.seed(users)))
        with FakeIam(seed) as iam:
            bench.write_vaulted_files(iam, work / "files")
            iam.set_latency(latency_ms)
            task = {"iam_endpoint": iam.url, "access_key": bench.ADMIN_AK, "secret_key": bench.ADMIN_SK,
                    "domain_id": iam.state()["accounts"][0]["domain_id"],
                    "users": [f"user{index:04d}" for index in range(users)], "rotate": "when_older", "max_age": 90,
                    "credentials_file": str(work / "files") + "/{user_name}.yml", "max_workers": workers}
            validated = ArgumentSpecValidator(access_key_argument_spec()).validate(task)
            if validated.error_messages:
                raise SystemExit("; ".join(validated.error_messages))
            context = RunContext(vault_secrets=[("default", VaultSecret(bench.VAULT_PASSWORD.encode()))],
                                 default_encrypt_identity=None, check_mode=False, diff=False, warn=print,
                                 state_dir=str(work / "state"))
            for scenario in ("rotation at the limit", "no-op check"):
                iam.reset_counters()
                cpu_before, server_before = time.process_time(), iam.server_cpu_seconds()
                started = time.perf_counter()
                result = run_access_key(validated.validated_parameters, context)
                seconds = time.perf_counter() - started
                if result.get("failed"):
                    raise SystemExit(result.get("msg"))
                requests = iam.counters()["total"]
                limit = requests * latency_ms / 1000 / workers
                rows.append((workers, scenario, seconds, limit, 1000 * (time.process_time() - cpu_before) / users,
                             1000 * (iam.server_cpu_seconds() - server_before) / users, requests / users))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", default="8,16,32,64,128")
    args = parser.parse_args()
    _collection_on_path()
    print(f"{args.users} users, {args.latency_ms} ms latency")
    print("| max_workers | scenario | wall time (s) | physical limit (s) | ratio | collection CPU per user (ms) "
          "| server CPU per user (ms) | requests per user |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for workers in (int(count) for count in args.workers.split(",") if count):
        for count, scenario, seconds, limit, cpu, server, per_user in measure(args.users, args.latency_ms, workers):
            ratio = seconds / limit if limit else 0.0
            print(f"| {count} | {scenario} | {seconds:.2f} | {limit:.2f} | {ratio:.2f} | {cpu:.2f} | {server:.2f} "
                  f"| {per_user:.2f} |", flush=True)
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
