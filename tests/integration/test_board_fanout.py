"""The fan-out to boards under a real server (uvicorn, as `contest serve` runs it): a viewer that
stops reading is closed without holding up the others; and the garbage-collector thresholds the
app sets for a server holding thousands of sockets."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from contest.app import create_app
from contest.cli import SERVE_OPTIONS
from contest.live import frames
from contest.live import hub as hub_module
from tests.integration.live_seed import Live, seed_live


@pytest.fixture
def live(migrated) -> Live:
    return seed_live(migrated.database_url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_board_that_stops_reading_is_closed_and_the_others_get_every_update(live, migrated, monkeypatch) -> None:
    fast: list[bool] = []

    def counted(scope: Any, frame: bytes) -> bool:
        written = frames.write_frame(scope, frame)
        fast.append(written)
        return written

    monkeypatch.setattr(hub_module, "write_frame", counted)

    async def run() -> None:
        app = create_app(migrated)
        port = _free_port()
        # Pings every second (20 s in production): a stalled viewer's connection is then ended quickly.
        pings: dict[str, Any] = {"ws_ping_interval": 1, "ws_ping_timeout": 1}
        config = uvicorn.Config(frames.served(app), host="127.0.0.1", port=port, log_level="warning", **pings, **SERVE_OPTIONS)
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        url = f"ws://127.0.0.1:{port}/ws/board/{live.competition_id}"
        hub = app.state.hub
        try:
            # max_queue=1: the stalled client stops reading its socket after one unread message, so
            # the kernel's buffers fill, then the server's, and the server's send has to wait.
            async with connect(url, max_size=None) as reader, connect(url, max_size=None, max_queue=1) as stalled:
                for ws in (reader, stalled):
                    await ws.send(json.dumps({"type": "hello", "seqs": {}}))
                    assert json.loads(await ws.recv())["type"] == "snapshot"
                viewers = hub.boards[live.competition_id]
                assert len(viewers) == 2
                received: list[int] = []

                async def read() -> None:
                    async for message in reader:
                        received.append(len(message))

                reading = asyncio.create_task(read())
                update = json.dumps({"type": "update", "items": [], "padding": "x" * 2_000_000})
                loop = asyncio.get_running_loop()
                started = loop.time()
                for _ in range(30):
                    await hub.broadcast(viewers, update)
                while len(received) < 30 and loop.time() - started < 60:
                    await asyncio.sleep(0.05)
                assert received == [len(update)] * 30  # the reading viewer got every update, whole
                assert len(viewers) == 1  # the stalled one was dropped from the hub (how long it held
                # the others up is a speed figure, for bench/, not a pass/fail bound here)
                await hub.broadcast(viewers, json.dumps({"type": "update", "items": []}))
                while len(received) < 31 and loop.time() - started < 60:
                    await asyncio.sleep(0.05)
                assert len(received) == 31  # the one left is the reader
                # the frames went straight to the transports (live/frames.py) until the stalled
                # viewer's buffer filled; after that it got the waiting send_text, and was dropped
                assert fast[:2] == [True, True] and fast[-1] is True and False in fast
                # ... and its connection ended by the server (its close frame is stuck behind the
                # unread updates, so the keepalive ping's timeout ends it): reading again, the stalled
                # client finds some of the updates, then the end, instead of waiting forever.
                unread = 0
                with pytest.raises(ConnectionClosed):
                    async with asyncio.timeout(30):
                        while True:
                            await stalled.recv()
                            unread += 1
                assert 0 < unread < 30
                reading.cancel()
        finally:
            server.should_exit = True
            await serving

    asyncio.run(run())


def test_the_app_sets_its_garbage_collector_thresholds_at_startup(app) -> None:
    import gc

    from litestar.testing import TestClient

    from contest.app import GC_THRESHOLDS

    gc.set_threshold(700, 10, 10)  # the interpreter's defaults
    with TestClient(app=app):
        assert gc.get_threshold() == GC_THRESHOLDS
