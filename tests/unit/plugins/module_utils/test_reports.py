"""The report renderers, pure: JSON close to OCSF, CSV one row per key, escaped self-contained HTML."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from ansible_collections.keywarden.iam.plugins.module_utils import _compliance as c
from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils import _reports as r
from ansible_collections.keywarden.iam.plugins.module_utils._inventory import UserFailure, UserKeys, UserSelector
from ansible_collections.keywarden.iam.plugins.module_utils._models import ACTIVE, INACTIVE, AccessKey

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def key(key_id, age_days, idle_days=None, status=ACTIVE, description="", user_id="u1"):
    created = NOW - timedelta(days=age_days)
    last = created if idle_days is None else NOW - timedelta(days=idle_days)
    return AccessKey(key_id, user_id, status, created, description, last)


DEFAULTS = c.Thresholds()


def report(users, failures=(), rules=c.RULE_IDS, thresholds=DEFAULTS) -> r.Report:
    findings = c.evaluate(users, NOW, thresholds, rules)
    return r.Report(NOW, users, failures, findings, thresholds, rules,
                    c.summarize(users, findings, failures=len(failures)))


def sample() -> r.Report:
    users = [
        UserKeys("u1", "alice", False, (key("OLDKEY", 200, 1, description="=HYPERLINK(\"http://x\")"),
                                        key("IDLEKEY", 130, 125, description=HOSTILE))),
        UserKeys("u2", "bob & <co>", False, (key("NEWKEY", 3, description="fresh", user_id="u2"),)),
        UserKeys("u3", None, True, (key("ROOTKEY", 5, 0, status=INACTIVE, user_id="u3"),)),
    ]
    failure = UserFailure(UserSelector(user_name="ghost"),
                          errors.failure("find IAM user 'ghost'", "no user has that name <here>", errors.NotFound))
    return report(users, [failure])


def test_json_is_ocsf_shaped():
    document = json.loads(r.render_json(sample()))
    assert document["metadata"]["product"]["name"] == "keywarden.iam"
    assert document["summary"]["findings"] == len(document["findings"]) == 5
    root = document["findings"][0]
    assert {k: root[k] for k in ("class_uid", "class_name", "category_uid", "activity_id", "type_uid", "severity",
                                 "severity_id", "status")} == {
        "class_uid": 2003, "class_name": "Compliance Finding", "category_uid": 2, "activity_id": 1,
        "type_uid": 200301, "severity": "Critical", "severity_id": 5, "status": "New"}
    assert root["time"] == int(NOW.timestamp() * 1000) and root["time_dt"] == "2026-11-22T12:00:00.000000Z"
    assert root["finding_info"]["uid"] == "iam-root-access-key-check:ROOTKEY"
    assert root["resources"][0] == {"uid": "ROOTKEY", "type": "IAM Access Key", "owner": {"uid": "u3", "name": None},
                                    "data": {"status": "inactive"}}
    assert root["evidences"] == [{"data": {"observed": 1, "threshold": 0, "unit": "keys"}}]
    assert [k["findings"] for k in document["access_keys"] if k["access_key_id"] == "IDLEKEY"] == [
        ["access-keys-rotated", "access-keys-last-use-check", "iam-user-single-access-key"]]
    assert document["failures"][0]["user_name"] == "ghost"
    assert [rule["uid"] for rule in document["rules"]] == list(c.RULE_IDS)


def test_csv_has_one_row_per_key_and_neutralises_formulas():
    rows = list(csv.DictReader(r.render_csv(sample()).splitlines()))
    assert [row["access_key_id"] for row in rows] == ["OLDKEY", "IDLEKEY", "NEWKEY", "ROOTKEY"]
    assert tuple(rows[0]) == r.CSV_COLUMNS
    old, idle, new, root = rows
    assert old["description"] == "'=HYPERLINK(\"http://x\")"  # a spreadsheet shows it, never runs it
    assert (old["findings"], old["max_severity"]) == ("access-keys-rotated", "high")
    assert idle["description"] == HOSTILE  # not formula-like: left as it is
    assert (new["findings"], new["never_used"], new["age_days"], new["days_since_last_use"]) == ("", "true", "3", "3")
    assert (root["root"], root["findings"], root["max_severity"]) == ("true", "iam-root-access-key-check", "critical")


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += attrs

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Elements:
    elements = Elements()
    elements.feed(html)
    return elements


def test_html_escapes_everything_and_runs_nothing():
    html = r.render_html(sample())
    elements = parse(html)
    assert "script" not in elements.tags and "img" not in elements.tags
    assert not [name for name, _value in elements.attributes if name.startswith("on") or name in ("src", "href")]
    text = "".join(elements.text)
    assert HOSTILE in text and "bob & <co>" in text and "no user has that name <here>" in text


def test_html_shows_summary_rules_chart_and_failures():
    html = r.render_html(sample())
    assert 'id="summary"' in html and 'id="age-chart"' in html and 'id="failures"' in html
    for rule_id in c.RULE_IDS:
        assert f'id="rule-{rule_id}"' in html
    assert "users not readable" in html
    # 0-30 d holds an active and an inactive key (two bars), 91-180 d and 181-360 d one each.
    assert html.count('class="bar"') == 4


def test_html_marks_rules_not_evaluated_and_empty_accounts():
    html = r.render_html(report([], rules=["access-keys-rotated"]))
    assert html.count("Not evaluated in this run.") == len(c.RULE_IDS) - 1
    assert "No findings." in html and "No access keys." in html
    assert 'id="failures"' not in html


@pytest.mark.parametrize("max_age, bins", [
    (90, [(0, 30), (31, 60), (61, 90), (91, 180), (181, 360), (361, None)]),
    (1, [(0, 0), (1, 1), (2, 2), (3, 4), (5, None)]),
    (0, [(0, 0), (1, None)]),
])
def test_age_bins_cover_every_age_once(max_age, bins):
    assert r._age_bins(max_age) == bins
