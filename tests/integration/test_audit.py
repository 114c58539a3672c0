"""The audit hash chain: setup writes are recorded; tampering or deleting is detected."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner
from sqlalchemy import text

from contest.audit.service import verify_chain
from contest.cli import main
from contest.db.engine import make_engine, make_session_factory
from tests.integration.seed import seed


async def _verify(url: str, sql: str | None = None):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    async with make_session_factory(engine)() as db:
        if sql:
            await db.execute(text(sql))
            await db.commit()
        result = await verify_chain(db)
    await engine.dispose()
    return result


def test_chain_intact_then_tampering_detected(migrated) -> None:  # type: ignore[no-untyped-def]
    seed(migrated.database_url)
    count, problems = asyncio.run(_verify(migrated.database_url))
    assert count >= 10 and problems == []
    _, problems = asyncio.run(_verify(migrated.database_url, "UPDATE audit_log SET detail = '{\"seed\": \"forged\"}' WHERE id = 3"))
    assert [p.record_id for p in problems] == [3]
    assert "篡改" in problems[0].problem


def test_a_deleted_record_breaks_the_chain(migrated) -> None:  # type: ignore[no-untyped-def]
    seed(migrated.database_url)
    _, problems = asyncio.run(_verify(migrated.database_url, "DELETE FROM audit_log WHERE id = 5"))
    assert [p.record_id for p in problems] == [6]
    assert "缺失" in problems[0].problem


def test_cli_audit_verify_exit_codes(migrated, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seed(migrated.database_url)
    monkeypatch.setenv("CONTEST_DATABASE_URL", migrated.database_url)
    monkeypatch.setenv("CONTEST_VAR_DIR", str(migrated.var_dir))
    ok = CliRunner().invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0 and "chain intact" in ok.output
    asyncio.run(_verify(migrated.database_url, "UPDATE audit_log SET actor = 'someone-else' WHERE id = 2"))
    bad = CliRunner().invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1
