# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Compliance reports as text: JSON (field names close to OCSF), CSV (one row per key) and HTML.

Private to the keywarden.iam collection: the interface may change without notice.

Pure renderers: a Report in, a string out. They only ever see key metadata (the inventory
never holds a secret), and every value that reaches the HTML is escaped. The HTML page is
self-contained (inline CSS and SVG, no script, no external resource) so it can be mailed,
archived as a build artifact or opened from disk.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Sequence

from ansible_collections.keywarden.iam.plugins.module_utils._compliance import (
    ROOT,
    RULES,
    SEVERITIES,
    SEVERITY_IDS,
    Finding,
    Thresholds,
)
from ansible_collections.keywarden.iam.plugins.module_utils._inventory import (
    UserFailure,
    UserKeys,
    failure_record,
    key_record,
)
from ansible_collections.keywarden.iam.plugins.module_utils._models import format_timestamp

PRODUCT = {"name": "keywarden.iam", "vendor_name": "keywarden.iam contributors"}
OCSF_VERSION = "1.3.0"
# OCSF Compliance Finding: category Findings (2), class 2003, activity Create (1).
OCSF_CLASS = {"category_uid": 2, "category_name": "Findings", "class_uid": 2003, "class_name": "Compliance Finding",
              "activity_id": 1, "activity_name": "Create", "type_uid": 200301,
              "type_name": "Compliance Finding: Create"}
CSV_COLUMNS = ("user_id", "user_name", "root", "access_key_id", "status", "created", "last_used", "age_days",
               "days_since_last_use", "never_used", "description", "findings", "max_severity")
# A spreadsheet runs a cell that starts like a formula; a description is free text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Report:
    generated: datetime
    users: Sequence[UserKeys]
    failures: Sequence[UserFailure]
    findings: Sequence[Finding]
    thresholds: Thresholds
    rule_ids: Sequence[str]
    summary: dict

    def key_rows(self) -> list:
        """(user, key record, the key's findings) for every key, in user order, oldest key first."""
        by_key: dict[str, list] = {}
        for finding in self.findings:
            by_key.setdefault(finding.access_key_id, []).append(finding)
        return [(user, key_record(key, self.generated, user_name=user.user_name), by_key.get(key.access_key_id, []))
                for user in self.users for key in user.keys]


def _max_severity(findings: Sequence[Finding]) -> str:
    if not findings:
        return ""
    return max((finding.severity for finding in findings), key=SEVERITY_IDS.__getitem__)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# ---- JSON ---------------------------------------------------------------------------------------

def render_json(report: Report) -> str:
    document = {
        "metadata": {"product": PRODUCT, "version": OCSF_VERSION},
        "time": _epoch_ms(report.generated),
        "time_dt": format_timestamp(report.generated),
        "summary": report.summary,
        "rules": [_rule_entry(rule, report) for rule in RULES],
        "findings": [_ocsf_finding(finding, report.generated) for finding in report.findings],
        "access_keys": [{**record, "findings": [f.rule_id for f in findings]}
                        for _user, record, findings in report.key_rows()],
        "failures": [failure_record(failure) for failure in report.failures],
    }
    return json.dumps(document, indent=2) + "\n"


def _rule_entry(rule, report: Report) -> dict:
    return {"uid": rule.rule_id, "title": rule.title, "severity": rule.severity.capitalize(),
            "severity_id": SEVERITY_IDS[rule.severity], "desc": rule.description,
            "threshold": report.thresholds.for_rule(rule.rule_id), "unit": rule.unit,
            "enabled": rule.rule_id in report.rule_ids}


def _ocsf_finding(finding: Finding, generated: datetime) -> dict:
    rule = finding.rule
    return {
        **OCSF_CLASS,
        "severity_id": SEVERITY_IDS[finding.severity],
        "severity": finding.severity.capitalize(),
        "status_id": 1,
        "status": "New",
        "time": _epoch_ms(generated),
        "time_dt": format_timestamp(generated),
        "message": finding.message,
        "metadata": {"product": PRODUCT, "version": OCSF_VERSION},
        # Stable across runs, so a consumer can tell a finding that persists from a new one.
        "finding_info": {"uid": f"{finding.rule_id}:{finding.access_key_id}", "title": rule.title,
                         "desc": rule.description, "types": [finding.rule_id]},
        "compliance": {"control": finding.rule_id, "status_id": 3, "status": "Fail"},
        "resources": [{
            "uid": finding.access_key_id,
            "type": "IAM Access Key",
            "owner": {"uid": finding.user_id, "name": finding.user_name},
            "data": {"status": finding.key_status},
        }],
        "evidences": [{"data": {"observed": finding.observed, "threshold": finding.threshold, "unit": finding.unit}}],
    }


# ---- CSV ----------------------------------------------------------------------------------------

def render_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for user, record, findings in report.key_rows():
        row = {**record, "root": user.root, "findings": ";".join(f.rule_id for f in findings),
               "max_severity": _max_severity(findings)}
        writer.writerow([_csv_cell(row.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


# ---- HTML ---------------------------------------------------------------------------------------

_CSS = """
:root{--ink:#1f2933;--muted:#52606d;--line:#d9e2ec;--bg:#f5f7fa;--ok:#1f7a4d;--bar:#3e7cb1;--over:#c0392b;--off:#9aa5b1}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px}
header h1{margin:0 0 4px;font-size:26px}
.meta{color:var(--muted);margin:0}
h2{font-size:19px;margin:0 0 8px}
section.panel{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:16px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;margin:16px 0}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card .n{font-size:28px;font-weight:700;line-height:1.1}
.card .l{color:var(--muted);font-size:13px}
.card.critical{border-left:6px solid #8e1b1b}.card.high{border-left:6px solid #c2410c}
.card.medium{border-left:6px solid #b7791f}.card.low{border-left:6px solid #2f6fb3}
.card.good{border-left:6px solid var(--ok)}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f0f4f8;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;vertical-align:middle}
.sev-critical{background:#fde2e2;color:#8e1b1b}.sev-high{background:#ffedd5;color:#9a3412}
.sev-medium{background:#fef3c7;color:#854d0e}.sev-low{background:#dbeafe;color:#1e3a8a}
.status-active{color:var(--ok);font-weight:600}.status-inactive{color:var(--muted)}
.ok{color:var(--ok);font-weight:600;margin:4px 0}
.off{color:var(--muted);font-style:italic}
.rule-head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.rule-meta{color:var(--muted);font-size:13px;margin:0 0 8px}
.legend span{display:inline-block;margin-right:16px;font-size:13px;color:var(--muted)}
.legend i{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px;border-radius:2px}
footer{color:var(--muted);font-size:12px;text-align:center;margin:24px 0}
@media print{body{background:#fff}section.panel,.card{break-inside:avoid}}
"""


def render_html(report: Report) -> str:
    generated = report.generated.strftime("%Y-%m-%d %H:%M UTC")
    summary = report.summary
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Access key compliance report</title>",
        f"<style>{_CSS}</style></head><body><main>",
        '<header><h1>Access key compliance</h1>',
        f'<p class="meta">Generated {_e(generated)} by the IAM service\'s clock &middot; '
        f'{summary["users"]} users &middot; {summary["keys"]} access keys &middot; keywarden.iam</p></header>',
        _summary_cards(summary),
        _chart_panel(report),
    ]
    parts += [_rule_panel(rule, report) for rule in RULES]
    if report.failures:
        parts.append(_failures_panel(report.failures))
    parts += [_keys_panel(report),
              "<footer>No secret key is ever part of this report: the IAM API shows one only when a key is "
              "created.</footer>",
              "</main></body></html>"]
    return "\n".join(parts) + "\n"


def _e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _card(number, label: str, css: str = "") -> str:
    return f'<div class="card {css}"><div class="n">{_e(number)}</div><div class="l">{_e(label)}</div></div>'


def _summary_cards(summary: dict) -> str:
    by_severity = summary["by_severity"]
    cards = [_card(summary["findings"], "findings", "good" if not summary["findings"] else "")]
    cards += [_card(by_severity[severity], severity, severity) for severity in reversed(SEVERITIES[1:])]
    cards += [_card(f'{summary["compliant_keys"]} / {summary["keys"]}', "keys compliant", "good"),
              _card(summary["users"], "users")]
    if summary["failures"]:
        cards.append(_card(summary["failures"], "users not readable", "critical"))
    return f'<section id="summary" class="cards" aria-label="Summary">{"".join(cards)}</section>'


def _age_bins(max_age: int) -> list[tuple[int, int | None]]:
    """Histogram bins of whole days: three up to the maximum age, three beyond it."""
    edges = sorted({max_age // 3, 2 * max_age // 3, max_age, 2 * max_age, 4 * max_age})
    bins: list[tuple[int, int | None]] = []
    low = 0
    for edge in edges:
        if edge >= low:
            bins.append((low, edge))
            low = edge + 1
    bins.append((low, None))
    return bins


def _bin_label(low: int, high: int | None) -> str:
    if high is None:
        return f"over {low - 1} d" if low else "any"
    return f"{low} d" if low == high else f"{low}\u2013{high} d"


def _chart_panel(report: Report) -> str:
    max_age = report.thresholds.max_key_age
    bins = _age_bins(max_age)
    counts: dict[int, list[int]] = {index: [0, 0] for index in range(len(bins))}
    for user in report.users:
        for key in user.keys:
            age = key.age_days(report.generated)
            index = next(i for i, (low, high) in enumerate(bins) if age >= low and (high is None or age <= high))
            counts[index][0 if key.active else 1] += 1
    svg = _histogram_svg(bins, counts, max_age)
    legend = ('<p class="legend"><span><i style="background:var(--bar)"></i>active, within the maximum age</span>'
              '<span><i style="background:var(--over)"></i>active, older than the maximum age</span>'
              '<span><i style="background:var(--off)"></i>inactive</span></p>')
    return (f'<section id="chart" class="panel"><h2>Key ages</h2>'
            f'<p class="rule-meta">How many keys are how old, in whole days; the dashed line is the maximum age '
            f'({max_age} days).</p>{svg}{legend}</section>')


def _histogram_svg(bins, counts, max_age: int) -> str:
    width, height, left, bottom, top = 760, 260, 40, 40, 20
    plot_h = height - bottom - top
    slot = (width - left - 10) / len(bins)
    bar_w = slot * 0.62
    tallest = max([sum(pair) for pair in counts.values()] + [1])
    out = [f'<svg id="age-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
           f'role="img" aria-label="Histogram of access key ages in days">',
           f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#9aa5b1"/>']
    threshold_x = None
    for index, (low, high) in enumerate(bins):
        active, inactive = counts[index]
        x = left + index * slot + (slot - bar_w) / 2
        over = low > max_age
        y = height - bottom
        for count, colour, what in ((active, "var(--over)" if over else "var(--bar)", "active"),
                                    (inactive, "var(--off)", "inactive")):
            if count:
                bar_h = plot_h * count / tallest
                y -= bar_h
                out.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
                           f'fill="{colour}" rx="2"><title>{count} {what} key(s), '
                           f'{_e(_bin_label(low, high))}</title></rect>')
        total = active + inactive
        out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 6:.1f}" text-anchor="middle" font-size="13" '
                   f'font-weight="600" fill="#1f2933">{total}</text>')
        out.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 18}" text-anchor="middle" font-size="12" '
                   f'fill="#52606d">{_e(_bin_label(low, high))}</text>')
        if high == max_age:
            threshold_x = left + (index + 1) * slot
    if threshold_x is not None:
        out.append(f'<line x1="{threshold_x:.1f}" y1="{top - 8}" x2="{threshold_x:.1f}" y2="{height - bottom}" '
                   f'stroke="#c0392b" stroke-dasharray="5 4" stroke-width="1.5"/>')
        out.append(f'<text x="{threshold_x + 4:.1f}" y="{top + 2}" font-size="12" fill="#c0392b">'
                   f'max age {max_age} d</text>')
    out.append("</svg>")
    return "".join(out)


def _badge(severity: str) -> str:
    return f'<span class="badge sev-{_e(severity)}">{_e(severity.capitalize())}</span>'


def _user_cell(user_name, user_id) -> str:
    if user_name:
        return f'{_e(user_name)}<br><code>{_e(user_id)}</code>'
    return f"<code>{_e(user_id)}</code>"


def _rule_panel(rule, report: Report) -> str:
    threshold = report.thresholds.for_rule(rule.rule_id)
    unit = rule.unit[:-1] if threshold == 1 else rule.unit  # "1 key", "1 day"
    limit = "no key allowed" if rule.rule_id == ROOT else f"threshold {threshold} {unit}"
    head = (f'<section id="rule-{_e(rule.rule_id)}" class="panel rule"><div class="rule-head"><h2>{_e(rule.title)}</h2>'
            f'{_badge(rule.severity)}</div><p class="rule-meta"><code>{_e(rule.rule_id)}</code> &middot; '
            f'{_e(limit)} &middot; {_e(rule.description)}</p>')
    if rule.rule_id not in report.rule_ids:
        return head + '<p class="off">Not evaluated in this run.</p></section>'
    findings = [finding for finding in report.findings if finding.rule_id == rule.rule_id]
    if not findings:
        return head + '<p class="ok">No findings.</p></section>'
    rows = "".join(
        f"<tr><td>{_user_cell(f.user_name, f.user_id)}</td><td><code>{_e(f.access_key_id)}</code></td>"
        f'<td class="status-{_e(f.key_status)}">{_e(f.key_status)}</td><td class="num">{_e(f.observed)}</td>'
        f'<td class="num">{_e(f.threshold)}</td></tr>'
        for f in findings)
    return (head + f'<p class="count">{len(findings)} finding(s)</p><table><thead><tr><th>User</th>'
            f'<th>Access key</th><th>Status</th><th class="num">Observed ({_e(rule.unit)})</th>'
            f'<th class="num">Threshold ({_e(rule.unit)})</th></tr></thead><tbody>{rows}</tbody></table></section>')


def _failures_panel(failures: Sequence[UserFailure]) -> str:
    rows = "".join(
        f"<tr><td>{_e(failure.selector.describe())}</td><td>{_e(failure.error.message)}</td></tr>"
        for failure in failures)
    return ('<section id="failures" class="panel"><h2>Users whose keys could not be read</h2>'
            "<p>These users were not evaluated.</p><table><thead><tr><th>User</th><th>Error</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></section>")


def _day(timestamp) -> str:
    return _e(timestamp[:10]) if timestamp else ""


def _keys_panel(report: Report) -> str:
    rows = []
    for user, record, findings in report.key_rows():
        if findings:
            badges = " ".join(_badge(severity) for severity in reversed(SEVERITIES)
                              if any(f.severity == severity for f in findings))
            rule_ids = "<br>".join(f"<code>{_e(f.rule_id)}</code>" for f in findings)
            verdict = f"<td>{badges}<br>{rule_ids}</td>"
        else:
            verdict = '<td class="ok">compliant</td>'
        never = {True: "yes", False: "no", None: ""}[record["never_used"]]
        rows.append(
            f"<tr><td>{_user_cell(user.user_name, user.user_id)}{' (root)' if user.root else ''}</td>"
            f"<td><code>{_e(record['access_key_id'])}</code><br>{_e(record['description'])}</td>"
            f'<td class="status-{_e(record["status"])}">{_e(record["status"])}</td>'
            f"<td>{_day(record['created'])}</td><td>{_day(record['last_used'])}</td>"
            f'<td class="num">{_e(record["age_days"])}</td><td class="num">{_e(record["days_since_last_use"])}</td>'
            f"<td>{never}</td>{verdict}</tr>")
    body = "".join(rows) or '<tr><td colspan="9">No access keys.</td></tr>'
    return ('<section id="keys" class="panel"><h2>All access keys</h2><table><thead><tr><th>User</th>'
            '<th>Access key</th><th>Status</th><th>Created</th><th>Last used</th><th class="num">Age (d)</th>'
            '<th class="num">Unused (d)</th><th>Never used</th><th>Findings</th></tr></thead>'
            f"<tbody>{body}</tbody></table></section>")
