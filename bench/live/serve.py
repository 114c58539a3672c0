"""Our app served as `contest serve` does (uvicorn, one process), with bench-only variants.

    .venv/bin/python -m bench.live.serve --port 8000 [--without-write-lock] [--ws-deflate]

--without-write-lock puts back the behaviour before the fix in live/sockets.py (marks then wait
for SQLite's write lock in its busy handler), so one checkout can measure before and after.
"""

from __future__ import annotations

import argparse
import contextlib

import uvicorn


def instrument(path: str) -> None:
    """Bench-only timers around the mark path (sockets._store), the board flush (LiveHub._flush, one
    item_fragment per changed item) and the hello snapshot, plus SQL statements per mark/flush."""
    import atexit
    import json
    import os
    import threading
    import time
    from collections import defaultdict

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from contest.live import hub, sockets

    stats: dict = defaultdict(lambda: [0, 0.0, 0])  # name -> [calls, seconds, statements]
    statements = [0]

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(*_args):  # type: ignore[no-untyped-def]
        statements[0] += 1

    def timed(name, fn):  # type: ignore[no-untyped-def]
        async def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            t, q = time.perf_counter(), statements[0]
            try:
                return await fn(*args, **kwargs)
            finally:
                s = stats[name]
                s[0] += 1
                s[1] += time.perf_counter() - t
                s[2] += statements[0] - q  # includes statements of concurrent tasks: an upper bound
        return wrapper

    sockets._store = timed("mark (_store, incl. waiting for the write lock)", sockets._store)
    original_submit = sockets.submit_mark
    sockets.submit_mark = timed("mark (submit_mark, inside the lock)", original_submit)
    hub.LiveHub._flush = timed("board flush (per competition)", hub.LiveHub._flush)
    hub.item_fragment = timed("board fragment (item_results, per item)", hub.item_fragment)
    hub.LiveHub.snapshot = timed("board snapshot (hello)", hub.LiveHub.snapshot)
    hub.LiveHub._broadcast = timed("board send to all viewers", hub.LiveHub._broadcast)
    started = time.perf_counter()

    def dump() -> None:
        wall = time.perf_counter() - started
        out = {name: {"calls": c, "ms_per_call": round(1000 * sec / c, 2) if c else None, "share_of_wall": round(sec / wall, 3),
                      "statements_per_call": round(q / c, 1) if c else None} for name, (c, sec, q) in stats.items()}
        with open(f"{path}.tmp", "w") as f:
            json.dump({"wall_seconds": round(wall, 1), "timers": out}, f, indent=1, ensure_ascii=False)
        os.replace(f"{path}.tmp", path)  # atomic: the bench may read it while we are killed

    def every_second() -> None:  # uvicorn re-raises SIGTERM after its shutdown, so atexit may not run
        for _ in range(36_000):
            time.sleep(1.0)
            dump()

    atexit.register(dump)
    threading.Thread(target=every_second, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--without-write-lock", action="store_true")
    parser.add_argument("--ws-deflate", action="store_true", help="per-message deflate on (contest serve has it off)")
    parser.add_argument("--instrument", help="write wall-time and query counts of the mark path and the board flush to this JSON file at exit")
    args = parser.parse_args()
    if args.instrument:
        instrument(args.instrument)
    if args.without_write_lock:
        from contest.live import sockets

        if hasattr(sockets, "_write_lock"):
            sockets._write_lock = lambda state: contextlib.nullcontext()
    uvicorn.run("contest.app:create_app", factory=True, host=args.host, port=args.port, proxy_headers=True,
                log_level="warning", access_log=False, ws_per_message_deflate=args.ws_deflate)


if __name__ == "__main__":
    main()
