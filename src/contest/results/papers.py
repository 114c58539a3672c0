"""The papers a competition posts and files (docs/papers.md), as plain data for templates/papers/:

- 成绩公示表 (``results_sheet``): an item's published version, or every published item of a
  competition, for posting: place, 工位号, names and units as the public page shows them (never an
  ID number), component scores, total, award; the 公示期 and where and until when to appeal; the
  version; the audit checkpoint the publication left; a signature and seal block.
- 评分汇总表 (``score_sheet``): per item, each judge's raw marks per station and criterion (dropped
  marks marked), the aggregate, component scores and totals; a signature line for every judge
  and the chief judge.
- 锁定记录 (``lock_record``): the chief judge's lock and signature, marks count, the audit checkpoint
  at the lock, and the item's lock, reveal, reopen and publish history.

Printed through contest.papers.pdf (one render at a time, off the event loop).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.audit.service import ChainHead, head_at
from contest.db.models import AuditRecord, Competition, Item, utcnow
from contest.domain.aggregation import judge_order
from contest.domain.lifecycle import NAMES_VISIBLE, PUBLIC_RESULTS, PUBLISHED
from contest.domain.results import publicity
from contest.domain.roles import Role
from contest.domain.scheme import AGGREGATIONS, COMPONENT_KINDS, plain
from contest.errors import Conflict
from contest.events.service import get_competition, get_item, item_judges
from contest.results.service import versions
from contest.standings import AWARD_LABELS, item_results

ROLE_LABELS: dict[str, str] = {Role.JUDGE: "裁判", Role.CHIEF_JUDGE: "裁判长"}
HISTORY_ACTIONS = {
    "item.open": "开始评分",
    "item.lock": "锁定并签字",
    "item.reveal": "解密",
    "item.reopen": "重新开放",
    "item.publish": "成绩公示",
    "item.finalize": "确认最终成绩",
}


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def _checkpoint(head: ChainHead | None) -> dict[str, Any] | None:
    if head is None:
        return None
    return {"records": head.records, "last_id": head.last_id, "mac": head.mac, "at": _when(head.at), "key_id": head.key_id}


@dataclass
class Paper:
    template: str
    filename: str
    context: dict[str, Any]


# ---------------------------------------------------------------- 成绩公示表


async def _published_section(db: AsyncSession, item: Item, competition: Competition) -> dict[str, Any] | None:
    """One item's published results as the sheet prints them; None while nothing is public."""
    if item.status not in PUBLIC_RESULTS:
        return None
    history = await versions(db, item.id)
    if not history:
        return None
    version = history[-1]
    components: list[dict[str, str]] = []
    for row in version.rows:
        for c in row.get("components", []):
            if c["kind"] not in [k["kind"] for k in components]:
                components.append({"kind": c["kind"], "name": c["name"], "weight": c["weight"]})
    rows = [
        {
            "place": row.get("place") or "",
            "station": row.get("station") or "",
            "names": row.get("names", ""),
            "unit": row.get("unit", ""),
            "scores": {c["kind"]: c.get("score") or "" for c in row.get("components", [])},
            "total": row.get("total") or "",
            "award": row.get("award", ""),
        }
        for row in version.rows
    ]
    window = publicity(item.published_at or version.published_at, competition.appeal_hours, utcnow())  # as the public page
    return {
        "item": item.name,
        "skill_code": item.skill_code,
        "version": version.version,
        "revised": version.version > 1,
        "reason": version.reason,
        "published_at": _when(window.start),
        "deadline": _when(window.deadline),
        "final": item.status != PUBLISHED,
        "components": components,
        "rows": rows,
        "awards": _award_counts(rows),
        "checkpoint": _checkpoint(await head_at(db, "item.publish", "item", item.id)),
    }


def _award_counts(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for row in rows:
        if row["award"]:
            counts[row["award"]] = counts.get(row["award"], 0) + 1
    order = list(AWARD_LABELS.values())
    return sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))


def _competition_context(competition: Competition) -> dict[str, Any]:
    return {
        "name": competition.name,
        "organizer": competition.organizer or "赛事组委会",
        "appeal_hours": competition.appeal_hours,
        "appeal_contact": competition.appeal_contact,
    }


async def results_sheet(db: AsyncSession, competition_id: int, item_id: int | None = None) -> Paper:
    """成绩公示表 of one item, or of every published item of the competition (one item a section)."""
    competition = await get_competition(db, competition_id)
    items = [i for i in competition.items if item_id is None or i.id == item_id]
    sections = []
    for listed in items:
        item = await get_item(db, listed.id)
        section = await _published_section(db, item, competition)
        if section is not None:
            sections.append(section)
    if not sections:
        raise Conflict("成绩尚未公示,没有可打印的成绩公示表", code="not_published")
    suffix = f"item-{item_id}" if item_id is not None else f"competition-{competition_id}"
    return Paper(
        "papers/results_sheet.html",
        f"results-sheet-{suffix}.pdf",
        {"competition": _competition_context(competition), "sections": sections, "printed_at": _when(utcnow())},
    )


# ---------------------------------------------------------------- 评分汇总表


async def score_sheet(db: AsyncSession, item_id: int) -> Paper:
    """评分汇总表: every raw mark by judge seat, the aggregate per criterion, component scores, totals."""
    results = await item_results(db, item_id)  # refuses an item whose scheme is not valid yet
    item = results.item
    competition = item.competition
    judges = await item_judges(db, item_id)
    seats = sorted((str(j.seat) for j in judges), key=judge_order)
    criteria: list[dict[str, Any]] = [
        {
            "id": k.id,
            "code": k.code,
            "name": k.name,
            "component": c.name or COMPONENT_KINDS.get(c.kind, c.kind),
            "max": plain(k.max_mark),
            "kind": k.kind,
            "aggregation": AGGREGATIONS.get(k.aggregation, k.aggregation),
        }
        for c in item.components
        for k in c.criteria
    ]
    names_visible = item.status in NAMES_VISIBLE
    stations = []
    for row in sorted(results.rows, key=lambda r: (r.entry.station_no is None, r.entry.station_no or 0, r.entry.entry_no)):
        lines = []
        for criterion in criteria:
            result = row.score.criteria.get(criterion["id"])
            marks = dict(result.marks) if result else {}
            dropped = set(result.dropped) if result else set()
            lines.append(
                {
                    "code": criterion["code"],
                    "name": criterion["name"],
                    "max": criterion["max"],
                    "marks": [{"value": plain(marks[s]) if s in marks else "", "dropped": s in dropped} for s in seats],
                    "value": _two(result.value if result else None),
                }
            )
        stations.append(
            {
                "station": row.entry.station_no or "",
                "names": (row.entry.team_name or "、".join(m.person.name for m in row.entry.members)) if names_visible else "",
                "lines": lines,
                "components": [_two(row.score.components.get(c.kind)) for c in item.components],
                "total": _two(row.score.total),
                "place": row.ranked.place or "",
                "complete": row.score.complete,
            }
        )
    context = {
        "competition": _competition_context(competition),
        "item": {
            "name": item.name,
            "skill_code": item.skill_code,
            "status": item.status,
            "locked": item.locked_at is not None,
            "locked_at": _when(item.locked_at),
            "locked_by": item.locked_by,
        },
        "names_visible": names_visible,
        "seats": seats,
        "components": [{"name": c.name or COMPONENT_KINDS.get(c.kind, c.kind), "weight": plain(c.weight)} for c in item.components],
        "criteria": criteria,
        "stations": stations,
        "judges": [
            {
                "seat": j.seat,
                "name": j.person.name,
                "role": ROLE_LABELS.get(j.role, j.role),
                "unit": j.person.unit.name if j.person.unit else "",
            }
            for j in judges
        ],
        "marks": results.stored,
        "expected": results.expected,
        "checkpoint": _checkpoint(await head_at(db, "item.lock", "item", item_id)) if item.locked_at else None,
        "printed_at": _when(utcnow()),
    }
    return Paper("papers/score_sheet.html", f"score-sheet-item-{item_id}.pdf", context)


def _two(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


# ---------------------------------------------------------------- 锁定记录


async def lock_record(db: AsyncSession, item_id: int) -> Paper:
    """The chief judge's lock record: who signed and when, what was locked, the checkpoint then."""
    item = await get_item(db, item_id)
    if item.locked_at is None:
        raise Conflict("该赛项尚未锁定,没有锁定记录", code="not_locked")
    results = await item_results(db, item_id)
    judges = await item_judges(db, item_id)
    lock = (
        await db.execute(
            select(AuditRecord)
            .where(AuditRecord.entity == "item", AuditRecord.entity_id == str(item_id), AuditRecord.action == "item.lock")
            .order_by(AuditRecord.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    history = (
        await db.execute(
            select(AuditRecord)
            .where(AuditRecord.entity == "item", AuditRecord.entity_id == str(item_id), AuditRecord.action.in_(list(HISTORY_ACTIONS)))
            .order_by(AuditRecord.id)
        )
    ).scalars()
    context = {
        "competition": _competition_context(item.competition),
        "item": {"name": item.name, "skill_code": item.skill_code, "status": item.status},
        "locked_at": _when(item.locked_at),
        "signed_by": item.locked_by,
        "username": (lock.detail or {}).get("signed_by_username", "") if lock else "",
        "entries": len(results.rows),
        "marks": results.stored,
        "expected": results.expected,
        "judges": [{"seat": j.seat, "name": j.person.name, "role": ROLE_LABELS.get(j.role, j.role)} for j in judges],
        "checkpoint": _checkpoint(await head_at(db, "item.lock", "item", item_id)),
        "history": [
            {
                "at": _when(r.at),
                "what": HISTORY_ACTIONS[r.action],
                "who": r.actor,
                "reason": (r.detail or {}).get("reason", ""),
                "record": r.id,
            }
            for r in history
        ],
        "printed_at": _when(utcnow()),
    }
    return Paper("papers/lock_record.html", f"lock-record-item-{item_id}.pdf", context)
