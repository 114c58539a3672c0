"""Everything about one competition, for the archive organizers must keep, and back into a database.

``collect`` gathers the competition's rows: items with their schemes, entries with members and
coaches, the units and people they name (with the conflicts declared between them), judges'
assignments, draws, every mark and its submission record, overrides and tie decisions, result
versions and appeals, the payout batches that paid its results (with their lines, exclusions,
honours and ledger entries), and the audit records about it. ``write_json`` and ``write_xlsx``
store that; ``load`` puts a JSON archive into a database (a fresh one, or one that holds other
competitions): every row gets a new id and every reference follows it; units and people that the
database already has (by name, by 证件号码) are reused, not duplicated.

The audit records travel as evidence, not as rows of the target's own chain (that chain is the
target's history): the import appends one record naming the archive's digest.

Rows are found through the models' foreign keys, so a column or table added later travels without
changes here; only references kept as plain integers or strings are listed in ``LOGICAL_REFERENCES``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Boolean, CursorResult, Date, Integer, LargeBinary, Numeric, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contest import __version__
from contest.audit.service import Actor, record
from contest.db.models import AuditRecord, Base, PayoutLineRow
from contest.domain.text import Text
from contest.errors import Conflict, Invalid, NotFound

FORMAT = "contest-archive"
FORMAT_VERSION = 1

# Tables that belong to a competition, found from the competition down (or, for units and people,
# from the rows that name them). Accounts, sessions and sign-in links never travel.
NEVER = {"users", "user_sessions", "login_attempts", "login_links", "audit_log", "alembic_version", "device_status"}
# References kept as plain values rather than foreign keys: (table, column) -> referenced table.
LOGICAL_REFERENCES = {
    ("mark_submissions", "item_id"): "items",
    ("mark_submissions", "judge_person_id"): "people",
}
# Rows the target may already have, matched on a natural key instead of being copied again.
NATURAL_KEYS = {"units": "name", "people": "id_number"}
ITEM_SOURCE = re.compile(r"^item:(\d+)$")  # payout lines say which item they were computed from


class ArchiveError(Invalid):
    code = "bad_archive"


# What `contest export` shows while it works (collect() calls ``done(step)`` after each but the last,
# which is the command's own: writing the file).
EXPORT_STEPS = ("赛事与项目", "评分、成绩与申诉", "奖金发放", "人员与单位", "审计记录", "写入文件")


def _nothing(*_args: Any) -> None:
    pass


# ---------------------------------------------------------------- values


def _dump(value: Any) -> Any:
    if isinstance(value, bytes):  # a seal image (competitor_settings.seal_png)
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _load(column: Any, value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, LargeBinary):
        try:
            return base64.b64decode(value, validate=True)
        except (ValueError, TypeError):
            raise ArchiveError(f"存档中 {column.table.name}.{column.name} 不是有效的 base64 数据") from None
    if isinstance(kind, Numeric) and not isinstance(kind, Integer):
        return Decimal(str(value))
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if getattr(kind, "impl", None) is not None and type(kind).__name__ == "TZDateTime":
        return datetime.fromisoformat(value)
    if isinstance(kind, Boolean):
        return bool(value)
    return value


def _row(table: Table, row: Any) -> dict[str, Any]:
    return {column.name: _dump(getattr(row, column.name)) for column in table.columns}


# ---------------------------------------------------------------- collect


async def _select(db: AsyncSession, table: Table, column: str, values: Iterable[Any]) -> list[dict[str, Any]]:
    wanted = sorted(set(values))
    rows: list[dict[str, Any]] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        result = await db.execute(select(table).where(table.c[column].in_(chunk)).order_by(*table.primary_key.columns))
        rows += [_row(table, r) for r in result]
    return rows


def _ids(rows: list[dict[str, Any]], column: str = "id") -> set[Any]:
    return {r[column] for r in rows if r[column] is not None}


async def collect(db: AsyncSession, competition_id: int, done: Callable[[str], None] = _nothing) -> dict[str, Any]:
    """The archive of one competition, as plain JSON-able data; ``done(step)`` after each of
    EXPORT_STEPS but the last."""
    tables = Base.metadata.tables
    found: dict[str, list[dict[str, Any]]] = {}
    found["competitions"] = await _select(db, tables["competitions"], "id", [competition_id])
    if not found["competitions"]:
        raise NotFound(Text("赛事 {competition_id} 不存在", competition_id=competition_id))
    found["items"] = await _select(db, tables["items"], "competition_id", [competition_id])
    items = _ids(found["items"])
    done(EXPORT_STEPS[0])
    # Every table that hangs off an item (directly), then off those rows, found through foreign keys.
    frontier = {"items": items, "competitions": {competition_id}}
    pending = [t for t in Base.metadata.sorted_tables if t.name not in NEVER | {"competitions", "items", "units", "people"}]
    progress = True
    while progress:
        progress = False
        for table in list(pending):
            parents = [(fk.parent.name, fk.column.table.name) for fk in table.foreign_keys if fk.column.table.name in frontier]
            owner = next(((col, ref) for col, ref in parents if ref not in ("units", "people")), None)
            if owner is None:
                continue
            column, referenced = owner
            found[table.name] = await _select(db, table, column, frontier[referenced])
            frontier[table.name] = _ids(found[table.name]) if "id" in table.c else set()
            pending.remove(table)
            progress = True
    done(EXPORT_STEPS[1])
    await _collect_payouts(db, found, items)
    done(EXPORT_STEPS[2])
    await _collect_people_and_units(db, found)
    done(EXPORT_STEPS[3])
    audit = await _audit_records(db, competition_id, items)
    done(EXPORT_STEPS[4])
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "app_version": __version__,
        "schema": await _schema_revision(db),
        "exported_at": datetime.now().astimezone().isoformat(),
        "competition": {"id": competition_id, "name": found["competitions"][0]["name"], "year": found["competitions"][0]["year"]},
        "tables": {name: rows for name, rows in found.items() if rows},
        "audit": audit,
    }


async def _schema_revision(db: AsyncSession) -> str:
    connection = await db.connection()
    return (await connection.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar_one()


async def _collect_payouts(db: AsyncSession, found: dict[str, list[dict[str, Any]]], items: set[int]) -> None:
    """The batches that paid this competition's results (and the batches they correct), whole."""
    tables = Base.metadata.tables
    sources = [f"item:{item_id}" for item_id in items]
    batch_ids = (
        set((await db.execute(select(PayoutLineRow.batch_id).where(PayoutLineRow.source.in_(sources)))).scalars()) if sources else set()
    )
    batches: list[dict[str, Any]] = []
    while batch_ids:
        rows = await _select(db, tables["payout_batches"], "id", batch_ids)
        batches += rows
        known = _ids(batches)
        batch_ids = {r["corrects_batch_id"] for r in rows if r["corrects_batch_id"] and r["corrects_batch_id"] not in known}
    found["payout_batches"] = sorted(batches, key=lambda r: r["id"])
    ids = _ids(batches)
    for table in Base.metadata.sorted_tables:
        if table.name.startswith("payout_") and table.name != "payout_batches" and "batch_id" in table.c:
            found[table.name] = await _select(db, table, "batch_id", ids)


async def _collect_people_and_units(db: AsyncSession, found: dict[str, list[dict[str, Any]]]) -> None:
    tables = Base.metadata.tables
    people: set[int] = set()
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "people" and table.name in found:
                people |= {r[fk.parent.name] for r in found[table.name] if r[fk.parent.name] is not None}
    people |= {r["judge_person_id"] for r in found.get("mark_submissions", [])}
    found["people"] = await _select(db, tables["people"], "id", people)
    conflicts = await _select(db, tables["declared_conflicts"], "judge_person_id", people)
    found["declared_conflicts"] = [c for c in conflicts if c["other_person_id"] in people]
    units = {r["unit_id"] for r in found["people"] if r["unit_id"]} | {r["unit_id"] for r in found.get("entries", [])}
    found["units"] = await _select(db, tables["units"], "id", units)


async def _audit_records(db: AsyncSession, competition_id: int, items: set[int]) -> list[dict[str, Any]]:
    table = cast(Table, AuditRecord.__table__)  # a mapped class's table (typed as any FromClause)
    about = ((AuditRecord.entity == "competition") & (AuditRecord.entity_id == str(competition_id))) | (
        (AuditRecord.entity == "item") & AuditRecord.entity_id.in_([str(i) for i in items])
    )
    return [_row(table, r) for r in await db.execute(select(table).where(about).order_by(AuditRecord.id))]


# ---------------------------------------------------------------- write


def to_json(archive: dict[str, Any]) -> bytes:
    return json.dumps(archive, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def write_xlsx(archive: dict[str, Any]) -> bytes:
    """The same archive for people: a 说明 sheet, then one sheet per table (values as text)."""
    import io

    from openpyxl import Workbook

    from contest.xlsx.cells import text_cell

    book = Workbook(write_only=True)
    about = book.create_sheet("说明")
    for line in (
        ("赛事存档", f"{archive['competition']['name']}({archive['competition']['year']})"),
        ("导出时间", archive["exported_at"]),
        ("系统版本", archive["app_version"]),
        ("数据库版本", archive["schema"]),
        ("说明", "每个工作表对应一张数据表,每行一条记录。导回系统请使用同时导出的 JSON 文件(contest import)。"),
    ):
        about.append([text_cell(about, value) for value in line])
    for name, rows in [*sorted(archive["tables"].items()), ("audit_log", archive["audit"])]:
        if not rows:
            continue
        sheet = book.create_sheet(name[:31])
        columns = list(rows[0])
        sheet.append([text_cell(sheet, c) for c in columns])
        for row in rows:
            sheet.append(
                [
                    text_cell(sheet, _cell(json.dumps(row[c], ensure_ascii=False) if isinstance(row[c], (dict, list)) else row[c]))
                    for c in columns
                ]
            )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


EXCEL_CELL_CHARACTERS = 32_767


def _cell(value: Any) -> Any:
    """Excel holds at most 32,767 characters in a cell (an image in base64 has more): say where the rest is."""
    if isinstance(value, str) and len(value) > EXCEL_CELL_CHARACTERS:
        return f"(共 {len(value)} 个字符,过长不在此显示:见同时导出的 JSON 存档)"
    return value


# ---------------------------------------------------------------- load


def parse(content: bytes) -> dict[str, Any]:
    try:
        archive = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveError(f"存档不是有效的 JSON 文件:{exc}") from None
    if not isinstance(archive, dict) or archive.get("format") != FORMAT or not isinstance(archive.get("tables"), dict):
        raise ArchiveError("这不是本系统导出的赛事存档(contest export 生成的 .json 文件)")
    if archive.get("format_version") != FORMAT_VERSION:
        raise ArchiveError(f"存档格式版本 {archive.get('format_version')} 不受支持(本系统为 {FORMAT_VERSION})")
    return archive


def rows_to_load(archive: dict[str, Any]) -> int:
    """How many rows load() inserts or matches (its progress counts up to this)."""
    return sum(len(rows or []) for name, rows in archive["tables"].items() if name not in NEVER and name in Base.metadata.tables)


async def load(db: AsyncSession, actor: Actor, archive: dict[str, Any], done: Callable[[str, int], None] = _nothing) -> int:
    """Insert the archive's rows with new ids; returns the new competition's id. One transaction:
    any problem and nothing is written. ``done(table, rows)`` after each table (rows_to_load() in all)."""
    schema = await _schema_revision(db)
    if archive.get("schema") != schema:
        raise ArchiveError(f"存档来自数据库版本 {archive.get('schema')},本数据库为 {schema}:请用相同版本的系统导入")
    tables = archive["tables"]
    submissions = [r["client_id"] for r in tables.get("mark_submissions", [])]
    if (
        submissions
        and (
            await db.execute(
                select(func.count())
                .select_from(Base.metadata.tables["mark_submissions"])
                .where(Base.metadata.tables["mark_submissions"].c.client_id.in_(submissions[:500]))
            )
        ).scalar_one()
    ):
        raise Conflict("本数据库中已有该存档的评分记录:这个存档已经导入过")
    new_ids: dict[str, dict[Any, Any]] = {}
    # Payout lines name their item in a string ("item:<id>"), not a foreign key: they come after the items.
    ordered = sorted(Base.metadata.sorted_tables, key=lambda t: t.name.startswith("payout_"))
    for table in ordered:
        rows = tables.get(table.name) or []
        if table.name in NEVER or not rows:
            continue
        new_ids[table.name] = {}
        for row in sorted(rows, key=lambda r: r.get("id") or 0):
            await _insert(db, table, row, new_ids)
        done(table.name, len(rows))
    competition_id = new_ids["competitions"][archive["competition"]["id"]]
    digest = hashlib.sha256(to_json(archive)).hexdigest()
    await record(
        db,
        actor,
        "archive.import",
        "competition",
        competition_id,
        {
            "archive_sha256": digest,
            "source_competition_id": archive["competition"]["id"],
            "exported_at": archive.get("exported_at"),
            "source_audit_records": len(archive.get("audit", [])),
        },
    )
    await db.commit()
    return competition_id


async def _insert(db: AsyncSession, table: Table, row: dict[str, Any], new_ids: dict[str, dict[Any, Any]]) -> None:
    values = {c.name: _load(c, row.get(c.name)) for c in table.columns if c.name in row}
    old_id = values.pop("id", None) if "id" in table.c and table.c["id"].primary_key else None
    for fk in table.foreign_keys:
        name, referenced = fk.parent.name, fk.column.table.name
        if referenced in NEVER:
            values[name] = None  # accounts do not travel (e.g. who locked: the signer's name stays)
        elif values.get(name) is not None:
            values[name] = _new_id(new_ids, referenced, values[name], table.name, name)
    for (table_name, name), referenced in LOGICAL_REFERENCES.items():
        if table_name == table.name and values.get(name) is not None:
            values[name] = _new_id(new_ids, referenced, values[name], table.name, name)
    for name in [c.name for c in table.columns if c.name.endswith("_by_id")]:
        values[name] = None  # accounts do not travel: the *_by names stay as the record
    if table.name == "payout_lines" and (match := ITEM_SOURCE.match(values.get("source") or "")):
        values["source"] = f"item:{new_ids['items'].get(int(match.group(1)), match.group(1))}"
    key = NATURAL_KEYS.get(table.name)
    if key is not None:
        existing = (await db.execute(select(table.c.id).where(table.c[key] == values[key]))).scalar_one_or_none()
        if existing is not None:
            new_ids[table.name][old_id] = existing
            return
    result = cast("CursorResult[Any]", await db.execute(table.insert().values(**values)))  # an INSERT's result
    if old_id is not None:
        inserted = result.inserted_primary_key
        assert inserted is not None  # an INSERT of one row
        new_ids[table.name][old_id] = inserted[0]


def _new_id(new_ids: dict[str, dict[Any, Any]], referenced: str, old: Any, table: str, column: str) -> Any:
    try:
        return new_ids[referenced][old]
    except KeyError:
        raise ArchiveError(f"存档不完整:{table}.{column} 引用的 {referenced} {old} 不在存档中") from None


def summary(archive: dict[str, Any]) -> dict[str, int]:
    return {name: len(rows) for name, rows in archive["tables"].items()} | {"audit_log": len(archive.get("audit", []))}
