"""The board fan-out alone: CPU per viewer per update, framed once (live/frames.py) vs send_text.

    .venv/bin/python -m bench.live.fanout_micro [--viewers 3000] [--updates 40] [--rounds 3]

Our app under uvicorn (`contest serve`'s options, `create_served_app`'s wrapper) in this process,
N board viewers in a child process that reads everything; then rounds of `hub.broadcast` of a
typical update (5 items, ~1.4 KB), alternating the two paths. Measured in this process: the event
loop thread's CPU time (`time.thread_time`, so other processes on a loaded machine count less than
in wall time) and the wall time, per viewer per update. Medians of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uvicorn

from bench.live.run import REPO, cpu_model, free_port
from bench.live.seed import make_plan

CLIENT = r"""
import asyncio, json, sys
from websockets.asyncio.client import connect
async def viewer(url, counts):
    async with connect(url, max_size=None, compression=None) as ws:
        await ws.send(json.dumps({"type": "hello", "seqs": {}}))
        async for _ in ws:
            counts[0] += 1
async def main(url, n):
    counts = [0]
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(viewer(url, counts)))
        if i % 200 == 0:
            await asyncio.sleep(0.05)
    await asyncio.gather(*tasks, return_exceptions=True)
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def update_text() -> str:
    items = [
        {
            "item_id": i,
            "name": f"第{i}赛项 数控铣工(职工组)",
            "status": "scoring",
            "status_label": "评分中",
            "seq": 1000 + i,
            "stored": 480 + i,
            "expected": 1000,
            "revealed": False,
            "ranking": None,
        }
        for i in range(5)
    ]
    return json.dumps({"type": "update", "competition_id": 1, "items": items})


async def measure(args: argparse.Namespace, work: Path, db: Path, plan: dict) -> dict:
    from contest.app import create_app
    from contest.cli import SERVE_OPTIONS
    from contest.live import frames
    from contest.live import hub as hub_module

    os.environ["CONTEST_DATABASE_URL"] = f"sqlite+aiosqlite:///{db}"
    os.environ["CONTEST_VAR_DIR"] = str(work / "var")
    os.environ.setdefault("CONTEST_SECRET_KEY", "bench-micro-secret-key-not-for-production")
    app = create_app()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(frames.served(app), host="127.0.0.1", port=port, log_level="warning", **SERVE_OPTIONS))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    competition = plan["competition_id"]
    client = subprocess.Popen([sys.executable, "-c", CLIENT, f"ws://127.0.0.1:{port}/ws/board/{competition}", str(args.viewers)])
    hub = app.state.hub
    try:
        deadline = time.monotonic() + 300
        while len(hub.boards.get(competition, ())) < args.viewers:
            assert time.monotonic() < deadline, f"only {len(hub.boards.get(competition, ()))} viewers connected"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)
        viewers = hub.boards[competition]
        text = update_text()
        real = frames.write_frame
        results: dict[str, list[tuple[float, float]]] = {"send_text": [], "framed once": []}
        for _ in range(args.rounds):
            for name, writer in (("send_text", lambda scope, frame: False), ("framed once", real)):
                hub_module.write_frame = writer
                cpu, wall = time.thread_time(), time.perf_counter()
                for _ in range(args.updates):
                    await hub.broadcast(viewers, text)
                cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
                per = args.updates * len(viewers)
                results[name].append((cpu / per * 1e6, wall / per * 1e6))
                await asyncio.sleep(0.5)  # let the client drain
        hub_module.write_frame = real
        return {
            name: {
                "cpu_us_per_viewer_update": round(statistics.median(c for c, _ in runs), 2),
                "wall_us_per_viewer_update": round(statistics.median(w for _, w in runs), 2),
                "rounds": [(round(c, 2), round(w, 2)) for c, w in runs],
            }
            for name, runs in results.items()
        } | {"viewers": len(viewers), "update_bytes": len(text)}
    finally:
        client.terminate()
        client.wait(10)
        server.should_exit = True
        await serving


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=3000)
    parser.add_argument("--updates", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from bench.live.load import raise_nofile

    raise_nofile()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(dir=REPO / "var") as tmp:
        db = Path(tmp) / "micro.db"
        plan = make_plan(db, 1, 2, 1, 1, False)
        result = asyncio.run(measure(args, Path(tmp), db, plan))
    print(f"{cpu_model()}, {os.cpu_count()} cores, 1-min load {load:.1f} -> {os.getloadavg()[0]:.1f}")
    print(json.dumps(result, indent=1, ensure_ascii=False))
    slow, fast = result["send_text"], result["framed once"]
    print(
        f"per viewer per update: send_text {slow['cpu_us_per_viewer_update']} us CPU ({slow['wall_us_per_viewer_update']} us wall), "
        f"framed once {fast['cpu_us_per_viewer_update']} us CPU ({fast['wall_us_per_viewer_update']} us wall): "
        f"{slow['cpu_us_per_viewer_update'] / fast['cpu_us_per_viewer_update']:.1f}x less CPU"
    )


if __name__ == "__main__":
    main()
