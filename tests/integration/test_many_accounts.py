"""Many accounts through Ansible's own engine: one inventory host per account, the accounts in forks.

The documented example (docs/examples/accounts: its playbook and its group_vars, as they are)
runs against the local IAM-compatible server holding several accounts, each with its own admin
key (inline-vaulted in its host_vars), endpoint and account ID, and users of the same names in
every account. Check mode first, then for real, then again to prove nothing changes; the
accounts' requests overlap in time (forks, not one account after another); an account with a
wrong key fails alone; two accounts that would share a file are refused before any API call.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
from pathlib import Path

import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials, render
from tests.integration.conftest import REPO, VAULT_PASSWORD

EXAMPLE = REPO / "docs" / "examples" / "accounts"
PLAYBOOK = str(EXAMPLE / "rotate-and-audit.yml")
ACCOUNTS = ("acct-a", "acct-b", "acct-c")
USERS = ("deployer", "backup", "reader")
FORKS = {"ANSIBLE_FORKS": "4"}


def admin_key(index: int) -> tuple[str, str]:
    return f"MANYACCT{index:012d}", f"manyAccountsAdminSecret{index:017d}"


def account_id(index: int) -> str:
    return f"{index + 1:032x}"


def seed(names=ACCOUNTS) -> dict:
    """Each account: an admin, and the same three users (the names clash across accounts on purpose)."""
    accounts = []
    for index, name in enumerate(names):
        access, secret = admin_key(index)
        accounts.append({"domain_id": account_id(index), "domain_name": name, "users": [
            {"name": "admin", "admin": True, "keys": [{"access": access, "secret": secret, "age_days": 10}]},
            # Due: 120 days old, used yesterday.
            {"name": "deployer", "keys": [{"age_days": 120, "last_use_age_days": 1}]},
            # Due, at the two-key limit: the inactive key makes room.
            {"name": "backup", "keys": [{"age_days": 200, "status": "inactive"}, {"age_days": 100}]},
            # Not due.
            {"name": "reader", "keys": [{"age_days": 20, "last_use_age_days": 2}]},
            {"name": name, "root": True},
        ]})
    return {"accounts": accounts}


def inline_vault(value: str) -> str:
    ciphertext = VaultLib().encrypt(value, VaultSecret(VAULT_PASSWORD.encode()), vault_id="default").decode()
    return "!vault |\n" + "".join(f"  {line}\n" for line in ciphertext.splitlines())


def make_inventory(workdir, iam, names=ACCOUNTS, *, overrides: dict | None = None,
                   wrong_secret: str | None = None) -> Path:
    """The example's group_vars as they are; host_vars per account, as a user would write them."""
    inventory = workdir.path / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    shutil.copytree(EXAMPLE / "inventory" / "group_vars", inventory / "group_vars")
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"iam_accounts": {"hosts": dict.fromkeys(names)}}))
    for index, name in enumerate(names):
        access, secret = admin_key(index)
        if name == wrong_secret:
            secret = secret[:-1] + ("x" if secret[-1] != "x" else "y")
        plain = {"account_name": name, "account_id": account_id(index), "account_iam_endpoint": iam.url,
                 "account_users": list(USERS), **(overrides or {}).get(name, {})}
        (inventory / "host_vars" / f"{name}.yml").write_text(
            yaml.safe_dump(plain) + f"account_admin_ak: {inline_vault(access)}account_admin_sk: {inline_vault(secret)}")
    return inventory


def data_dir(workdir) -> Path:
    return workdir.path / "data"


def credentials_file(workdir, account: str, user: str) -> Path:
    return data_dir(workdir) / account / "credentials" / user / "iam_credentials.yml"


def plant_current_keys(workdir, iam, names=ACCOUNTS) -> None:
    """Each user's active key in their vaulted file, as the previous rotation left it."""
    for name in names:
        for user_name in USERS:
            user = iam.user(user_name, domain=name)
            active = next(key for key in user["keys"] if key["status"] == "active")
            path = credentials_file(workdir, name, user_name)
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
            workdir.write_vaulted(path, render("yaml", Credentials(
                active["access"], active["secret"], user_id=user["id"], user_name=user_name,
                domain_id=user["domain_id"])))


def run_example(workdir, inventory: Path, *, check: bool = False):
    return workdir.run(PLAYBOOK, inventory=inventory, check=check, env=FORKS, keywarden_data_dir=str(data_dir(workdir)))


def recap(output: str) -> dict:
    return {host: {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", counts)}
            for host, counts in re.findall(r"^(\S+)\s+: (ok=.*)$", output.split("PLAY RECAP")[-1], re.M)}


def refusal(run) -> str:
    """The message of the one failed task of a run that was refused."""
    (failed,) = [entry for entry in run.results if entry["status"] == "failed"]
    return failed["result"]["msg"]


def held_key(workdir, account: str, user: str) -> str:
    return yaml.safe_load(workdir.decrypt(credentials_file(workdir, account, user)))["iam_access_key"]


def test_rotation_and_compliance_across_accounts_in_forks(workdir, iam):
    iam.reset(seed())
    plant_current_keys(workdir, iam)
    inventory = make_inventory(workdir, iam)
    before = {(name, user): iam.keys_of(user, domain=name) for name in ACCOUNTS for user in USERS}
    files_before = {path: path.read_bytes() for path in data_dir(workdir).rglob("iam_credentials.yml")}

    # Check mode: says what would change in every account, changes nothing anywhere. The keys are
    # still too old meanwhile, so each account's audit fails on them, as a real run would have
    # before the rotation.
    iam.reset_counters()
    check = run_example(workdir, inventory, check=True)
    assert iam.counters()["writes"] == 0
    assert {path: path.read_bytes() for path in data_dir(workdir).rglob("iam_credentials.yml")} == files_before
    assert not any(data_dir(workdir).rglob("access-key-compliance.*"))
    planned = [entry for entry in check.results
               if entry["task"].endswith("Rotate the users' keys into their vaulted files")]
    assert sorted(entry["host"] for entry in planned) == sorted(ACCOUNTS)
    for entry in planned:
        assert entry["status"] == "ok" and entry["result"]["summary"]["changed"] == 2, entry
    failed = [entry for entry in check.results if entry["status"] == "failed"]
    assert sorted(entry["host"] for entry in failed) == sorted(ACCOUNTS), check.output[-4000:]
    assert all(entry["task"].endswith("Fail on findings at or above compliance_fail_on_severity") for entry in failed)

    # For real, with latency, so that the accounts' requests would line up if they ran one by one.
    iam.set_latency(100)
    iam.control("POST", "requests/clear")
    run = run_example(workdir, inventory)
    iam.set_latency(0)
    assert run.rc == 0, run.output[-4000:]
    for name in ACCOUNTS:
        assert recap(run.output)[name]["failed"] == 0
        for user in ("deployer", "backup"):
            # Each account's new key is in that account's own file, and is that account's user's key.
            keys = {key["access"]: key for key in iam.keys_of(user, domain=name)}
            new = held_key(workdir, name, user)
            assert keys[new]["status"] == "active" and new not in {key["access"] for key in before[(name, user)]}
            old = next(key["access"] for key in before[(name, user)] if key["status"] == "active")
            assert keys[old]["status"] == "inactive"
            path = credentials_file(workdir, name, user)
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert iam.keys_of("reader", domain=name) == before[(name, "reader")]
        # Each account's report covers exactly that account's keys.
        report = json.loads((data_dir(workdir) / name / "reports" / "access-key-compliance.json").read_text())
        server = {key["access"] for user in iam.state()["accounts"][ACCOUNTS.index(name)]["users"]
                  for key in user["keys"]}
        assert {key["access_key_id"] for key in report["access_keys"]} == server
    # The same user name in three accounts: three users, three files, three different keys.
    assert len({held_key(workdir, name, "deployer") for name in ACCOUNTS}) == len(ACCOUNTS)

    # Forks: every account's requests (signed by its admin key) overlap every other account's in time.
    spans = {}
    for entry in iam.requests():
        for index, name in enumerate(ACCOUNTS):
            if entry["signer"] == admin_key(index)[0]:
                start, end = spans.get(name, (entry["time"], entry["time"]))
                spans[name] = (min(start, entry["time"]), max(end, entry["time"]))
    assert set(spans) == set(ACCOUNTS)
    assert max(start for start, _end in spans.values()) < min(end for _start, end in spans.values()), spans

    # A rerun changes nothing, in the cloud or on disk.
    files_after = {path: path.read_bytes() for path in data_dir(workdir).rglob("*") if path.is_file()}
    iam.reset_counters()
    again = run_example(workdir, inventory)
    assert again.rc == 0, again.output[-4000:]
    assert iam.counters()["writes"] == 0
    assert all(counts["changed"] == 0 for counts in recap(again.output).values()), again.output[-4000:]
    assert {path: path.read_bytes() for path in data_dir(workdir).rglob("*") if path.is_file()} == files_after


def test_an_account_with_a_wrong_key_fails_alone(workdir, iam):
    names = (*ACCOUNTS, "acct-wrong")
    iam.reset(seed(names))
    plant_current_keys(workdir, iam, names)
    inventory = make_inventory(workdir, iam, names, wrong_secret="acct-wrong")
    untouched = iam.keys_of("deployer", domain="acct-wrong")

    run = run_example(workdir, inventory)
    assert run.rc == 2
    counts = recap(run.output)
    assert counts["acct-wrong"]["failed"] == 1
    assert all(counts[name]["failed"] == 0 for name in ACCOUNTS), run.output[-4000:]
    # Only that account failed, and one message says why, naming its users.
    failures = [entry for entry in run.results if entry["status"] == "failed"]
    assert {entry["host"] for entry in failures} == {"acct-wrong"}
    (message,) = [entry["result"]["msg"] for entry in failures
                  if entry["task"].endswith("Say why users were not rotated")]
    assert message.startswith("3 of 3 users were not rotated. deployer, backup, reader: Failed to list the IAM users")
    assert "the IAM API did not accept the credentials" in message and "APIGW.0301" in message
    # The others finished: rotated and reported.
    for name in ACCOUNTS:
        assert iam.keys_of("deployer", domain=name)[0]["access"] != untouched[0]["access"]
        assert held_key(workdir, name, "deployer") in {key["access"] for key in iam.keys_of("deployer", domain=name)}
        assert (data_dir(workdir) / name / "reports" / "access-key-compliance.html").is_file()
    assert iam.keys_of("deployer", domain="acct-wrong") == untouched
    assert not (data_dir(workdir) / "acct-wrong" / "reports").exists()


def test_two_accounts_sharing_a_credentials_directory_are_refused_before_any_call(workdir, iam):
    iam.reset(seed())
    shared = str(workdir.path.resolve() / "shared")
    inventory = make_inventory(workdir, iam, overrides={name: {"rotation_vars_dir": shared} for name in ACCOUNTS[:2]})
    iam.reset_counters()
    run = run_example(workdir, inventory)
    assert run.rc == 2
    assert iam.counters()["total"] == 0
    assert refusal(run).startswith(f"Hosts {ACCOUNTS[0]}, {ACCOUNTS[1]} would all write the same credentials file "
                                   f"{shared}/backup/iam_credentials.yml")
    assert not (workdir.path / "shared").exists()


def test_two_accounts_sharing_a_report_are_refused_before_any_call(workdir, iam):
    iam.reset(seed())
    reports = str(workdir.path.resolve() / "reports")
    inventory = make_inventory(workdir, iam, overrides={name: {"compliance_report_dir": reports} for name in ACCOUNTS})
    iam.reset_counters()
    run = workdir.run("many_accounts_compliance.yml", inventory=inventory, env=FORKS,
                      keywarden_data_dir=str(data_dir(workdir)))
    assert run.rc == 2
    assert iam.counters()["total"] == 0
    assert refusal(run).startswith(f"Hosts {', '.join(ACCOUNTS)} would all write to the same place, "
                                   f"localhost:{reports}/access-key-compliance.*")
    assert not (workdir.path / "reports").exists()
