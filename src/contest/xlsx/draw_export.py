"""The draw's 工位号 -> 参赛号 -> names mapping, for organizers only (it breaks the blind)."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook

from contest.db.models import Draw, Entry, Item
from contest.xlsx.cells import text_cell


def draw_workbook(item: Item, entries: list[Entry], draw: Draw | None) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("抽签对照表")
    sheet.append([text_cell(sheet, f"{item.competition.name} · {item.name}")])
    seed = draw.seed if draw else "(未抽签)"
    sheet.append([text_cell(sheet, f"抽签种子:{seed}"), text_cell(sheet, f"抽签人:{draw.created_by if draw else ''}")])
    sheet.append([text_cell(sheet, h) for h in ("工位号", "参赛号", "姓名", "证件号码", "选送单位", "团队名称")])
    for entry in sorted(entries, key=lambda e: (e.station_no is None, e.station_no or 0, e.entry_no)):
        names = "、".join(m.person.name for m in entry.members)
        numbers = "、".join(m.person.id_number for m in entry.members)
        sheet.append(
            [entry.station_no, *(text_cell(sheet, v) for v in (entry.entry_no, names, numbers, entry.unit.name, entry.team_name))]
        )
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
