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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape as xml_escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import tostring as xml_tostring

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


class _Styled:
    """A value written with one of the sheet's named styles (bold header, amount, bold total)."""

    __slots__ = ("style", "value")

    def __init__(self, value: Any, style: str) -> None:
        self.value = value
        self.style = style


class _Rows(tuple):  # type: ignore[type-arg]
    """A row for the fast path (a tuple, so WriteOnlyWorksheet.append accepts it)."""

    style_ids: dict[str, int]

    def xml(self, row_idx: int) -> str:
        number = str(row_idx)
        parts = [f'<row r="{number}">']
        for index, value in enumerate(self):
            if value is None or value == "":
                continue
            style = ""
            if type(value) is _Styled:
                style = f' s="{self.style_ids[value.style]}"'
                value = value.value
            ref = _LETTERS[index] + number
            if type(value) is str:
                text = _clean(value)
                space = ' xml:space="preserve"' if text != text.strip() else ""
                parts.append(f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{xml_escape(text)}</t></is></c>')
            elif type(value) is Money:
                style = style or f' s="{self.style_ids["amount"]}"'
                parts.append(f'<c r="{ref}"{style} t="n"><v>{value.plain()}</v></c>')
            else:
                parts.append(f'<c r="{ref}"{style} t="n"><v>{int(value)}</v></c>')
        parts.append("</row>")
        return "".join(parts)


_LETTERS = [get_column_letter(i) for i in range(1, 64)]
_QUOTE = {'"': "&quot;"}

_STYLES = {
    "header": {"font": Font(bold=True), "alignment": Alignment(horizontal="center")},
    "amount": {"number_format": AMOUNT_FORMAT},
    "total": {"number_format": AMOUNT_FORMAT, "font": Font(bold=True)},
    "bold": {"font": Font(bold=True)},
}
_MAX_TEXT = 32767  # Excel's limit for one cell


def _clean(text: str) -> str:
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text[:_MAX_TEXT]


class _RawXml:
    """The part of lxml's xmlfile API openpyxl's sheet writer uses, writing to a plain file,
    plus ``raw()`` for rows we serialise ourselves."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    @contextmanager
    def element(self, tag: str, attrib: dict[str, str] | None = None, **extra: str) -> Iterator[None]:
        attributes = {**(attrib or {}), **extra}
        text = "".join(f' {k}="{xml_escape(str(v), _QUOTE)}"' for k, v in attributes.items())
        self.stream.write(f"<{tag}{text}>".encode())
        yield
        self.stream.write(f"</{tag}>".encode())

    def write(self, *items: Any) -> None:
        for item in items:
            if isinstance(item, str):
                self.stream.write(xml_escape(item).encode())
            else:  # an element built by openpyxl (sheetPr, cols, pageMargins ...)
                self.stream.write(xml_tostring(item))

    def raw(self, xml: str) -> None:
        self.stream.write(xml.encode("utf-8", "replace"))


class _FastWorksheetWriter(WorksheetWriter):  # type: ignore[misc]
    """openpyxl's write-only sheet writer, streaming through _RawXml instead of lxml's
    xmlfile, so a _Rows row costs one string join instead of ~30 element objects."""

    def get_stream(self) -> Iterator[Any]:
        with open(self.out, "wb") as stream:
            xf = _RawXml(stream)
            with xf.element("worksheet", xmlns=SHEET_MAIN_NS):
                try:
                    while True:
                        item = yield
                        if item is True:
                            yield xf
                        elif item is not None:
                            xf.write(item)
                except GeneratorExit:
                    pass

    def write_row(self, xf: Any, row: Any, row_idx: int) -> None:
        if type(row) is _Rows:
            xf.raw(row.xml(row_idx))
        else:  # pragma: no cover - every row of ours is a _Rows
            super().write_row(xf, row, row_idx)


class _Sheet:
    """Rows for one write-only sheet.

    Values: str (always an inline string: text, never a formula), int, Money (a number with
    two decimals, format #,##0.00), _Styled, or None. openpyxl's write-only path costs about
    8 µs a cell (a Cell object, type inference, an incremental-writer context per cell), which
    made 300,000 rows take 25 s. The fast path keeps openpyxl's workbook, styles, sheet
    layout and packaging, and serialises each row of ours as one string (escaped, illegal
    characters removed). Should openpyxl's internals change, it falls back to ordinary cells
    (same content, slower); tests compare both paths cell by cell.
    """

    def __init__(self, book: Workbook, title: str, widths: tuple[int, ...], fast: bool = True) -> None:
        self.sheet = book.create_sheet(title)
        for index, width in enumerate(widths):
            self.sheet.column_dimensions[get_column_letter(index + 1)].width = width
        self.style_ids: dict[str, int] = {}
        self._slow_cells: dict[str, Any] = {}
        for name, attributes in _STYLES.items():
            cell = WriteOnlyCell(self.sheet)
            for key, value in attributes.items():
                setattr(cell, key, value)
            self.style_ids[name] = cell.style_id
            self._slow_cells[name] = attributes
        self.fast = fast and self._install_fast_path()

    def _install_fast_path(self) -> bool:
        sheet = self.sheet
        try:
            if sheet._writer is not None:  # pragma: no cover - a future openpyxl
                return False
            sheet._writer = _FastWorksheetWriter(sheet)
            sheet._writer.write_top()
            original_values = sheet._values_to_row
        except (AttributeError, TypeError):  # pragma: no cover - a future openpyxl
            return False

        def values_to_row(values: Any, row_idx: int) -> Any:
            if type(values) is _Rows:
                values.style_ids = self.style_ids
                return values
            return original_values(values, row_idx)  # pragma: no cover

        sheet._values_to_row = values_to_row
        return True

    def append(self, values: list[Any]) -> None:
        if self.fast:
            self.sheet.append(_Rows(values))
            return
        cells: list[Any] = []
        for value in values:  # the ordinary openpyxl path
            style = None
            if type(value) is _Styled:
                style, value = value.style, value.value
            if type(value) is Money:
                style = style or "amount"
                value = Decimal(value.fen).scaleb(-2)
            if value is None:
                cells.append(None)
                continue
            cell = text_cell(self.sheet, value) if type(value) is str else WriteOnlyCell(self.sheet, value)
            for key, attribute in self._slow_cells.get(style or "", {}).items():
                setattr(cell, key, attribute)
            cells.append(cell)
        self.sheet.append(cells)

    def header(self, values: Iterable[str]) -> None:
        self.append([_Styled(v, "header") for v in values])


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


def _explain(line: PayoutLine) -> str:
    if not line.notes:
        return line.basis
    return line.basis + "\n" + "\n".join(line.notes)


def write_finance_workbook(result: AwardResult, target: str | Path | IO[bytes], *, fast: bool = True) -> None:
    """Write the finance workbook for ``result`` to a path or a binary stream."""
    book = Workbook(write_only=True)
    taken = {SUMMARY_SHEET, EXCLUDED_SHEET, HONOURS_SHEET}
    totals = result.payer_totals()

    summary = _Sheet(book, SUMMARY_SHEET, (44, 10, 18, 50), fast)
    summary.append([_Styled(f"{result.policy_name} 奖励发放汇总", "bold")])
    summary.append(["政策", result.policy_id])
    summary.append(["批次", result.batch_id or "(未命名)", "批次日期",
                    result.batch_date.isoformat() if result.batch_date else ""])
    summary.append(["台账模式", result.ledger_mode, "单位补助", result.unit_subsidy_mode])
    summary.append([])
    summary.header(("支付方", "笔数", "合计金额(元)", "大写金额"))
    for total in totals:
        summary.append([total.payer, total.lines, total.total, to_chinese_capital(total.total)])
    grand = result.total
    summary.append([_Styled("合计", "bold"), len(result.lines), _Styled(grand, "total"),
                    to_chinese_capital(grand)])
    summary.append([])
    summary.append(["未发放(见“未发放”表)", len(result.excluded)])
    summary.append(["非现金奖励(见“非现金奖励”表)", len(result.honours)])

    by_payer: dict[str, list[PayoutLine]] = {}
    for line in result.lines:  # already sorted by payer, then achievement, role, recipient
        by_payer.setdefault(line.payer, []).append(line)
    for total in totals:
        sheet = _Sheet(book, _sheet_title(total.payer, taken), _PAYER_WIDTHS, fast)
        sheet.append([_Styled(f"支付方:{total.payer}", "bold")])
        sheet.header(PAYER_COLUMNS)
        append = sheet.append
        for number, line in enumerate(by_payer[total.payer], 1):
            append([number, line.recipient_name, None if line.role == "unit" else line.recipient_id,
                    line.recipient_unit, line.competition, line.item, line.result,
                    ROLE_LABELS[line.role], line.amount, _explain(line), None])
        sheet.append([_Styled("合计", "bold"), None, None, None, None, None, None, f"{total.lines} 笔",
                      _Styled(total.total, "total"), to_chinese_capital(total.total), None])

    sheet = _Sheet(book, EXCLUDED_SHEET, _EXCLUDED_WIDTHS, fast)
    sheet.header(EXCLUDED_COLUMNS)
    append = sheet.append
    for number, ex in enumerate(result.excluded, 1):
        append([number, STATUS_LABELS.get(ex.status, ex.status), ex.recipient_name,
                None if ex.role == "unit" else ex.recipient_id, ex.recipient_unit, ex.competition,
                ex.item, ex.result, ROLE_LABELS[ex.role], ex.amount, ex.reason])

    sheet = _Sheet(book, HONOURS_SHEET, _HONOUR_WIDTHS, fast)
    sheet.header(HONOUR_COLUMNS)
    append = sheet.append
    for number, honour in enumerate(result.honours, 1):
        append([number, honour.recipient_name, honour.recipient_id, honour.recipient_unit,
                honour.competition, honour.item, honour.result, honour.title, honour.source])

    book.save(target)
