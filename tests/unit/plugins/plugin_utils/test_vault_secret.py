# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import PromptVaultSecret, VaultSecret

from ansible_collections.keywarden.iam.plugins.plugin_utils._vault_secret import (
    VaultSecretError,
    choose_encrypt_secret,
    loader_vault_secrets,
)

PROD = ("prod", VaultSecret(b"prod-password"))
DEV = ("dev", VaultSecret(b"dev-password"))
DEFAULT = ("default", VaultSecret(b"default-password"))


def choose(secrets, vault_id=None, default_encrypt_identity=None):
    return choose_encrypt_secret(secrets, vault_id=vault_id, default_encrypt_identity=default_encrypt_identity)


def test_reads_the_secrets_a_real_dataloader_holds() -> None:
    loader = DataLoader()
    secret = VaultSecret(b"pw")
    loader.set_vault_secrets([("prod", secret)])
    assert loader_vault_secrets(loader) == [("prod", secret)]


def test_secrets_without_bytes_are_left_out_of_the_loaders_list() -> None:
    loader = DataLoader()
    loader.set_vault_secrets([("prompt", PromptVaultSecret(vault_id="prompt")), PROD])
    assert loader_vault_secrets(loader) == [PROD]


def test_a_dataloader_without_secrets_gives_none() -> None:
    loader = DataLoader()
    assert loader_vault_secrets(loader) == []
    loader.set_vault_secrets(None)
    assert loader_vault_secrets(loader) == []


def test_the_only_secret_is_chosen() -> None:
    assert choose([PROD]) == PROD


def test_the_vault_id_option_picks_among_several() -> None:
    assert choose([PROD, DEV], vault_id="dev") == DEV


def test_vault_encrypt_identity_picks_when_the_option_is_unset() -> None:
    assert choose([PROD, DEV], default_encrypt_identity="prod") == PROD


def test_the_option_wins_over_vault_encrypt_identity() -> None:
    assert choose([PROD, DEV], vault_id="dev", default_encrypt_identity="prod") == DEV


def test_the_first_secret_of_a_repeated_id_wins() -> None:
    # match_encrypt_vault_id_secret() takes the first match, so the same here
    second = ("prod", VaultSecret(b"other"))
    assert choose([PROD, second], vault_id="prod") == PROD


def test_no_secret_at_all() -> None:
    with pytest.raises(VaultSecretError) as caught:
        choose([])
    assert str(caught.value) == (
        "No vault secret is loaded to encrypt the credentials file with: run with --vault-password-file / "
        "--vault-id / --ask-vault-pass, or set vault_password_file in ansible.cfg."
    )


def test_secrets_without_bytes_are_ignored() -> None:
    unanswered = ("prompt", PromptVaultSecret(vault_id="prompt"))
    with pytest.raises(VaultSecretError, match="No vault secret is loaded"):
        choose([unanswered, ("none", None)])
    assert choose([unanswered, PROD]) == PROD


def test_an_unknown_vault_id_lists_the_loaded_ids_and_no_secret() -> None:
    with pytest.raises(VaultSecretError) as caught:
        choose([PROD, DEV], vault_id="stage")
    message = str(caught.value)
    assert message == (
        "The vault id 'stage' from the vault_id option is not among the loaded vault ids (prod, dev): "
        "load it with --vault-id stage@<password file or prompt>, or choose a loaded id."
    )
    assert "password" not in message.replace("password file", "")


def test_an_unknown_vault_encrypt_identity_names_the_setting() -> None:
    with pytest.raises(VaultSecretError, match=r"from vault_encrypt_identity \(ANSIBLE_VAULT_ENCRYPT_IDENTITY\)"):
        choose([PROD], default_encrypt_identity="stage")


def test_several_secrets_and_no_choice_is_refused_like_ansible_vault() -> None:
    with pytest.raises(VaultSecretError) as caught:
        choose([PROD, DEV])
    assert str(caught.value) == (
        "Several vault secrets are loaded (prod, dev) and none is chosen to encrypt with: set the vault_id option, "
        "or vault_encrypt_identity in ansible.cfg (ANSIBLE_VAULT_ENCRYPT_IDENTITY)."
    )


def test_two_password_files_under_the_default_id_are_ambiguous_too() -> None:
    # ansible-vault counts secrets, not distinct ids
    with pytest.raises(VaultSecretError, match=r"Several vault secrets are loaded \(default\)"):
        choose([DEFAULT, ("default", VaultSecret(b"second"))])
