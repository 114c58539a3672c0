"""A throwaway PostgreSQL database per test, on the 127.0.0.1 server (database `test` is the admin entry)."""

from __future__ import annotations

import asyncio
import os
import uuid

ADMIN_DSN = os.environ.get("CONTEST_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")


def _admin_connect():
    import asyncpg

    return asyncpg.connect(ADMIN_DSN, timeout=5)


async def _exec(sql: str) -> None:
    conn = await _admin_connect()
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def available() -> bool:
    try:
        asyncio.run(_exec("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means the lane cannot run here
        return False
    return True


def create_database() -> tuple[str, str]:
    """Create an empty database; returns (name, SQLAlchemy URL)."""
    name = f"contest_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_exec(f'CREATE DATABASE "{name}"'))
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return name, f"{base}/{name}"


def drop_database(name: str) -> None:
    asyncio.run(_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
