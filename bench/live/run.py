"""Live scoring under load: our server against a bare `websockets` baseline, plus kill -9.

    .venv/bin/python -m bench.live.run --mode quick          # ~3 min: 100 judges, 500 boards
    .venv/bin/python -m bench.live.run --mode full           # the issue's targets: 1,000 judges,
                                                             # 5,000 boards, 200 marks/s, 60 s
    .venv/bin/python -m bench.live.run --mode quick --only fault
    .venv/bin/python -m bench.live.run --mode full --only target --repeat 3 \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/contest_bench_live --processes 2
                                                             # the PostgreSQL + Redis lane, 2 server processes

Every size is a parameter (see --help); the modes only set defaults. Each part seeds a fresh
database, starts the server it measures as a child process on 127.0.0.1 (uvicorn, as `contest
serve` does), and stops it at the end. Two lanes:
  SQLite (default)  a file under --work (default var/bench-live), one server process;
  PostgreSQL+Redis  --database-url postgresql+asyncpg://.../NAME: the bench drops and creates NAME
                    (the fault part NAME_fault) on that server for every run and drops them at the end
                    (--keep-database keeps them); --redis-url (default redis://127.0.0.1:6379/13) carries
                    the fan-out between --processes N uvicorn workers on one port (`contest serve --workers N`).
The baseline is the same in both lanes (one process, no database): the reference.

Parts:
  target     one phase at --rate for --duration against ours, then the same against the baseline;
  saturate   the rate stepped up (--steps, --step-seconds each) until ack p99 >= 100 ms, on both;
  fault      marks at --rate for --fault-duration; at half time the server is killed with
             SIGKILL and restarted; tablets resend their outboxes; the database is then
             compared with what the clients submitted (marks + mark_submissions).

Everything talks to 127.0.0.1 only, every loop is bounded in count and time, and the whole run
has a wall-clock budget (--budget) after which clients stop and servers are terminated.
Results go to <work>/results-<mode>.json and a Markdown summary is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil

from bench.live.cputree import cpu_percents, summarise_samples, tree_snapshot
from bench.live.load import Phase, drive, raise_nofile
from bench.live.seed import drop_postgres, is_postgres, make_plan_url, sqlite_url

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
SERVICE_NAMES = ("postgres", "redis-server")  # the services' processes (all of them, machine-wide)

MODES = {
    "quick": {
        "items": 20,
        "judges_per_item": 5,
        "boards": 500,
        "rate": 50,
        "duration": 20,
        "steps": "20,30,40,60,80,120,200,400,800,1200,1600,2400",
        "step_seconds": 8,
        "fault_duration": 20,
        "workers": 1,
    },
    "full": {
        "items": 100,
        "judges_per_item": 10,
        "boards": 5000,
        "rate": 200,
        "duration": 60,
        "steps": "10,20,40,60,100,200,400",
        "step_seconds": 10,
        "fault_duration": 30,
        "fault_rate": 20,
        "workers": 2,
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server child process (ours or the baseline), restartable, always stopped at exit. Ours may
    run as several uvicorn workers: the child is then their supervisor, and a kill or a stop
    reaches every process of its tree."""

    def __init__(
        self,
        kind: str,
        port: int,
        work: Path,
        database_url: str | None,
        plan_path: Path,
        compression: bool,
        redis_url: str | None = None,
        processes: int = 1,
    ) -> None:
        self.kind, self.port, self.work, self.plan_path, self.compression = kind, port, work, plan_path, compression
        self.database_url = database_url
        self.redis_url, self.processes = redis_url, processes
        self.proc: subprocess.Popen | None = None
        self.instrument = False
        self.extra_args: list[str] = []
        self.ready_dir = work / f"ready-{port}"
        self.log = open(work / f"server-{kind}.log", "ab")  # noqa: SIM115 - closed in stop()

    def command(self) -> list[str]:
        if self.kind == "ours":
            cmd = [PY, "-m", "bench.live.serve", "--port", str(self.port)]
            if self.processes > 1:
                cmd += ["--workers", str(self.processes), "--ready-dir", str(self.ready_dir)]
            if self.compression:
                cmd += ["--ws-deflate"]
            if self.instrument:
                cmd += ["--instrument", str(self.work / f"instrument-{self.port}.json")]
            return cmd + self.extra_args
        cmd = [PY, "-m", "bench.live.baseline", "--port", str(self.port), "--plan", str(self.plan_path)]
        return cmd + (["--compression"] if self.compression else [])

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("CONTEST_DATABASE_URL", "CONTEST_REDIS_URL")}
        env["PYTHONPATH"] = f"{REPO}{os.pathsep}{REPO / 'src'}"
        if self.database_url is not None:
            env["CONTEST_DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["CONTEST_REDIS_URL"] = self.redis_url
        env["CONTEST_VAR_DIR"] = str(self.work / "var")
        env["CONTEST_SECRET_KEY"] = "bench-live-secret-key-not-for-production"
        return env

    def start(self, timeout: float = 60.0) -> None:
        raise_nofile()  # the child inherits the raised RLIMIT_NOFILE
        shutil.rmtree(self.ready_dir, ignore_errors=True)
        self.ready_dir.mkdir(parents=True)
        self.proc = subprocess.Popen(self.command(), cwd=REPO, env=self.env(), stdout=self.log, stderr=self.log)
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited with {self.proc.returncode}; see {self.log.name}")
            # several workers: every one has started its app (else the first takes all the connections)
            if self.kind == "ours" and self.processes > 1 and len(list(self.ready_dir.glob("*.ready"))) < self.processes:
                time.sleep(0.1)
                continue
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    if self.kind == "ours":
                        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2).read()
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.kind} server did not start within {timeout} s")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def tree(self) -> list[psutil.Process]:
        """The server's processes: the child we started and all its descendants."""
        if self.pid is None:
            return []
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def kill9(self) -> None:
        if self.proc is not None:
            for p in self.tree():  # workers too: an orphaned worker would keep serving the port
                with contextlib.suppress(psutil.Error):
                    p.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            tree = self.tree()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            _, alive = psutil.wait_procs(tree[1:], timeout=10)
            for p in alive:  # a worker its supervisor did not stop
                with contextlib.suppress(psutil.Error):
                    p.kill()
        shutil.rmtree(self.ready_dir, ignore_errors=True)
        self.log.close()


def services() -> list[psutil.Process]:
    procs = []
    for p in psutil.process_iter(["name"]):
        if p.info["name"] in SERVICE_NAMES:
            procs.append(p)
    return procs


class Sampler:
    """Every second: CPU and RSS of the server's whole process tree (the process started, uvicorn's
    workers under it, their children; follows a restart), of this client (this process and its
    children but the server), and of the PostgreSQL and Redis processes on the machine. Once, at the
    start: the websocket connections each server process holds."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.samples: list[dict] = []
        self._labels: dict[tuple[int, float], str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self.samples = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _snap(self, me: psutil.Process, service_procs: list[psutil.Process]) -> tuple[float, dict, dict, dict]:
        root = self.server.tree()[:1]
        return (
            time.time(),
            tree_snapshot(root, labels=self._labels),
            tree_snapshot([me], exclude=[p.pid for p in root]),
            tree_snapshot(service_procs),
        )

    def connections(self, snapshot: dict) -> dict[str, int]:
        """Established TCP connections on the server's port, per server process."""
        out = {}
        for pid, p in snapshot.items():
            try:
                conns = psutil.Process(pid).net_connections(kind="tcp")
            except psutil.Error:
                continue
            n = sum(1 for c in conns if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == self.server.port)
            if n:
                out[f"{p.label} {pid}"] = n
        return out

    def _run(self) -> None:
        me = psutil.Process()
        service_procs = services()
        prev = self._snap(me, service_procs)
        for n in range(7200):  # bounded: two hours of samples at most
            if self._stop.wait(1.0):
                return
            if n % 10 == 9:
                service_procs = services()
            now = self._snap(me, service_procs)
            seconds = now[0] - prev[0]
            server, client, svc = (cpu_percents(prev[k], now[k], prev[0], seconds) for k in (1, 2, 3))
            if server:
                self.samples.append(
                    {
                        "t": now[0],
                        "server": sum(server.values()),
                        "by_process": {f"{now[1][pid].label} {pid}": pct for pid, pct in server.items()},
                        "processes": len(now[1]),
                        "rss_mb": sum(p.rss for p in now[1].values()) / 2**20,
                        "client": sum(client.values()),
                        "services": sum(svc.values()),
                        "load1": os.getloadavg()[0],
                        "connections": self.connections(now[1]) if not self.samples else None,
                    }
                )
            prev = now

    def stop(self) -> dict:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        return summarise_samples(self.samples)


def database_url(work: Path, name: str, args: argparse.Namespace) -> str:
    """The part's database: <work>/<name>.db on SQLite; on PostgreSQL the --database-url's database
    for the load parts and <database>_<name> for the others."""
    pg = getattr(args, "database_url", None)  # bench/public seeds with a namespace of its own
    if not pg:
        return sqlite_url(work / f"{name}.db")
    if name == "load":
        return pg
    base, _, db = pg.rpartition("/")
    return f"{base}/{db}_{name}"


def seed(work: Path, name: str, args: argparse.Namespace) -> tuple[str, Path, dict]:
    url = database_url(work, name, args)
    plan = make_plan_url(url, args.items, args.entries, args.judges_per_item, args.criteria, args.show_provisional)
    plan_path = work / f"{name}-plan.json"
    plan_path.write_text(json.dumps(plan))
    return url, plan_path, plan


def run_part(
    kind: str,
    work: Path,
    db_url: str | None,
    plan_path: Path,
    plan: dict,
    phases: list[Phase],
    args: argparse.Namespace,
    stop_after: float | None = None,
    fault_at: float | None = None,
    drain: float = 15.0,
) -> dict:
    ours = kind == "ours"
    server = Server(
        kind,
        free_port(),
        work,
        db_url,
        plan_path,
        args.compression,
        redis_url=args.redis_url if ours else None,
        processes=args.processes if ours else 1,
    )
    server.instrument = args.instrument and kind == "ours" and fault_at is None
    server.extra_args = args.server_args.split()
    server.start()
    sampler = Sampler(server)
    spy = None
    if kind == "ours" and args.profile and fault_at is None:
        svg = work / f"profile-{args.mode}{'-' + args.label if args.label else ''}-{len(phases)}.{args.profile_format}"
        spy = subprocess.Popen(
            [
                str(Path(PY).parent / "py-spy"),
                "record",
                "--pid",
                str(server.pid),
                "--rate",
                "50",
                "--format",
                args.profile_format,
                "--output",
                str(svg),
                "--nonblocking",
                *(["--subprocesses"] if server.processes > 1 else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    fault = None
    if fault_at is not None:

        async def fault() -> None:
            await asyncio.sleep(fault_at)
            server.kill9()
            await asyncio.sleep(args.down_seconds)
            await asyncio.get_running_loop().run_in_executor(None, server.start)

    try:
        result = asyncio.run(
            drive(
                f"ws://127.0.0.1:{server.port}",
                plan,
                args.boards,
                phases,
                workers=args.workers,
                compression=args.compression,
                sampler=sampler,
                fault=fault,
                stop_after_p99_ms=stop_after,
                budget_seconds=args.budget,
                drain_seconds=drain,
            )
        )
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            try:
                spy.wait(timeout=60)
            except subprocess.TimeoutExpired:
                spy.kill()
        server.stop()
    result["server_kind"] = kind
    files = sorted(work.glob(f"instrument-{server.port}*.json"))  # one per worker with several processes
    if files:
        timings = {f.stem.removeprefix(f"instrument-{server.port}").lstrip("-") or "server": json.loads(f.read_text()) for f in files}
        result["instrument"] = timings["server"] if list(timings) == ["server"] else timings
        for f in files:
            f.unlink()
        print(json.dumps(result["instrument"], ensure_ascii=False, indent=1), flush=True)
    return result


def check_database(url: str, marks: dict) -> dict:
    """What the clients submitted against what the database (SQLite or PostgreSQL) holds."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def read() -> tuple[list[str], int, int, list[str]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as db:
                in_db = [str(r[0]) for r in await db.execute(text("SELECT client_id FROM mark_submissions"))]
                mark_rows = (await db.execute(text("SELECT count(*) FROM marks"))).scalar_one()
                dup_cells = (
                    await db.execute(
                        text(
                            "SELECT count(*) FROM (SELECT 1 FROM marks GROUP BY entry_id, criterion_id, judge_person_id"
                            " HAVING count(*) > 1) AS d"
                        )
                    )
                ).scalar_one()
                mark_cids = [str(r[0]) for r in await db.execute(text("SELECT client_id FROM marks"))]
        finally:
            await engine.dispose()
        return in_db, mark_rows, dup_cells, mark_cids

    in_db, mark_rows, dup_cells, mark_cids = asyncio.run(read())
    submitted = set(marks)
    refused = {cid for cid, (_, _, error, _) in marks.items() if error}
    expected = submitted - refused
    db_set = set(in_db)
    acked = {cid for cid, (_, status, _, _) in marks.items() if status}
    return {
        "acked": len(acked),
        "acked_not_in_db (lost)": len(acked - db_set),
        "unacked_in_db": len((expected - acked) & db_set),
        "unacked_not_in_db (still in outboxes)": len((expected - acked) - db_set),
        "submitted": len(submitted),
        "refused": len(refused),
        "expected_stored": len(expected),
        "mark_submissions": len(in_db),
        "mark_submissions_distinct": len(db_set),
        "marks_rows": mark_rows,
        "missing": len(expected - db_set),
        "extra": len(db_set - submitted),
        "duplicate_cells": dup_cells,
        "marks_not_submitted": len(set(mark_cids) - submitted),
        "acked_duplicate": sum(1 for _, status, _, _ in marks.values() if status == "duplicate"),
        "resent": sum(1 for *_, sends in marks.values() if sends > 1),
        "equal": expected == db_set and len(in_db) == len(db_set) == mark_rows and dup_cells == 0,
    }


def hide_password(url: str | None) -> str | None:
    from sqlalchemy.engine import make_url

    return url and make_url(url).render_as_string(hide_password=True)


def service_versions(args: argparse.Namespace) -> tuple[str, str]:
    """PostgreSQL's and Redis's server versions ('?' when they cannot be read)."""
    pg = redis_version = "?"
    try:
        import asyncpg

        from bench.live.seed import pg_admin_dsn

        async def read() -> str:
            conn = await asyncpg.connect(pg_admin_dsn(args.database_url), timeout=5)  # the database itself may not exist yet
            try:
                return str(await conn.fetchval("SHOW server_version"))
            finally:
                await conn.close()

        pg = asyncio.run(read())
    except Exception:  # noqa: BLE001 - a version is a courtesy
        pass

    if args.redis_url:
        try:
            import redis

            client = redis.Redis.from_url(args.redis_url, socket_connect_timeout=2, socket_timeout=2)
            redis_version = str(client.info("server").get("redis_version", "?"))
            client.close()
        except Exception:  # noqa: BLE001 - as above
            redis_version = "unreachable"
    return pg, redis_version


def lane(args: argparse.Namespace) -> str:
    """The lane measured, in words (the report's first line)."""
    if not args.database_url:
        return "SQLite (WAL, one file), 1 server process, channels in memory"
    pg, redis_version = service_versions(args)
    fan_out = f"Redis {redis_version} pub/sub ({args.redis_url})" if args.redis_url else "channels in memory (no Redis)"
    processes = f"{args.processes} server process{'es' if args.processes > 1 else ''}" + (
        " (uvicorn workers on one port, `contest serve --workers`)" if args.processes > 1 else ""
    )
    return f"PostgreSQL {pg} ({hide_password(args.database_url)}) + {fan_out}, {processes}"


def fmt(x) -> str:
    return "–" if x is None else (f"{x:g}" if isinstance(x, float) else str(x))


def ratio(a, b) -> str:
    return "–" if a is None or not b else f"{a / b:.1f}x"


def summary(report: dict) -> str:
    lines = []
    a = report["args"]
    lines.append(f"lane: {report.get('lane', 'SQLite, 1 server process')}; the baseline: bare `websockets` relay, 1 process, no database")
    load = "/".join(f"{x:.2f}" for x in report.get("load_before", ()))
    lines.append(f"machine: {report['machine']}; load average (1/5/15 min) before {load}, run {report.get('date', '?')}")
    lines.append(
        f"mode {a['mode']}: {a['items']} items x {a['judges_per_item']} judges = {a['items'] * a['judges_per_item']} judges, "
        f"{a['boards']} boards, {a['rate']} marks/s for {a['duration']} s, compression {'on' if a['compression'] else 'off'}"
    )
    if "target" in report and "baseline" not in report["target"]:
        p = report["target"]["ours"]["phases"][0]
        lines.append(
            f"ours only: ack {p['ack_ms']}, board {p['board_ms']}, throughput {p['throughput']}, unacked {p['unacked']}, "
            f"server {report['target']['ours']['server']}"
        )
    elif "target" in report:
        runs = report.get("target_runs", [])
        load = [r[k]["server"].get("load1_mean") for r in runs for k in r]
        lines.append(
            f"\n{len(runs)} run(s) of ours then the baseline, figures are medians; 1-min load during the runs "
            f"{min(load, default=0)}-{max(load, default=0)}; ratios per run: {ratio_ranges(runs) if runs else '-'}"
        )
        lines.append("")
        lines.append("| figure | ours | baseline | ratio |")
        lines.append("|---|---|---|---|")
        o, b = report["target"]["ours"], report["target"]["baseline"]
        po, pb = o["phases"][0], b["phases"][0]
        for label, key in (("ack", "ack_ms"), ("board", "board_ms")):
            for q in ("p50", "p95", "p99", "max"):
                lines.append(f"| {label} {q} (ms) | {fmt(po[key][q])} | {fmt(pb[key][q])} | {ratio(po[key][q], pb[key][q])} |")
        for label, key in (
            ("marks sent", "sent"),
            ("acked", "acked"),
            ("unacked", "unacked"),
            ("refused", "refused"),
            ("throughput (acks/s)", "throughput"),
        ):
            lines.append(f"| {label} | {fmt(po[key])} | {fmt(pb[key])} | |")
        lines.append(
            f"| board (mark, viewer) pairs measured / missing | {po['board_ms']['n']} / {po['board_ms']['missing']} | {pb['board_ms']['n']} / {pb['board_ms']['missing']} | |"  # noqa: E501 - one literal, clearer whole
        )
        lines.append(
            f"| judges / boards connected | {o['judges_connected']} / {o['boards_connected']} | {b['judges_connected']} / {b['boards_connected']} | |"  # noqa: E501 - one literal, clearer whole
        )
        lines.append(f"| connect time (s) | {o['connect_seconds']} | {b['connect_seconds']} | |")
        for label, key, with_ratio in (
            ("server CPU mean % of one core (all its processes)", "cpu_mean_pct", True),
            ("server CPU max %", "cpu_max_pct", False),
            ("server processes", "processes_max", False),
            ("server RSS max (MB, summed over its processes)", "rss_max_mb", False),
            ("client CPU mean % (all procs)", "client_cpu_mean_pct", False),
            ("PostgreSQL + Redis CPU mean % (machine-wide)", "services_cpu_mean_pct", False),
            ("load avg (1 min) during", "load1_mean", False),
        ):
            ov, bv = o["server"].get(key), b["server"].get(key)
            lines.append(f"| {label} | {fmt(ov)} | {fmt(bv)} | {ratio(ov, bv) if with_ratio else ''} |")
        checks = [r["ours"]["check"] for r in runs if "check" in r.get("ours", {})]
        if checks:
            lines.append(
                "| stored once (database read back; lost / missing / duplicate cells, per run) | "
                + ", ".join(
                    f"{'yes' if c['equal'] else 'NO'} ({c['acked_not_in_db (lost)']}/{c['missing']}/{c['duplicate_cells']})" for c in checks
                )
                + " | | |"
            )
        by_process = o["server"].get("cpu_mean_pct_by_process")
        if by_process and len(by_process) > 1:
            lines.append(f"| ours CPU mean % by process (first run) | {', '.join(f'{k}: {v}' for k, v in by_process.items())} | | |")
        conns = o["server"].get("connections_by_process")
        if conns and len(conns) > 1:
            lines.append(f"| ours websockets by process (first run) | {', '.join(f'{k}: {v}' for k, v in conns.items())} | | |")
        lines.append(
            f"| errors (ours) | {json.dumps({k: v for k, v in o['stats'].items() if 'error' in k or 'Error' in k or 'failed' in k}, ensure_ascii=False)} | | |"  # noqa: E501 - one literal, clearer whole
        )
    if "saturate" in report:
        lines.append("")
        lines.append(
            "| rate (marks/s) | ours ack p99 | ours board p99 | ours acks/s | ours CPU% | baseline ack p99 | baseline board p99 | baseline acks/s |"  # noqa: E501 - one literal, clearer whole
        )
        lines.append("|---|---|---|---|---|---|---|---|")
        o, b = report["saturate"]["ours"]["phases"], report["saturate"]["baseline"]["phases"]
        for k in range(max(len(o), len(b))):
            po = o[k] if k < len(o) else None
            pb = b[k] if k < len(b) else None
            rate = (po or pb)["rate"]
            lines.append(
                f"| {fmt(rate)} | {fmt(po and po['ack_ms']['p99'])} | {fmt(po and po['board_ms']['p99'])} | {fmt(po and po['throughput'])} | "  # noqa: E501 - one literal, clearer whole
                f" | {fmt(pb and pb['ack_ms']['p99'])} | {fmt(pb and pb['board_ms']['p99'])} | {fmt(pb and pb['throughput'])} |"
            )
        lines.append(
            f"\nsaturation (highest rate with ack p99 < 100 ms): ours {fmt(report['saturate']['ours_point'])}, "
            f"baseline {fmt(report['saturate']['baseline_point'])}"
        )
    if "fault" in report:
        f = report["fault"]
        lines.append("")
        lines.append(f"fault: {json.dumps(f['check'], ensure_ascii=False)}")
        lines.append(f"fault run: ack {f['phases'][0]['ack_ms']}, stats {json.dumps(f['stats'], ensure_ascii=False)}")
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _median(values: list) -> float | None:
    import statistics

    finite = [v for v in values if v is not None]
    if not finite:
        return None
    return statistics.median(finite)


def median_run(runs: list[dict]) -> dict:
    """One run-shaped result whose figures are the medians of the runs (ours and baseline each)."""
    if len(runs) == 1:
        return runs[0]
    merged: dict = {}
    for kind in runs[0]:
        results = [r[kind] for r in runs]
        first = results[0]
        phase = dict(first["phases"][0])
        for key in ("ack_ms", "board_ms"):
            phase[key] = {q: _median([r["phases"][0][key].get(q) for r in results]) for q in first["phases"][0][key]}
        for key in ("sent", "acked", "unacked", "refused", "throughput"):
            phase[key] = _median([r["phases"][0][key] for r in results])
        merged[kind] = {
            **first,
            "phases": [phase],
            "server": {
                k: _median([r["server"].get(k) for r in results]) if isinstance(v, int | float) else v for k, v in first["server"].items()
            },
            "connect_seconds": _median([r["connect_seconds"] for r in results]),
        }
    return merged


def ratio_ranges(runs: list[dict]) -> str:
    """Per-run ratios ours / baseline (the spread behind the medians)."""
    parts = []
    for label, key in (("ack", "ack_ms"), ("board", "board_ms")):
        for q in ("p50", "p99"):
            values = []
            for r in runs:
                o, b = r["ours"]["phases"][0][key][q], r["baseline"]["phases"][0][key][q]
                if o is not None and b:
                    values.append(o / b)
            if values:
                parts.append(f"{label} {q} {min(values):.1f}-{max(values):.1f}x")
    return ", ".join(parts)


def saturation_point(phases: list[dict]) -> float | None:
    point = None
    for p in phases:
        if p["ack_ms"]["p99"] is not None and p["ack_ms"]["p99"] < 100 and not p["unacked"]:
            point = p["rate"]
        else:
            break
    return point


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=sorted(MODES), default="quick")
    parser.add_argument("--only", default="target,saturate,fault", help="comma-separated parts: target, saturate, fault")
    parser.add_argument("--items", type=int)
    parser.add_argument("--judges-per-item", type=int)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--criteria", type=int, default=5)
    parser.add_argument("--show-provisional", action="store_true", help="boards show a provisional ranking (bigger updates)")
    parser.add_argument("--boards", type=int)
    parser.add_argument("--rate", type=float)
    parser.add_argument("--duration", type=float)
    parser.add_argument("--steps", help="saturation rates, comma-separated")
    parser.add_argument("--step-seconds", type=float)
    parser.add_argument("--fault-duration", type=float)
    parser.add_argument(
        "--fault-rate", type=float, help="marks/s during the fault run (default: --rate; keep it below saturation so outboxes drain)"
    )
    parser.add_argument("--fault-boards", type=int, help="board viewers during the fault run (default: --boards)")
    parser.add_argument("--fault-drain", type=float, default=60.0, help="seconds to let outboxes drain after the restart")
    parser.add_argument("--down-seconds", type=float, default=1.0, help="how long the server stays dead")
    parser.add_argument("--workers", type=int, help="board client processes")
    parser.add_argument(
        "--compression", action="store_true", help="permessage-deflate on both servers (browsers ask for it; `contest serve` declines it)"
    )
    parser.add_argument("--budget", type=float, default=900.0, help="wall-clock limit of each part's client (s)")
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench-live")
    parser.add_argument("--label", default="")
    parser.add_argument("--instrument", action="store_true", help="time the mark path and the board flush inside our server")
    parser.add_argument("--skip-baseline", action="store_true", help="target part: measure ours only (A/B runs of our server)")
    parser.add_argument(
        "--server-args", default="", help="extra arguments for our server (bench.live.serve), e.g. '--switch-interval 0.001'"
    )
    parser.add_argument("--repeat", type=int, default=1, help="target part: runs of ours + baseline; figures are medians")
    parser.add_argument(
        "--database-url",
        help="the PostgreSQL lane: postgresql+asyncpg://USER@HOST:PORT/NAME; the bench drops and creates NAME (and NAME_fault) "
        "for every run (default: SQLite files under --work)",
    )
    parser.add_argument(
        "--redis-url", help=f"Redis for the fan-out between processes (PostgreSQL lane; default {DEFAULT_REDIS_URL}; 'none': without)"
    )
    parser.add_argument("--processes", type=int, default=1, help="our server's processes (uvicorn workers; >1 needs --database-url)")
    parser.add_argument("--keep-database", action="store_true", help="PostgreSQL lane: keep the databases after the run")
    parser.add_argument("--profile", action="store_true", help="py-spy record our server during its parts")
    parser.add_argument("--profile-format", default="speedscope", choices=["speedscope", "flamegraph", "raw"])
    args = parser.parse_args()
    for key, value in MODES[args.mode].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.database_url and not is_postgres(args.database_url):
        parser.error("--database-url: a postgresql+asyncpg:// URL (the SQLite lane is the default)")
    if args.database_url:
        args.redis_url = None if (args.redis_url or "").lower() == "none" else (args.redis_url or DEFAULT_REDIS_URL)
    elif args.redis_url:
        parser.error("--redis-url needs --database-url (PostgreSQL)")
    if args.processes < 1 or (args.processes > 1 and not (args.database_url and args.redis_url)):
        parser.error("--processes N > 1 needs --database-url (PostgreSQL) and Redis, as `contest serve --workers N` does")
    raise_nofile()
    args.work.mkdir(parents=True, exist_ok=True)
    parts = set(args.only.split(","))
    report: dict = {
        "args": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in {**vars(args), "database_url": hide_password(args.database_url)}.items()
        },
        "machine": f"{cpu_model()}, {platform.machine()}, {os.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GiB, "
        f"Python {platform.python_version()}, nofile {raise_nofile()}",
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "load_before": os.getloadavg(),
        "lane": lane(args),
    }
    try:
        run_parts(args, parts, report)
    finally:
        if args.database_url and not args.keep_database:
            for name in ("load", "fault"):
                try:
                    drop_postgres(database_url(args.work, name, args))
                except Exception as exc:  # noqa: BLE001 - report, do not hide the run's own error
                    print(f"could not drop {name} database: {exc}", flush=True)
    report["load_after"] = os.getloadavg()
    out = args.work / f"results-{args.mode}{'-' + args.label if args.label else ''}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str))
    print(summary(report))
    print(f"\nraw results: {out}")
    shutil.rmtree(args.work / "var", ignore_errors=True)


def run_parts(args: argparse.Namespace, parts: set[str], report: dict) -> None:
    if parts & {"target", "saturate"}:
        db_url, plan_path, plan = seed(args.work, "load", args)
        print(f"seeded {len(plan['items'])} items, {len(plan['judges'])} judges in {plan['seed_seconds']} s", flush=True)
        if "target" in parts:
            runs = []
            for k in range(args.repeat):
                if k:  # a fresh competition for every run: the plan's cells are unmarked again
                    db_url, plan_path, plan = seed(args.work, "load", args)
                run: dict = {}
                for kind in ("ours",) if args.skip_baseline else ("ours", "baseline"):
                    run[kind] = run_part(
                        kind, args.work, db_url if kind == "ours" else None, plan_path, plan, [Phase(args.rate, args.duration)], args
                    )
                    marks = run[kind].pop("marks")
                    if kind == "ours":  # every acknowledged mark stored once, read back from the database
                        run[kind]["check"] = check_database(db_url, marks)
                        print("stored once:", json.dumps(run[kind]["check"]), flush=True)
                    print(f"run {k + 1}/{args.repeat}", kind, json.dumps(run[kind]["phases"], ensure_ascii=False), flush=True)
                runs.append(run)
            report["target_runs"] = runs
            report["target"] = median_run(runs)
        if "saturate" in parts:
            steps = [Phase(float(r), args.step_seconds) for r in args.steps.split(",")]
            report["saturate"] = {}
            for kind in ("ours", "baseline"):
                report["saturate"][kind] = run_part(
                    kind, args.work, db_url if kind == "ours" else None, plan_path, plan, steps, args, stop_after=100.0
                )
                report["saturate"][kind].pop("marks")
                report["saturate"][f"{kind}_point"] = saturation_point(report["saturate"][kind]["phases"])
                print(kind, "saturation", report["saturate"][f"{kind}_point"], flush=True)
    if "fault" in parts:
        db_url, plan_path, plan = seed(args.work, "fault", args)
        args_fault = argparse.Namespace(**{**vars(args), "boards": args.fault_boards if args.fault_boards is not None else args.boards})
        result = run_part(
            "ours",
            args.work,
            db_url,
            plan_path,
            plan,
            [Phase(args.fault_rate or args.rate, args.fault_duration)],
            args_fault,
            fault_at=args.fault_duration / 2,
            drain=args.fault_drain,
        )
        result["check"] = check_database(db_url, result.pop("marks"))
        report["fault"] = result
        print("fault", json.dumps(result["check"]), flush=True)


if __name__ == "__main__":
    main()
