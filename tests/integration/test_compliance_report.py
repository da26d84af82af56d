"""The HTML compliance report as a person sees it: rendered by headless Chromium.

Chromium (Debian's package; `make chromium` installs it, and `make integration` depends on that)
loads the report from disk with no network. Its DOM must show the summary counts, one table per
rule with exactly the module's findings, the key-age chart and the key table; its screenshot
must show the chart's bars. `make screenshots` runs this test with KEYWARDEN_SCREENSHOT_DIR set,
which keeps the screenshot for docs/compliance.md.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.integration.conftest import ADMIN, assert_no_secret_in

DOMAIN = "keywarden-demo"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--force-color-profile=srgb"]
WINDOW = (1280, 1900)
BAR_BLUE = (0x3E, 0x7C, 0xB1)   # active, within the maximum age
BAR_RED = (0xC0, 0x39, 0x2B)    # active, older than the maximum age


def showcase_seed() -> dict:
    """An account with something in every rule and every age band, as a report reader meets it."""
    def person(name, *keys, **fields):
        return {"name": name, "keys": list(keys), **fields}

    return {"accounts": [{"domain_name": DOMAIN, "users": [
        person("admin", {"access": ADMIN["auth_ak"], "secret": ADMIN["auth_sk"], "age_days": 10,
                         "description": "compliance automation"}, admin=True),
        person("alice", {"age_days": 200, "last_use_age_days": 1, "description": "alice laptop"},
               {"age_days": 130, "last_use_age_days": 125, "description": "alice old ci"}),
        person("bob", {"age_days": 30, "description": "bob workstation"}),
        person("carol", {"age_days": 120, "last_use_age_days": 2, "description": "deploy pipeline"}),
        person("dave", {"age_days": 80, "last_use_age_days": 40, "status": "inactive", "description": "retired"}),
        person("erin", {"age_days": 70, "description": "never used"}),
        person("frank", {"age_days": 45, "last_use_age_days": 1, "description": "backup agent"}),
        person("grace", {"age_days": 400, "last_use_age_days": 3, "description": "legacy batch"},
               {"age_days": 20, "last_use_age_days": 20, "status": "inactive", "description": "spare"}),
        person(DOMAIN, {"age_days": 3, "last_use_age_days": 3, "description": "console download"}, root=True),
    ]}]}


def chromium() -> str:
    found = shutil.which(os.environ.get("KEYWARDEN_CHROMIUM", "chromium")) or shutil.which("chromium-browser")
    if not found:
        pytest.fail("headless Chromium is needed to check the HTML report: run `make chromium` "
                    "(Debian's chromium package), or set KEYWARDEN_CHROMIUM")
    return found


def run_chromium(profile: Path, *args: str) -> str:
    completed = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                               capture_output=True, text=True, timeout=180, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """What a reader sees, by element: texts by section, table rows, cards, chart bars."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list = []
        self.title = ""
        self.sections: dict = {}      # id -> text
        self.headings: dict = {}      # section id -> its h2 text
        self.rows: dict = {}          # section id -> number of body rows
        self.cards: list = []         # [number, label]
        self.bars = 0
        self.chart_texts: list = []
        self.tags: set = set()
        self.external: list = []

    def _section(self):
        return next((attrs["id"] for tag, attrs in reversed(self.stack) if tag == "section" and "id" in attrs), None)

    def _inside(self, tag, css=None):
        return any(t == tag and (css is None or css in (a.get("class") or "").split()) for t, a in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.add(tag)
        self.external += [value for name, value in attrs if name in ("src", "href") and value]
        if tag == "div" and "card" in (attributes.get("class") or "").split():
            self.cards.append(["", ""])
        if tag == "rect" and "bar" in (attributes.get("class") or "").split():
            self.bars += 1
        if tag == "tr" and self._inside("tbody"):
            section = self._section()
            self.rows[section] = self.rows.get(section, 0) + 1
        if tag not in VOID:
            self.stack.append((tag, attributes))

    def handle_endtag(self, tag):
        if any(open_tag == tag for open_tag, _attrs in self.stack):
            while self.stack.pop()[0] != tag:
                pass

    def handle_data(self, data):
        if self._inside("title") and not self._inside("svg"):
            self.title += data
        section = self._section()
        if section:
            self.sections[section] = self.sections.get(section, "") + data
        if self._inside("h2") and section:
            self.headings[section] = self.headings.get(section, "") + data
        if self._inside("div", "card"):
            slot = 0 if self._inside("div", "n") else 1
            self.cards[-1][slot] += data.strip()
        if self._inside("svg") and self.stack[-1][0] == "text":
            self.chart_texts.append(data.strip())


def png_pixels(path: Path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour, _c, _f, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    step = 4 if colour == 6 else 3
    raw, stride, previous, rows = zlib.decompress(b"".join(chunks)), width * step, bytearray(width * step), []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                nearest = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))
                line[i] = (line[i] + nearest[2]) & 0xFF
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, step)])
        previous = line
    return width, height, rows


def count_colour(rows, colour, tolerance=8) -> int:
    return sum(1 for row in rows for pixel in row if all(abs(a - b) <= tolerance for a, b in zip(pixel, colour)))


def test_html_report_in_chromium(workdir, iam, tmp_path):
    iam.reset(showcase_seed())
    report = tmp_path / "access-key-compliance.html"
    run = workdir.run("compliance.yml", all_users=True, root_users=[DOMAIN], report_html=str(report), **ADMIN)
    assert run.rc == 0, run.output[-3000:]
    result = run.result("access_key_compliance")
    summary = result["summary"]
    assert summary["findings"] == 9 and summary["keys"] == 11
    assert_no_secret_in(iam, report.read_text())

    page = Page()
    page.feed(run_chromium(tmp_path / "profile-dom", "--dump-dom", report.as_uri()))
    assert page.title == "Access key compliance report"
    assert "script" not in page.tags and page.external == []  # self-contained, nothing runs

    cards = {label: number for number, label in page.cards}
    by_severity = summary["by_severity"]
    assert cards == {"findings": str(summary["findings"]), "critical": str(by_severity["critical"]),
                     "high": str(by_severity["high"]), "medium": str(by_severity["medium"]),
                     "low": str(by_severity["low"]),
                     "keys compliant": f"{summary['compliant_keys']} / {summary['keys']}",
                     "users": str(summary["users"])}
    assert (by_severity["critical"], by_severity["high"], by_severity["medium"], by_severity["low"]) == (1, 4, 3, 1)

    titles = {"iam-root-access-key-check": "No access key on the root identity",
              "access-keys-rotated": "Active access keys are rotated",
              "access-keys-last-use-check": "Active access keys are in use",
              "iam-user-single-access-key": "One active access key per user",
              "access-keys-inactive-check": "Inactive access keys are deleted"}
    for rule_id, title in titles.items():
        section = f"rule-{rule_id}"
        assert page.headings[section].strip() == title
        mine = [f for f in result["findings"] if f["rule_id"] == rule_id]
        assert page.rows.get(section, 0) == len(mine) == summary["by_rule"][rule_id] > 0, rule_id
        assert all(f["access_key_id"] in page.sections[section] for f in mine)

    # The chart: one bar per (age band, status) that has keys, bands labelled, counts adding up.
    assert "max age 90 d" in page.chart_texts
    for band in ("0\u201330 d", "31\u201360 d", "61\u201390 d", "91\u2013180 d", "181\u2013360 d", "over 360 d"):
        assert band in page.chart_texts
    counts = [int(text) for text in page.chart_texts if text.isdigit()]
    assert sum(counts) == summary["keys"] and counts == [4, 1, 2, 2, 1, 1]
    assert page.bars == 8  # 0-30 d and 61-90 d hold active and inactive keys: two bars each
    assert page.rows["keys"] == summary["keys"]

    screenshot = tmp_path / "compliance-report.png"
    run_chromium(tmp_path / "profile-shot", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                 f"--screenshot={screenshot}", report.as_uri())
    width, height, rows = png_pixels(screenshot)
    assert (width, height) == WINDOW
    # Bars of both colours are drawn: the chart is really there, not just in the markup.
    assert count_colour(rows, BAR_BLUE) > 2000 and count_colour(rows, BAR_RED) > 2000
    keep = os.environ.get("KEYWARDEN_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, Path(keep) / "compliance-report.png")
