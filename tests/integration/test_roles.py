"""The rotation and fleet_credentials roles, end to end."""

from __future__ import annotations

import re
import stat

import yaml

from tests.integration.conftest import ADMIN


def recap_changed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output.split("PLAY RECAP")[-1]))


def test_rotation_role_writes_vaulted_host_vars_and_is_idempotent(workdir, iam):
    vars_dir = workdir.path / "inventory" / "host_vars"
    run = workdir.run("rotation_role.yml", users=["alice", "bob"], vars_dir=str(vars_dir), **ADMIN)
    assert run.rc == 0, run.output
    for user in ("alice", "bob"):
        path = vars_dir / user / "iam_credentials.yml"
        held = yaml.safe_load(workdir.decrypt(path))
        server = {k["access"]: k["secret"] for k in iam.keys_of(user)}
        assert server[held["iam_access_key"]] == held["iam_secret_key"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "2 users checked, 2 rotated" in run.output
    again = workdir.run("rotation_role.yml", users=["alice", "bob"], vars_dir=str(vars_dir), **ADMIN)
    assert again.rc == 0 and recap_changed(again.output) == 0, again.output


def test_fleet_credentials_role_delivers_every_format_once(workdir, iam):
    source = workdir.path / "bob.yml"
    assert workdir.run(user_name="bob", credentials_file=str(source), **ADMIN).rc == 0
    held = yaml.safe_load(workdir.decrypt(source))
    inventory = workdir.path / "fleet.ini"
    lines = ["[fleet]"]
    for host in ("web1", "web2"):
        (workdir.path / host).mkdir()
        lines.append(f"{host} ansible_connection=local host_dir={workdir.path / host}")
    inventory.write_text("\n".join(lines) + "\n")

    run = workdir.run("fleet_credentials_role.yml", inventory=inventory, source=str(source), **ADMIN)
    assert run.rc == 0, run.output
    for host in ("web1", "web2"):
        env = (workdir.path / host / "iam.env").read_text()
        assert f"HUAWEICLOUD_SDK_AK={held['iam_access_key']}" in env
        assert f"HUAWEICLOUD_SDK_SK={held['iam_secret_key']}" in env
        profile = (workdir.path / host / "credentials").read_text()
        assert "[basic]" in profile and held["iam_secret_key"] in profile
        obsutil = (workdir.path / host / ".obsutilconfig").read_text()
        assert f"ak={held['iam_access_key']}" in obsutil and "endpoint=https://obs.example.com" in obsutil
        assert stat.S_IMODE((workdir.path / host / "iam.env").stat().st_mode) == 0o600
        assert stat.S_IMODE((workdir.path / host / "credentials").stat().st_mode) == 0o640
    again = workdir.run("fleet_credentials_role.yml", inventory=inventory, source=str(source), **ADMIN)
    assert again.rc == 0 and recap_changed(again.output) == 0, again.output


def test_fleet_credentials_role_refuses_a_world_readable_mode(workdir, iam):
    source = workdir.path / "bob.yml"
    assert workdir.run(user_name="bob", credentials_file=str(source), **ADMIN).rc == 0
    inventory = workdir.path / "fleet.ini"
    (workdir.path / "web1").mkdir()
    inventory.write_text(f"[fleet]\nweb1 ansible_connection=local host_dir={workdir.path / 'web1'}\n")
    run = workdir.run("fleet_credentials_role.yml", inventory=inventory, source=str(source), env_mode="0644", **ADMIN)
    assert run.rc != 0 and "would let every user of the host read the secret" in run.output
    assert not (workdir.path / "web1" / "iam.env").exists()
