"""Migrations run on SQLite and PostgreSQL, both ways, and match the models exactly."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from contest.db.engine import make_engine
from contest.db.migrate import downgrade, upgrade
from contest.db.models import Base


async def _tables_and_diff(url: str) -> tuple[set[str], list]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:

            def inspect_sync(sync_conn):
                tables = set(inspect(sync_conn).get_table_names())
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return tables, compare_metadata(context, Base.metadata)

            return await conn.run_sync(inspect_sync)
    finally:
        await engine.dispose()


def _check_round_trip(url: str) -> None:
    upgrade(url)
    tables, diff = asyncio.run(_tables_and_diff(url))
    assert set(Base.metadata.tables) <= tables
    assert diff == [], f"models and migrations differ: {diff}"
    downgrade(url, "base")
    tables, _ = asyncio.run(_tables_and_diff(url))
    assert tables <= {"alembic_version"}
    upgrade(url)
    tables, _ = asyncio.run(_tables_and_diff(url))
    assert set(Base.metadata.tables) <= tables


def test_migrations_on_sqlite(settings) -> None:
    _check_round_trip(settings.database_url)


@pytest.mark.services
def test_migrations_on_postgresql(pg_url: str) -> None:
    _check_round_trip(pg_url)
