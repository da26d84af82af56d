"""The keywarden.iam.compliance role as a scheduled run uses it: reports, failing, enforcement.

A dry run changes nothing; a real run fixes every finding, so that the next run finds none;
rotation puts a new key in the user's vaulted credentials file and retires the old one.
"""

from __future__ import annotations

import json

from tests.integration.conftest import ADMIN

DOMAIN = "keywarden-demo"


def messy_seed() -> dict:
    """The demo account's users, plus one finding of every kind that the demo lacks."""
    return {"accounts": [{"domain_name": DOMAIN, "users": [
        {"name": "admin", "admin": True,
         "keys": [{"access": ADMIN["auth_ak"], "secret": ADMIN["auth_sk"], "age_days": 10}]},
        {"name": "alice", "keys": [
            {"age_days": 200, "last_use_age_days": 1, "description": "alice laptop"},
            {"age_days": 130, "last_use_age_days": 125, "description": "alice old ci"}]},
        {"name": "bob", "keys": [{"age_days": 30, "description": "bob workstation"}]},
        {"name": "carol", "keys": [{"age_days": 120, "last_use_age_days": 2, "description": "carol deploy"}]},
        {"name": "dave", "keys": [{"age_days": 80, "last_use_age_days": 40, "status": "inactive"}]},
        {"name": DOMAIN, "root": True, "keys": [{"age_days": 3, "last_use_age_days": 3}]},
    ]}]}


def key_state(iam) -> dict:
    return {key["access"]: key["status"]
            for account in iam.state()["accounts"] for user in account["users"] for key in user["keys"]}


def role_vars(tmp_path, **overrides) -> dict:
    return {"compliance_report_dir": str(tmp_path / "reports"), "compliance_root_users": [DOMAIN],
            **ADMIN, **overrides}


def test_dry_run_enforcement_changes_nothing_and_the_play_fails_on_severity(workdir, iam, tmp_path):
    iam.reset(messy_seed())
    before = key_state(iam)
    iam.reset_counters()
    run = workdir.run("compliance_role.yml", **role_vars(tmp_path, compliance_enforce=True,
                                                         compliance_fail_on_severity="high"))
    assert key_state(iam) == before
    assert iam.counters()["writes"] == 0
    # The play fails at the end, since the findings remain, after reports and the dry run.
    assert run.rc == 2
    assert "finding(s) of severity high or higher were found" in run.output
    evaluation = run.result("Evaluate the access keys and write the reports")
    assert evaluation["summary"]["findings"] == 7
    planned = {(item["access_key_id"], item["action"]) for item in evaluation["remediation"]}
    # Each planned action was tried in check mode, and says it would change the key.
    items = run.result("Deactivate or delete the keys that break a rule")["results"]
    assert {(item["item"]["access_key_id"], item["item"]["action"]) for item in items} == planned
    assert all(item["changed"] and (item["deactivated"] or item["deleted"]) for item in items)
    laptop, old_ci = (key["access"] for key in iam.keys_of("alice"))
    assert planned == {(laptop, "deactivate"), (old_ci, "delete"), (iam.keys_of("carol")[0]["access"], "deactivate"),
                       (iam.keys_of("dave")[0]["access"], "delete"), (iam.keys_of(DOMAIN)[0]["access"], "delete")}
    report = json.loads((tmp_path / "reports" / "access-key-compliance.json").read_text())
    assert len(report["findings"]) == 7
    assert (tmp_path / "reports" / "access-key-compliance.html").is_file()


def test_real_enforcement_fixes_every_finding_and_the_next_run_finds_none(workdir, iam, tmp_path):
    iam.reset(messy_seed())
    laptop, old_ci = (key["access"] for key in iam.keys_of("alice"))
    carol = iam.keys_of("carol")[0]["access"]
    run = workdir.run("compliance_role.yml", **role_vars(tmp_path, compliance_enforce=True,
                                                         compliance_enforce_dry_run=False,
                                                         compliance_fail_on_severity="low"))
    assert run.rc == 0, run.output[-4000:]
    assert run.result("Evaluate the access keys and write the reports")["summary"]["findings"] == 7
    assert run.result("Evaluate again after enforcement")["findings"] == []
    state = key_state(iam)
    assert (state[laptop], state[carol]) == ("inactive", "inactive")  # used lately: kept, inactive
    assert old_ci not in state  # unused for 125 days: deleted rather than left lingering
    assert iam.keys_of("dave") == [] and iam.keys_of(DOMAIN) == []
    assert state[ADMIN["auth_ak"]] == "active"

    iam.reset_counters()
    again = workdir.run("compliance_role.yml", **role_vars(tmp_path, compliance_fail_on_severity="low"))
    assert again.rc == 0, again.output[-4000:]
    assert again.result("Evaluate the access keys and write the reports")["findings"] == []
    assert iam.counters()["writes"] == 0


def test_rotation_stores_a_new_key_and_retires_the_old_one(workdir, iam, tmp_path):
    iam.reset(messy_seed())
    carol_old = iam.keys_of("carol")[0]["access"]
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    settings = role_vars(tmp_path, compliance_users=["carol"], compliance_enforce=True,
                         compliance_enforce_dry_run=False, compliance_enforce_age_action="rotate",
                         compliance_rotate_credentials_dir=str(credentials))
    run = workdir.run("compliance_role.yml", **settings)
    assert run.rc == 0, run.output[-4000:]
    assert [r["action"] for r in run.result("Evaluate the access keys and write the reports")["remediation"]] == [
        "rotate"]
    keys = iam.keys_of("carol")
    new = next(key for key in keys if key["access"] != carol_old)
    assert {key["access"]: key["status"] for key in keys} == {carol_old: "inactive", new["access"]: "active"}
    stored = workdir.decrypt(credentials / "carol.yml")
    assert new["access"] in stored and new["secret"] in stored
    assert run.result("Evaluate again after enforcement")["findings"] == []

    again = workdir.run("compliance_role.yml", **{**settings, "compliance_enforce": False})
    assert again.result("Evaluate the access keys and write the reports")["findings"] == []


def test_the_argument_spec_is_enforced(workdir, iam, tmp_path):
    run = workdir.run("compliance_role.yml", **role_vars(tmp_path, compliance_fail_on_severity="severe"))
    assert run.rc != 0
    assert "compliance_fail_on_severity" in run.output and "severe" in run.output
