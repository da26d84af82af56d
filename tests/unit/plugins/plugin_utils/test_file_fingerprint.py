"""No key derivation for a run that changes nothing: the fingerprint beside each credentials file.

Each test runs access_key in-process (the function its action plugin calls) against the local
server and counts Ansible Vault's PBKDF2 key derivations (``VaultAES256._create_key_cryptography``),
the cost the fingerprint exists to avoid.
"""

from __future__ import annotations

import binascii
import json
import os
from contextlib import contextmanager
from pathlib import Path

from ansible.parsing.vault import VaultAES256, VaultLib

from tests.chaos.campaign import VAULT, held, params_for

FINGERPRINT = ".{}.fingerprint"


@contextmanager
def derivations():
    """Count PBKDF2 derivations (ansible caches them per password and salt: start with an empty cache)."""
    counted = []
    real = VaultAES256._create_key_cryptography
    VaultAES256._gen_key_initctr.cache_clear()

    def counting(*args, **kwargs):
        counted.append(1)
        return real(*args, **kwargs)

    VaultAES256._create_key_cryptography = staticmethod(counting)
    try:
        yield counted
    finally:
        VaultAES256._create_key_cryptography = staticmethod(real)
        VaultAES256._gen_key_initctr.cache_clear()


def fingerprint_of(path: Path) -> dict:
    return json.loads((path.parent / FINGERPRINT.format(path.name)).read_text())


def test_a_run_that_changes_nothing_derives_no_key(run, tmp_path):
    path = tmp_path / "bob.yml"
    run("bob", path)
    with derivations() as counted:
        result = run("bob", path, rotate="never")
    assert result["changed"] is False
    assert result["access_key_id"] == held(path)["iam_access_key"]
    assert len(counted) == 0


def test_a_rotation_derives_once_to_write_a_file_it_wrote(run, tmp_path):
    path = tmp_path / "bob.yml"
    run("bob", path)
    with derivations() as counted:
        result = run("bob", path)
    assert result["changed"] is True and result["created"]
    assert held(path)["iam_access_key"] == result["access_key_id"]
    assert len(counted) == 1


def test_a_file_it_did_not_write_is_read_once_then_remembered(run, iam, tmp_path):
    path = tmp_path / "bob.yml"
    run("bob", path)
    # Rekeyed with the same password (ansible-vault rekey, say): other bytes, a fresh salt.
    path.write_bytes(VaultLib(VAULT).encrypt(VaultLib(VAULT).decrypt(path.read_bytes()), VAULT[0][1]))
    with derivations() as counted:
        result = run("bob", path)
    assert result["changed"] is True
    assert len(counted) == 2  # one to read the file it did not write, one to write the new key
    with derivations() as counted:
        assert run("bob", path, rotate="never")["changed"] is False
    assert len(counted) == 0


def test_a_file_changed_since_its_fingerprint_is_decrypted_and_read_as_it_is(run, iam, tmp_path):
    path, other = tmp_path / "alice.yml", tmp_path / "bob.yml"
    run("alice", path)
    run("bob", other)
    # alice's file now holds bob's key, its record still says alice's: the bytes decide.
    path.write_bytes(other.read_bytes())
    with derivations() as counted:
        result = run("alice", path, rotate="never", may_fail=True)
    assert len(counted) == 1
    assert result["failed"] and f"holds access key {held(other)['iam_access_key']} of user" in result["msg"]
    assert fingerprint_of(path)["holds"]["access_key_id"] == held(other)["iam_access_key"]


def test_a_record_of_another_format_is_not_trusted(run, tmp_path):
    path = tmp_path / "bob.env"
    run("bob", path, credentials_format="env")
    record = fingerprint_of(path)
    (path.parent / FINGERPRINT.format(path.name)).write_text(json.dumps({**record, "format": "yaml"}))
    with derivations() as counted:
        assert run("bob", path, rotate="never", credentials_format="env")["changed"] is False
    assert len(counted) == 1
    assert fingerprint_of(path)["format"] == "env"


def test_the_record_holds_no_secret_and_every_file_its_own_salt(run, iam, tmp_path):
    files = {user: tmp_path / f"{user}.yml" for user in ("alice", "bob")}
    for user, path in files.items():
        run(user, path)
        run(user, path)  # rotated again: written without being decrypted
    salts = set()
    for path in files.values():
        record = (path.parent / FINGERPRINT.format(path.name)).read_text()
        for secret in iam.issued_secrets():
            assert secret not in record
        assert oct(os.stat(path.parent / FINGERPRINT.format(path.name)).st_mode & 0o777) == "0o600"
        payload = binascii.unhexlify(b"".join(path.read_bytes().splitlines()[1:]))
        salts.add(binascii.unhexlify(payload.split(b"\n")[0]))
    assert len(salts) == len(files)


def test_check_mode_writes_no_record(run, tmp_path):
    path = tmp_path / "bob.yml"
    run("bob", path)
    (path.parent / FINGERPRINT.format(path.name)).unlink()
    run("bob", path, check_mode=True, rotate="never")
    assert not (path.parent / FINGERPRINT.format(path.name)).exists()


def test_a_file_the_play_cannot_open_stops_a_rotation_that_must_read_it_before_any_change(run, iam, tmp_path):
    from ansible.parsing.vault import VaultSecret

    path = tmp_path / "bob.yml"
    run("bob", path)
    # Other variables beside the key: a rotation must read the file to keep them.
    text = VaultLib(VAULT).decrypt(path.read_bytes()).decode() + "other_setting: kept\n"
    path.write_bytes(VaultLib(VAULT).encrypt(text, VAULT[0][1]))
    run("bob", path, rotate="never")  # read once, remembered: the file is not whole
    keys = iam.keys_of("bob")
    from ansible_collections.keywarden.iam.plugins.plugin_utils._access_key_run import run_access_key
    from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import RunContext

    wrong = [("default", VaultSecret(b"not the password"))]
    context = RunContext(vault_secrets=wrong, default_encrypt_identity=None, check_mode=False, diff=False,
                         warn=lambda message: None, state_dir=str(tmp_path / "state"))
    result = run_access_key(params_for(iam, "bob", path), context)
    assert result["failed"] and "Cannot decrypt" in result["msg"]
    assert iam.keys_of("bob") == keys


def test_the_record_is_not_flushed_to_disk_but_the_credentials_file_is(run, tmp_path, monkeypatch):
    # A fingerprint lost or older than the file after a crash no longer matches the file's hash, so
    # flushing it buys nothing; the credentials file and its journal are flushed as before.
    import hashlib

    from ansible_collections.keywarden.iam.plugins.plugin_utils import _atomic_file, _file_fingerprint

    path = tmp_path / "bob.yml"
    run("bob", path)
    events = []
    real_fsync, real_fsync_directory, real_write = os.fsync, _atomic_file._fsync_directory, _atomic_file.write_atomic
    monkeypatch.setattr(_atomic_file.os, "fsync", lambda descriptor: events.append("fsync") or real_fsync(descriptor))
    monkeypatch.setattr(_atomic_file, "_fsync_directory",
                        lambda directory: events.append("fsync") or real_fsync_directory(directory))

    def recorded_write(target, *args, **kwargs):
        events.append(("write", os.path.basename(target)))
        try:
            return real_write(target, *args, **kwargs)
        finally:
            events.append(("written", os.path.basename(target)))

    monkeypatch.setattr(_file_fingerprint, "write_atomic", recorded_write)
    result = run("bob", path)
    assert result["created"]
    record = FINGERPRINT.format(path.name)
    assert ("write", record) in events  # the rotation recorded the new file...
    first = events.index(("write", record))
    assert events[first + 1] == ("written", record)  # ...with no flush to disk in between
    assert fingerprint_of(path)["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "fsync" in events  # the credentials file and the journal still are flushed
