"""Upgrading a database whose usernames were stored as typed: normalised, look-alike skeletons
filled in; two accounts that would become one name stop the upgrade before anything changes."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from contest.db.engine import make_engine
from contest.db.migrate import upgrade


def _sql(url: str, statement: str) -> list[tuple]:
    async def run() -> list[tuple]:
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement))
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _add_users(url: str, *names: str) -> None:
    for name in names:
        _sql(
            url,
            f"INSERT INTO users (username, display_name, role, is_active, created_at) VALUES ('{name}', '', 'judge', 1, '2026-01-01 00:00:00')",  # noqa: E501 - one literal, clearer whole
        )


def test_existing_usernames_are_normalised(settings) -> None:
    url = settings.database_url
    upgrade(url, "0005")
    _add_users(url, "Org", "ＪＵＤＧＥ7", "张三", "judge1")
    upgrade(url)
    rows = _sql(url, "SELECT username, username_skeleton FROM users ORDER BY id")
    # 张三 is outside the safe set for new accounts: kept, and still signs in as typed.
    assert rows == [("org", "org"), ("judge7", "judge7"), ("张三", "张三"), ("judge1", "judgel")]


def test_two_accounts_that_would_become_one_stop_the_upgrade_unchanged(settings) -> None:
    url = settings.database_url
    upgrade(url, "0005")
    _add_users(url, "Org", "org")
    with pytest.raises(RuntimeError, match="账号「Org」与「org」规范化后都是「org」"):
        upgrade(url)
    assert _sql(url, "SELECT version_num FROM alembic_version") == [("0005",)]
    assert _sql(url, "SELECT username FROM users ORDER BY id") == [("Org",), ("org",)]
    _sql(url, "UPDATE users SET username = 'org-2' WHERE username = 'Org'")  # as the message says
    upgrade(url)
    assert _sql(url, "SELECT username FROM users ORDER BY id") == [("org-2",), ("org",)]
