"""`contest backup` while marks are being written, then `contest restore` into a fresh database:
the audit chain verifies and every mark acknowledged before the backup began is there (and
nothing that was never acknowledged). On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from contest.cli import main
from contest.db.engine import make_engine, make_session_factory
from contest.db.migrate import upgrade
from contest.db.models import MarkSubmission, User
from contest.live.service import Judge, MarkIn, submit_mark
from tests.integration.live_seed import Live, seed_live


class MarkStream(threading.Thread):
    """A judge entering marks one after another on its own connection (like another process),
    recording when each was acknowledged."""

    def __init__(self, url: str, live: Live) -> None:
        super().__init__(daemon=True)
        self.url, self.live = url, live
        self.acked: list[tuple[float, str]] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._write())
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    async def _write(self) -> None:
        engine = make_engine(self.url)
        async with make_session_factory(engine)() as db:
            user = (await db.execute(select(User).where(User.username == "ja"))).scalar_one()
            assert user.person_id is not None  # a judge is a person
            judge = Judge(user.id, user.username, user.person_id, "backup-test")
            n = 0
            while not self.stop.is_set():
                n += 1
                mark = MarkIn(str(uuid.uuid4()), self.live.item_id, self.live.stations["乙1"], self.live.criteria["P1"], str(n % 60))
                ack, _ = await submit_mark(db, judge, mark)
                assert ack.status == "stored"
                self.acked.append((time.monotonic(), mark.client_id))
        await engine.dispose()


def _submissions(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = make_engine(url)
        async with make_session_factory(engine)() as db:
            found = set((await db.execute(select(MarkSubmission.client_id))).scalars())
        await engine.dispose()
        return found

    return asyncio.run(run())


def _contest(args: list[str], url: str, var_dir: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env={"CONTEST_DATABASE_URL": url, "CONTEST_VAR_DIR": str(var_dir)}, catch_exceptions=False)
    return result.exit_code, result.output


def _round_trip(source_url: str, target_url: str, tmp_path: Path, checked_where: str = "") -> None:
    upgrade(target_url)  # migrated but empty: holds no data, so the restore needs no --force
    live = seed_live(source_url)
    stream = MarkStream(source_url, live)
    stream.start()
    while len(stream.acked) < 20 and stream.is_alive():
        time.sleep(0.01)
    started = time.monotonic()
    out = tmp_path / "backup.file"
    code, output = _contest(["backup", "--out", str(out)], source_url, tmp_path)
    time.sleep(0.2)  # marks keep coming after the snapshot
    stream.stop.set()
    stream.join(timeout=30)
    assert stream.error is None, stream.error
    assert code == 0, output
    assert f"chain intact{checked_where}\n" in output and out.exists(), output
    assert "  marks: " in output and "  competitions: 1" in output, output  # counted in the copy
    assert out.stat().st_mode & 0o077 == 0  # personal data: owner only

    code, output = _contest(["restore", str(out)], target_url, tmp_path)
    assert code == 0, output
    assert "chain intact" in output and "  competitions: 1" in output, output
    code, output = _contest(["audit", "verify"], target_url, tmp_path)
    assert code == 0 and "chain intact" in output, output

    restored = _submissions(target_url)
    before = {client_id for at, client_id in stream.acked if at < started}
    assert before <= restored, f"{len(before - restored)} acknowledged marks missing from the backup"
    assert restored <= {client_id for _, client_id in stream.acked}  # nothing that was never acknowledged
    assert len(stream.acked) > len(restored)  # the stream really went on during and after the backup

    code, output = _contest(["restore", str(out)], target_url, tmp_path)
    assert code != 0 and "已有数据" in output and "--force" in output
    code, output = _contest(["restore", "--force", str(out)], target_url, tmp_path)
    assert code == 0, output


def test_backup_while_marking_and_restore_on_sqlite(migrated, tmp_path: Path) -> None:
    _round_trip(migrated.database_url, f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}", tmp_path)


@pytest.mark.services
def test_backup_while_marking_and_restore_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    from tests.services import pg

    upgrade(pg_url)
    name, target = pg.create_database()
    try:
        _round_trip(pg_url, target, tmp_path, " (checked in a restore of the copy)")
    finally:
        pg.drop_database(name)
    assert not _scratch_databases(), "the scratch database of the backup check should be dropped"


def _scratch_databases() -> list[str]:
    from tests.services import pg

    async def run() -> list[str]:
        conn = await pg._admin_connect()
        try:
            return [r[0] for r in await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE '%_backup_check_%'")]
        finally:
            await conn.close()

    return asyncio.run(run())


@pytest.mark.services
def test_a_postgresql_user_who_may_not_create_databases_gets_the_live_check_said_plainly(pg_url: str, tmp_path: Path) -> None:
    """Without CREATEDB the dump cannot be restored aside: its table of contents is checked, the
    audit chain is verified in the live database, and the output says so (never "the copy")."""
    import asyncpg
    from sqlalchemy.engine import make_url

    upgrade(pg_url)
    seed_live(pg_url)
    role = f"contest_nocreate_{uuid.uuid4().hex[:8]}"
    dsn = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def grant() -> None:
        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            await conn.execute(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
            await conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
            await conn.execute(f'GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            await conn.execute(f'DROP OWNED BY "{role}"')
            await conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await conn.close()

    asyncio.run(grant())
    try:
        as_role = make_url(pg_url).set(username=role, password=None).render_as_string(hide_password=False)
        out = tmp_path / "backup.pgdump"
        result = CliRunner().invoke(
            main, ["backup", "--out", str(out)], env={"CONTEST_DATABASE_URL": as_role, "CONTEST_VAR_DIR": str(tmp_path)}
        )
        assert result.exit_code == 0, result.output
        assert "chain intact (in the live database: the copy's table of contents only was checked)" in result.output
        assert "无权创建临时数据库" in result.stderr and "checked in a restore of the copy" not in result.output
    finally:
        asyncio.run(drop())


def test_restore_onto_a_database_with_data_needs_force_an_empty_migrated_one_does_not(migrated, tmp_path: Path) -> None:
    """ "Holds data" means a competition or an audit record, not "has the tables"."""
    out = tmp_path / "empty.db"
    code, output = _contest(["backup", "--out", str(out)], migrated.database_url, tmp_path)
    assert code == 0, output
    target = f"sqlite+aiosqlite:///{tmp_path / 'target.db'}"
    upgrade(target)
    code, output = _contest(["restore", str(out)], target, tmp_path)
    assert code == 0, output  # migrated, empty: nothing to lose
    seed_live(target)
    code, output = _contest(["restore", str(out)], target, tmp_path)
    assert code != 0 and "已有数据" in output and "--force" in output, output


def test_a_file_that_is_not_a_backup_is_refused_and_the_database_untouched(migrated, tmp_path: Path) -> None:
    seed_live(migrated.database_url)
    before = _submissions(migrated.database_url)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    code, output = _contest(["restore", "--force", str(junk)], migrated.database_url, tmp_path)
    assert code != 0 and "不是有效的数据库备份" in output, output
    assert _submissions(migrated.database_url) == before
