"""The draw's 工位号 -> 参赛号 -> names mapping, for organizers only (it breaks the blind).

With look-up codes (查询码, contest.competitors) the same mapping carries each competitor's code:
one sheet per item, exported once when the codes are made (only their hashes are kept).
"""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook

from contest.db.models import Draw, Entry, Item
from contest.domain.certificates import format_code
from contest.xlsx.cells import sheet_title, text_cell


def draw_workbook(item: Item, entries: list[Entry], draw: Draw | None) -> bytes:
    workbook = Workbook(write_only=True)
    _draw_sheet(workbook, "抽签对照表", item, entries, draw, None)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def draw_workbook_with_codes(items: list[tuple[Item, list[Entry], Draw | None]], codes: dict[int, str]) -> bytes:
    """Every item's draw mapping on its own sheet, with each member's 查询码 (person id -> code)."""
    workbook = Workbook(write_only=True)
    for item, entries, draw in items:
        _draw_sheet(workbook, sheet_title(f"{item.id}-{item.name}"), item, entries, draw, codes)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _draw_sheet(workbook: Workbook, title: str, item: Item, entries: list[Entry], draw: Draw | None, codes: dict[int, str] | None) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append([text_cell(sheet, f"{item.competition.name} · {item.name}")])
    seed = draw.seed if draw else "(未抽签)"
    sheet.append([text_cell(sheet, f"抽签种子:{seed}"), text_cell(sheet, f"抽签人:{draw.created_by if draw else ''}")])
    headers = ("工位号", "参赛号", "姓名", "证件号码", "选送单位", "团队名称") + (("查询码",) if codes is not None else ())
    sheet.append([text_cell(sheet, h) for h in headers])
    for entry in sorted(entries, key=lambda e: (e.station_no is None, e.station_no or 0, e.entry_no)):
        names = "、".join(m.person.name for m in entry.members)
        numbers = "、".join(m.person.id_number for m in entry.members)
        values = [entry.entry_no, names, numbers, entry.unit.name, entry.team_name]
        if codes is not None:
            values.append("、".join(format_code(codes[m.person_id]) for m in entry.members if m.person_id in codes))
        sheet.append([entry.station_no, *(text_cell(sheet, v) for v in values)])
