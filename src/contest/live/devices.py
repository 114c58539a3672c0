"""Device health: which tablets are connected, when each was last heard from, what each holds unsent.

Every tablet reports its outbox over its socket (``hello`` and ``ping``: docs/live.md). The
process holding that socket keeps what it knows in memory (``DeviceRegistry``) and writes what
changed to the ``device_status`` table in one transaction every FLUSH_INTERVAL seconds: the rate
of writes is bounded by the number of processes, not of tablets or marks, and nothing is added
to the mark's path. A console on any process reads the same table, so a tablet on process A is
seen by a chief judge on process B; and a tablet that went silent with marks unsent is still
listed after any process restarts, which a relay over pub/sub (no history) would forget.

A row says ``connected`` only while its socket's process believes it open; if that process dies
the row keeps ``connected`` but its ``last_seen_at`` stops moving, and the console calls the
tablet silent once it is older than the setting ``device_silent_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contest.db.models import DeviceStatus, JudgeAssignment, Person, User, utcnow
from contest.domain.text import Text
from contest.live.protocol import Status

log = logging.getLogger("contest.live")

FLUSH_INTERVAL = 2.0  # seconds between two writes of this process's changed devices
SEEN_WRITE_INTERVAL = 10.0  # last_seen alone is written at most this often per connection
STUCK_AFTER = 60  # seconds: a connected tablet whose oldest unsent mark is older is not getting through


@dataclass
class Connection:
    """One judge socket on this process, as it will be written."""

    user_id: int
    person_id: int
    user_agent: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    device: str = ""
    app_version: str = ""
    pending: int = 0
    oldest_pending_at: datetime | None = None
    connected: bool = True
    connected_at: datetime = field(default_factory=utcnow)
    last_seen: datetime = field(default_factory=utcnow)
    written_at: float = field(default_factory=time.monotonic)  # when the row last got our last_seen
    written: bool = False  # a row exists with our connection id
    replaced_device: str | None = None  # a device name written before a hello renamed this connection


class DeviceRegistry:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory
        self.connections: dict[str, Connection] = {}
        self.dirty: set[str] = set()
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------ from the judge socket

    def open(self, user_id: int, person_id: int, user_agent: str) -> Connection:
        """A new socket. Written once it says hello (or at the latest with its first last_seen write)."""
        connection = Connection(user_id, person_id, user_agent)
        self.connections[connection.id] = connection
        return connection

    def heard(self, connection: Connection) -> None:
        """Any message: the tablet is alive. Costs a dict update; written at a bounded rate."""
        connection.last_seen = utcnow()
        if time.monotonic() - connection.written_at >= SEEN_WRITE_INTERVAL:
            self.dirty.add(connection.id)

    def report(self, connection: Connection, status: Status) -> None:
        """What the tablet says about itself (hello, ping): written with the next flush if it changed
        anything (or was never written); an unchanged report only counts as being heard from."""
        changed = not connection.written
        if status.device is not None and status.device != connection.device:
            if connection.written:
                connection.replaced_device = connection.device
            connection.device, changed = status.device, True
        if status.app_version is not None and status.app_version != connection.app_version:
            connection.app_version, changed = status.app_version, True
        if status.pending is not None:
            age = status.oldest_pending_age
            oldest = utcnow() - timedelta(seconds=age) if status.pending and age is not None else None
            before = connection.oldest_pending_at
            if status.pending != connection.pending or (oldest is None) != (before is None):
                changed = True
            elif oldest is not None and before is not None and abs((oldest - before).total_seconds()) > 5:
                changed = True  # another mark is the oldest now (a report's age moves with the clock only)
            connection.pending, connection.oldest_pending_at = status.pending, oldest
        if changed:
            self.dirty.add(connection.id)

    def close(self, connection: Connection) -> None:
        connection.connected = False
        connection.last_seen = utcnow()
        if connection.written:
            self.dirty.add(connection.id)
        else:  # never written: nothing to take back
            self.connections.pop(connection.id, None)
            self.dirty.discard(connection.id)

    # ------------------------------------------------------------ to the database

    async def run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            await self.flush()

    async def flush(self) -> None:
        """Write every changed connection in one transaction. On failure they stay dirty and are
        tried again next time (device health is advisory: it never holds up a mark)."""
        async with self._lock:
            if not self.dirty:
                return
            batch = [self.connections[c] for c in self.dirty if c in self.connections]
            self.dirty = set()
            try:
                async with self.session_factory() as db:
                    await _write(db, batch)
                    await db.commit()
            except Exception:  # keep the process serving; retried at the next flush
                log.exception("writing device status failed")
                self.dirty.update(c.id for c in batch if c.id in self.connections)
                return
            now = time.monotonic()
            for connection in batch:
                connection.written, connection.written_at, connection.replaced_device = True, now, None
                if not connection.connected:
                    self.connections.pop(connection.id, None)

    async def close_all(self) -> None:
        """On shutdown: this process's sockets are going away; say so while the database is there."""
        for connection in list(self.connections.values()):
            self.close(connection)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), 5)


async def _write(db: AsyncSession, batch: list[Connection]) -> None:
    insert = _insert_for(db)
    live = [c for c in batch if c.connected]
    for connection in batch:
        if connection.replaced_device is not None:
            await _mark_closed(db, connection, connection.replaced_device)
        if not connection.connected:
            await _mark_closed(db, connection, connection.device)
    if not live:
        return
    rows = [
        {
            "user_id": c.user_id,
            "person_id": c.person_id,
            "device": c.device,
            "user_agent": c.user_agent,
            "app_version": c.app_version,
            "connection_id": c.id,
            "connected": True,
            "connected_at": c.connected_at,
            "last_seen_at": c.last_seen,
            "pending": c.pending,
            "oldest_pending_at": c.oldest_pending_at,
        }
        for c in live
    ]
    statement = insert(DeviceStatus).values(rows)
    columns = [k for k in rows[0] if k not in ("user_id", "device")]
    await db.execute(
        statement.on_conflict_do_update(index_elements=["user_id", "device"], set_={k: statement.excluded[k] for k in columns})
    )


async def _mark_closed(db: AsyncSession, connection: Connection, device: str) -> None:
    """Only the socket that wrote the row may close it: the tablet may already be back on another process."""
    await db.execute(
        update(DeviceStatus)
        .where(DeviceStatus.user_id == connection.user_id, DeviceStatus.device == device, DeviceStatus.connection_id == connection.id)
        .values(
            connected=False, last_seen_at=connection.last_seen, pending=connection.pending, oldest_pending_at=connection.oldest_pending_at
        )
    )


def _insert_for(db: AsyncSession) -> Any:
    """The dialect's INSERT (both have ON CONFLICT DO UPDATE, with the same calls)."""
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


# ------------------------------------------------------------------ reading, for the console


@dataclass(frozen=True)
class DeviceView:
    device: str
    app_version: str
    state: str  # "online" | "silent" | "offline"
    last_seen_at: datetime
    seen_seconds_ago: int
    pending: int
    oldest_pending_seconds: int | None
    warning: str | None  # Chinese, when unsent marks need someone to go and look
    outdated: bool  # runs another version of the tablet page than the server now serves


@dataclass(frozen=True)
class JudgeDevices:
    seat: int
    name: str
    username: str
    role: str
    person_id: int
    devices: tuple[DeviceView, ...]

    @property
    def state(self) -> str:
        states = {d.state for d in self.devices}
        return next((s for s in ("online", "silent", "offline") if s in states), "never")

    @property
    def pending(self) -> int:
        return sum(d.pending for d in self.devices)

    @property
    def warnings(self) -> list[str]:
        return [d.warning for d in self.devices if d.warning]


def device_state(connected: bool, seen_seconds_ago: float, silent_after: int) -> str:
    """online: its socket is open and it spoke recently; silent: open as far as its process knew,
    but not heard from for longer than silent_after (a dead network, or a dead process); offline."""
    if not connected:
        return "offline"
    return "online" if seen_seconds_ago <= silent_after else "silent"


def device_warning(state: str, pending: int, oldest_pending_seconds: int | None) -> str | None:
    if not pending:
        return None
    if state == "silent":
        return Text("有 {pending} 条分数未发送,平板已失去联系", pending=pending)
    if state == "offline":
        return Text("有 {pending} 条分数未发送,平板未连接", pending=pending)
    if oldest_pending_seconds is not None and oldest_pending_seconds > STUCK_AFTER:
        return Text("有 {pending} 条分数超过 {seconds} 秒仍未送达", pending=pending, seconds=oldest_pending_seconds)
    return None


async def item_devices(
    db: AsyncSession, item_id: int, silent_after: int, app_version: str, now: datetime | None = None, keep_hours: int = 24
) -> list[JudgeDevices]:
    """Every judge of the item (by seat) with the devices seen in the last keep_hours, or holding marks."""
    now = now or utcnow()
    judges = (
        await db.execute(
            select(JudgeAssignment.seat, JudgeAssignment.role, JudgeAssignment.person_id, Person.name, User.username)
            .join(Person, Person.id == JudgeAssignment.person_id)
            .outerjoin(User, User.person_id == JudgeAssignment.person_id)
            .where(JudgeAssignment.item_id == item_id)
            .order_by(JudgeAssignment.seat)
        )
    ).all()
    rows = (
        await db.execute(
            select(DeviceStatus)
            .where(
                DeviceStatus.person_id.in_({j.person_id for j in judges}),
                (DeviceStatus.last_seen_at >= now - timedelta(hours=keep_hours)) | (DeviceStatus.pending > 0),
            )
            .order_by(DeviceStatus.last_seen_at.desc())
        )
    ).scalars()
    by_person: dict[int, list[DeviceView]] = {}
    for row in rows:
        seen = max(0, int((now - row.last_seen_at).total_seconds()))
        oldest = max(0, int((now - row.oldest_pending_at).total_seconds())) if row.oldest_pending_at and row.pending else None
        state = device_state(row.connected, seen, silent_after)
        by_person.setdefault(row.person_id or 0, []).append(
            DeviceView(
                device=row.device,
                app_version=row.app_version,
                state=state,
                last_seen_at=row.last_seen_at,
                seen_seconds_ago=seen,
                pending=row.pending,
                oldest_pending_seconds=oldest,
                warning=device_warning(state, row.pending, oldest),
                outdated=bool(row.app_version) and row.app_version != app_version,
            )
        )
    seen_people: set[int] = set()
    result = []
    for seat, role, person_id, name, username in judges:
        if person_id in seen_people:  # two accounts on one person: listed once
            continue
        seen_people.add(person_id)
        result.append(JudgeDevices(seat, name, username or "", role, person_id, tuple(by_person.get(person_id, ()))))
    return result
