"""The live bench's CPU of a process tree (bench/live/cputree.py): two snapshots -> % of one core."""

from __future__ import annotations

from bench.live.cputree import ProcCPU, cpu_percents, summarise_samples


def proc(created: float, cpu: float, depth: int = 1, label: str = "child") -> ProcCPU:
    return ProcCPU(created, cpu, 100 * 2**20, depth, label)


def test_a_process_in_both_snapshots_counts_its_cpu_between_them() -> None:
    before = {1: proc(10.0, 5.0, 0, "main"), 2: proc(11.0, 20.0), 3: proc(11.0, 30.0)}
    after = {1: proc(10.0, 5.1, 0, "main"), 2: proc(11.0, 20.9), 3: proc(11.0, 30.8)}
    pct = cpu_percents(before, after, since=100.0, seconds=2.0)
    assert {pid: round(v, 6) for pid, v in pct.items()} == {1: 5.0, 2: 45.0, 3: 40.0}
    assert round(sum(pct.values()), 6) == 90.0  # the tree: summed over all its processes, % of one core


def test_a_process_started_between_them_counts_all_its_cpu() -> None:
    after = {7: proc(100.5, 0.3)}  # started after the first snapshot (taken at 100.0)
    assert cpu_percents({}, after, since=100.0, seconds=1.0) == {7: 30.0}


def test_an_older_process_seen_for_the_first_time_is_left_out() -> None:
    after = {7: proc(50.0, 40.0)}  # 40 s of CPU since long before: not this second's
    assert cpu_percents({}, after, since=100.0, seconds=1.0) == {}


def test_a_reused_pid_is_another_process() -> None:
    before = {7: proc(50.0, 40.0)}
    after = {7: proc(100.2, 0.5)}  # the old 7 ended; a new 7 started after the first snapshot
    assert cpu_percents(before, after, since=100.0, seconds=1.0) == {7: 50.0}


def test_no_interval_no_figures() -> None:
    assert cpu_percents({1: proc(1.0, 1.0)}, {1: proc(1.0, 2.0)}, since=100.0, seconds=0.0) == {}


def test_summary_means_the_tree_and_each_process_over_its_own_seconds() -> None:
    def sample(server: float, by_process: dict[str, float], connections: dict[str, int] | None = None) -> dict:
        return {
            "server": server,
            "by_process": by_process,
            "processes": len(by_process),
            "rss_mb": 300.0,
            "client": 50.0,
            "services": 10.0,
            "load1": 1.5,
            "connections": connections,
        }

    samples = [
        sample(90.0, {"main 1": 0.0, "child 2": 50.0, "child 3": 40.0}, {"child 2": 3100, "child 3": 2900}),
        sample(70.0, {"main 1": 0.0, "child 2": 70.0}),  # 3 was killed; 2 ran alone
    ]
    out = summarise_samples(samples)
    assert out["cpu_mean_pct"] == 80 and out["cpu_max_pct"] == 90
    assert out["cpu_mean_pct_by_process"] == {"child 2": 60, "child 3": 40, "main 1": 0}
    assert out["processes_max"] == 3
    assert out["connections_by_process"] == {"child 2": 3100, "child 3": 2900}
    assert summarise_samples([]) == {}
