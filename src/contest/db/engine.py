"""Async engine and session factory, with SQLite tuned for a busy hall (WAL, FKs, busy timeout)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def make_engine(database_url: str) -> AsyncEngine:
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(database_url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(database_url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_sync_sqlite_engine(database_url: str) -> Engine:
    """A plain (pysqlite) engine on the same SQLite file, for work done in a thread of its own."""
    engine = create_engine(database_url.replace("sqlite+aiosqlite:", "sqlite:", 1), connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: AsyncEngine, audit_key: str | None = None) -> async_sessionmaker[AsyncSession]:
    """Sessions of the engine; `audit_key` is the key their audit records are signed with
    (contest.audit.service; without it, the environment's settings' key)."""
    return async_sessionmaker(engine, expire_on_commit=False, info={"audit_key": audit_key} if audit_key else None)
