"""The picture in docs/benchmarks.md: batch wall time against users, next to the physical limit.

One panel per operation (rotation at the limit, the no-op check, info), one line per worker
count: the measured wall time (solid) and the physical limit, requests per user x users x
latency / workers (dashed). Standard library only; the bench writes the SVG beside the report.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

PANEL_WIDTH, PANEL_HEIGHT = 300, 220
LEFT, TOP, BOTTOM, GAP = 50, 50, 60, 30
COLOURS = ("#1f6fb2", "#d2691e", "#2e8b57", "#8b3a8b")


def _ticks(top: float) -> list:
    """Round tick values from 0 to at least ``top``."""
    for step in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500):
        if top / step <= 6:
            break
    count = int(top / step) + 1
    return [step * index for index in range(count + 1)]


def wall_time_plot(rows: list, *, title: str) -> str:
    """``rows``: (operation, workers, users, wall seconds, limit seconds), batch mode only."""
    operations = list(dict.fromkeys(row[0] for row in rows))
    workers = sorted({row[1] for row in rows})
    width = LEFT + len(operations) * (PANEL_WIDTH + GAP) + 20
    height = TOP + PANEL_HEIGHT + BOTTOM + 20 * len(workers)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>']
    most_users = max(row[2] for row in rows)
    for number, operation in enumerate(operations):
        mine = [row for row in rows if row[0] == operation]
        ticks = _ticks(max(max(row[3], row[4]) for row in mine))
        left = LEFT + number * (PANEL_WIDTH + GAP)

        def x(users: float, left: float = left) -> float:
            return left + PANEL_WIDTH * users / most_users

        def y(seconds: float, top_tick: float = ticks[-1]) -> float:
            return TOP + PANEL_HEIGHT * (1 - seconds / top_tick)

        parts.append(f'<text x="{left}" y="{TOP - 10}" font-weight="bold">{escape(operation)}</text>')
        parts.append(f'<rect x="{left}" y="{TOP}" width="{PANEL_WIDTH}" height="{PANEL_HEIGHT}" fill="none" '
                     'stroke="#999"/>')
        for tick in ticks:
            parts.append(f'<line x1="{left}" x2="{left + PANEL_WIDTH}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                         'stroke="#eee"/>')
            parts.append(f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
        for users in sorted({row[2] for row in mine}):
            parts.append(f'<text x="{x(users):.1f}" y="{TOP + PANEL_HEIGHT + 15}" text-anchor="middle">'
                         f'{users:,}</text>')
        parts.append(f'<text x="{left + PANEL_WIDTH / 2}" y="{TOP + PANEL_HEIGHT + 32}" text-anchor="middle">'
                     'users</text>')
        for index, count in enumerate(workers):
            colour = COLOURS[index % len(COLOURS)]
            line = sorted((row[2], row[3], row[4]) for row in mine if row[1] == count)
            measured = " ".join(f"{x(users):.1f},{y(wall):.1f}" for users, wall, _limit in line)
            limit = " ".join(f"{x(users):.1f},{y(bound):.1f}" for users, _wall, bound in line)
            parts.append(f'<polyline points="{measured}" fill="none" stroke="{colour}" stroke-width="2"/>')
            parts.append(f'<polyline points="{limit}" fill="none" stroke="{colour}" stroke-width="1.5" '
                         'stroke-dasharray="5,4"/>')
            for users, wall, _limit in line:
                parts.append(f'<circle cx="{x(users):.1f}" cy="{y(wall):.1f}" r="3" fill="{colour}"/>')
    parts.append(f'<text x="20" y="{TOP + PANEL_HEIGHT / 2}" transform="rotate(-90 20 {TOP + PANEL_HEIGHT / 2})" '
                 'text-anchor="middle">wall time (s)</text>')
    for index, count in enumerate(workers):
        colour = COLOURS[index % len(COLOURS)]
        legend_y = TOP + PANEL_HEIGHT + BOTTOM + 20 * index - 10
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + 30}" y1="{legend_y}" y2="{legend_y}" stroke="{colour}" '
                     'stroke-width="2"/>')
        parts.append(f'<line x1="{LEFT + 200}" x2="{LEFT + 230}" y1="{legend_y}" y2="{legend_y}" stroke="{colour}" '
                     'stroke-width="1.5" stroke-dasharray="5,4"/>')
        parts.append(f'<text x="{LEFT + 36}" y="{legend_y + 4}">measured, {count} workers</text>')
        parts.append(f'<text x="{LEFT + 236}" y="{legend_y + 4}">physical limit, {count} workers</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
