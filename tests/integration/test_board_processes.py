"""`contest serve` as a hall runs it (SQLite, the embedded default): the boards' websockets are
served by a board process beside the judge process (live/handoff.py, docs/live.md "Judges first").

Real processes on 127.0.0.1: the board's connection, opened on the one port, ends up held by the
board process (read from /proc); a judge's mark on the judge process reaches it; a board process
killed outright is replaced while its boards reconnect and are served meanwhile; a judge process
killed outright takes its board process with it; `--board-processes 0` keeps boards at home.
Every wait has a deadline; every process is stopped (then killed) in a finally block.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from contest.db.migrate import upgrade
from tests.conftest import PASSWORD
from tests.integration.live_seed import Live, seed_live
from tests.services.test_two_processes import IO_TIMEOUT, Server, free_port, receive, sign_in

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads connection owners from Linux's /proc")

HOST = "127.0.0.1"
WAIT = 15.0  # seconds for a process to appear, go, or a board update to arrive


class Served(Server):
    """`contest serve` in a child process, with the board processes it starts."""

    def __init__(self, tmp_path: Path, database_url: str, *extra: str) -> None:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEST_")}
        env.update(
            CONTEST_DATABASE_URL=database_url,
            CONTEST_SECRET_KEY=f"board-processes-{uuid.uuid4().hex}",
            CONTEST_VAR_DIR=str(tmp_path / "var"),
            PYTHONUNBUFFERED="1",
        )
        command = [sys.executable, "-c", "from contest.cli import main; main()", "serve", "--host", HOST, "--port", str(port), *extra]
        super().__init__(f"serve-{port}", port, env, tmp_path, command)
        self.wait_healthy()

    def board_pids(self) -> list[int]:
        return children(self.proc.pid)

    def wait_for_board_process(self, not_pid: int | None = None) -> int:
        deadline = time.monotonic() + WAIT
        while True:
            pids = [pid for pid in self.board_pids() if pid != not_pid]
            if pids and ready(self):
                return pids[0]
            assert time.monotonic() < deadline, f"no board process within {WAIT}s:\n{self.log()}"
            time.sleep(0.1)


def ready(served: Served) -> bool:
    """/readyz says every configured board process is up (and the rest of the server ready)."""
    response = httpx.get(f"{served.http}/readyz", timeout=IO_TIMEOUT)
    return response.status_code == 200 and response.json()["checks"].get("board_processes", "ok").startswith("ok")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                # /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ")"
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def holder(served: Served, ws: ClientConnection) -> int | None:
    """The pid of the process holding the server's end of this websocket connection."""
    client_port = ws.socket.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
        if local == served.port and remote == client_port and fields[9] != "0":
            inode = fields[9]
    if inode is None:
        return None
    for pid in [served.proc.pid, *served.board_pids()]:
        with contextlib.suppress(OSError):
            for fd in (Path("/proc") / str(pid) / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
    return None


def gone(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"  # exited, not yet collected by its parent


def wait_gone(pid: int, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not gone(pid):
        assert time.monotonic() < deadline, f"{what} (pid {pid}) still running after {WAIT}s"
        time.sleep(0.1)


@pytest.fixture
def live(tmp_path: Path) -> tuple[Live, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    upgrade(url)
    return seed_live(url), url


@contextlib.contextmanager
def serving(tmp_path: Path, url: str, *extra: str) -> Iterator[Served]:
    served = Served(tmp_path, url, *extra)
    try:
        yield served
    finally:
        served.stop()


@contextlib.contextmanager
def open_board(served: Served, live: Live) -> Iterator[tuple[ClientConnection, dict]]:
    with connect(f"ws://{HOST}:{served.port}/ws/board/{live.competition_id}", open_timeout=IO_TIMEOUT, close_timeout=2) as board:
        board.send(json.dumps({"type": "hello", "seqs": {}}))
        snapshot = receive(board, time.monotonic() + IO_TIMEOUT)
        assert snapshot["type"] == "snapshot" and snapshot["name"] == "2026年直播测试大赛", snapshot
        yield board, snapshot


def score(served: Served, live: Live, session: str, value: str) -> dict:
    headers = {"Cookie": f"contest_session={session}", "Origin": served.http}
    with connect(f"ws://{HOST}:{served.port}/ws/judge", additional_headers=headers, open_timeout=IO_TIMEOUT, close_timeout=2) as judge:
        mark = {
            "type": "mark",
            "client_id": str(uuid.uuid4()),
            "item_id": live.item_id,
            "station": live.stations["乙1"],
            "criterion_id": live.criteria["P1"],
            "value": value,
        }
        judge.send(json.dumps(mark))
        ack = receive(judge, time.monotonic() + IO_TIMEOUT)
        assert ack["type"] == "ack" and ack["status"] == "stored" and ack["value"] == value, ack
        return ack


def update_for(board: ClientConnection, live: Live, seq: int) -> dict:
    """The board's first update carrying the item at ``seq`` or later."""
    deadline = time.monotonic() + WAIT
    while True:
        message = receive(board, deadline)
        if message.get("type") == "update":
            for fragment in message["items"]:
                if fragment["item_id"] == live.item_id and fragment["seq"] >= seq:
                    return fragment


def judge_session(served: Served) -> str:
    with httpx.Client(base_url=served.http, timeout=IO_TIMEOUT, follow_redirects=False) as client:
        return sign_in(client, "ja")


def test_boards_are_served_by_the_board_process_and_marks_reach_them(live, tmp_path: Path) -> None:
    live, url = live
    with serving(tmp_path, url) as served:
        board_pid = served.wait_for_board_process()
        with open_board(served, live) as (board, snapshot):
            assert holder(served, board) == board_pid, "the board's connection should be held by the board process"
            before = next(i for i in snapshot["items"] if i["item_id"] == live.item_id)
            ack = score(served, live, judge_session(served), "41.5")
            fragment = update_for(board, live, ack["seq"])
            assert fragment["seq"] == ack["seq"] and fragment["stored"] == before["stored"] + 1
            assert all("name" not in line for line in fragment["ranking"] or [])  # still blind
        assert "board process 1 started" in served.log()


def test_a_board_process_killed_is_replaced_and_its_boards_are_served_meanwhile(live, tmp_path: Path) -> None:
    live, url = live
    with serving(tmp_path, url) as served:
        first = served.wait_for_board_process()
        with open_board(served, live) as (board, _), pytest.raises(ConnectionClosed):
            os.kill(first, signal.SIGKILL)
            receive(board, time.monotonic() + WAIT)

        # A board reconnecting at once is served whatever the state of the board process: by the
        # judge process while none is up (it waits RESPAWN_DELAY), by the new one after.
        with open_board(served, live) as (again, _):
            assert holder(served, again) in (served.proc.pid, *served.board_pids())
            session = judge_session(served)
            ack = score(served, live, session, "42")
            assert update_for(again, live, ack["seq"])["seq"] == ack["seq"]

        second = served.wait_for_board_process(not_pid=first)
        assert second != first and gone(first)
        with open_board(served, live) as (late, _):
            assert holder(served, late) == second
            ack = score(served, live, session, "43")
            assert update_for(late, live, ack["seq"])["seq"] == ack["seq"]
        assert f"(pid {first}) exited" in served.log()


def test_stopping_or_killing_the_judge_process_stops_its_board_process(live, tmp_path: Path) -> None:
    live, url = live
    with serving(tmp_path, url) as served:
        board_pid = served.wait_for_board_process()
        served.proc.terminate()
        served.proc.wait(timeout=WAIT)
        wait_gone(board_pid, "the board process after contest serve was stopped")

    with serving(tmp_path, url) as served:
        board_pid = served.wait_for_board_process()
        served.proc.kill()  # no shutdown at all: the board process sees its control socket close
        served.proc.wait(timeout=WAIT)
        wait_gone(board_pid, "the board process after its judge process was killed")


def test_without_board_processes_the_judge_process_serves_boards(live, tmp_path: Path) -> None:
    live, url = live
    with serving(tmp_path, url, "--board-processes", "0") as served:
        assert served.board_pids() == []
        with open_board(served, live) as (board, _):
            assert holder(served, board) == served.proc.pid
            ack = score(served, live, judge_session(served), "44")
            assert update_for(board, live, ack["seq"])["seq"] == ack["seq"]
        assert served.board_pids() == []


def boards_in_metrics(served: Served, session: str) -> float:
    """contest_connected_boards as /metrics shows it to an organizer (all processes added up)."""
    page = httpx.get(f"{served.http}/metrics", cookies={"contest_session": session}, timeout=IO_TIMEOUT)
    assert page.status_code == 200, page.text[:300]
    values = [line.split()[-1] for line in page.text.splitlines() if line.startswith("contest_connected_boards")]
    assert len(values) == 1, page.text
    return float(values[0])


def wait_boards_in_metrics(served: Served, session: str, expected: float) -> None:
    deadline = time.monotonic() + WAIT
    while (seen := boards_in_metrics(served, session)) != expected:
        assert time.monotonic() < deadline, f"/metrics shows {seen} connected boards, not {expected}, after {WAIT}s"
        time.sleep(0.1)


def add_organizer(url: str) -> None:
    from contest.accounts.service import create_user
    from contest.db.engine import make_engine, make_session_factory
    from tests.integration.seed import ACTOR

    async def work() -> None:
        engine = make_engine(url)
        async with make_session_factory(engine)() as db:
            await create_user(db, ACTOR, "org", PASSWORD, "organizer")
            await db.commit()
        await engine.dispose()

    asyncio.run(work())


def test_metrics_count_the_boards_held_by_the_board_process(live, tmp_path: Path) -> None:
    """Default `contest serve`: the board's socket is in the board process, /metrics on the judge
    process still counts it (a multiprocess directory under the var dir, removed at exit); a board
    process killed outright no longer counts its boards."""
    live, url = live
    add_organizer(url)
    with serving(tmp_path, url) as served:
        board_pid = served.wait_for_board_process()
        with httpx.Client(base_url=served.http, timeout=IO_TIMEOUT, follow_redirects=False) as client:
            session = sign_in(client, "org")
        assert boards_in_metrics(served, session) == 0.0
        with open_board(served, live) as (board, _):
            assert holder(served, board) == board_pid
            wait_boards_in_metrics(served, session, 1.0)
        wait_boards_in_metrics(served, session, 0.0)  # the board left

        with open_board(served, live) as (board, _), pytest.raises(ConnectionClosed):
            assert holder(served, board) == board_pid
            wait_boards_in_metrics(served, session, 1.0)
            os.kill(board_pid, signal.SIGKILL)  # its gauge file stays behind: the judge process forgets it
            receive(board, time.monotonic() + WAIT)
        served.wait_for_board_process(not_pid=board_pid)
        wait_boards_in_metrics(served, session, 0.0)
        own = tmp_path / "var" / "metrics" / str(served.proc.pid)
        assert own.is_dir() and list(own.glob("*.db")), "the processes' metrics should be in <var>/metrics/<pid>"
    assert not own.exists(), "contest serve should remove its metrics directory when it stops"
