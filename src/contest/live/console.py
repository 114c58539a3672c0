"""What the chief judge's console shows: the scored matrix, why the item cannot be locked yet,
the panel's tablets and how far each judge sits from the rest of the panel."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.db.models import ConflictOverride
from contest.domain.aggregation import WORLDSKILLS_MAX
from contest.domain.agreement import Cell, JudgeAgreement, panel_agreement
from contest.events.service import conflict_matrix
from contest.live.devices import JudgeDevices, item_devices
from contest.live.readiness import readiness
from contest.settings import Settings
from contest.standings import ItemResults, item_results


@dataclass(frozen=True)
class AgreementRow:
    seat: int | None
    name: str
    agreement: JudgeAgreement


def agreement_rows(results: ItemResults, names: dict[int, str], threshold: Decimal, min_cells: int) -> list[AgreementRow]:
    """Per judge (keyed by seat in the scores), over the item's judgement cells."""
    judgement = [k for c in results.rules for k in c.criteria if k.kind == "judgement"]
    cells = [
        Cell(
            Decimal(WORLDSKILLS_MAX) if rule.aggregation == "worldskills" else rule.max_mark,
            rule.aggregation == "worldskills",
            dict(row.score.criteria[rule.id].marks),
        )
        for row in results.rows
        for rule in judgement
    ]
    by_key = panel_agreement(cells, threshold, min_cells)
    seats = {str(j.seat): j.seat for j in results.judges}
    rows = [AgreementRow(seats.get(key), names.get(seats.get(key, -1), key), value) for key, value in by_key.items()]
    return sorted(rows, key=lambda r: (r.seat is None, r.seat or 0, r.name))


async def console_view(db: AsyncSession, item_id: int, settings: Settings, app_version: str) -> dict:
    """Everything the console page and its live fragments render. Raises Invalid while in setup."""
    results = await item_results(db, item_id)
    devices = await item_devices(db, item_id, settings.device_silent_seconds, app_version)
    conflicts = await conflict_matrix(db, item_id)
    overrides = {
        (person, entry)
        for person, entry in (
            await db.execute(select(ConflictOverride.judge_person_id, ConflictOverride.entry_id).where(ConflictOverride.item_id == item_id))
        ).all()
    }
    names = {d.seat: d.name for d in devices}
    return {
        "results": results,
        "readiness": readiness(results, conflicts, overrides, devices),
        "devices": devices,
        "agreement": agreement_rows(results, names, settings.agreement_threshold, settings.agreement_min_cells),
        "agreement_threshold": settings.agreement_threshold,
        "agreement_min_cells": settings.agreement_min_cells,
    }


async def panel_devices(db: AsyncSession, item_id: int, settings: Settings, app_version: str) -> list[JudgeDevices]:
    return await item_devices(db, item_id, settings.device_silent_seconds, app_version)
