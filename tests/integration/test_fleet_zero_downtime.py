"""Zero-downtime fleet rotation: services on five hosts use the key all the time while it rotates.

Each host (a directory with a local connection) runs a service that signs a request every 100 ms
with the key in its env file, with the vendor SDK, and reloads on SIGHUP. The fleet rotation
playbook (tests/integration/playbooks/fleet_rotation.yml, the shape of the documented example)
rotates the key keeping the old one active, delivers and verifies two hosts at a time with a
reload handler, and retires the old key once nobody has used it since the last host switched.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import yaml

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials
from tests.fleet.fleet import Fleet
from tests.integration.conftest import ADMIN

HOSTS = 5
PROBE = ("{{ ansible_playbook_python }} -c \"import json, sys; print(json.load(open(sys.argv[1]))['access_key'])\" "
         "{{ host_dir }}/consumer.json")


def make_fleet(workdir, iam, *, never_reloading=()):
    """User 'app' with a key 100 days old, in the controller's vaulted file and on every host."""
    iam.add_user("app", keys=[{"age_days": 100, "description": "the fleet's key"}])
    user, (old,) = iam.user("app"), iam.keys_of("app")
    creds = workdir.path / "app.yml"
    workdir.write_vaulted(creds, "---\n" + "".join(f'{name}: "{value}"\n' for name, value in (
        ("iam_access_key", old["access"]), ("iam_secret_key", old["secret"]), ("iam_user_id", user["id"]),
        ("iam_user_name", "app"), ("iam_domain_id", user["domain_id"]))))
    fleet = Fleet.of(workdir.path / "fleet", iam.url, HOSTS, never_reloading=never_reloading)
    fleet.deliver_by_hand(Credentials(old["access"], old["secret"], user_id=user["id"], user_name="app",
                                      domain_id=user["domain_id"]))
    return creds, fleet, old


def role_vars(workdir, iam, creds, fleet, **extra) -> dict:
    return {
        "fleet_rotation_user_name": "app",
        "fleet_rotation_credentials_file": str(creds),
        "fleet_rotation_hosts": [host.name for host in fleet.hosts],
        # The local server records last use at once; the cloud takes a while (default 900 s).
        "fleet_rotation_quiet_period": 3,
        "fleet_rotation_poll_delay": 1,
        "fleet_rotation_wait": 60,
        "fleet_rotation_report_file": str(workdir.path / "report.json"),
        **ADMIN, **extra,
    }


# Per host, so group vars (a host may override them; the controller's phases would template extra vars too).
def fleet_vars(iam) -> dict:
    return {"fleet_rotation_files": [{"format": "env", "path": "{{ host_dir }}/app.env", "mode": "0600"}],
            "fleet_rotation_probe": PROBE, "fleet_rotation_check_endpoint": {"iam_endpoint": iam.url}}


def held_key(workdir, creds) -> str:
    return yaml.safe_load(workdir.decrypt(creds))["iam_access_key"]


def status(iam, key_id):
    return {key["access"]: key["status"] for key in iam.keys_of("app")}.get(key_id)


def record_for_the_docs(log, old, new, states, deactivation) -> None:
    """With KEYWARDEN_FLEET_RECORD set, keep this run's data for tools/fleet_timeline.py (the guide's picture)."""
    target = os.environ.get("KEYWARDEN_FLEET_RECORD")
    if not target:
        return
    (created,) = [entry["time"] for entry in log if entry["operation"] == "create_credential" and entry["status"] == 201]
    switches = {name: state["switches"][-1]["time"] for name, state in states.items()}
    Path(target).write_text(json.dumps({
        "title": f"A fleet rotation with zero failed requests: {len(states)} hosts, a service on each",
        "subtitle": "keywarden.iam.fleet_rotation against the local IAM server; two hosts at a time, quiet period 3 s",
        "old_key": old, "new_key": new, "switches": switches,
        "requests": [entry for entry in log if entry["signer"] in (old, new)],
        "events": [["new key created", created, "#4a7"], ["last host switched", max(switches.values()), "#555"],
                   ["old key deactivated", deactivation, "#d22"]],
    }))


def changed_tasks(run) -> list:
    return [(entry["host"], entry["task"]) for entry in run.results if entry["result"].get("changed")]


def test_a_fleet_rotates_while_its_services_run_with_zero_failed_requests(workdir, iam):
    creds, fleet, old = make_fleet(workdir, iam)
    inventory = fleet.inventory(workdir.path / "inventory.yml", group_vars=fleet_vars(iam))
    variables = role_vars(workdir, iam, creds, fleet)
    fleet.start()
    try:
        run = workdir.run("fleet_rotation.yml", inventory=inventory, **variables)
        time.sleep(1)  # the services go on with the new key
    finally:
        states = fleet.stop()
    assert run.rc == 0, run.output[-4000:]
    new = held_key(workdir, creds)
    assert new != old["access"]

    # Zero failed requests, on every host, through the whole rotation.
    assert {name: state["failures"] for name, state in states.items()} == {host.name: {} for host in fleet.hosts}
    assert all(state["access_key"] == new for state in states.values())
    assert all([switch["access_key"] for switch in state["switches"]] == [old["access"], new]
               for state in states.values())
    assert sum(sum(state["requests"].values()) for state in states.values()) > 100

    # The old key was deactivated only after the last request any service signed with it.
    assert (status(iam, old["access"]), status(iam, new)) == ("inactive", "active")
    log = iam.requests()
    last_use = max(entry["time"] for entry in log if entry["signer"] == old["access"] and entry["status"] == 200)
    (deactivation,) = [entry["time"] for entry in log if entry["operation"] == "update_credential"
                       and entry["target"] == old["access"] and entry["status"] == 200]
    assert last_use < deactivation
    last_switch = max(state["switches"][-1]["time"] for state in states.values())
    assert last_switch < deactivation
    record_for_the_docs(log, old["access"], new, states, deactivation)

    report = json.loads((workdir.path / "report.json").read_text())
    assert report["retirement"]["access_key_id"] == old["access"] and report["retirement"]["state"] == "retiring"
    assert report["unverified"] == [] and report["still_using_old_key"] == []
    assert all(host["verified"] and host["files"][0]["access_key_id"] == new for host in report["hosts"].values())

    # A rerun changes nothing, on any host.
    fleet.start()
    try:
        again = workdir.run("fleet_rotation.yml", inventory=inventory, **variables)
    finally:
        fleet.stop()
    assert again.rc == 0, again.output[-4000:]
    assert changed_tasks(again) == []


def test_a_service_that_never_reloads_keeps_the_old_key_active_and_is_named(workdir, iam):
    creds, fleet, old = make_fleet(workdir, iam, never_reloading=("host3",))
    inventory = fleet.inventory(workdir.path / "inventory.yml", group_vars=fleet_vars(iam))
    fleet.start()
    try:
        run = workdir.run("fleet_rotation.yml", inventory=inventory, **role_vars(workdir, iam, creds, fleet))
    finally:
        states = fleet.stop()
    assert run.rc == 0, run.output[-4000:]
    assert all(not state["failures"] for state in states.values())
    assert states["host3"]["access_key"] == old["access"]  # it never reloaded
    assert status(iam, old["access"]) == "active"
    report = json.loads((workdir.path / "report.json").read_text())
    assert report["still_using_old_key"] == ["host3"] and report["retirement"] is None
    assert "not retired: the services on host3 still use another key" in report["summary"]
    # ... and the old key's last use, after the last host switched, is in the report.
    (old_key,) = [key for key in report["keys"] if key["access_key_id"] == old["access"]]
    assert old_key["status"] == "active" and old_key["last_used"] > report["switched_at"].replace("Z", "")


def test_a_host_that_fails_verification_stops_the_rollout_and_rollback_restores_the_old_key(workdir, iam):
    creds, fleet, old = make_fleet(workdir, iam)
    broken = {"host3": {"fleet_rotation_check_endpoint": {"iam_endpoint": "http://127.0.0.1:9", "timeout": 2}}}
    inventory = fleet.inventory(workdir.path / "inventory.yml", group_vars=fleet_vars(iam), **broken)
    variables = role_vars(workdir, iam, creds, fleet)
    fleet.start()
    try:
        run = workdir.run("fleet_rotation.yml", inventory=inventory, **variables)
        new = held_key(workdir, creds)
        # host3's batch failed: the rollout stopped there; host5 was never reached, both keys stay.
        assert run.rc != 0
        assert (status(iam, old["access"]), status(iam, new)) == ("active", "active")
        held = {host.name: host.env_file.read_text() for host in fleet.hosts}
        assert old["access"] in held["host5"] and new in held["host1"]

        fixed = fleet.inventory(workdir.path / "inventory-fixed.yml", group_vars=fleet_vars(iam))
        back = workdir.run("fleet_rotation.yml", inventory=fixed, fleet_rotation_rollback=True, **variables)
        time.sleep(1)
    finally:
        states = fleet.stop()
    assert back.rc == 0, back.output[-4000:]
    assert status(iam, new) is None and status(iam, old["access"]) == "active"
    assert held_key(workdir, creds) == old["access"]
    assert all(old["access"] in host.env_file.read_text() for host in fleet.hosts)
    assert {name: state["failures"] for name, state in states.items()} == {host.name: {} for host in fleet.hosts}
    assert all(state["access_key"] == old["access"] for state in states.values())


def test_check_mode_through_every_phase_changes_nothing(workdir, iam):
    creds, fleet, old = make_fleet(workdir, iam)
    inventory = fleet.inventory(workdir.path / "inventory.yml", group_vars=fleet_vars(iam))
    before = ({key["access"]: key["status"] for key in iam.keys_of("app")}, workdir.decrypt(creds),
              {host.name: host.env_file.read_text() for host in fleet.hosts})
    fleet.start()
    try:
        run = workdir.run("fleet_rotation.yml", inventory=inventory, check=True,
                          **role_vars(workdir, iam, creds, fleet))
    finally:
        states = fleet.stop()
    assert run.rc == 0, run.output[-4000:]
    after = ({key["access"]: key["status"] for key in iam.keys_of("app")}, workdir.decrypt(creds),
             {host.name: host.env_file.read_text() for host in fleet.hosts})
    assert after == before
    writes = ("create_credential", "update_credential", "delete_credential")
    assert [entry for entry in iam.requests() if entry["operation"] in writes] == []
    assert all(state["access_key"] == old["access"] and not state["failures"] for state in states.values())
    # The run says that it would rotate. (The hosts then hold the key the controller's file holds, the
    # old one: a check run has no new key to deliver.)
    assert [host for host, _task in changed_tasks(run)] == ["localhost"]
    assert "check mode, nothing changed (a new key would be created" in run.output
