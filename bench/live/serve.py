"""Our app served as `contest serve` does (uvicorn, `cli.SERVE_OPTIONS`), with bench-only variants.

.venv/bin/python -m bench.live.serve --port 8000 [--ws-deflate] [--instrument FILE] [--workers N --ready-dir DIR]

One process by default; `--workers N` runs N uvicorn worker processes on the one port, as
`contest serve --workers N` does (PostgreSQL + Redis from CONTEST_DATABASE_URL / CONTEST_REDIS_URL).
The bench-only variants are applied in every worker: uvicorn imports `served_app` (a factory) in
each one and the options travel in the environment (BENCH_SERVE_OPTIONS), since workers are spawned,
not forked. With `--ready-dir`, every process writes `<pid>.ready` there once its app has started
(the bench waits for all N before it connects, so that no worker starts late with no connections).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import uvicorn

OPTIONS_ENV = "BENCH_SERVE_OPTIONS"


def instrument(path: str) -> None:
    """Bench-only timers around the mark path (sockets._store: queueing + its batch), each batch
    (MarkWriter._write), the board flush and its fan-out, the hello
    snapshot, plus SQL statements per call and the marks per batch."""
    import atexit
    import json
    import os
    import threading
    import time
    from collections import defaultdict

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from contest.live import hub, service, sockets, writer

    stats: dict = defaultdict(lambda: [0, 0.0, 0])  # name -> [calls, seconds, statements]
    statements = [0]

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(*_args):
        statements[0] += 1

    def timed(name, fn):
        async def wrapper(*args, **kwargs):
            t, q = time.perf_counter(), statements[0]
            try:
                return await fn(*args, **kwargs)
            finally:
                s = stats[name]
                s[0] += 1
                s[1] += time.perf_counter() - t
                s[2] += statements[0] - q  # includes statements of concurrent tasks: an upper bound

        return wrapper

    sockets._store = timed("mark (_store: queued + its batch)", sockets._store)
    facts = {"batches": 0, "items read": 0}  # the writer's FactsCache: items read again after a forget
    validate = service.FactsCache.validate

    def validating(self, db):
        facts["batches"] += 1
        validate(self, db)
        facts["items read"] = self.loads

    service.FactsCache.validate = validating
    write = writer.MarkWriter._write
    marks_per_batch = [0, 0]

    batch_ms: list[float] = []
    import gc

    gc_pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    gc_started = [0.0]

    def on_gc(phase, info):
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gc_pauses[info["generation"]].append(1000 * (time.perf_counter() - gc_started[0]))

    gc.callbacks.append(on_gc)

    async def counted(self, marks):
        marks_per_batch[0] += 1
        marks_per_batch[1] += len(marks)
        t = time.perf_counter()
        try:
            return await write(self, marks)
        finally:
            batch_ms.append(1000 * (time.perf_counter() - t))

    writer.MarkWriter._write = timed("batch (MarkWriter._write: one transaction, in its thread on SQLite)", counted)
    hub.LiveHub._flush = timed("board flush (per competition, incl. fan-out)", hub.LiveHub._flush)
    hub.LiveHub.snapshot = timed("board snapshot (hello)", hub.LiveHub.snapshot)
    hub.LiveHub.broadcast = timed("board send to all viewers", hub.LiveHub.broadcast)
    started = time.perf_counter()

    def dump() -> None:
        wall = time.perf_counter() - started
        out = {
            name: {
                "calls": c,
                "ms_per_call": round(1000 * sec / c, 2) if c else None,
                "share_of_wall": round(sec / wall, 3),
                "statements_per_call": round(q / c, 1) if c else None,
            }
            for name, (c, sec, q) in stats.items()
        }
        batches, marks = marks_per_batch
        out["marks per batch"] = {"batches": batches, "mean": round(marks / batches, 1) if batches else None}
        out["facts cache (batches, items read)"] = facts
        out["gc tracked objects"] = objects[0]
        out["gc pauses"] = {
            f"gen{g}": {"count": len(p), "total_ms": round(sum(p)), "max_ms": round(max(p), 1) if p else None} for g, p in gc_pauses.items()
        }
        if batch_ms:
            ranked = sorted(batch_ms)
            out["batch ms"] = {
                q: round(ranked[min(len(ranked) - 1, int(len(ranked) * f))], 1)
                for q, f in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
            }
        with open(f"{path}.tmp", "w") as f:
            json.dump({"wall_seconds": round(wall, 1), "timers": out}, f, indent=1, ensure_ascii=False)
        os.replace(f"{path}.tmp", path)  # atomic: the bench may read it while we are killed

    objects = [0]

    def every_second() -> None:  # uvicorn re-raises SIGTERM after its shutdown, so atexit may not run
        for n in range(36_000):
            time.sleep(1.0)
            if n % 15 == 14:
                objects[0] = len(gc.get_objects())  # under the GIL: a pause of its own, so rarely
            dump()

    atexit.register(dump)
    threading.Thread(target=every_second, daemon=True).start()


def _with_ready_file(app: Any, ready_dir: str) -> Any:
    """The app, writing <ready_dir>/<pid>.ready when its lifespan startup is complete; every other
    scope goes straight to the app with uvicorn's own send (live/frames.py needs its __self__)."""

    async def asgi(scope, receive, send):
        if scope["type"] != "lifespan":
            return await app(scope, receive, send)

        async def lifespan_send(message):
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                Path(ready_dir, f"{os.getpid()}.ready").write_text(str(os.getpid()))

        return await app(scope, receive, lifespan_send)

    asgi.__wrapped__ = getattr(app, "__wrapped__", app)
    return asgi


def served_app() -> Any:
    """uvicorn's factory in every process: the bench-only variants, then `create_served_app()`."""
    options = json.loads(os.environ.get(OPTIONS_ENV, "{}"))
    if options.get("instrument"):
        path = options["instrument"]
        if options.get("workers", 1) > 1:  # one file per worker: <stem>-<pid>.json
            path = f"{path.removesuffix('.json')}-{os.getpid()}.json"
        instrument(path)
    if options.get("no_fast_frames"):
        from contest.live import hub

        hub.write_frame = lambda scope, frame: False  # every viewer takes the ordinary send_text
    if options.get("gc_threshold"):
        from contest import app

        app.GC_THRESHOLDS = tuple(int(x) for x in options["gc_threshold"].split(","))
    if options.get("switch_interval"):
        import sys

        sys.setswitchinterval(options["switch_interval"])
    from contest.app import create_served_app

    served = create_served_app()
    return _with_ready_file(served, options["ready_dir"]) if options.get("ready_dir") else served


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (several need PostgreSQL + Redis)")
    parser.add_argument("--ready-dir", help="every process writes <pid>.ready here when its app has started")
    parser.add_argument("--ws-deflate", action="store_true", help="per-message deflate on (contest serve has it off)")
    parser.add_argument(
        "--instrument",
        help="write wall-time and query counts of the mark path and the board flush to this JSON file at exit (one per worker: -<pid>)",
    )
    parser.add_argument("--no-fast-frames", action="store_true", help="A/B: board updates through send_text per viewer (before issue 16)")
    parser.add_argument("--switch-interval", type=float, help="the interpreter's thread switch interval (s), default 0.005")
    parser.add_argument("--gc-threshold", help="gc.set_threshold for the experiment (the app sets contest.app.GC_THRESHOLDS at startup)")
    args = parser.parse_args()
    from contest.cli import SERVE_OPTIONS

    os.environ[OPTIONS_ENV] = json.dumps(
        {
            "instrument": args.instrument,
            "no_fast_frames": args.no_fast_frames,
            "gc_threshold": args.gc_threshold,
            "switch_interval": args.switch_interval,
            "ready_dir": args.ready_dir,
            "workers": args.workers,
        }
    )
    # access_log: the app logs requests itself (contest.access)
    options = {**SERVE_OPTIONS, "ws_per_message_deflate": args.ws_deflate, "access_log": False}
    uvicorn.run(
        "bench.live.serve:served_app", factory=True, host=args.host, port=args.port, workers=args.workers, log_level="warning", **options
    )


if __name__ == "__main__":
    main()
