"""The bench's arithmetic and picture: the physical limit, the ratio to it, the plot, the report rows."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.bench.bench import Measurement, report
from tests.bench.plot import wall_time_plot


def test_the_physical_limit_is_requests_times_latency_over_workers():
    batch = Measurement("rotation", "batch", 1000, 11.9, 5000, 68.0, True, workers=32, latency_ms=50)
    assert batch.limit == 5000 * 0.050 / 32
    assert round(batch.ratio, 2) == round(11.9 / (5000 * 0.050 / 32), 2)
    loop = Measurement("rotation", "loop", 100, 34.9, 600, 62.0, True, workers=32, latency_ms=50)
    assert loop.limit == 600 * 0.050  # a loop sends one request at a time, whatever workers says


def test_the_report_has_a_row_per_batch_run_and_the_start_up_cost_of_ansible():
    runs = [Measurement("no-op check", "batch", 1, 0.7, 2, 62.0, False, workers=32, client_cpu=0.64, latency_ms=50),
            Measurement("no-op check", "batch", 1000, 2.63, 1000, 67.0, False, workers=32, client_cpu=1.99,
                        server_cpu=0.49, latency_ms=50, task_seconds=1.90, cores=2)]
    text = report(runs, 50, [32])
    # wall 2.63 s against the limit 1.56 s; the task alone 1.90 s; (1.99 + 0.49) s of CPU on 2 cores
    assert "| no-op check | 1000 | 32 | 2.63 | 1.56 | 1.68 | 1.90 | 1.22 | 1.24 | 1.00 | 1.99 | 0.49 | 67 |" in text
    assert "about 0.64 s of CPU per run, the 1-user rows): 0.64 ms per user at 1,000 users." in text


def test_the_plot_is_an_svg_with_a_measured_and_a_limit_line_per_worker_count():
    rows = [("rotation", workers, users, users * 0.012, users * 5 * 0.05 / workers)
            for workers in (32, 128) for users in (100, 1000, 5000)]
    svg = ET.fromstring(wall_time_plot(rows, title="test"))
    lines = [element for element in svg.iter() if element.tag.endswith("polyline")]
    assert len(lines) == 4
    assert sum(1 for line in lines if line.get("stroke-dasharray")) == 2


def test_the_rotation_floor_is_the_derivation_and_the_server_over_the_cores():
    runs = [Measurement("rotation at the limit", "batch", 1000, 13.0, 5000, 70.0, True, workers=32, latency_ms=50,
                        server_cpu=3.4, cores=2),
            Measurement("rotation at the limit", "batch", 1000, 13.1, 5000, 71.0, True, workers=128, latency_ms=50,
                        server_cpu=3.9, cores=2)]
    text = report(runs, 50, [32, 128], derive_ms=4.0)
    # (4.0 ms + 3.4 ms) x 1,000 users over 2 cores, from the run at the fewer workers
    assert "make 7.4 ms per user" in text and "1,000 rotations need at least 3.7 s of these cores" in text
    assert "least" not in report(runs, 50, [32, 128])
