"""Bad input, bad credentials, a dead endpoint, a refused call: each gives a specific message that
says what to do, and leaves the server and the files as they were. docs/bad-input.md publishes
this table."""

from __future__ import annotations

import socket
import subprocess
from dataclasses import dataclass, field

import pytest

from tests.fakeiam.harness import SEEDS, FakeIam
from tests.integration.conftest import ADMIN, BIN


@dataclass
class Case:
    name: str
    expected: str
    task: dict = field(default_factory=dict)
    vault_args: list | None = None


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CASES = [
    Case("wrong secret key", "did not accept the credentials", {"auth_sk": "x" * 40}),
    Case("wrong password", "The username or password is wrong",
         {"auth_ak": None, "auth_sk": None, "auth_username": "admin", "auth_password": "Not-the-Passw0rd",
          "auth_domain_name": "keywarden-demo"}),
    Case("unknown user", "no user has that name in this account. Check the spelling (user names are case-sensitive)",
         {"user_name": "nobody"}),
    Case("unknown access key id", "does not exist for this user",
         {"access_key_id": "NOSUCHKEY00000000000", "status": "inactive", "rotate": "never"}),
    Case("unreachable endpoint", "could not reach http://127.0.0.1",
         {"iam_url": "http://127.0.0.1:{closed_port}", "retries": 0}),
    # Issue 14: this said "The endpoint's TLS certificate is not trusted: set ca_path".
    Case("https to a plain-HTTP endpoint", "If it is a plain-HTTP server, name it with http://; otherwise fix the port",
         {"iam_url": "{plain_as_https}", "retries": 0}),
    Case("clock skew", "synchronise this machine's clock", {"skew": 20 * 60}),
    Case("missing destination directory", "does not exist",
         {"credentials_file": "{tmp}/no/such/dir/bob.yml"}),
    Case("unwritable destination directory", "could not be created or opened (Permission denied); make sure this user",
         {"credentials_file": "/sys/keywarden-bob.yml"}),
    Case("no vault secret", "No vault secret is loaded", {}, vault_args=[]),
    Case("two vault secrets and no choice", "set the vault_id option", {}, vault_args=["two"]),
    Case("file that is not vault-encrypted", "not vault-encrypted", {"plaintext_file": True}),
    Case("file encrypted with another secret", "no loaded vault secret", {"foreign_file": True}),
    Case("max_age below one day", "max_age is in days and must be at least 1",
         {"rotate": "when_older", "max_age": 0}),
    Case("world-readable file mode", "would let any user of the machine read the secret", {"file_mode": "0644"}),
    Case("when_older without max_age", "rotate is when_older but all of the following are missing: max_age",
         {"rotate": "when_older"}),
    Case("description too long", "IAM allows at most 255", {"description": "d" * 300}),
    # Why #7 of "Never lose a key": these ended in raw Python overflow messages.
    Case("max_age far too large", "max_age must be from 1 to 36500", {"rotate": "when_older", "max_age": 9999999999}),
    Case("timeout far too large", "timeout must be from 1 to 3600 seconds", {"timeout": 99999999999}),
    Case("setuid file mode", "sets the setuid, setgid or sticky bit", {"file_mode": "04600"}),
    Case("more workers than the cap", "max_workers must be from 1 to 128 (users at once), not 129",
         {"max_workers": 129}),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_explained_and_changes_nothing(case, workdir, iam):
    creds = workdir.path / "bob.yml"
    task = {**ADMIN, "user_name": "bob", "credentials_file": str(creds), "rotate": "always"}
    task.update(case.task)
    task = {key: value for key, value in task.items() if value is not None}
    if task.pop("plaintext_file", False):
        creds.write_text("iam_access_key: PLAIN\n")
    if task.pop("foreign_file", False):
        other = workdir.path / "other-password"
        other.write_text("someone else's\n")
        plain = workdir.path / "plain.yml"
        plain.write_text("iam_access_key: X\niam_secret_key: Y\n")
        subprocess.run([str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(other),
                        "--output", str(creds), str(plain)], check=True, capture_output=True)
    skew = task.pop("skew", None)
    if skew:
        iam.set_skew(skew)
    given = {"closed_port": closed_port(), "tmp": workdir.path, "plain_as_https": iam.url.replace("http:", "https:")}
    task = {key: (value.format(**given) if isinstance(value, str) else value) for key, value in task.items()}
    vault_args = case.vault_args
    if vault_args == ["two"]:
        other = workdir.path / "second-password"
        other.write_text("second\n")
        vault_args = ["--vault-id", f"prod@{workdir.vault_password_file}", "--vault-id", f"dev@{other}"]
    before_keys = sorted((k["access"], k["status"]) for k in iam.keys_of("bob"))
    before_file = creds.read_bytes() if creds.exists() else None
    iam.reset_counters()

    run = workdir.run(vault_args=vault_args, **task)

    assert run.rc != 0
    message = run.result()["msg"] if run.results else run.output
    assert case.expected in message, message
    assert iam.counters()["writes"] == 0
    assert sorted((k["access"], k["status"]) for k in iam.keys_of("bob")) == before_keys
    assert (creds.read_bytes() if creds.exists() else None) == before_file


def test_untrusted_certificate_then_ca_path_over_https(workdir):
    with FakeIam(SEEDS / "demo.json", tls=True) as server:
        workdir.iam = server
        creds = workdir.path / "bob.yml"
        refused = workdir.run(iam_url=server.url, user_name="bob", credentials_file=str(creds), retries=0, **ADMIN)
        assert refused.rc != 0 and "set ca_path" in refused.result()["msg"]
        assert server.counters()["total"] == 0 and not creds.exists()
        trusted = workdir.run(iam_url=server.url, ca_path=server.ca_file, user_name="bob",
                              credentials_file=str(creds), rotate="always", **ADMIN)
        assert trusted.rc == 0, trusted.output
        assert trusted.result()["created"]
        insecure = workdir.run(iam_url=server.url, validate_certs=False, user_name="bob",
                               credentials_file=str(creds), **ADMIN)
        assert insecure.rc == 0 and "validate_certs is false" in insecure.output
