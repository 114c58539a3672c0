"""The finance workbook for one payout batch (DOMAIN.md §5).

Sheets: 汇总 (per payer: lines, total, total in 大写), one sheet per payer (序号, 姓名, 证件号码,
选送单位, 赛事, 赛项, 成绩, 奖励对象, 金额, 说明, 签字 and a totals row), 未发放 (ineligible,
superseded and already-paid lines with the reason) and 非现金奖励 (honours).

Written in openpyxl write-only mode (streamed through lxml), so 100,000s of lines fit in a
small, flat amount of memory. User text is always text: a name such as
=HYPERLINK("http://x","y") is stored as a string, never as a formula. Amounts are numbers
(Decimal with two places, format #,##0.00). This workbook is for organizers and finance, so
证件号码 is written in full; never log it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

from contest.domain.awards.model import AwardResult, PayoutLine
from contest.domain.awards.policy import ROLE_LABELS
from contest.domain.money import Money, to_chinese_capital
from contest.xlsx.cells import text_cell

AMOUNT_FORMAT = "#,##0.00"
SUMMARY_SHEET = "汇总"
EXCLUDED_SHEET = "未发放"
HONOURS_SHEET = "非现金奖励"
PAYER_COLUMNS = ("序号", "姓名", "证件号码", "选送单位", "赛事", "赛项", "成绩", "奖励对象",
                 "金额", "说明", "签字")
_PAYER_WIDTHS = (6, 12, 21, 24, 30, 18, 12, 9, 14, 80, 12)
EXCLUDED_COLUMNS = ("序号", "状态", "姓名", "证件号码", "选送单位", "赛事", "赛项", "成绩",
                    "奖励对象", "原应发金额", "原因")
_EXCLUDED_WIDTHS = (6, 10, 12, 21, 24, 30, 18, 12, 9, 14, 80)
HONOUR_COLUMNS = ("序号", "姓名", "证件号码", "选送单位", "赛事", "赛项", "成绩", "非现金奖励", "依据")
_HONOUR_WIDTHS = (6, 12, 21, 24, 30, 18, 12, 36, 60)
STATUS_LABELS = {
    "ineligible": "不符合条件", "superseded": "已被更高成绩取代", "already_paid": "此前已发放",
    "not_covered": "不在奖励范围", "out_of_force": "不在有效期", "zero_amount": "金额为零",
    "follows_competitor": "随选手不发放",
}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


class _Writer:
    """Cell factory for one sheet: plain str where openpyxl keeps it as text (fast path),
    text_cell() where it would not (leading '=', error codes like #N/A)."""

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet
        self.bold = Font(bold=True)

    def text(self, value: Any) -> Any:
        if value is None:
            return None
        text = value if type(value) is str else str(value)
        if not text:
            return None
        if text[0] == "=" or text in ERROR_CODES or ILLEGAL_CHARACTERS_RE.search(text):
            return text_cell(self.sheet, text)
        return text

    def amount(self, money: Money | None, bold: bool = False) -> Any:
        if money is None:
            return None
        cell = WriteOnlyCell(self.sheet, value=Decimal(money.fen).scaleb(-2))
        cell.number_format = AMOUNT_FORMAT
        if bold:
            cell.font = self.bold
        return cell

    def header(self, values: Iterable[str]) -> list[Any]:
        cells = []
        for value in values:
            cell = text_cell(self.sheet, value)
            cell.font = self.bold
            cell.alignment = Alignment(horizontal="center")
            cells.append(cell)
        return cells


def _sheet_title(name: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'") or "支付方"
    base = base[:28]
    title = base
    counter = 2
    while title in taken:
        title = f"{base[:26]}-{counter}"
        counter += 1
    taken.add(title)
    return title


def _widths(sheet: Any, widths: tuple[int, ...]) -> None:
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width


def _explain(line: PayoutLine) -> str:
    if not line.notes:
        return line.basis
    return line.basis + "\n" + "\n".join(line.notes)


def write_finance_workbook(result: AwardResult, target: str | Path | IO[bytes]) -> None:
    """Write the finance workbook for ``result`` to a path or a binary stream."""
    book = Workbook(write_only=True)
    taken = {SUMMARY_SHEET, EXCLUDED_SHEET, HONOURS_SHEET}
    totals = result.payer_totals()

    summary = book.create_sheet(SUMMARY_SHEET)
    w = _Writer(summary)
    _widths(summary, (44, 10, 18, 50))
    title = f"{result.policy_name} 奖励发放汇总"
    summary.append([w.text(title)])
    summary.append([w.text("政策"), w.text(result.policy_id)])
    summary.append([w.text("批次"), w.text(result.batch_id or "(未命名)"),
                    w.text("批次日期"), w.text(result.batch_date.isoformat() if result.batch_date else "")])
    summary.append([w.text("台账模式"), w.text(result.ledger_mode),
                    w.text("单位补助"), w.text(result.unit_subsidy_mode)])
    summary.append([])
    summary.append(w.header(("支付方", "笔数", "合计金额(元)", "大写金额")))
    for total in totals:
        summary.append([w.text(total.payer), total.lines, w.amount(total.total),
                        w.text(to_chinese_capital(total.total))])
    grand = result.total
    summary.append([w.text("合计"), len(result.lines), w.amount(grand, bold=True),
                    w.text(to_chinese_capital(grand))])
    summary.append([])
    summary.append([w.text("未发放(见“未发放”表)"), len(result.excluded)])
    summary.append([w.text("非现金奖励(见“非现金奖励”表)"), len(result.honours)])

    by_payer: dict[str, list[PayoutLine]] = {}
    for line in result.lines:  # already sorted by payer, then achievement, role, recipient
        by_payer.setdefault(line.payer, []).append(line)
    for total in totals:
        sheet = book.create_sheet(_sheet_title(total.payer, taken))
        w = _Writer(sheet)
        _widths(sheet, _PAYER_WIDTHS)
        sheet.append([w.text(f"支付方:{total.payer}")])
        sheet.append(w.header(PAYER_COLUMNS))
        text = w.text
        for number, line in enumerate(by_payer[total.payer], 1):
            is_unit = line.role == "unit"
            sheet.append([
                number, text(line.recipient_name), None if is_unit else text(line.recipient_id),
                text(line.recipient_unit), text(line.competition), text(line.item),
                text(line.result), ROLE_LABELS[line.role], w.amount(line.amount),
                text(_explain(line)), None,
            ])
        sheet.append([w.text("合计"), None, None, None, None, None, None,
                      w.text(f"{total.lines} 笔"), w.amount(total.total, bold=True),
                      w.text(to_chinese_capital(total.total)), None])

    sheet = book.create_sheet(EXCLUDED_SHEET)
    w = _Writer(sheet)
    _widths(sheet, _EXCLUDED_WIDTHS)
    sheet.append(w.header(EXCLUDED_COLUMNS))
    for number, ex in enumerate(result.excluded, 1):
        is_unit = ex.role == "unit"
        sheet.append([
            number, STATUS_LABELS.get(ex.status, ex.status), w.text(ex.recipient_name),
            None if is_unit else w.text(ex.recipient_id), w.text(ex.recipient_unit),
            w.text(ex.competition), w.text(ex.item), w.text(ex.result), ROLE_LABELS[ex.role],
            w.amount(ex.amount), w.text(ex.reason),
        ])

    sheet = book.create_sheet(HONOURS_SHEET)
    w = _Writer(sheet)
    _widths(sheet, _HONOUR_WIDTHS)
    sheet.append(w.header(HONOUR_COLUMNS))
    for number, honour in enumerate(result.honours, 1):
        sheet.append([
            number, w.text(honour.recipient_name), w.text(honour.recipient_id),
            w.text(honour.recipient_unit), w.text(honour.competition), w.text(honour.item),
            w.text(honour.result), w.text(honour.title), w.text(honour.source),
        ])

    book.save(target)
