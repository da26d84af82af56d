"""Many accounts through Ansible's forks: the documented example against the local server.

``bench_accounts`` runs docs/examples/accounts/rotate-and-audit.yml (roles rotation and
compliance, one inventory host per account, the example's group_vars as they are) for
``accounts`` accounts of ``users`` users each, every user at the two-key limit (an inactive key
200 days old, an active key 120 days old whose secret is in the user's vaulted file, as in
bench.py), with ``forks`` forks and ``workers`` users at once per account, against the local
IAM-compatible server with injected latency:

- rotation at the limit (and the audit that follows it, in the same play);
- the rerun that changes nothing.

It reports wall time, the server's request count and writes, and peak memory, through
tests.bench.bench's own helpers (``run_playbook``, ``install_collection``). ``report_lines``
renders a Markdown section for docs/benchmarks.md. Measurements, not tests: nothing asserts a
time. Standalone: ``python tests/bench/accounts.py --accounts 5 --users 100 --forks 5,1``.

From bench.py's main():

    from tests.bench.accounts import bench_accounts
    accounts = bench_accounts(20, 500, latency_ms=args.latency_ms, forks=10, workers=8)
    text = report(results, ..., accounts=accounts)   # report() appends report_lines(accounts, latency_ms)
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.bench import bench  # noqa: E402
from tests.fakeiam.harness import FakeIam  # noqa: E402

EXAMPLE = REPO / "docs" / "examples" / "accounts"
PLAYBOOK = str(EXAMPLE / "rotate-and-audit.yml")


@dataclass
class AccountsMeasurement:
    scenario: str
    accounts: int
    users: int          # per account
    forks: int
    workers: int
    seconds: float
    requests: int
    writes: int
    peak_mb: float
    changed: bool

    @property
    def total_users(self) -> int:
        return self.accounts * self.users


def admin_key(index: int) -> tuple[str, str]:
    return f"BENCHACCT{index:011d}", f"benchAccountAdminSecret{index:017d}"


def seed(accounts: int, users: int) -> dict:
    """``accounts`` accounts, each with an admin and ``users`` users at the two-key limit."""
    result = []
    for index in range(accounts):
        access, secret = admin_key(index)
        result.append({
            "domain_id": f"{index + 1:032x}", "domain_name": f"account{index:03d}",
            "users": [{"name": "admin", "admin": True, "keys": [{"access": access, "secret": secret}]}] + [
                {"name": f"user{number:04d}", "keys": [
                    {"status": "inactive", "age_days": 200, "description": "left from the last rotation"},
                    {"status": "active", "age_days": 120, "description": "in use"},
                ]} for number in range(users)],
        })
    return {"accounts": result}


def write_inventory(iam: FakeIam, work: Path, users: int) -> Path:
    """Hosts, the example's group_vars, and host_vars per account with its admin key inline-vaulted."""
    import yaml
    from ansible.parsing.vault import VaultLib, VaultSecret

    secret = VaultSecret(bench.VAULT_PASSWORD.encode())

    def inline(value: str) -> str:
        text = VaultLib().encrypt(value, secret, vault_id="default").decode()
        return "!vault |\n" + "".join(f"  {line}\n" for line in text.splitlines())

    inventory = work / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    shutil.copytree(EXAMPLE / "inventory" / "group_vars", inventory / "group_vars")
    names = [account["domain_name"] for account in iam.state()["accounts"]]
    (inventory / "hosts.yml").write_text(json.dumps({"iam_accounts": {"hosts": dict.fromkeys(names)}}))
    for index, account in enumerate(iam.state()["accounts"]):
        access, admin_secret = admin_key(index)
        plain = {"account_name": account["domain_name"], "account_id": account["domain_id"],
                 "account_iam_endpoint": iam.url, "account_users": [f"user{n:04d}" for n in range(users)]}
        (inventory / "host_vars" / f"{account['domain_name']}.yml").write_text(
            yaml.safe_dump(plain) + f"account_admin_ak: {inline(access)}account_admin_sk: {inline(admin_secret)}")
    return inventory


def write_vaulted_files(iam: FakeIam, data: Path) -> None:
    """Each user's active key in <data>/<account>/credentials/<user>/iam_credentials.yml (the example's layout)."""
    sys.path.insert(0, str(bench.COLLECTIONS))
    from ansible.parsing.vault import VaultLib, VaultSecret

    from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials, render

    secret = VaultSecret(bench.VAULT_PASSWORD.encode())
    vault = VaultLib([("default", secret)])
    for account in iam.state()["accounts"]:
        for user in account["users"]:
            if user["name"] == "admin":
                continue
            active = next(key for key in user["keys"] if key["status"] == "active")
            directory = data / account["domain_name"] / "credentials" / user["name"]
            directory.mkdir(parents=True, mode=0o700)
            path = directory / "iam_credentials.yml"
            path.write_bytes(vault.encrypt(render("yaml", Credentials(
                active["access"], active["secret"], user_id=user["id"], user_name=user["name"],
                domain_id=account["domain_id"])), secret))
            path.chmod(0o600)


def bench_accounts(accounts: int = 20, users: int = 500, *, latency_ms: int = 50, forks: int = 10,
                   workers: int = 8) -> list:
    """Rotation at the limit, then the no-op rerun, across ``accounts`` accounts of ``users`` users.

    The runs use tests.bench.bench's collections path. When nothing is installed there (bench.py
    run as a script installs into its own ``__main__`` module's path, not this import's), the
    collection is built and installed there first, and removed again at the end.
    """
    installed_here = not (bench.COLLECTIONS / "ansible_collections" / "keywarden" / "iam").is_dir()
    if installed_here:
        bench.install_collection()
    try:
        return _bench_accounts(accounts, users, latency_ms=latency_ms, forks=forks, workers=workers)
    finally:
        if installed_here:
            shutil.rmtree(bench.COLLECTIONS, ignore_errors=True)


def _bench_accounts(accounts: int, users: int, *, latency_ms: int, forks: int, workers: int) -> list:
    results = []
    with tempfile.TemporaryDirectory(prefix="keywarden-bench-accounts-") as tmp:
        work = Path(tmp)
        (work / "vault-password").write_text(bench.VAULT_PASSWORD + "\n")
        seed_file = work / "seed.json"
        seed_file.write_text(json.dumps(seed(accounts, users)))
        with FakeIam(seed_file) as iam:
            inventory = write_inventory(iam, work, users)
            write_vaulted_files(iam, work / "data")
            variables = {"keywarden_data_dir": str(work / "data"), "rotation_max_workers": workers,
                         "compliance_max_workers": workers}
            iam.set_latency(latency_ms)
            for scenario in ("rotation at the limit, then audit", "rerun: nothing to do"):
                iam.reset_counters()
                seconds, peak_mb, output = bench.run_playbook(work, PLAYBOOK, variables, inventory=inventory,
                                                              forks=forks)
                counters = iam.counters()
                changed = sum(int(n) for n in re.findall(r"changed=(\d+)", output.split("PLAY RECAP")[-1])) > 0
                result = AccountsMeasurement(scenario, accounts, users, forks, workers, seconds, counters["total"],
                                             counters["writes"], peak_mb, changed)
                print(f"  {scenario:<34} {accounts} accounts x {users} users  forks={forks} workers={workers}  "
                      f"{seconds:7.2f} s  {counters['total']} requests ({counters['writes']} writes)  "
                      f"{peak_mb:.0f} MB  changed={changed}", flush=True)
                results.append(result)
            if not results[0].changed or results[1].changed:
                raise SystemExit("the accounts bench did not rotate once and then change nothing")
    return results


def report_lines(results: list, latency_ms: int) -> list:
    """A Markdown section for docs/benchmarks.md."""
    lines = [
        "## Many accounts: forks",
        "",
        "`docs/examples/accounts/rotate-and-audit.yml` (roles `rotation` then `compliance`, one inventory host per "
        f"account, `connection: local`) against the local server with {latency_ms} ms of latency; every user starts "
        "at the two-key limit, as above. Up to forks x workers requests are in flight at once.",
        "",
        "| scenario | accounts | users each | forks | workers | wall time (s) | per user (ms) | API requests "
        "| of which writes | peak memory (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.scenario} | {r.accounts} | {r.users} | {r.forks} | {r.workers} | {r.seconds:.1f} | "
                     f"{1000 * r.seconds / r.total_users:.1f} | {r.requests} | {r.writes} | {r.peak_mb:.0f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--forks", default="10", help="comma-separated: one measurement per value")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    bench.install_collection()
    try:
        results = []
        for forks in (int(value) for value in args.forks.split(",") if value):
            results += bench_accounts(args.accounts, args.users, latency_ms=args.latency_ms, forks=forks,
                                      workers=args.workers)
        print("\n".join(report_lines(results, args.latency_ms)))
    finally:
        shutil.rmtree(bench.COLLECTIONS, ignore_errors=True)


if __name__ == "__main__":
    main()
