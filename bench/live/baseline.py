"""The bare baseline: the live protocol served by the `websockets` library alone.

    .venv/bin/python -m bench.live.baseline --port 8765 --plan plan.json

No database, no auth, no framework: a mark is acknowledged at once with the next in-memory
sequence number of its item, and boards get the same coalesced updates as the app (every
FLUSH_INTERVAL seconds one message with the changed items, sent as one text to every viewer
with ``websockets.broadcast``), fragments of the same shape and size. Broadcasting every mark
to every viewer instead would be 200 x 5,000 = 1,000,000 frames/s, which no Python server
does on 2 cores; the coalescing is part of the protocol, so both servers do it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections import defaultdict

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

FLUSH_INTERVAL = 0.25


class Baseline:
    def __init__(self, plan: dict) -> None:
        self.items = {i["id"]: i for i in plan["items"]}
        self.competition_id = plan["competition_id"]
        self.seq: dict[int, int] = defaultdict(int)
        self.stored: dict[int, int] = defaultdict(int)
        self.boards: set[ServerConnection] = set()
        self.dirty: set[int] = set()
        self.show_provisional = plan.get("show_provisional", False)

    def fragment(self, item_id: int) -> dict:
        item = self.items[item_id]
        ranking = None
        if self.show_provisional:
            ranking = [{"place": n + 1, "station": s, "total": "0.00", "award": ""} for n, s in enumerate(item["stations"])]
        expected = len(item["stations"]) * len(item["criteria"])
        return {
            "item_id": item_id,
            "name": f"赛项{item_id:03d}",
            "status": "scoring",
            "status_label": "评分中",
            "seq": self.seq[item_id],
            "stored": self.stored[item_id],
            "expected": expected,
            "revealed": False,
            "ranking": ranking,
        }

    async def handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        if path.startswith("/ws/board/"):
            await self.board(ws)
        elif path == "/ws/judge":
            await self.judge(ws)
        else:
            await ws.close(1008, "no such endpoint")

    async def judge(self, ws: ServerConnection) -> None:
        try:
            async for text in ws:
                try:
                    m = json.loads(text)
                except ValueError:
                    await ws.send(json.dumps({"type": "error", "code": "bad_message", "message": "消息不是 JSON 对象"}))
                    continue
                if m.get("type") != "mark":
                    await ws.send(json.dumps({"type": "pong"}))
                    continue
                item_id = int(m["item_id"])
                self.seq[item_id] += 1
                self.stored[item_id] += 1
                self.dirty.add(item_id)
                ack = {
                    "type": "ack",
                    "client_id": m["client_id"],
                    "status": "stored",
                    "item_id": item_id,
                    "station": m["station"],
                    "criterion_id": m["criterion_id"],
                    "value": m["value"],
                    "seq": self.seq[item_id],
                }
                await ws.send(json.dumps(ack))
        except ConnectionClosed:
            pass

    async def board(self, ws: ServerConnection) -> None:
        self.boards.add(ws)
        try:
            async for text in ws:
                m = json.loads(text)
                if m.get("type") == "hello":
                    known = {int(k): int(v) for k, v in (m.get("seqs") or {}).items()}
                    items = [self.fragment(i) for i in self.items if known.get(i) != self.seq[i]]
                    await ws.send(
                        json.dumps(
                            {"type": "snapshot", "competition_id": self.competition_id, "name": "baseline", "items": items},
                            ensure_ascii=False,
                        )
                    )
        except ConnectionClosed:
            pass
        finally:
            self.boards.discard(ws)

    async def flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            if not self.dirty:
                continue
            dirty, self.dirty = self.dirty, set()
            message = json.dumps(
                {"type": "update", "competition_id": self.competition_id, "items": [self.fragment(i) for i in sorted(dirty)]},
                ensure_ascii=False,
            )
            broadcast(self.boards, message)


async def main_async(host: str, port: int, plan: dict, compression: bool) -> None:
    baseline = Baseline(plan)
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    flusher = asyncio.create_task(baseline.flush_loop())
    async with serve(
        baseline.handler,
        host,
        port,
        backlog=4096,
        max_size=2**20,
        compression="deflate" if compression else None,
        ping_interval=20,
        ping_timeout=20,
    ):
        print(f"baseline: serving on ws://{host}:{port}", flush=True)
        await stop
    flusher.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--compression", action="store_true", help="offer permessage-deflate (as uvicorn does by default)")
    args = parser.parse_args()
    with open(args.plan) as f:
        plan = json.load(f)
    asyncio.run(main_async(args.host, args.port, plan, args.compression))


if __name__ == "__main__":
    main()
