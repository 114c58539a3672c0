"""Fan-out of live changes to boards and consoles, coalesced.

A stored mark publishes one small message {competition, item, seq} on the "changes" channel
(memory in one process, Redis across processes). Every process's hub collects them and, every
FLUSH_INTERVAL seconds, rebuilds each changed item's board fragment once and sends the same
text to all of its viewers: thousands of phones cost one query set per change burst, not one
per viewer per mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from litestar import WebSocket
from litestar.channels import ChannelsPlugin
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contest.live.board import competition_items, fragments_for
from contest.live.devices import DeviceRegistry
from contest.live.frames import text_frame, write_frame
from contest.live.protocol import ERRORS

log = logging.getLogger("contest.live")

CHANNEL = "changes"
FLUSH_INTERVAL = 0.25
SEND_SLICE = 100  # viewers between two turns of the event loop
STALL_TIMEOUT = 1.0  # seconds a slice may wait for a viewer that stopped reading
SNAPSHOT_TTL = 2.0  # seconds a snapshot is reused for other viewers while no change arrives


class LiveHub(InitPluginProtocol):
    """Also a plugin, listed after the ChannelsPlugin: its lifespan then closes first, so our
    subscription is gone before the channels backend shuts down (else shutdown waits forever)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], channels: ChannelsPlugin) -> None:
        self.session_factory = session_factory
        self.channels = channels
        self.boards: dict[int, set[WebSocket]] = defaultdict(set)  # competition id -> viewers
        self.consoles: dict[int, set[WebSocket]] = defaultdict(set)  # item id -> chief consoles
        self.judges: dict[int, dict[WebSocket, int]] = defaultdict(dict)  # item id -> judge sockets -> person
        self.dirty: dict[int, set[int]] = defaultdict(set)  # competition id -> changed items
        self.taken: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # item -> (station, criterion, judge)
        self.devices = DeviceRegistry(session_factory)
        self._tasks: list[asyncio.Task] = []
        self._closing: set[asyncio.Task] = set()
        # Snapshots for a reconnect storm (thousands of phones after a Wi-Fi blip): one database read
        # per competition at a time, reused while no change has arrived (and for at most SNAPSHOT_TTL),
        # instead of one session per hello, which exhausted the connection pool at 5,000 boards.
        self.changes = 0  # changes received; a cached snapshot is valid only while this is unchanged
        self._snapshots: dict[int, tuple[int, float, tuple[str, list[dict]] | None]] = {}
        self._snapshot_locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    # ------------------------------------------------------------ lifecycle

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.lifespan.append(self.lifespan)
        return app_config

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.stop()

    def ensure_started(self) -> None:
        """Start listening lazily: by the first connection or publish the channels plugin is up."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._listen()),
                asyncio.create_task(self._flush_loop()),
                asyncio.create_task(self.devices.run()),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._tasks:
            await self.devices.close_all()
        self._tasks = []

    def watch(self, socket: WebSocket, person_id: int, item_ids: list[int]) -> None:
        """A judge's socket, told when a cell of these items is taken by another panel member."""
        self.unwatch(socket)
        for item_id in item_ids:
            self.judges[item_id][socket] = person_id

    def unwatch(self, socket: WebSocket) -> None:
        for item_id in [i for i, sockets in self.judges.items() if socket in sockets]:
            del self.judges[item_id][socket]
            if not self.judges[item_id]:
                del self.judges[item_id]

    # ------------------------------------------------------------ in

    def notify(self, competition_id: int, item_id: int, seq: int, taken: tuple[int, int, int] | None = None) -> None:
        """Tell every process that an item changed (never raises: a lost notice only delays a board).
        ``taken``: (station, criterion, judge person) of a cell this change filled, for the tablets."""
        self.ensure_started()
        notice: dict[str, Any] = {"c": competition_id, "i": item_id, "s": seq}
        if taken is not None:
            notice["t"] = list(taken)
        try:
            self.channels.publish(notice, CHANNEL)
        except Exception:  # the publish path must never fail a judge's stored mark
            log.exception("publishing a live change failed")

    async def _listen(self) -> None:
        while True:
            try:
                async with self.channels.start_subscription([CHANNEL]) as subscriber:
                    async for event in subscriber.iter_events():
                        change = json.loads(event)
                        self.dirty[int(change["c"])].add(int(change["i"]))
                        if "t" in change:
                            station, criterion, judge = change["t"]
                            self.taken[int(change["i"])].append((int(station), int(criterion), int(judge)))
                        self.changes += 1
            except asyncio.CancelledError:
                raise
            except Exception:  # keep listening whatever one message or the backend did
                log.exception("live change subscription failed; resubscribing")
                await asyncio.sleep(1)

    # ------------------------------------------------------------ out

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            if not self.dirty:
                continue
            dirty, self.dirty = self.dirty, defaultdict(set)
            taken, self.taken = self.taken, defaultdict(list)
            for item_id, cells in taken.items():
                await self._tell_judges(item_id, cells)
            for competition_id, item_ids in dirty.items():
                try:
                    await self._flush(competition_id, item_ids)
                except Exception:  # one bad item must not stop every board
                    log.exception("flushing live changes of competition %s failed", competition_id)

    async def _flush(self, competition_id: int, item_ids: set[int]) -> None:
        for item_id in item_ids:
            if self.consoles.get(item_id):
                await self.broadcast(self.consoles[item_id], json.dumps({"type": "changed", "item_id": item_id}))
        viewers = self.boards.get(competition_id)
        if not viewers:
            return
        async with self.session_factory() as db:
            competition, _ = await competition_items(db, competition_id)
            show = bool(competition and competition.show_provisional)
            fragments = await fragments_for(db, sorted(item_ids), show)
        # ASCII (\uXXXX escapes): the server encodes the text once per viewer, and encoding an ASCII
        # string is a copy, where a Chinese one is transcoded every time (~6 us per viewer per update)
        message = json.dumps({"type": "update", "competition_id": competition_id, "items": fragments})
        await self.broadcast(viewers, message)

    async def _tell_judges(self, item_id: int, cells: list[tuple[int, int, int]]) -> None:
        """Each judge on the item hears of the cells others filled (who filled them is not said)."""
        for socket, person_id in list(self.judges.get(item_id, {}).items()):
            others = [{"item_id": item_id, "station": s, "criterion_id": c} for s, c, judge in cells if judge != person_id]
            if not others:
                continue
            try:
                async with asyncio.timeout(STALL_TIMEOUT):
                    await socket.send_text(json.dumps({"type": "taken", "cells": others}))
            except Exception:  # noqa: BLE001 - a gone or stalled tablet catches up from its next welcome
                self.unwatch(socket)

    async def snapshot(self, competition_id: int, known: dict[int, int] | None = None) -> dict[str, Any]:
        """The board for a (re)connecting viewer: every item whose seq differs from what it knows."""
        known = known or {}
        base = await self._snapshot_base(competition_id)
        if base is None:
            return {"type": "error", "code": "unknown_competition", "message": ERRORS["unknown_competition"]}
        name, fragments = base
        items = [f for f in fragments if known.get(f["item_id"]) != f["seq"]]
        return {"type": "snapshot", "competition_id": competition_id, "name": name, "items": items}

    async def _snapshot_base(self, competition_id: int) -> tuple[str, list[dict]] | None:
        async with self._snapshot_locks[competition_id]:
            cached = self._snapshots.get(competition_id)
            if cached is not None and cached[0] == self.changes and time.monotonic() - cached[1] < SNAPSHOT_TTL:
                return cached[2]
            changes, read_at = self.changes, time.monotonic()
            async with self.session_factory() as db:
                competition, seqs = await competition_items(db, competition_id)
                base = None
                if competition is not None:
                    fragments = await fragments_for(db, list(seqs), competition.show_provisional)
                    base = (competition.name, fragments)
            self._snapshots[competition_id] = (changes, read_at, base)
            return base

    async def broadcast(self, sockets: set[WebSocket], text: str) -> None:
        """Send one text to every socket, in turn, a slice at a time with a turn of the event loop
        between slices (so acks are not held up by a long fan-out).

        The frame is built once (live/frames.py) and, under `contest serve`, written straight to
        each viewer's transport: no per-viewer encoding, framing or coroutine. A viewer whose
        connection cannot take it that way (closing, or its buffer full because it stopped reading;
        or another server) gets the ordinary ``send_text``, which waits when its buffer is full: one
        timer per slice catches that, and the stalled viewer is closed (its page reconnects and
        catches up from its seqs) while the rest of the slice goes on.
        """
        frame = text_frame(text)
        viewers = list(sockets)
        for start in range(0, len(viewers), SEND_SLICE):
            await self._send_slice(sockets, viewers[start : start + SEND_SLICE], text, frame)
            await asyncio.sleep(0)

    async def _send_slice(self, sockets: set[WebSocket], viewers: list[WebSocket], text: str, frame: bytes) -> None:
        sent = 0
        try:
            async with asyncio.timeout(STALL_TIMEOUT):
                for socket in viewers:
                    if not write_frame(socket.scope, frame):
                        try:
                            await socket.send_text(text)
                        except Exception:  # noqa: BLE001 - a gone viewer is dropped, the rest carry on
                            self._drop(sockets, socket)
                    sent += 1
        except TimeoutError:
            self._drop(sockets, viewers[sent])
            await self._send_slice(sockets, viewers[sent + 1 :], text, frame)

    def _drop(self, sockets: set[WebSocket], socket: WebSocket) -> None:
        sockets.discard(socket)

        async def close() -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.close(code=1011), 1)

        task = asyncio.create_task(close())
        self._closing.add(task)  # a reference until done, or the task may be collected mid-way
        task.add_done_callback(self._closing.discard)
