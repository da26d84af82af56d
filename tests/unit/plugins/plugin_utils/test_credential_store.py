# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import stat
from pathlib import Path

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.parsing import vault as vault_module
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import FORMATS, Credentials, render
from ansible_collections.keywarden.iam.plugins.plugin_utils._credential_store import (
    CredentialFileError,
    VaultedCredentialFile,
    WriteResult,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._vault_secret import choose_encrypt_secret, loader_vault_secrets

PROD = ("prod", VaultSecret(b"prod-password"))
DEV = ("dev", VaultSecret(b"dev-password"))
DEFAULT = ("default", VaultSecret(b"default-password"))

SECRET = "SKsecretVALUE0123456789abcdefghijklmnop"
CREDS = Credentials("AKEXAMPLE", SECRET, user_id="0a1b2c", user_name="alice", domain_id="d0d0")
ROTATED = Credentials("AKROTATED", "SKnewSECRET", user_id="0a1b2c", user_name="alice", domain_id="d0d0")


def store(path: Path, fmt: str = "yaml", encrypt=PROD, secrets=(PROD,), **kwargs) -> VaultedCredentialFile:
    return VaultedCredentialFile(path=str(path), fmt=fmt, encrypt_secret=encrypt, vault_secrets=list(secrets), **kwargs)


def write(credentials: VaultedCredentialFile, creds: Credentials) -> WriteResult:
    """Read the file, then write ``creds`` into it: what a run does under the file's lock."""
    return credentials.write(creds, credentials.read())[0]


def encrypt(plaintext: str, secret=PROD) -> bytes:
    return VaultLib().encrypt(plaintext, secret[1], vault_id=secret[0])


def fingerprint(path: Path) -> tuple:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns, stat.S_IMODE(info.st_mode), path.read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_then_read_round_trips(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "creds"
    credentials = store(path, fmt)
    assert credentials.read().creds is None
    written = write(credentials, CREDS)
    assert written == WriteResult(changed=True, backup_file=None)
    assert credentials.read().creds.access_key_id == "AKEXAMPLE"
    vaulttext = path.read_bytes()
    assert written.content == vaulttext
    assert vaulttext.startswith(b"$ANSIBLE_VAULT;1.2;AES256;prod\n")
    assert SECRET.encode() not in vaulttext
    # what ansible-vault view would show
    assert VaultLib([PROD]).decrypt(vaulttext).decode() == render(fmt, CREDS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_default_vault_id_writes_an_unlabelled_header_like_ansible_vault(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    write(store(path, encrypt=DEFAULT, secrets=[DEFAULT]), CREDS)
    assert path.read_bytes().splitlines()[0] == b"$ANSIBLE_VAULT;1.1;AES256"


def test_the_yaml_file_loads_as_vars_with_the_vault_secret(tmp_path: Path) -> None:
    path = tmp_path / "creds.yml"
    write(store(path), CREDS)
    loader = DataLoader()
    loader.set_vault_secrets([PROD])
    assert loader.load_from_file(str(path))["iam_secret_key"] == SECRET


def test_a_current_file_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    credentials = store(path, backup=True)
    write(credentials, CREDS)
    before = fingerprint(path)
    assert credentials.holds(credentials.read(), CREDS)
    assert write(credentials, CREDS) == WriteResult(changed=False)
    assert fingerprint(path) == before
    assert [item.name for item in tmp_path.iterdir()] == ["creds"]


def test_a_file_written_by_hand_with_the_same_key_is_current(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    path.write_bytes(encrypt(f"# tidied by hand\niam_secret_key: {SECRET}\niam_access_key: AKEXAMPLE\n"))
    credentials = store(path)
    assert credentials.holds(credentials.read(), Credentials("AKEXAMPLE", SECRET))


def test_new_credentials_replace_the_file_and_the_backup_keeps_the_old(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    credentials = store(path, backup=True, mode=0o640)
    write(credentials, CREDS)
    assert not credentials.holds(credentials.read(), ROTATED)
    result = write(credentials, ROTATED)
    assert result.changed and result.backup_file is not None
    assert credentials.read().creds.access_key_id == "AKROTATED"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    backup = Path(result.backup_file)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert store(backup).read().creds.access_key_id == "AKEXAMPLE"


def test_a_file_from_another_secret_in_the_loader_is_read_and_rekeyed_on_change(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    write(store(path, encrypt=DEV, secrets=[DEV]), CREDS)
    loader = DataLoader()
    loader.set_vault_secrets([PROD, DEV])
    secrets = loader_vault_secrets(loader)
    credentials = store(path, encrypt=choose_encrypt_secret(secrets, vault_id="prod", default_encrypt_identity=None), secrets=secrets)
    assert credentials.holds(credentials.read(), CREDS)
    assert not write(credentials, CREDS).changed
    assert path.read_bytes().startswith(b"$ANSIBLE_VAULT;1.2;AES256;dev\n")  # untouched
    assert write(credentials, ROTATED).changed
    assert path.read_bytes().startswith(b"$ANSIBLE_VAULT;1.2;AES256;prod\n")


def test_a_file_under_a_secret_we_lack_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    write(store(path), CREDS)
    before = fingerprint(path)
    credentials = store(path, encrypt=DEV, secrets=[DEV, DEFAULT])
    for attempt in (credentials.read, lambda: write(credentials, ROTATED)):
        with pytest.raises(CredentialFileError) as caught:
            attempt()
        assert str(caught.value) == (
            f"Cannot decrypt {path}: it is encrypted with vault id 'prod', and no loaded vault secret "
            "(ids: dev, default) opens it; load its secret with --vault-id prod@<password file or prompt>"
        )
    assert fingerprint(path) == before


def test_an_unlabelled_file_under_a_secret_we_lack(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    path.write_bytes(encrypt(render("yaml", CREDS), DEFAULT))
    with pytest.raises(CredentialFileError) as caught:
        store(path).read()
    assert str(caught.value) == (
        f"Cannot decrypt {path}: its header names no vault id, and no loaded vault secret (ids: prod) opens it; "
        "load its secret with --vault-id or --vault-password-file"
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_plaintext_file_is_refused_and_untouched(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "creds"
    path.write_text(render(fmt, CREDS))
    path.chmod(0o644)
    before = fingerprint(path)
    credentials = store(path, fmt, backup=True)
    for attempt in (credentials.read, lambda: write(credentials, ROTATED)):
        with pytest.raises(CredentialFileError) as caught:
            attempt()
        assert str(caught.value) == (
            f"{path} exists but is not vault-encrypted: refusing to overwrite a plaintext file that may hold a secret; "
            "move it away or encrypt it with ansible-vault"
        )
    assert fingerprint(path) == before
    assert [item.name for item in tmp_path.iterdir()] == ["creds"]


def test_malformed_content_is_reported_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    path.write_bytes(encrypt(f"iam_access_key: AK\niam_secret_key: [{SECRET}]\n"))
    with pytest.raises(CredentialFileError) as caught:
        write(store(path), ROTATED)
    message = str(caught.value)
    assert message.startswith(f"{path} does not hold valid yaml credentials (yaml credentials line 2: quote this value")
    assert message.endswith("if it holds another format, set the format to match, else move the file away")
    assert SECRET not in message


def test_a_vaulted_vars_file_keeps_its_other_variables_and_comments(tmp_path: Path) -> None:
    # Why #5 of "Never lose a key": a rotation dropped db_password and every other variable.
    path = tmp_path / "vault.yml"
    others = "# team secrets\ndb_password: hunter2\nsmtp:\n  user: mail\n  hosts: [a, b]\n"
    path.write_bytes(encrypt(others))
    credentials = store(path)
    write(credentials, CREDS)
    write(credentials, ROTATED)
    text = VaultLib([PROD]).decrypt(path.read_bytes()).decode()
    assert text.startswith(others)
    loader = DataLoader()
    loader.set_vault_secrets([PROD])
    loaded = loader.load_from_file(str(path))
    assert loaded["db_password"] == "hunter2" and loaded["smtp"] == {"user": "mail", "hosts": ["a", "b"]}
    assert loaded["iam_access_key"] == "AKROTATED"


def test_a_yaml_file_that_is_not_a_mapping_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "vault.yml"
    path.write_bytes(encrypt("- just\n- a list\n"))
    before = fingerprint(path)
    with pytest.raises(CredentialFileError):
        write(store(path), CREDS)
    assert fingerprint(path) == before


def test_a_write_that_would_change_another_variable_is_refused(tmp_path: Path, monkeypatch) -> None:
    # The line-based merge is checked with a real YAML loader: if it ever changed another
    # variable (here: a merge that drops a line on purpose), nothing is written.
    from ansible_collections.keywarden.iam.plugins.plugin_utils import _credential_store

    path = tmp_path / "vault.yml"
    path.write_bytes(encrypt("db_password: hunter2\n"))
    before = fingerprint(path)
    monkeypatch.setattr(_credential_store, "render", lambda fmt, creds, vars_prefix, into: render(fmt, creds))
    with pytest.raises(CredentialFileError, match="would change its other variables"):
        write(store(path), CREDS)
    assert fingerprint(path) == before


def test_a_broken_vault_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    path.write_bytes(b"$ANSIBLE_VAULT;1.1;AES256\nnot hex at all\n")
    with pytest.raises(CredentialFileError, match="has a vault header but is not a valid vault file"):
        store(path).read()


@pytest.mark.parametrize("content", [b"", b"\n  \n"])
def test_an_empty_file_holds_nothing_and_may_be_replaced(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "creds"
    path.write_bytes(content)
    credentials = store(path)
    assert credentials.read().creds is None
    assert write(credentials, CREDS).changed


def test_credentials_a_format_cannot_hold_fail_before_the_file_is_touched(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    credentials = store(path, "csv")
    write(credentials, CREDS)
    before = fingerprint(path)
    with pytest.raises(CredentialFileError, match=f"Cannot write {path}: the csv format cannot hold a security token"):
        write(credentials, Credentials("ASIATEMP", "SK", security_token="token"))
    assert fingerprint(path) == before


@pytest.mark.parametrize(("fmt", "prefix", "message"), [("json", "iam_", "unknown credential file format"), ("yaml", "9", "vars_prefix")])
def test_bad_options_fail_at_construction(tmp_path: Path, fmt: str, prefix: str, message: str) -> None:
    with pytest.raises(CredentialFileError, match=message):
        store(tmp_path / "creds", fmt, vars_prefix=prefix)


HAS_ENCRYPTED_STRING = hasattr(vault_module, "EncryptedString")


@pytest.mark.skipif(not HAS_ENCRYPTED_STRING, reason="ansible-core 2.19+")
def test_vaulted_text_is_redacted_for_callbacks_and_plain_for_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible.utils.vars import transform_to_native_types

    vault = vault_module

    value = store(tmp_path / "creds").vaulted_text(SECRET)
    assert isinstance(value, vault.EncryptedString)
    assert SECRET not in repr(value)
    ciphertext = vault.VaultHelper.get_ciphertext(value, with_tags=False)
    assert ciphertext.startswith("$ANSIBLE_VAULT;1.2;AES256;prod\n")
    assert VaultLib([PROD]).decrypt(ciphertext) == SECRET.encode()
    # what a callback receives (TaskResult.result): redacted
    assert transform_to_native_types({"secret": value}) == {"secret": "<redacted>"}
    # what a later task's template sees, once the CLI has published the play's vault secrets
    monkeypatch.setattr(vault.VaultSecretsContext, "_current", vault.VaultSecretsContext([PROD]))
    assert str(value) == SECRET


@pytest.mark.skipif(HAS_ENCRYPTED_STRING, reason="ansible-core 2.18")
def test_vaulted_text_on_ansible_core_2_18(tmp_path: Path) -> None:
    import json

    from ansible.parsing.ajson import AnsibleJSONEncoder
    from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode

    value = store(tmp_path / "creds").vaulted_text(SECRET)
    assert isinstance(value, AnsibleVaultEncryptedUnicode)
    assert str(value) == SECRET  # templates decrypt it with the VaultLib it carries
    # callbacks show the ciphertext
    shown = json.loads(json.dumps({"secret": value}, cls=AnsibleJSONEncoder))
    assert shown["secret"]["__ansible_vault"].startswith("$ANSIBLE_VAULT;1.2;AES256;prod\n")
    assert SECRET not in json.dumps(shown)


def test_yaml_is_read_with_libyaml_when_pyyaml_has_it_as_ansible_does(tmp_path: Path, monkeypatch) -> None:
    # The pure-Python parser cost a batch of thousands of vaulted YAML files most of its CPU.
    import yaml

    from ansible_collections.keywarden.iam.plugins.plugin_utils import _credential_store

    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml: the pure-Python loader is all there is")
    used = []
    real_load = yaml.load
    monkeypatch.setattr(_credential_store.yaml, "load",
                        lambda text, Loader: used.append(Loader) or real_load(text, Loader))
    path = tmp_path / "vault.yml"
    path.write_bytes(encrypt("db_password: hunter2\n"))
    write(store(path), CREDS)
    assert used and set(used) == {yaml.CSafeLoader}


@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
def test_invalid_yaml_names_its_line_and_quotes_none_of_it(tmp_path: Path, monkeypatch, loader: str) -> None:
    # The pure-Python loader's own message quotes the text; neither may reach the error.
    import yaml

    from ansible_collections.keywarden.iam.plugins.plugin_utils import _credential_store

    if not hasattr(yaml, loader):
        pytest.skip(f"PyYAML has no {loader} here")
    monkeypatch.setattr(_credential_store, "_SAFE_LOADER", getattr(yaml, loader))
    path = tmp_path / "vault.yml"
    path.write_bytes(encrypt("region: eu\ndb_password: [hunter2 }\n"))  # the loader's snippet shows the line
    with pytest.raises(CredentialFileError, match=r"is not valid YAML \(line 2\)") as raised:
        write(store(path), CREDS)
    assert "hunter2" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
