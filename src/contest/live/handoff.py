"""Boards served by processes of their own, so that a judge's acknowledgement never waits behind a
fan-out to thousands of viewers (docs/live.md, "Judges first").

`contest serve` runs one judge process (the port everyone connects to: pages, tablets, consoles,
the mark writer) and starts board processes beside it (``--board-processes``, default 1). The
judge process accepts every connection. When a board's websocket handshake has been read, it hands
the connection over: the socket's file descriptor goes to a board process over a Unix socket
(SCM_RIGHTS) together with the request's head; the board process reads that head as if it had just
arrived on the connection, answers the handshake and serves the board from then on, and the judge
process drops its own copy of the descriptor without writing a byte. The viewer sees one port and
one ordinary websocket; behind nginx nothing changes either.

Change notices reach a board process through the same Unix socket on the embedded default (the
judge process forwards its in-memory channel), or from Redis directly when CONTEST_REDIS_URL is
set. Each board process reads the database itself: SQLite in WAL mode takes readers from other
processes while the writer writes.

If a board process is gone or cannot take a connection at once (its socket buffer full), the
judge process serves that board itself, as it did before: nothing is refused. A board process
that exits is started again (after RESPAWN_DELAY, doubling while it keeps failing); one whose
judge process has gone (its control socket closed) stops.

Linux and other systems with SCM_RIGHTS only; elsewhere `contest serve` serves boards in the
judge process.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

from litestar.channels import ChannelsPlugin

log = logging.getLogger("contest.live")

HANDOFF = b"H"  # + the request head; the connection's descriptor rides along
NOTICE = b"N"  # + one change notice as published on the "changes" channel
BOARD_SOCKET_PREFIX = "/ws/board/"
CONTROL_BUFFER = 1 << 20  # bytes a control socket holds before a hand-off falls back to the judge process
MAX_MESSAGE = 128 * 1024  # a request head is at most uvicorn's h11 limit (64 KiB) plus our framing
RESPAWN_DELAY = 1.0  # seconds before a board process that exited is started again (doubling to 30)
HEALTHY_AFTER = 60.0  # seconds a board process must have run for its next restart to wait RESPAWN_DELAY again
STOP_TIMEOUT = 10.0  # seconds a board process gets to close its viewers before it is killed

SUPPORTED = hasattr(socket, "AF_UNIX") and hasattr(socket, "SOCK_SEQPACKET") and hasattr(socket, "SCM_RIGHTS")


def request_head(scope: Any) -> bytes:
    """The websocket handshake's request as it came in (method, target, headers), to be read again
    by the board process's server."""
    target = scope.get("raw_path") or scope["path"].encode("utf-8")
    if scope.get("query_string"):
        target += b"?" + scope["query_string"]
    lines = [b"GET " + target + b" HTTP/1.1", *(name + b": " + value for name, value in scope["headers"])]
    return b"\r\n".join(lines) + b"\r\n\r\n"


class BoardLink:
    """The judge process's end of one board process's control socket."""

    def __init__(self, process: subprocess.Popen, control: socket.socket) -> None:
        self.process, self.control = process, control
        self.alive = True
        self.started = time.monotonic()

    def send(self, message: bytes, fd: int | None = None) -> bool:
        """One message, never waiting: False if the board process cannot take it now."""
        if not self.alive:
            return False
        try:
            if fd is None:
                self.control.send(message)
            else:
                self.control.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
        except BlockingIOError:  # the board process is behind: this one is served by the judge process
            return False
        except OSError:  # it has gone; the reader notices and starts another
            return False
        return True


class BoardProcesses:
    """The judge process's board processes: started with the app, handed boards, told of changes."""

    def __init__(self, count: int, command: list[str], channels: ChannelsPlugin, forward_notices: bool) -> None:
        self.count, self.command, self.channels, self.forward_notices = count, command, channels, forward_notices
        self.links: list[BoardLink | None] = []
        self.handed_off = 0  # boards handed to a board process since start
        self.served_here = 0  # boards the judge process kept (no board process could take them)
        self._next = 0
        self._stopping = False
        self._delays: list[float] = []
        self._forwarder: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if not SUPPORTED or self.count < 1:
            return
        self._loop = asyncio.get_running_loop()
        self.links = [None] * self.count
        self._delays = [RESPAWN_DELAY] * self.count
        for index in range(self.count):
            self._spawn(index)
        if self.forward_notices:
            self._forwarder = asyncio.create_task(self._forward())

    def _spawn(self, index: int) -> None:
        if self._stopping or self._loop is None:
            return
        try:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        except OSError:  # a system without Unix sequenced-packet sockets (macOS): boards stay here
            log.warning("this system cannot pass connections to a board process; boards are served by the judge process")
            return
        for end in (ours, theirs):
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CONTROL_BUFFER)
            end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CONTROL_BUFFER)
        try:
            # Its own session: a Ctrl+C in the terminal stops the judge process, which then stops
            # this one in order (and a judge process killed outright closes the control socket).
            process = subprocess.Popen([*self.command, str(theirs.fileno())], pass_fds=[theirs.fileno()], start_new_session=True)
        except OSError:
            log.exception("starting a board process failed; boards are served by the judge process")
            ours.close()
            return
        finally:
            theirs.close()
        ours.setblocking(False)
        link = BoardLink(process, ours)
        self.links[index] = link
        self._loop.add_reader(ours.fileno(), self._check, index, link)
        log.info("board process %s started (pid %s)", index + 1, process.pid)

    def _check(self, index: int, link: BoardLink) -> None:
        """A board process never writes to its control socket: readable means it has gone."""
        try:
            if link.control.recv(1):
                return
        except BlockingIOError:
            return
        except OSError:
            pass
        self._lost(index, link)

    def _lost(self, index: int, link: BoardLink) -> None:
        assert self._loop is not None
        self._loop.remove_reader(link.control.fileno())
        link.alive = False
        link.control.close()
        self.links[index] = None
        code = link.process.poll()
        _forget_in_metrics(link.process.pid)
        if self._stopping:
            return
        if time.monotonic() - link.started > HEALTHY_AFTER:  # it had been running well: not a crash loop
            self._delays[index] = RESPAWN_DELAY
        delay = self._delays[index]
        log.error(
            "board process %s (pid %s) exited with %s; its boards reconnect, here until it is back in %.0f s",
            *(index + 1, link.process.pid, code, delay),
        )
        self._delays[index] = min(delay * 2, 30.0)
        self._loop.call_later(delay, self._respawn, index)

    def _respawn(self, index: int) -> None:
        if self.links[index] is None:
            self._spawn(index)

    async def stop(self) -> None:
        self._stopping = True
        if self._forwarder is not None:
            self._forwarder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._forwarder
        links = [link for link in self.links if link is not None]
        for link in links:
            if self._loop is not None:
                self._loop.remove_reader(link.control.fileno())
            link.alive = False
            link.control.close()  # the board process sees the end of its control socket and stops
        for link in links:
            try:
                await asyncio.to_thread(link.process.wait, STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                link.process.kill()
                await asyncio.to_thread(link.process.wait)
            _forget_in_metrics(link.process.pid)
        self.links = []

    # ------------------------------------------------------------ work

    @property
    def alive(self) -> int:
        return sum(1 for link in self.links if link is not None and link.alive)

    def hand_off(self, scope: Any, protocol: Any) -> bool:
        """Give this board's connection to a board process; False: serve it here."""
        if not self.links:  # none configured (or this system cannot pass a connection on)
            return False
        links = [link for link in self.links if link is not None and link.alive]
        transport: Any = getattr(protocol, "transport", None)
        raw = transport.get_extra_info("socket") if transport is not None else None
        if not links or raw is None or transport.is_closing():
            self.served_here += 1
            return False
        head = request_head(scope)
        if len(head) + 1 > MAX_MESSAGE:
            self.served_here += 1
            return False
        fd = os.dup(raw.fileno())
        try:
            for attempt in range(len(links)):
                link = links[(self._next + attempt) % len(links)]
                if link.send(HANDOFF + head, fd):
                    self._next = (self._next + attempt + 1) % len(links)
                    break
            else:
                self.served_here += 1
                return False
        finally:
            os.close(fd)  # the board process holds its own copy now (or nobody took it)
        # Our copy goes without a byte written: the connection lives on in the board process.
        transport.abort()
        self.handed_off += 1
        return True

    async def _forward(self) -> None:
        """The embedded default's channel is in this process's memory: pass every notice on."""
        while True:
            try:
                async with self.channels.start_subscription(["changes"]) as subscriber:
                    async for event in subscriber.iter_events():
                        for link in self.links:
                            if link is not None and not link.send(NOTICE + event) and link.alive:
                                # A board process this far behind has a full socket: its boards
                                # catch up with the item's next change or their next hello.
                                log.warning("a change notice could not be passed to board process (pid %s)", link.process.pid)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep forwarding whatever one notice did
                log.exception("forwarding change notices to the board processes failed")
                await asyncio.sleep(1)


def _forget_in_metrics(pid: int) -> None:
    """A board process has gone: its connected boards no longer count in /metrics (its counters
    still do). Its gauges live in the shared PROMETHEUS_MULTIPROC_DIR set up by `contest serve`."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        with contextlib.suppress(OSError):
            multiprocess.mark_process_dead(pid)


class HandoffReceiver:
    """The board process's end: adopts handed-over connections, publishes forwarded notices."""

    def __init__(
        self,
        control: socket.socket,
        make_protocol: Callable[[], asyncio.Protocol],
        publish: Callable[[bytes], None],
        on_closed: Callable[[], None],
    ) -> None:
        self.control, self.make_protocol, self.publish, self.on_closed = control, make_protocol, publish, on_closed
        self.adopted = 0
        self._tasks: set[asyncio.Task] = set()

    def start(self) -> None:
        self.control.setblocking(False)
        asyncio.get_running_loop().add_reader(self.control.fileno(), self._read)

    def _read(self) -> None:
        while True:
            try:
                data, ancillary, _flags, _address = self.control.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(array.array("i").itemsize))
            except BlockingIOError:
                return
            except OSError:
                data, ancillary = b"", []
            fds = _descriptors(ancillary)
            if not data:
                for fd in fds:
                    os.close(fd)
                asyncio.get_running_loop().remove_reader(self.control.fileno())
                self.on_closed()
                return
            kind, body = data[:1], data[1:]
            if kind == HANDOFF and len(fds) == 1:
                task = asyncio.create_task(self._adopt(fds[0], body))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                continue
            for fd in fds:
                os.close(fd)
            if kind == NOTICE:
                self.publish(body)

    async def _adopt(self, fd: int, head: bytes) -> None:
        connection = socket.socket(fileno=fd)
        connection.setblocking(False)
        try:
            _transport, protocol = await asyncio.get_running_loop().connect_accepted_socket(self.make_protocol, connection)
        except OSError:  # the viewer left meanwhile
            connection.close()
            return
        self.adopted += 1
        protocol.data_received(head)


def _descriptors(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    fds: list[int] = []
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            received = array.array("i")
            received.frombytes(data[: len(data) - (len(data) % received.itemsize)])
            fds.extend(received)
    return fds
