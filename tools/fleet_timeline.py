"""Draw the timeline of a fleet rotation as an SVG, from what a real run recorded.

    python3 tools/fleet_timeline.py RECORD.json OUT.svg

RECORD.json is written by tests/integration/test_fleet_zero_downtime.py when KEYWARDEN_FLEET_RECORD
names a file (``make docs-fleet-timeline`` does it): the server's request log (who signed which
request, when, and the answer), the old and the new key, and each host's switch. The picture shows
both keys' requests per second (every failed one in red), when the new key was created, when each
host switched, and when the old key was deactivated. Standard library only.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from xml.sax.saxutils import escape

WIDTH, LEFT, RIGHT = 960, 230, 30
ROW, TOP = 34, 56


def draw(record: dict) -> str:
    log = record["requests"]
    old, new = record["old_key"], record["new_key"]
    hosts = record["switches"]  # {host: epoch seconds}
    start = min(entry["time"] for entry in log)
    end = max(entry["time"] for entry in log)
    span = max(end - start, 1.0)

    def x(moment: float) -> float:
        return LEFT + (moment - start) / span * (WIDTH - LEFT - RIGHT)

    rows = [("old key: requests per second", old), ("new key: requests per second", new)]
    height = TOP + ROW * (len(rows) + len(hosts)) + 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{escape(record["title"])}</text>',
             f'<text x="{LEFT}" y="40" fill="#555">{escape(record["subtitle"])}</text>']
    # Requests per second, per key: a bar whose height is the count; failed ones in red.
    peak = 1
    buckets = {}
    for _label, key in rows:
        ok = Counter(int(e["time"] - start) for e in log if e["signer"] == key and e["status"] == 200)
        bad = Counter(int(e["time"] - start) for e in log if e["signer"] == key and e["status"] != 200)
        buckets[key] = (ok, bad)
        peak = max([peak, *ok.values(), *bad.values()])
    for index, (label, key) in enumerate(rows):
        base = TOP + ROW * index + ROW - 6
        parts.append(f'<text x="{LEFT - 8}" y="{base - 8}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="#ccc"/>')
        ok, bad = buckets[key]
        for second, count in sorted(ok.items()):
            height_ = (ROW - 10) * count / peak
            left, right = x(start + second), min(x(start + second + 1), WIDTH - RIGHT)  # the last second is partial
            parts.append(f'<rect x="{left:.1f}" y="{base - height_:.1f}" width="{max(right - left - 1, 1):.1f}" '
                         f'height="{height_:.1f}" fill="{"#4a7" if key == new else "#789"}"/>')
        for second, count in sorted(bad.items()):
            height_ = (ROW - 10) * count / peak
            parts.append(f'<rect x="{x(start + second):.1f}" y="{base - height_:.1f}" width="3" '
                         f'height="{height_:.1f}" fill="#d22"/>')
    # Each host's switch to the new key.
    for index, (host, moment) in enumerate(sorted(hosts.items(), key=lambda item: item[1])):
        base = TOP + ROW * (len(rows) + index) + ROW - 6
        parts.append(f'<text x="{LEFT - 8}" y="{base - 8}" text-anchor="end">{escape(host)}</text>')
        parts.append(f'<line x1="{LEFT}" y1="{base - 12}" x2="{x(moment):.1f}" y2="{base - 12}" '
                     'stroke="#789" stroke-width="6"/>')
        parts.append(f'<line x1="{x(moment):.1f}" y1="{base - 12}" x2="{WIDTH - RIGHT}" y2="{base - 12}" '
                     'stroke="#4a7" stroke-width="6"/>')
    bottom = TOP + ROW * (len(rows) + len(hosts))
    for label, moment, colour in record["events"]:
        parts.append(f'<line x1="{x(moment):.1f}" y1="{TOP}" x2="{x(moment):.1f}" y2="{bottom + 8}" '
                     f'stroke="{colour}" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x(moment):.1f}" y="{bottom + 22}" text-anchor="middle" fill="{colour}">'
                     f'{escape(label)}</text>')
    parts.append(f'<text x="{LEFT}" y="{height - 12}" fill="#555">seconds since the first request: 0 to '
                 f'{span:.0f}; hosts: grey while on the old key, green once switched; failed requests: red '
                 f'({sum(1 for e in log if e["signer"] in (old, new) and e["status"] != 200)})</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    record = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(draw(record))


if __name__ == "__main__":
    main()
