"""The load generator: J judge tablets and B board viewers over websockets, marks at R per second.

Judges live in this process (one connection each, cookie ``contest_session``); boards live in
``workers`` child processes (so the client can use both cores). Every mark gets a fresh uuid
``client_id`` and a valid value, is kept in its judge's outbox until acknowledged and resent
with the same id after a reconnect, as the tablet does.

Measured:
- ack latency: first send of a mark -> its ack (p50/p95/p99), per phase;
- mark-to-board latency: first send of a stored mark -> the first board update, on *every*
  subscribed board, that carries the mark's item with seq >= the ack's seq. Boards record only
  (message id, receive time) per message (every viewer gets the same text for one flush, so one
  parse per flush per worker); the latencies are computed afterwards with numpy;
- throughput (acks/s), errors by code, connection failures, reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import pickle
import random
import resource
import time
import uuid
from array import array
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

CONNECT_CONCURRENCY = 100
OPEN_TIMEOUT = 60.0


def raise_nofile(wanted: int = 65536) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, wanted), hard) if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentiles(values: list[float] | np.ndarray) -> dict[str, float | None]:
    if len(values) == 0:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    a = np.sort(np.asarray(values, dtype=np.float64) * 1000)

    def pick(q: float) -> float:
        return round(float(a[min(len(a) - 1, int(np.ceil(q * len(a))) - 1)]), 1)

    return {"p50": pick(0.5), "p95": pick(0.95), "p99": pick(0.99), "max": round(float(a[-1]), 1), "n": len(a)}


# ---------------------------------------------------------------------------- boards (child processes)


def board_worker(base: str, competition_id: int, count: int, compression: bool, ready, stop, out_path: str, deadline: float) -> None:
    raise_nofile()
    asyncio.run(_boards(base, competition_id, count, compression, ready, stop, out_path, deadline))


async def _boards(base: str, competition_id: int, count: int, compression: bool, ready, stop, out_path: str, deadline: float) -> None:
    url = f"{base}/ws/board/{competition_id}"
    texts: dict[str, int] = {}
    flushes: list[list[tuple[int, int]]] = []
    fids = [array("i") for _ in range(count)]
    times = [array("d") for _ in range(count)]
    stats = Counter()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    first_round = asyncio.Event()
    attempted = 0
    stopping = False

    def known_of(b: int) -> dict[str, int]:
        seen: dict[str, int] = {}
        for fid in fids[b]:
            for item_id, seq in flushes[fid]:
                seen[str(item_id)] = seq
        return seen

    async def board(b: int) -> None:
        nonlocal attempted
        counted = False
        while not stopping and time.monotonic() < deadline:
            try:
                async with gate:
                    ws = await connect(
                        url,
                        compression="deflate" if compression else None,
                        open_timeout=OPEN_TIMEOUT,
                        ping_interval=None,
                        max_size=None,
                        max_queue=None,
                    )
                async with ws:
                    await ws.send(json.dumps({"type": "hello", "seqs": known_of(b)}))
                    json.loads(await ws.recv())  # the snapshot
                    stats["connected" if not counted else "reconnected"] += 1
                    if not counted:
                        counted = True
                        attempted += 1
                        if attempted == count:
                            first_round.set()
                    fb, tb = fids[b], times[b]
                    async for text in ws:
                        t = time.monotonic()
                        fid = texts.get(text)
                        if fid is None:
                            message = json.loads(text)
                            if message.get("type") != "update":
                                continue
                            fid = len(flushes)
                            texts[text] = fid
                            flushes.append([(int(i["item_id"]), int(i["seq"])) for i in message["items"]])
                        fb.append(fid)
                        tb.append(t)
            except asyncio.CancelledError:
                raise
            except (OSError, ConnectionClosed, InvalidStatus, TimeoutError, ValueError) as exc:
                stats[f"board {type(exc).__name__}"] += 1
                if not counted:
                    counted = True
                    attempted += 1
                    if attempted == count:
                        first_round.set()
                    stats["connect_failed"] += 1
                if stopping:
                    return
                await asyncio.sleep(0.5 + random.random())

    tasks = [asyncio.create_task(board(b)) for b in range(count)]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(first_round.wait(), timeout=max(1.0, deadline - time.monotonic()))
    ready.put(("ready", os.getpid(), stats["connected"]))
    while not stop.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    stopping = True
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    with open(out_path, "wb") as f:  # once, after the run
        pickle.dump(
            {"flushes": flushes, "fids": [a.tobytes() for a in fids], "times": [a.tobytes() for a in times], "stats": dict(stats)}, f
        )


# ---------------------------------------------------------------------------- judges (this process)


@dataclass
class MarkRecord:
    item_id: int
    t_send: float
    phase: int
    t_ack: float | None = None
    seq: int | None = None
    status: str | None = None
    error: str | None = None
    sends: int = 1


@dataclass
class Fleet:
    base: str
    plan: dict
    compression: bool
    marks: dict[str, MarkRecord] = field(default_factory=dict)
    stats: Counter = field(default_factory=Counter)
    stopping: bool = False
    phase: int = 0


class Judge:
    def __init__(self, fleet: Fleet, info: dict, item: dict, rng: random.Random) -> None:
        self.fleet = fleet
        self.token = info["token"]
        self.item_id = item["id"]
        self.cells = [(s, c) for s in item["stations"] for c in item["criteria"]]
        rng.shuffle(self.cells)
        self.next_cell = 0
        self.rng = rng
        self.steps = int(Decimal(fleet.plan["max_mark"]) / Decimal(fleet.plan["step"]))
        self.step = Decimal(fleet.plan["step"])
        self.outbox: dict[str, str] = {}
        self.ws = None
        self.connected_once = False

    def make_mark(self) -> tuple[str, str]:
        station, criterion = self.cells[self.next_cell % len(self.cells)]
        self.next_cell += 1
        client_id = str(uuid.uuid4())
        value = format(self.step * self.rng.randint(0, self.steps), "f")
        text = json.dumps(
            {"type": "mark", "client_id": client_id, "item_id": self.item_id, "station": station, "criterion_id": criterion, "value": value}
        )
        return client_id, text

    def submit(self) -> None:
        client_id, text = self.make_mark()
        self.fleet.marks[client_id] = MarkRecord(self.item_id, time.monotonic(), self.fleet.phase)
        self.outbox[client_id] = text
        if self.ws is not None:
            asyncio.ensure_future(self._send(self.ws, text))  # noqa: RUF006 - a lost send stays in the outbox
        else:
            self.fleet.stats["queued_offline"] += 1

    async def _send(self, ws, text: str) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):  # stays in the outbox; resent on reconnect
            await ws.send(text)

    def on_message(self, text: str) -> None:
        t = time.monotonic()
        message = json.loads(text)
        kind = message.get("type")
        client_id = message.get("client_id")
        record = self.fleet.marks.get(client_id) if client_id else None
        if kind == "ack" and record is not None:
            if record.t_ack is None:
                record.t_ack, record.seq, record.status = t, int(message["seq"]), message["status"]
            self.fleet.stats[f"ack {message['status']}"] += 1
            self.outbox.pop(client_id, None)
        elif kind == "error":
            self.fleet.stats[f"error {message.get('code')}"] += 1
            if record is not None and message.get("code") != "server_error":
                record.error = message.get("code")
                self.outbox.pop(client_id, None)
        else:
            self.fleet.stats[f"other {kind}"] += 1

    async def run(self, gate: asyncio.Semaphore, deadline: float) -> None:
        url = f"{self.fleet.base}/ws/judge"
        headers = {"Cookie": f"contest_session={self.token}"}
        while not self.fleet.stopping and time.monotonic() < deadline:
            try:
                async with gate:
                    ws = await connect(
                        url,
                        additional_headers=headers,
                        compression="deflate" if self.fleet.compression else None,
                        open_timeout=OPEN_TIMEOUT,
                        ping_interval=None,
                        max_size=None,
                        max_queue=None,
                    )
                async with ws:
                    self.fleet.stats["judge connected" if not self.connected_once else "judge reconnected"] += 1
                    self.connected_once = True
                    for client_id, text in list(self.outbox.items()):  # resend the outbox, same client_ids
                        self.fleet.marks[client_id].sends += 1
                        self.fleet.stats["resent"] += 1
                        await ws.send(text)
                    self.ws = ws
                    async for text in ws:
                        self.on_message(text)
            except asyncio.CancelledError:
                raise
            except (OSError, ConnectionClosed, InvalidStatus, TimeoutError) as exc:
                self.fleet.stats[f"judge {type(exc).__name__}"] += 1
            finally:
                self.ws = None
            if not self.connected_once:
                self.fleet.stats["judge connect_failed"] += 1
            if self.fleet.stopping:
                return
            await asyncio.sleep(0.2 + random.random() * 0.8)


# ---------------------------------------------------------------------------- one run


@dataclass
class Phase:
    rate: float
    duration: float


async def drive(
    base: str,
    plan: dict,
    boards: int,
    phases: list[Phase],
    *,
    workers: int = 2,
    compression: bool = True,
    judges: int | None = None,
    sampler=None,
    fault=None,
    stop_after_p99_ms: float | None = None,
    drain_seconds: float = 15.0,
    budget_seconds: float = 900.0,
    seed: int = 1,
) -> dict:
    """Connect, run the phases, drain, collect. Returns per-phase figures and the raw records.

    sampler: an object with start()/stop() -> dict (server CPU/RSS); fault: an async callable
    run as a task at the start of phase 0 (kill -9 and restart the server).
    """
    raise_nofile()
    started = time.monotonic()
    deadline = started + budget_seconds
    rng = random.Random(seed)
    fleet = Fleet(base, plan, compression)
    items = {i["id"]: i for i in plan["items"]}
    chosen = plan["judges"][: judges or len(plan["judges"])]
    tablets = [Judge(fleet, j, items[j["item_id"]], random.Random(rng.random())) for j in chosen]

    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    out_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-live-{os.getpid()}-{int(time.time())}"
    out_dir.mkdir(parents=True, exist_ok=True)
    per = [boards // workers + (1 if w < boards % workers else 0) for w in range(workers)] if boards else []
    procs = []
    for w, count in enumerate(per):
        if count:
            p = ctx.Process(
                target=board_worker,
                args=(base, plan["competition_id"], count, compression, ready, stop, str(out_dir / f"boards-{w}.pkl"), deadline),
                daemon=True,
            )
            p.start()
            procs.append(p)
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    judge_tasks = [asyncio.create_task(t.run(gate, deadline)) for t in tablets]
    t_connect = time.monotonic()
    boards_connected = 0
    for _ in procs:
        _, _, n = await asyncio.get_running_loop().run_in_executor(None, ready.get, True, max(1.0, deadline - time.monotonic()))
        boards_connected += n
    while time.monotonic() < deadline and sum(t.connected_once for t in tablets) + fleet.stats["judge connect_failed"] < len(tablets):
        await asyncio.sleep(0.1)
    connect_seconds = time.monotonic() - t_connect
    await asyncio.sleep(1.0)  # let the first-connection flurry settle

    results = []
    fault_task = None
    if sampler:
        sampler.start()
    for k, phase in enumerate(phases):
        fleet.phase = k
        if fault is not None and k == 0:
            fault_task = asyncio.create_task(fault())
        t0 = time.monotonic()
        sent = 0
        order = list(range(len(tablets)))
        rng.shuffle(order)
        while (now := time.monotonic()) - t0 < phase.duration and now < deadline:
            due = int(phase.rate * (now - t0)) - sent
            for _ in range(due):
                tablets[order[sent % len(order)]].submit()
                sent += 1
            await asyncio.sleep(0.002)
        t_end = time.monotonic()
        # drain: wait for this phase's acks (or the drain limit)
        drain_until = time.monotonic() + drain_seconds
        if fault_task is not None:
            await fault_task
            drain_until = time.monotonic() + drain_seconds
        while time.monotonic() < min(drain_until, deadline) and any(t.outbox for t in tablets):
            await asyncio.sleep(0.05)
        phase_marks = [m for m in fleet.marks.values() if m.phase == k]
        acked = [m for m in phase_marks if m.t_ack is not None]
        last_ack = max((m.t_ack for m in acked), default=t_end)
        # unacknowledged marks count as infinitely late: percentiles over the acked ones alone would flatter a server
        # that falls behind (p99 is then "inf" as soon as more than 1% are still unacknowledged after the drain)
        ack = percentiles([m.t_ack - m.t_send for m in acked] + [float("inf") for m in phase_marks if m.t_ack is None and not m.error])
        results.append(
            {
                "rate": phase.rate,
                "duration": round(t_end - t0, 2),
                "sent": len(phase_marks),
                "acked": len(acked),
                "stored": sum(1 for m in acked if m.status == "stored"),
                "duplicate": sum(1 for m in acked if m.status == "duplicate"),
                "refused": sum(1 for m in phase_marks if m.error),
                "unacked": sum(1 for m in phase_marks if m.t_ack is None and not m.error),
                "throughput": round(len(acked) / max(1e-9, last_ack - t0), 1),
                "ack_ms": ack,
            }
        )
        await asyncio.sleep(1.0)  # let the last flush reach the boards
        if stop_after_p99_ms is not None and (ack["p99"] is None or ack["p99"] >= stop_after_p99_ms or results[-1]["unacked"]):
            break
    server = sampler.stop() if sampler else {}
    fleet.stopping = True
    stop.set()
    for task in judge_tasks:
        task.cancel()
    await asyncio.gather(*judge_tasks, return_exceptions=True)
    for p in procs:
        p.join(timeout=60)
        if p.is_alive():
            p.kill()
    board_data = []
    for w in range(len(per)):
        path = out_dir / f"boards-{w}.pkl"
        if path.exists():
            with open(path, "rb") as f:  # once, after the run
                board_data.append(pickle.load(f))
            path.unlink()
    board_stats = Counter()
    for d in board_data:
        board_stats.update(d["stats"])
    board_latency = board_latencies(fleet.marks, board_data, len(results))
    for k, r in enumerate(results):
        r["board_ms"] = board_latency[k]
    return {
        "judges": len(tablets),
        "judges_connected": sum(t.connected_once for t in tablets),
        "boards": boards,
        "boards_connected": boards_connected,
        "connect_seconds": round(connect_seconds, 1),
        "phases": results,
        "stats": dict(fleet.stats),
        "board_stats": dict(board_stats),
        "server": server,
        "marks": {cid: (m.item_id, m.status, m.error, m.sends) for cid, m in fleet.marks.items()},
        "wall_seconds": round(time.monotonic() - started, 1),
    }


def board_latencies(marks: dict[str, MarkRecord], board_data: list[dict], phases: int) -> list[dict]:
    """For every stored mark and every board: first update on that board with the item's seq >= the
    mark's seq, minus the mark's first send. Per phase: percentiles, and how many (mark, board)
    pairs never showed up (a board dropped, or the run ended first)."""
    stored = [m for m in marks.values() if m.status == "stored" and m.seq is not None]
    out = []
    for _ in range(phases):
        out.append({"hist": np.zeros(120_001, dtype=np.int64), "missing": 0, "pairs": 0})
    if not stored or not board_data:
        return [{"p50": None, "p95": None, "p99": None, "max": None, "n": 0, "missing": 0} for _ in range(phases)]
    m_item = np.array([m.item_id for m in stored])
    m_seq = np.array([m.seq for m in stored])
    m_send = np.array([m.t_send for m in stored])
    m_phase = np.array([m.phase for m in stored])
    for d in board_data:
        flushes = d["flushes"]
        # per item: the flushes (in this worker's first-seen order = send order) and their seqs
        per_item: dict[int, tuple[list[int], list[int]]] = {}
        for fid, pairs in enumerate(flushes):
            for item_id, seq in pairs:
                fl, sq = per_item.setdefault(item_id, ([], []))
                fl.append(fid)
                sq.append(seq)
        first_fid = np.full(len(stored), -1, dtype=np.int64)
        for item_id, (fl, sq) in per_item.items():
            sel = np.nonzero(m_item == item_id)[0]
            if len(sel) == 0:
                continue
            sq_a = np.maximum.accumulate(np.array(sq))
            pos = np.searchsorted(sq_a, m_seq[sel], side="left")
            ok = pos < len(fl)
            first_fid[sel[ok]] = np.array(fl)[pos[ok]]
        for fb, tb in zip(d["fids"], d["times"], strict=False):
            f = np.frombuffer(fb, dtype=np.int32)
            t = np.frombuffer(tb, dtype=np.float64)
            if len(f) == 0:
                for k in range(phases):
                    out[k]["missing"] += int(np.sum(m_phase == k))
                continue
            # this board's receive time of each flush id (ids are increasing along its stream)
            order = np.argsort(f, kind="stable")
            f_sorted, t_sorted = f[order], t[order]
            idx = np.searchsorted(f_sorted, first_fid, side="left")
            seen = (first_fid >= 0) & (idx < len(f_sorted))
            lat = np.full(len(stored), np.nan)
            lat[seen] = t_sorted[np.minimum(idx[seen], len(f_sorted) - 1)] - m_send[seen]
            for k in range(phases):
                mask = m_phase == k
                good = mask & seen
                out[k]["missing"] += int(np.sum(mask & ~seen))
                ms = np.clip((lat[good] * 1000).astype(np.int64), 0, 120_000)
                out[k]["hist"] += np.bincount(ms, minlength=120_001)
    figures = []
    for k in range(phases):
        hist = out[k]["hist"]
        n = int(hist.sum())
        if n == 0:
            figures.append({"p50": None, "p95": None, "p99": None, "max": None, "n": 0, "missing": out[k]["missing"]})
            continue
        cum = np.cumsum(hist)
        p50, p95, p99 = (int(np.searchsorted(cum, q * n, side="left")) for q in (0.5, 0.95, 0.99))  # ms bucket of each quantile
        figures.append({"p50": p50, "p95": p95, "p99": p99, "max": int(np.nonzero(hist)[0][-1]), "n": n, "missing": out[k]["missing"]})
    return figures
