"""`contest export` / `contest import`: a published competition with an appeal and a paid payout
batch goes into an archive and back into a fresh database with everything that matters equal
(marks, rankings, result versions, appeals, payouts and the ledger), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from contest.archive import service as archives
from contest.audit.service import Actor
from contest.cli import main
from contest.db.migrate import upgrade
from contest.db.models import Appeal, Competition, Criterion, Entry, Item, Mark, PayoutBatch, PayoutLedgerEntry, Person, ResultVersion
from contest.payouts import service as payouts
from contest.results import service as results
from contest.standings import item_results
from tests.integration.payout_seed import published_competition
from tests.integration.payout_seed import run as _run

FIN = Actor(user_id=1001, username="fin", device="tests")
FIN2 = Actor(user_id=1002, username="fin2", device="tests")


async def _history(db: Any, competition_id: int) -> None:
    """An appeal (rejected by the arbitration group), the appeal window over, and a paid payout batch."""
    item = (await db.execute(select(Item).where(Item.competition_id == competition_id).order_by(Item.id))).scalars().first()
    station = (await db.execute(select(Entry.station_no).where(Entry.item_id == item.id).order_by(Entry.station_no))).scalars().first()
    appeal = await results.record_appeal(db, FIN, item.id, station, "张三", "理论成绩复核")
    await results.decide_appeal(db, FIN, item.id, appeal.id, "rejected", "经复核,成绩无误")
    item.published_at = item.published_at - timedelta(hours=3)  # the appeal window has passed
    await db.commit()
    batch = await payouts.create_batch(
        db, FIN, payouts.BatchForm("2026年第一批", "jinengxingwei-weihai-2021", date(2026, 1, 1), date(2026, 12, 31))
    )
    await payouts.compute(db, FIN, batch.id)
    await payouts.submit(db, FIN, batch.id)
    await payouts.approve(db, FIN2, batch.id)
    await payouts.mark_paid(db, FIN, batch.id, date(2026, 12, 1))


async def _picture(db: Any, competition_id: int) -> dict[str, Any]:
    """What an archive must keep, in terms that do not depend on row ids."""
    competition = (await db.execute(select(Competition).where(Competition.id == competition_id))).scalar_one()
    items = list((await db.execute(select(Item).where(Item.competition_id == competition_id).order_by(Item.skill_code))).scalars())
    picture: dict[str, Any] = {"competition": (competition.name, competition.year, competition.level, competition.policy_id)}
    item_ids = [i.id for i in items]
    for item in items:
        ranked = await item_results(db, item.id)
        picture[f"ranking {item.skill_code}"] = [
            (r.entry.station_no, r.entry.entry_no, str(r.score.total), r.ranked.place, r.ranked.award) for r in ranked.rows
        ]
        picture[f"status {item.skill_code}"] = (item.status, item.seq, item.locked_by, item.draw_seed)
    marks = await db.execute(
        select(Entry.entry_no, Criterion.code, Person.id_number, Mark.value, Mark.client_id, Mark.seq)
        .join(Entry, Entry.id == Mark.entry_id)
        .join(Criterion, Criterion.id == Mark.criterion_id)
        .join(Person, Person.id == Mark.judge_person_id)
        .where(Mark.item_id.in_(item_ids))
    )
    picture["marks"] = sorted((a, b, c, str(d), e, f) for a, b, c, d, e, f in marks.all())
    versions = await db.execute(select(ResultVersion).where(ResultVersion.item_id.in_(item_ids)).order_by(ResultVersion.version))
    picture["versions"] = [(v.version, v.rows, v.changes, v.reason) for v in versions.scalars()]
    appeals = await db.execute(select(Appeal).where(Appeal.item_id.in_(item_ids)))
    picture["appeals"] = [(a.station_no, a.appellant, a.content, a.status) for a in appeals.scalars()]
    batches = await db.execute(select(PayoutBatch).options(selectinload(PayoutBatch.lines)))
    picture["payouts"] = [
        (b.name, b.status, b.total_fen, sorted((line.recipient_id, line.role, line.amount_fen, line.basis) for line in b.lines))
        for b in batches.scalars()
    ]
    ledger = await db.execute(select(PayoutLedgerEntry))
    picture["ledger"] = sorted((e.recipient_id, e.amount_fen, e.paid_on) for e in ledger.scalars())
    return picture


def _invoke(args: list[str], url: str, tmp_path: Path) -> Result:
    result = CliRunner().invoke(main, args, env={"CONTEST_DATABASE_URL": url, "CONTEST_VAR_DIR": str(tmp_path)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _contest(args: list[str], url: str, tmp_path: Path) -> str:
    return _invoke(args, url, tmp_path).output


def _round_trip(source: str, target: str, tmp_path: Path, progress_check: str | None = None) -> None:
    live = published_competition(source)
    _run(source, lambda db: _history(db, live.competition_id))
    archive = tmp_path / "存档.json"
    exported = _invoke(["export", str(live.competition_id), "--out", str(archive)], source, tmp_path)
    imported = _invoke(["import", str(archive)], target, tmp_path)
    # Progress goes to stderr (a bar on a terminal, its label elsewhere); stdout stays the summary.
    assert "导出赛事存档" in exported.stderr and "导出赛事存档" not in exported.stdout
    assert "导入赛事存档" in imported.stderr and imported.stdout.startswith("imported "), imported.stdout
    new_id = int(imported.stdout.rsplit(" ", 1)[1])
    if progress_check is not None:  # what the bars count: every export step, every row loaded
        steps: list[str] = []
        collected = _run(source, lambda db: archives.collect(db, live.competition_id, steps.append))
        assert steps == list(archives.EXPORT_STEPS[:-1])  # the last, writing the file, is the command's
        loaded: list[tuple[str, int]] = []
        upgrade(progress_check)
        _run(progress_check, lambda db: archives.load(db, Actor.system("tests"), collected, lambda t, n: loaded.append((t, n))))
        assert sum(n for _, n in loaded) == archives.rows_to_load(collected) > 0
        assert [t for t, _ in loaded].index("competitions") < [t for t, _ in loaded].index("items")
        assert "mark_submissions" in dict(loaded) and "audit_log" not in dict(loaded)
    before = _run(source, lambda db: _picture(db, live.competition_id))
    after = _run(target, lambda db: _picture(db, new_id))
    assert before["marks"] and before["versions"] and before["appeals"] and before["ledger"]
    assert after == before
    assert "chain intact" in _contest(["audit", "verify"], target, tmp_path)
    # Importing the same archive again is refused, and leaves the database as it was.
    again = CliRunner().invoke(main, ["import", str(archive)], env={"CONTEST_DATABASE_URL": target, "CONTEST_VAR_DIR": str(tmp_path)})
    assert again.exit_code != 0 and "已经导入过" in again.output
    assert _run(target, lambda db: _picture(db, new_id)) == before


def test_archive_round_trip_on_sqlite(migrated, tmp_path: Path) -> None:
    target = f"sqlite+aiosqlite:///{tmp_path / 'archive-target.db'}"
    upgrade(target)
    _round_trip(migrated.database_url, target, tmp_path, progress_check=f"sqlite+aiosqlite:///{tmp_path / 'archive-progress.db'}")


@pytest.mark.services
def test_archive_round_trip_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    from tests.services import pg

    upgrade(pg_url)
    name, target = pg.create_database()
    try:
        upgrade(target)
        _round_trip(pg_url, target, tmp_path)
    finally:
        pg.drop_database(name)


def test_the_xlsx_archive_is_readable_and_a_foreign_file_is_refused(migrated, tmp_path: Path) -> None:
    live = published_competition(migrated.database_url)
    book_path = tmp_path / "存档.xlsx"
    _contest(["export", str(live.competition_id), "--out", str(book_path)], migrated.database_url, tmp_path)
    book = load_workbook(book_path, read_only=True)
    assert {"说明", "competitions", "items", "marks", "result_versions", "people"} <= set(book.sheetnames)
    names = [row[0] for row in book["competitions"].iter_rows(min_row=1, max_row=2, max_col=20, values_only=True)]
    assert names  # header and the competition
    book.close()

    foreign = tmp_path / "other.json"
    foreign.write_text(json.dumps({"hello": "world"}))
    result = CliRunner().invoke(main, ["import", str(foreign)], env={"CONTEST_DATABASE_URL": migrated.database_url})
    assert result.exit_code != 0 and "不是本系统导出的赛事存档" in result.output
