"""CPU of a process tree, sampled: the server with its uvicorn workers and their children.

`tree_snapshot` reads every process under some roots (psutil); `cpu_percents` turns two snapshots
into % of one core per process; `summarise_samples` turns the per-second samples into the figures
of the report. The last two are pure (tests/unit/test_bench_cputree.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple


class ProcCPU(NamedTuple):
    create_time: float  # psutil's (wall clock, s): a reused pid is another process
    cpu: float  # user + system seconds so far
    rss: int  # bytes
    depth: int  # 0 = a root, 1 = its child, ...
    label: str  # what it is, for the report ("main", "worker", "resource tracker", ...)


def _label(proc: Any, depth: int) -> str:
    try:
        cmdline = " ".join(proc.cmdline())
    except Exception:  # noqa: BLE001 - psutil.Error; a label is a courtesy
        cmdline = ""
    if "resource_tracker" in cmdline:
        return "resource tracker"
    return ("main", "child", "grandchild")[min(depth, 2)]


def tree_snapshot(
    roots: Iterable[Any], exclude: Iterable[int] = (), labels: dict[tuple[int, float], str] | None = None
) -> dict[int, ProcCPU]:
    """CPU times of every process under the roots (psutil.Process; descendants included), skipping
    the excluded pids and everything under them; processes that vanish meanwhile are left out.
    `labels` caches the labels by (pid, create time) between snapshots."""
    import psutil

    skip = set(exclude)
    out: dict[int, ProcCPU] = {}
    stack = [(p, 0) for p in roots]
    while stack and len(out) < 10_000:  # bounded
        proc, depth = stack.pop()
        if proc.pid in skip or proc.pid in out:
            continue
        try:
            with proc.oneshot():
                t = proc.cpu_times()
                created = proc.create_time()
                key = (proc.pid, created)
                label = labels.get(key) if labels is not None else None
                if label is None:
                    label = _label(proc, depth)
                    if labels is not None:
                        labels[key] = label
                out[proc.pid] = ProcCPU(created, t.user + t.system, proc.memory_info().rss, depth, label)
            stack.extend((c, depth + 1) for c in proc.children())
        except psutil.Error:
            continue
    return out


def cpu_percents(before: dict[int, ProcCPU], after: dict[int, ProcCPU], since: float, seconds: float) -> dict[int, float]:
    """% of one core each process used between two snapshots taken `seconds` apart (the first at wall
    time `since`). A process in both counts its CPU between them; one that started after the first
    counts all its CPU; one seen for the first time but older than the first snapshot (its share of
    the interval is unknown) is left out; one that ended in between is lost (its last partial second)."""
    out: dict[int, float] = {}
    if seconds <= 0:
        return out
    for pid, now in after.items():
        then = before.get(pid)
        if then is not None and then.create_time == now.create_time:
            used = now.cpu - then.cpu
        elif now.create_time >= since:
            used = now.cpu
        else:
            continue
        out[pid] = 100.0 * max(0.0, used) / seconds
    return out


def summarise_samples(samples: list[dict]) -> dict:
    """The sampler's figures. A sample: server (% of one core, the tree summed), by_process
    ({label: %}), processes, rss_mb, client, services (%), load1; optionally connections ({label: n})."""
    if not samples:
        return {}

    def mean(key: str) -> float:
        return sum(s[key] for s in samples) / len(samples)

    by_process: dict[str, list[float]] = {}
    for s in samples:
        for label, pct in s["by_process"].items():
            by_process.setdefault(label, []).append(pct)
    out = {
        "cpu_mean_pct": round(mean("server")),
        "cpu_max_pct": round(max(s["server"] for s in samples)),
        "processes_max": max(s["processes"] for s in samples),
        "rss_max_mb": round(max(s["rss_mb"] for s in samples)),
        "rss_end_mb": round(samples[-1]["rss_mb"]),
        "client_cpu_mean_pct": round(mean("client")),
        "services_cpu_mean_pct": round(mean("services")),
        "load1_mean": round(mean("load1"), 2),
        # mean over the seconds the process was there (a restarted server has other pids)
        "cpu_mean_pct_by_process": {label: round(sum(v) / len(v)) for label, v in sorted(by_process.items())},
    }
    connections = next((s["connections"] for s in samples if s.get("connections")), None)
    if connections:
        out["connections_by_process"] = connections
    return out
