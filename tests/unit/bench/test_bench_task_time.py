"""The bench's task clock: the keywarden.iam tasks of a run, summed, nothing else."""

from __future__ import annotations

from types import SimpleNamespace

from tests.bench.callback_plugins import bench_task_time


def _task(uuid: str, action: str):
    return SimpleNamespace(_uuid=uuid, action=action)


def test_only_the_collections_tasks_count_from_their_start_to_their_last_result(tmp_path, monkeypatch):
    clock = iter([10.0, 11.0, 12.5, 20.0, 23.0])
    monkeypatch.setattr(bench_task_time.time, "perf_counter", lambda: next(clock))
    destination = tmp_path / "seconds"
    monkeypatch.setenv("KEYWARDEN_BENCH_TASK_TIMES", str(destination))
    callback = bench_task_time.CallbackModule()
    batch, debug, info = _task("a", "keywarden.iam.access_key"), _task("b", "debug"), _task("c", "keywarden.iam.access_key_info")
    callback.v2_playbook_on_task_start(batch, False)                 # 10.0
    callback.v2_runner_on_ok(SimpleNamespace(_task=batch))            # 11.0
    callback.v2_runner_on_ok(SimpleNamespace(_task=batch))            # 12.5: the last host's result
    callback.v2_playbook_on_task_start(debug, False)                  # not timed
    callback.v2_runner_on_ok(SimpleNamespace(_task=debug))
    callback.v2_playbook_on_task_start(info, False)                   # 20.0
    callback.v2_runner_on_failed(SimpleNamespace(_task=info))         # 23.0
    callback.v2_playbook_on_stats(None)
    assert float(destination.read_text()) == (12.5 - 10.0) + (23.0 - 20.0)
