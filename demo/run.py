"""make demo: rotate a user's keys against the local IAM-compatible server, end to end.

1. Start the local server (HTTPS, with a CA it generates) from the demo seed: alice holds two
   keys at the two-key limit: "alice laptop" (200 days old, used yesterday) and "alice old ci"
   (130 days old, unused for 125 days).
2. Give alice a key in a vault-encrypted group_vars file: room is made with the idle CI key;
   the laptop key, in use, survives. Show the file with ansible-vault view.
3. Run the same playbook again: nothing changes.
4. 100 days later (the server's clock moves on) the key in the file is too old. Alice's laptop
   is still in use (it signs a request), so a rotation would need a third key: the task refuses,
   changes nothing, and says why and what to do.
5. Alice's laptop key is retired (deactivated); now the rotation runs at the two-key limit: the
   inactive key makes room, the new key is stored and verified, the old one is deactivated.
6. Run it again: nothing changes.
Everything lives in .build/demo and the server is stopped at the end, whatever happens.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakeiam.harness import SEEDS, FakeIam  # noqa: E402

WORK = REPO / ".build" / "demo"
BIN = Path(sys.executable).parent


def banner(text: str) -> None:
    print(f"\n\033[1m=== {text}\033[0m", flush=True)


def run(command: list, env: dict, *, refused: bool = False) -> None:
    """Run a command; with ``refused``, it must fail (a task that refuses is part of the story)."""
    print("$ " + " ".join(str(part) for part in command), flush=True)
    completed = subprocess.run(command, env=env, check=not refused)
    if refused and completed.returncode == 0:
        raise SystemExit("the demo expected this run to refuse, and it did not")


def main() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "inventory" / "group_vars" / "alice").mkdir(parents=True)
    vault_password = WORK / "vault-password"
    vault_password.write_text(secrets.token_urlsafe(24) + "\n")
    vault_password.chmod(0o600)
    credentials = WORK / "inventory" / "group_vars" / "alice" / "iam_credentials.yml"

    with FakeIam(SEEDS / "demo.json", tls=True) as iam:
        admin_key = iam.user("admin")["keys"][0]
        laptop_key = next(key for key in iam.keys_of("alice") if key["description"] == "alice laptop")
        extra_vars = WORK / "demo-vars.yml"
        # The admin's and the laptop's keys, for the demo only: a real playbook reads them from a vaulted file.
        extra_vars.write_text(
            f"demo_iam_url: {iam.url}\ndemo_ca_file: {iam.ca_file}\n"
            f"demo_admin_ak: {admin_key['access']}\ndemo_admin_sk: {admin_key['secret']}\n"
            f"demo_laptop_ak: {laptop_key['access']}\ndemo_laptop_sk: {laptop_key['secret']}\n"
            f"demo_credentials_file: {credentials}\n")
        extra_vars.chmod(0o600)
        env = {**os.environ, "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
               "ANSIBLE_HOME": str(WORK / "ansible-home")}

        def playbook(name: str) -> list:
            return [str(BIN / "ansible-playbook"), str(REPO / "demo" / name), "-e", f"@{extra_vars}",
                    "--vault-password-file", str(vault_password), "--diff"]

        banner(f"Local IAM-compatible server at {iam.url} (TLS, CA {iam.ca_file})")
        banner("1. A key for alice's group_vars. She already holds two: 'alice laptop' (used yesterday) and "
               "'alice old ci' (unused for 125 days). The idle one makes room; the laptop key survives")
        run(playbook("rotate.yml"), env)

        banner(f"2. The new secret is in {credentials.relative_to(REPO)}, vault-encrypted (mode "
               f"{oct(credentials.stat().st_mode & 0o777)})")
        print(credentials.read_text().splitlines()[0] + "  ...", flush=True)
        run([str(BIN / "ansible-vault"), "view", "--vault-password-file", str(vault_password), str(credentials)], env)

        banner("3. Run it again: the key in the file is fresh, so nothing changes (changed=0)")
        run(playbook("rotate.yml"), env)

        banner("4. 100 days later the key in the file is too old; alice's laptop still uses its key every day. A "
               "rotation would need a third key, so the task refuses, changes nothing, and says what to do")
        iam.advance_clock(days=100)
        run(playbook("use-laptop.yml"), env)
        run(playbook("rotate.yml"), env, refused=True)

        banner("5. Alice moves her laptop to single sign-on; its key is deactivated. Now the rotation runs at the "
               "two-key limit: the inactive key makes room, the new key is stored and verified, the old one is "
               "deactivated for a grace period")
        run(playbook("retire-laptop.yml"), env)
        run(playbook("rotate.yml"), env)

        banner("6. Run it again: nothing changes (changed=0)")
        run(playbook("rotate.yml"), env)
        banner("Done: the server is stopped; the files are in .build/demo")


if __name__ == "__main__":
    main()
