"""access_key_compliance through ansible-playbook: each rule at its threshold, the reports, failing on severity.

The local server's data clock moves the keys' ages; every threshold is in whole days and a rule
fires when the value is strictly greater, so with 90 a key is fine through its 90th day and
flagged from its 91st. The boundary test puts every rule's key an hour short of its crossing,
checks nothing fires a day before nor an hour before, and that each fires an hour after.
"""

from __future__ import annotations

import csv
import json
import os
import stat
from datetime import datetime, timedelta

from tests.integration.conftest import ADMIN, assert_no_secret_in

HOUR = 1 / 24
DOMAIN = "keywarden-demo"


def account(*users: dict) -> dict:
    admin = {"name": "admin", "admin": True,
             "keys": [{"access": ADMIN["auth_ak"], "secret": ADMIN["auth_sk"], "age_days": 1}]}
    return {"accounts": [{"domain_name": DOMAIN, "users": [admin, *users]}]}


def user(name: str, *keys: dict, **fields) -> dict:
    return {"name": name, "keys": list(keys), **fields}


def boundary_seed() -> dict:
    """Each user's key reaches its rule's threshold + 1 day (the crossing) in 1 day and 1 hour."""
    return account(
        user("aged", {"age_days": 89 + 23 * HOUR, "last_use_age_days": 1}),
        user("idle", {"age_days": 60, "last_use_age_days": 44 + 23 * HOUR}),
        user("unused", {"age_days": 44 + 23 * HOUR}),  # never used: counts from its creation
        user("parked", {"age_days": 60, "last_use_age_days": 29 + 23 * HOUR, "status": "inactive"}),
        user("doubled", {"age_days": 10, "last_use_age_days": 1},
             {"age_days": 5, "last_use_age_days": 2, "status": "inactive"}),
        user(DOMAIN, root=True),  # the account's root identity, with no key yet
    )


def findings_of(run) -> list:
    assert run.rc == 0, run.output[-3000:]
    return run.result("access_key_compliance")["findings"]


def test_each_rule_fires_exactly_when_its_threshold_is_crossed(workdir, iam):
    iam.reset(boundary_seed())
    check = {"all_users": True, "root_users": [DOMAIN], **ADMIN}

    day_before = workdir.run("compliance.yml", **check)
    assert findings_of(day_before) == []

    iam.advance_clock(days=1)  # an hour short of every crossing
    # The other two rules count keys, not days: cross them now. A second active key for
    # "doubled", and a first key for the root identity.
    second = iam.keys_of("doubled")[1]["access"]
    activate = workdir.run("access_key.yml", user_name="doubled", access_key_id=second, status="active", **ADMIN)
    assert activate.rc == 0, activate.output
    iam.add_key(DOMAIN, age_days=0)
    hour_before = findings_of(workdir.run("compliance.yml", **check))
    assert {(f["rule_id"], f["user_name"]) for f in hour_before} == {
        ("iam-user-single-access-key", "doubled"), ("iam-root-access-key-check", DOMAIN)}

    iam.advance_clock(seconds=2 * 3600)  # an hour past every crossing
    run = workdir.run("compliance.yml", **check)
    found = {(f["rule_id"], f["user_name"]): f for f in findings_of(run)}
    expected = {
        # rule id, user: key, severity, observed, threshold, unit
        ("iam-root-access-key-check", DOMAIN): (iam.keys_of(DOMAIN)[0], "critical", 1, 0, "keys"),
        ("access-keys-rotated", "aged"): (iam.keys_of("aged")[0], "high", 91, 90, "days"),
        ("access-keys-last-use-check", "idle"): (iam.keys_of("idle")[0], "medium", 46, 45, "days"),
        ("access-keys-last-use-check", "unused"): (iam.keys_of("unused")[0], "medium", 46, 45, "days"),
        ("iam-user-single-access-key", "doubled"): (iam.keys_of("doubled")[1], "medium", 2, 1, "keys"),
        ("access-keys-inactive-check", "parked"): (iam.keys_of("parked")[0], "low", 31, 30, "days"),
    }
    assert set(found) == set(expected)
    for where, (key, severity, observed, threshold, unit) in expected.items():
        finding = found[where]
        assert (finding["access_key_id"], finding["severity"], finding["observed"], finding["threshold"],
                finding["unit"]) == (key["access"], severity, observed, threshold, unit), where
        assert finding["user_id"] == iam.user(where[1])["id"]
    result = run.result("access_key_compliance")
    keys = {key["user_name"]: key for key in result["access_keys"]}
    assert keys["unused"]["never_used"] is True and keys["idle"]["never_used"] is False
    assert result["findings"][0]["severity"] == "critical"  # most severe first
    assert result["summary"]["by_rule"] == {rule_id: 2 if rule_id == "access-keys-last-use-check" else 1
                                            for rule_id in result["summary"]["by_rule"]}


def test_thresholds_are_options(workdir, iam):
    # alice's keys are 200 and 130 days old; bob's 30, never used.
    run = workdir.run("compliance.yml", all_users=True, max_key_age=150, max_unused_days=29, max_active_keys=2,
                      rules=["access-keys-rotated", "access-keys-last-use-check", "iam-user-single-access-key"],
                      **ADMIN)
    found = {(f["rule_id"], f["access_key_id"]) for f in findings_of(run)}
    alice_laptop, alice_ci = (key["access"] for key in iam.keys_of("alice"))
    bob = iam.keys_of("bob")[0]["access"]
    assert found == {("access-keys-rotated", alice_laptop), ("access-keys-last-use-check", alice_ci),
                     ("access-keys-last-use-check", bob)}


def report_paths(tmp_path) -> dict:
    return {f"report_{fmt}": str(tmp_path / "reports" / f"keys.{fmt}") for fmt in ("json", "csv", "html")}


def test_reports_are_written_atomically_without_secrets(workdir, iam, tmp_path):
    paths = report_paths(tmp_path)
    (tmp_path / "reports").mkdir()
    preview = workdir.run("compliance.yml", all_users=True, check=True, **paths, **ADMIN)
    assert preview.rc == 0 and preview.result("access_key_compliance")["changed"] is True
    assert list((tmp_path / "reports").iterdir()) == []  # check mode writes nothing

    # An existing report keeps its permissions when replaced (the rename keeps mode and owner).
    existing = tmp_path / "reports" / "keys.json"
    existing.write_text("{}")
    existing.chmod(0o640)
    run = workdir.run("compliance.yml", all_users=True, **paths, **ADMIN)
    result = run.result("access_key_compliance")
    assert run.rc == 0 and result["changed"] is True
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["keys.csv", "keys.html", "keys.json"]
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640
    texts = {fmt: (tmp_path / "reports" / f"keys.{fmt}").read_text() for fmt in ("json", "csv", "html")}
    assert_no_secret_in(iam, "".join(texts.values()))

    document = json.loads(texts["json"])
    assert document["summary"] == result["summary"]
    assert len(document["findings"]) == len(result["findings"]) == 4
    finding = next(f for f in document["findings"] if f["finding_info"]["types"] == ["access-keys-last-use-check"])
    alice_ci = iam.keys_of("alice")[1]["access"]
    assert finding["class_name"] == "Compliance Finding" and finding["class_uid"] == 2003
    assert (finding["severity"], finding["severity_id"]) == ("Medium", 3)
    assert finding["finding_info"]["uid"] == f"access-keys-last-use-check:{alice_ci}"
    assert finding["resources"] == [{"uid": alice_ci, "type": "IAM Access Key", "data": {"status": "active"},
                                     "owner": {"uid": iam.user("alice")["id"], "name": "alice"}}]
    assert finding["evidences"] == [{"data": {"observed": 125, "threshold": 45, "unit": "days"}}]
    assert finding["compliance"]["status"] == "Fail" and isinstance(finding["time"], int)

    rows = list(csv.DictReader(texts["csv"].splitlines()))
    assert len(rows) == 4  # one row per key
    by_key = {row["access_key_id"]: row for row in rows}
    assert by_key[alice_ci]["findings"].split(";") == [
        "access-keys-rotated", "access-keys-last-use-check", "iam-user-single-access-key"]
    assert by_key[alice_ci]["max_severity"] == "high"
    bob = iam.keys_of("bob")[0]["access"]
    assert (by_key[bob]["findings"], by_key[bob]["never_used"], by_key[bob]["age_days"]) == ("", "true", "30")
    assert texts["html"].startswith("<!DOCTYPE html>") and "<script" not in texts["html"]


def test_a_rerun_that_finds_the_same_changes_no_report(workdir, iam, tmp_path):
    """Issue 14: access_key_compliance said changed on every run, rewriting its reports for a new time stamp
    and for the admin key's use by the previous run. The same keys on the same day: no change, no write."""
    paths = report_paths(tmp_path)
    (tmp_path / "reports").mkdir()
    # Noon on the server's clock, so that the minutes moved below never cross midnight.
    now = datetime.fromisoformat(iam.clock()["now"].replace("Z", "+00:00"))
    noon = (now + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    iam.advance_clock(seconds=(noon - now).total_seconds())

    first = workdir.run("compliance.yml", all_users=True, **paths, **ADMIN)
    assert first.rc == 0 and first.result("access_key_compliance")["changed"] is True
    files = {fmt: tmp_path / "reports" / f"keys.{fmt}" for fmt in ("json", "csv", "html")}
    written = {fmt: (path.read_bytes(), path.stat().st_mtime_ns) for fmt, path in files.items()}

    iam.advance_clock(seconds=150)  # a new minute in the HTML, a new time in the JSON, the admin key used again
    for check in (True, False):
        again = workdir.run("compliance.yml", all_users=True, check=check, **paths, **ADMIN)
        assert again.rc == 0 and again.result("access_key_compliance")["changed"] is False, check
        assert {fmt: (path.read_bytes(), path.stat().st_mtime_ns) for fmt, path in files.items()} == written

    iam.advance_clock(days=1)  # every key is a day older: that is news
    later = workdir.run("compliance.yml", all_users=True, **paths, **ADMIN)
    assert later.rc == 0 and later.result("access_key_compliance")["changed"] is True
    assert all(path.read_bytes() != written[fmt][0] for fmt, path in files.items())
    assert json.loads(files["json"].read_text())["time_dt"] == later.result("access_key_compliance")["now"]


def test_a_report_directory_that_does_not_exist_fails_clearly(workdir, iam, tmp_path):
    run = workdir.run("compliance.yml", all_users=True, report_json=str(tmp_path / "missing" / "keys.json"), **ADMIN)
    assert run.rc != 0
    assert "does not exist" in run.result("access_key_compliance")["msg"]


def test_fail_on_severity_fails_after_writing_the_reports(workdir, iam, tmp_path):
    paths = report_paths(tmp_path)
    (tmp_path / "reports").mkdir()
    run = workdir.run("compliance.yml", all_users=True, fail_on_severity="high", **paths, **ADMIN)
    assert run.rc != 0
    result = run.result("access_key_compliance")
    assert result["msg"].startswith("2 finding(s) of severity high or higher")
    assert os.path.exists(paths["report_html"]) and result["summary"]["findings"] == 4
    calm = workdir.run("compliance.yml", all_users=True, fail_on_severity="critical", **ADMIN)
    assert calm.rc == 0, calm.output


def test_remediation_spares_the_signing_key(workdir, iam):
    # Seen from alice's own laptop key: it is too old, but it signs the run, so nothing may touch it.
    laptop = iam.keys_of("alice")[0]
    run = workdir.run("compliance.yml", auth_ak=laptop["access"], auth_sk=laptop["secret"])
    result = run.result("access_key_compliance")
    assert run.rc == 0, run.output
    assert [s["access_key_id"] for s in result["remediation_skipped"]] == [laptop["access"]]
    assert [(r["access_key_id"], r["action"]) for r in result["remediation"]] == [
        (iam.keys_of("alice")[1]["access"], "delete")]  # unused for 125 days: deactivating would leave it lingering
