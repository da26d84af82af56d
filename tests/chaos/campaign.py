"""The fault campaign: many rotations with random faults, and the invariants checked after each.

Each run rotates one user's key into their vaulted file through the same function the
access_key action plugin calls, against the local IAM-compatible server, with random faults
armed at every API step (5xx, 429 with and without Retry-After, a connection dropped after the
change was committed, an answer slower than the client's timeout) and, at random, a failing
file write. After every run:

1. the user holds at most two keys;
2. every key on the server either existed before the run or is the one in the file, with the
   exact secret (nobody else could hold the secret of a key made during the run);
3. a user whose file held a working key before the run still has one in the file;
4. a rerun without faults converges, and the run after it changes nothing.

tests/unit/chaos/test_campaign.py runs it: a short campaign in make test, 300 runs with
``make chaos`` (KEYWARDEN_CHAOS_RUNS), printing the summary.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import yaml

from ansible.parsing.vault import VaultLib, VaultSecret  # noqa: E402

from tests.fakeiam.harness import SEEDS, FakeIam  # noqa: E402

VAULT = [("default", VaultSecret(b"chaos-vault-password"))]
ADMIN = {"access_key": "CVKK734506UOYW5P4XW2", "secret_key": "8iXmKEWTu6IAMHt0vln3mwV3rRFpNLTRrsogxD1X"}
USERS = ("alice", "bob")
OPERATIONS = ("list_credentials", "create_credential", "update_credential", "delete_credential", "list_domains")
FAULTS = (
    ("status", {"status": 500}),
    ("status", {"status": 503}),
    ("throttle", {"retry_after": 0.1}),
    ("throttle", {}),
    ("drop_after_commit", {}),
    ("drop", {}),
    ("delay", {"seconds": 1.5}),
)


@dataclass
class Report:
    runs: int = 0
    failed_runs: int = 0
    faults: Counter = field(default_factory=Counter)
    violations: list = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"runs: {self.runs} ({self.failed_runs} ended in a reported failure)",
                 f"faults injected: {sum(self.faults.values())}"]
        lines += [f"  {kind}: {count}" for kind, count in sorted(self.faults.items())]
        lines.append(f"invariant violations: {len(self.violations)}")
        lines += [f"  {violation}" for violation in self.violations[:20]]
        return "\n".join(lines)


def _run_function():
    """run_access_key and its context type, imported from the checkout (see conftest.py)."""
    from ansible_collections.keywarden.iam.plugins.plugin_utils._access_key_run import run_access_key
    from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import RunContext
    return run_access_key, RunContext


def params_for(iam: FakeIam, user: str, path: Path) -> dict:
    from ansible_collections.keywarden.iam.plugins.module_utils._access_key_options import access_key_argument_spec
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    task = {**ADMIN, "iam_endpoint": iam.url, "user_name": user, "rotate": "always", "credentials_file": str(path),
            "timeout": 1, "retries": 2, "verify_timeout": 3}
    result = ArgumentSpecValidator(access_key_argument_spec()).validate(task)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def held(path: Path) -> dict:
    if not path.exists():
        return {}
    return yaml.safe_load(VaultLib(VAULT).decrypt(path.read_bytes()))


def check(iam: FakeIam, user: str, path: Path, before: dict, held_before: dict) -> list:
    keys = {key["access"]: key for key in iam.keys_of(user)}
    problems = []
    if len(keys) > 2:
        problems.append(f"{user} holds {len(keys)} keys")
    now_held = held(path)
    for access, key in keys.items():
        if access in before:
            continue
        if now_held.get("iam_access_key") != access or now_held.get("iam_secret_key") != key["secret"]:
            problems.append(f"{user}: key {access} was made during the run and nobody holds its secret")
    if held_before.get("iam_access_key") in before:
        access = now_held.get("iam_access_key")
        if access not in keys or keys[access]["secret"] != now_held.get("iam_secret_key"):
            problems.append(f"{user}: the file held a working key before the run and does not now")
    return problems


def idle_seed() -> dict:
    """The demo seed with alice's laptop key idle: every key but the admin's is then safe to retire.

    (With the laptop used yesterday, make_room rightly refuses to rotate alice at the limit; this
    campaign is about faults, not about which key may go.)
    """
    seed = json.loads((SEEDS / "demo.json").read_text())
    for user in seed["accounts"][0]["users"]:
        for key in user.get("keys", []):
            if key.get("description") == "alice laptop":
                key["last_use_age_days"] = 30
    return seed


def campaign(runs: int, seed: int, *, fault_rate: float = 0.35, write_failure_rate: float = 0.1) -> Report:
    run_access_key, RunContext = _run_function()
    rng = random.Random(seed)
    report = Report()
    real_replace = os.replace
    with tempfile.TemporaryDirectory(prefix="keywarden-chaos-") as tmp, FakeIam(SEEDS / "demo.json") as iam:
        context = RunContext(vault_secrets=VAULT, default_encrypt_identity=None, check_mode=False, diff=False,
                             warn=lambda message: None, state_dir=os.path.join(tmp, "state"))
        iam.reset(idle_seed())
        files = {user: Path(tmp) / f"{user}.yml" for user in USERS}
        for number in range(runs):
            user = rng.choice(USERS)
            path = files[user]
            params = params_for(iam, user, path)
            before = {key["access"] for key in iam.keys_of(user)}
            held_before = held(path)
            iam.clear_faults()
            for operation in OPERATIONS:
                if rng.random() < fault_rate:
                    kind, extra = rng.choice(FAULTS)
                    iam.inject_fault(operation, kind, count=rng.randint(1, 2), **extra)
                    report.faults[kind] += 1
            fail_write = rng.random() < write_failure_rate
            if fail_write:
                report.faults["file write"] += 1

            def replace(src, dst, *args, **kwargs):
                if fail_write and os.fspath(dst) == str(path):
                    raise OSError(28, "No space left on device (chaos)")
                return real_replace(src, dst, *args, **kwargs)

            with mock.patch("os.replace", replace):
                result = run_access_key(params, context)
            report.runs += 1
            report.failed_runs += bool(result.get("failed"))
            iam.clear_faults()
            problems = check(iam, user, path, before, held_before)
            # Converge: a rerun without faults must succeed, and the next one (rotate=never) change nothing.
            rerun = run_access_key(params, context)
            settle = run_access_key({**params, "rotate": "never"}, context)
            if rerun.get("failed"):
                problems.append(f"{user}: the rerun without faults failed: {rerun.get('msg')}")
            if settle.get("failed") or settle.get("changed"):
                problems.append(f"{user}: the run after the rerun was not a no-op: {settle.get('msg', '')}")
            problems += check(iam, user, path, {key["access"] for key in iam.keys_of(user)}, held(path))
            report.violations += [f"run {number}: {problem}" for problem in problems]
    return report
