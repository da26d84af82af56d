"""make demo: rotate a user's keys against the local IAM-compatible server, end to end.

1. Start the local server (HTTPS, with a CA it generates) from the demo seed: alice holds two
   keys, 200 and 130 days old.
2. Rotate alice into a vault-encrypted group_vars file, show the file with ansible-vault view.
3. Run the same playbook again: nothing changes.
4. Move the server's clock 100 days on and run again: the key in the file is now too old, so it
   is rotated within the two-key limit and the previous one is deactivated (a grace period).
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


def run(command: list, env: dict) -> None:
    print("$ " + " ".join(str(part) for part in command), flush=True)
    subprocess.run(command, env=env, check=True)


def main() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "inventory" / "group_vars" / "alice").mkdir(parents=True)
    vault_password = WORK / "vault-password"
    vault_password.write_text(secrets.token_urlsafe(24) + "\n")
    vault_password.chmod(0o600)
    credentials = WORK / "inventory" / "group_vars" / "alice" / "iam_credentials.yml"

    with FakeIam(SEEDS / "demo.json", tls=True) as iam:
        admin_key = iam.user("admin")["keys"][0]
        extra_vars = WORK / "demo-vars.yml"
        # The admin's own key, for the demo only: a real playbook reads it from a vaulted file.
        extra_vars.write_text(
            f"demo_iam_url: {iam.url}\ndemo_ca_file: {iam.ca_file}\n"
            f"demo_admin_ak: {admin_key['access']}\ndemo_admin_sk: {admin_key['secret']}\n"
            f"demo_credentials_file: {credentials}\n")
        extra_vars.chmod(0o600)
        env = {**os.environ, "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
               "ANSIBLE_HOME": str(WORK / "ansible-home")}
        playbook = [str(BIN / "ansible-playbook"), str(REPO / "demo" / "rotate.yml"), "-e", f"@{extra_vars}",
                    "--vault-password-file", str(vault_password), "--diff"]

        banner(f"Local IAM-compatible server at {iam.url} (TLS, CA {iam.ca_file})")
        banner("1. Rotate alice: two old keys, no key in her group_vars yet")
        run(playbook, env)

        banner(f"2. The new secret is in {credentials.relative_to(REPO)}, vault-encrypted (mode "
               f"{oct(credentials.stat().st_mode & 0o777)})")
        print(credentials.read_text().splitlines()[0] + "  ...", flush=True)
        run([str(BIN / "ansible-vault"), "view", "--vault-password-file", str(vault_password), str(credentials)], env)

        banner("3. Run it again: the key in the file is fresh, so nothing changes (changed=0)")
        run(playbook, env)

        banner("4. 100 days later (the server's clock moves on): the key is rotated within the two-key limit")
        iam.advance_clock(days=100)
        run(playbook, env)
        banner("Done: the server is stopped; the files are in .build/demo")


if __name__ == "__main__":
    main()
