# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a stored key back on the controller, and the lookup keywarden.iam.credentials built on it,
with a real DataLoader holding the play's vault secrets."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.parsing import vault as vault_module
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.keywarden.iam.plugins.lookup.credentials import DOCUMENTATION, LookupModule
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import FORMATS, Credentials, render
from ansible_collections.keywarden.iam.plugins.plugin_utils._credential_reader import (
    CredentialReadError,
    read_credentials,
)

PROD = ("prod", VaultSecret(b"prod-password"))
DEV = ("dev", VaultSecret(b"dev-password"))
SECRET = "s3cr3tS3CR3Ts3cr3tS3CR3Ts3cr3tS3CR3T0000"
TOKEN = "token-" + "x" * 40
KEY = Credentials("HPUAEXAMPLEAK0000001", SECRET, user_id="07609fb9358010e21f7bc003751c7c32", user_name="deployer",
                  domain_id="0970d7b7d400f2470fbec00316a03560", iam_endpoint="https://iam.eu-de.otc.t-systems.com")
HAS_ENCRYPTED_STRING = hasattr(vault_module, "EncryptedString")


def plant(path: Path, fmt: str, creds: Credentials = KEY, *, secret=PROD, prefix: str = "iam_") -> Path:
    text = render(fmt, creds, vars_prefix=prefix)
    if secret is None:
        path.write_text(text)
    else:
        path.write_bytes(VaultLib().encrypt(text, secret[1], vault_id=secret[0]))
    path.chmod(0o600)
    return path


def read(path: Path, fmt: str = "yaml", secrets=(PROD,), prefix: str = "iam_"):
    return read_credentials(str(path), fmt=fmt, vars_prefix=prefix, vault_secrets=list(secrets))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("vaulted", [True, False])
def test_every_format_vaulted_or_plain(tmp_path: Path, fmt: str, vaulted: bool) -> None:
    stored = read(plant(tmp_path / "creds", fmt, secret=PROD if vaulted else None), fmt)
    expected = {"csv": Credentials(KEY.access_key_id, SECRET, user_name="deployer")}.get(fmt)
    if fmt == "obsutil":
        expected = Credentials(KEY.access_key_id, SECRET, user_id=KEY.user_id, user_name="deployer",
                               domain_id=KEY.domain_id)
    assert stored.creds == (expected or KEY)
    assert stored.opened_with == (PROD if vaulted else None)


def test_the_secret_that_opens_the_file_is_the_one_reported(tmp_path: Path) -> None:
    assert read(plant(tmp_path / "creds", "env", secret=DEV), "env", secrets=(PROD, DEV)).opened_with == DEV


@pytest.mark.parametrize(("setup", "secrets", "message"), [
    ("missing", (PROD,), "the file does not exist; check the path"),
    ("other-vault", (PROD,), "it is encrypted with vault id 'dev', and no loaded vault secret (ids: prod) opens it"),
    ("other-vault", (), "it is vault-encrypted and no vault secret is loaded"),
    ("bad-vault", (PROD,), "it has a vault header but is not a valid vault file"),
    ("wrong-format", (PROD,), "does not hold valid env credentials"),
    ("empty", (PROD,), "holds no access key in the yaml format (variables iam_access_key and iam_secret_key)"),
    ("binary", (PROD,), "it is not UTF-8 text"),
])
def test_refusals_name_the_file_never_its_content(tmp_path: Path, setup: str, secrets, message: str) -> None:
    path = tmp_path / "creds"
    fmt = "yaml"
    if setup == "other-vault":
        plant(path, "yaml", secret=DEV)
    elif setup == "bad-vault":
        path.write_text("$ANSIBLE_VAULT;1.1;AES256\nnot hex " + SECRET + "\n")
    elif setup == "wrong-format":
        plant(path, "yaml")
        fmt = "env"
    elif setup == "empty":
        path.write_text("---\nother: 1\n")
    elif setup == "binary":
        path.write_bytes(b"\xff\xfe" + SECRET.encode())
    with pytest.raises(CredentialReadError) as caught:
        read(path, fmt, secrets=secrets)
    assert message in str(caught.value)
    assert SECRET not in str(caught.value)


def test_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(CredentialReadError, match="it is a FIFO \\(named pipe\\), not a regular file"):
        read(tmp_path / "fifo")
    with pytest.raises(CredentialReadError, match="it is a directory, not a regular file"):
        read(tmp_path)


def test_a_link_in_a_directory_others_can_write_is_refused(tmp_path: Path) -> None:
    real = plant(tmp_path / "real.yml", "yaml")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # no sticky bit: anyone could have planted the link
    (shared / "creds.yml").symlink_to(real)
    with pytest.raises(CredentialReadError) as caught:
        read(shared / "creds.yml")
    assert str(caught.value).startswith(f"Refusing to use {shared / 'creds.yml'}: the symbolic link")
    assert "credentials_file" not in str(caught.value)


def test_a_link_of_this_user_in_a_private_directory_is_followed(tmp_path: Path) -> None:
    real = plant(tmp_path / "real.yml", "yaml")
    (tmp_path / "link.yml").symlink_to(real)
    assert read(tmp_path / "link.yml").creds == KEY


def test_a_directory_this_user_cannot_write_is_fine_for_reading(tmp_path: Path, monkeypatch) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    plant(directory / "creds.yml", "yaml")
    real_access = os.access

    def access(path, mode, **kwargs):  # as for a non-root user in a read-only directory
        if str(path) == str(directory) and mode & os.W_OK:
            return False
        return real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    assert read(directory / "creds.yml").creds == KEY
    with pytest.raises(CredentialReadError, match="the file does not exist"):
        read(directory / "missing" / "creds.yml")


def test_an_unknown_format_or_prefix(tmp_path: Path) -> None:
    with pytest.raises(CredentialReadError, match="unknown credential file format 'json'"):
        read(tmp_path / "x", "json")
    with pytest.raises(CredentialReadError, match="vars_prefix"):
        read(tmp_path / "x", "yaml", prefix="9")


# ---- the lookup ---------------------------------------------------------------------------------

def lookup(tmp_path: Path, terms, secrets=(PROD,), **options):
    loader = DataLoader()
    loader.set_basedir(str(tmp_path))
    loader.set_vault_secrets(list(secrets))
    plugin = LookupModule(loader=loader)
    # What the plugin loader does when it loads the plugin: register its options from its docs.
    plugin._load_name = "keywarden.iam.credentials"
    C.config.initialize_plugin_configuration_definitions("lookup", plugin._load_name,
                                                         yaml.safe_load(DOCUMENTATION)["options"])
    return plugin.run(terms, variables={}, **options)


def plaintext(value) -> str:
    if HAS_ENCRYPTED_STRING:
        return VaultLib([PROD, DEV]).decrypt(vault_module.VaultHelper.get_ciphertext(value, with_tags=False)).decode()
    return VaultLib([PROD, DEV]).decrypt(value._ciphertext).decode()


def test_lookup_returns_the_key_with_its_secrets_vaulted(tmp_path: Path) -> None:
    temporary = Credentials("HPUATEMPORARYAK00001", SECRET, security_token=TOKEN, expires_at="2026-03-02T09:00:00Z")
    plant(tmp_path / "perm.yml", "yaml")
    plant(tmp_path / "temp.env", "env", temporary, secret=None)
    [perm] = lookup(tmp_path, ["perm.yml"])  # relative: from the playbook's directory
    [temp] = lookup(tmp_path, [str(tmp_path / "temp.env")], format="env")
    assert {name: value for name, value in perm.items() if name not in ("secret_access_key",)} == {
        "access_key_id": KEY.access_key_id, "user_id": KEY.user_id, "user_name": "deployer",
        "domain_id": KEY.domain_id, "iam_endpoint": KEY.iam_endpoint, "obs_endpoint": None, "expires_at": None,
        "security_token": None,
    }
    assert temp["expires_at"] == "2026-03-02T09:00:00Z"
    for value, expected in ((perm["secret_access_key"], SECRET), (temp["secret_access_key"], SECRET),
                            (temp["security_token"], TOKEN)):
        assert not isinstance(value, str)
        if HAS_ENCRYPTED_STRING:  # 2.18's vaulted value shows its plaintext in repr()
            assert expected not in repr(value)
        assert plaintext(value) == expected


@pytest.mark.skipif(not HAS_ENCRYPTED_STRING, reason="ansible-core 2.19+")
def test_lookup_secrets_are_redacted_for_callbacks_and_plain_for_templates(tmp_path: Path, monkeypatch) -> None:
    from ansible.utils.vars import transform_to_native_types

    plant(tmp_path / "creds.yml", "yaml", secret=DEV)
    [found] = lookup(tmp_path, ["creds.yml"], secrets=(PROD, DEV))
    assert transform_to_native_types(found)["secret_access_key"] == "<redacted>"
    monkeypatch.setattr(vault_module.VaultSecretsContext, "_current", vault_module.VaultSecretsContext([PROD, DEV]))
    assert str(found["secret_access_key"]) == SECRET
    # encrypted with the secret that opened the file
    ciphertext = vault_module.VaultHelper.get_ciphertext(found["secret_access_key"], with_tags=False)
    assert ciphertext.startswith("$ANSIBLE_VAULT;1.2;AES256;dev\n")


def test_lookup_of_a_plain_file_needs_a_vault_secret_to_protect_the_secret(tmp_path: Path) -> None:
    plant(tmp_path / "creds.csv", "csv", secret=None)
    with pytest.raises(AnsibleLookupError, match="no vault secret is loaded to encrypt it with"):
        lookup(tmp_path, ["creds.csv"], secrets=(), format="csv")
    [found] = lookup(tmp_path, ["creds.csv"], secrets=(PROD, DEV), format="csv")  # none chosen: any will do
    assert plaintext(found["secret_access_key"]) == SECRET


def test_lookup_errors_say_which_plugin(tmp_path: Path) -> None:
    with pytest.raises(AnsibleLookupError) as caught:
        lookup(tmp_path, ["missing.yml"])
    assert str(caught.value).startswith(f"keywarden.iam.credentials: Cannot read {tmp_path / 'missing.yml'}: the file "
                                        "does not exist")


def test_lookup_of_several_files(tmp_path: Path) -> None:
    plant(tmp_path / "a.yml", "yaml")
    plant(tmp_path / "b.yml", "yaml", Credentials("HPUAEXAMPLEAK0000002", SECRET), prefix="other_")
    found = lookup(tmp_path, ["a.yml"]) + lookup(tmp_path, ["b.yml"], vars_prefix="other_")
    assert [entry["access_key_id"] for entry in found] == ["HPUAEXAMPLEAK0000001", "HPUAEXAMPLEAK0000002"]
