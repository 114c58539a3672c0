"""The finance workbook for one payout batch: what a finance office prints, signs and pays from.

Sheets (a sheet only when it has something in it):

- 汇总: the title block (policy, document number, batch, date, 单位:元), per payer the lines,
  应发 (代扣个税, 实发 when the policy withholds) and 大写; the notes (what was not paid, honours,
  withholding and how it rounds, an early approval's reason); the sign-off block (制表人, 审核人,
  批准人, 日期, 盖章).
- 发放依据: the clause of every tier the lines rest on, quoted (its own sheet: the summary's
  repeated column header does not print above it).
- one 发放表 per payer: the title block, 序号 姓名 证件号码 选送单位 赛事 赛项 成绩 奖励对象 金额
  (应发 / 代扣个税 / 实发) 开户行 银行账号 联系电话 说明 签字, the total with 大写 and the sign-off.
- one 代发 sheet per payer (finance only): 序号 户名 账号 开户行 金额 用途, the layout most Chinese
  banks' corporate e-banking takes for 批量代发, with the control total (笔数, 金额) above it.
- 未发放 and 非现金奖励.

Printing: A4 landscape, one page wide, the column header repeated on every page, borders,
wrapped text with row heights computed from it (tall enough to sign), "第 &P 页 共 &N 页" in
the footer, and page breaks placed so that the total, its 大写 and the sign-off block are on
the same page as the last names. Frozen panes for the screen. An approved batch's sheets are
protected against accidental edits, without a password (审阅 > 撤销工作表保护 lifts it).

Written in openpyxl write-only mode with rows serialised as strings (see _Sheet), so 100,000s
of lines fit in little memory and time. User text is always text (a name such as
=HYPERLINK("http://x","y") is a string, never a formula). Amounts are numbers with two decimals.
证件号码 and bank accounts are written in full for finance; organizers get accounts masked and no
代发 sheets. Never log either.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import combinations
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape as xml_escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import tostring as xml_tostring

from contest.domain import idcard
from contest.domain.awards.engine import basis_parts
from contest.domain.awards.model import EXCLUDED_LABELS, AwardResult, PayoutLine
from contest.domain.awards.policy import LEDGER_MODE_LABELS, ROLE_LABELS, UNIT_MODE_LABELS, Policy
from contest.domain.money import Money, to_chinese_capital
from contest.xlsx.cells import safe_text, text_cell

AMOUNT_FORMAT = "#,##0.00"
BANK_AMOUNT_FORMAT = "0.00"  # bank upload templates take plain numbers
SUMMARY_SHEET = "汇总"
EXCLUDED_SHEET = "未发放"
HONOURS_SHEET = "非现金奖励"
BASES_SHEET = "发放依据"
BASES_COLUMNS = ("序号", "档次", "发放标准", "原文")
STATUS_LABELS = EXCLUDED_LABELS  # kept for callers that imported it from here
PAYER_COLUMNS = (
    "序号",
    "姓名",
    "证件号码",
    "选送单位",
    "赛事",
    "赛项",
    "成绩",
    "奖励对象",
    "金额",
    "开户行",
    "银行账号",
    "联系电话",
    "说明",
    "签字",
)
WITHHOLDING_COLUMNS = ("应发金额", "代扣个税", "实发金额")
BANK_COLUMNS = ("序号", "户名", "账号", "开户行", "金额", "用途")
EXCLUDED_COLUMNS = ("序号", "状态", "姓名", "证件号码", "选送单位", "赛事", "赛项", "成绩", "奖励对象", "原应发金额", "原因")
HONOUR_COLUMNS = ("序号", "姓名", "证件号码", "选送单位", "赛事", "赛项", "成绩", "获奖对象", "非现金奖励", "依据")
FOOTER = "第 &P 页 共 &N 页"
PROTECTION_NOTE = (
    "本批次已审批,各工作表已设保护以防误改(无密码:审阅 > 撤销工作表保护即可解除);解除保护后的改动不改变系统中的数据,以系统为准。"
)
WITHHOLDING_NOTE = (
    "代扣个税:按政策各档规定的税率,对每名个人的每一行应发金额计算,四舍五入到分"
    "(ROUND_HALF_UP);单位补助不代扣。税率由财务部门决定:省级人民政府、国务院部委颁发的"
    "技术等方面的奖金通常免征个人所得税,市级及以下颁发的通常按“偶然所得”计税。"
)
_COLUMN_WIDTHS = {
    "序号": 5,
    "姓名": 9,
    "证件号码": 22.5,
    "选送单位": 13,
    "赛事": 14,
    "赛项": 9,
    "成绩": 8,
    "奖励对象": 6,
    "金额": 12,
    "应发金额": 12,
    "代扣个税": 10,
    "实发金额": 12,
    "开户行": 13,
    "银行账号": 23.5,
    "联系电话": 14,
    "说明": 26,
    "签字": 11,
}
_PAYER_STYLES = {
    "序号": "center",
    "证件号码": "id",
    "奖励对象": "center",
    "金额": "amount",
    "应发金额": "amount",
    "代扣个税": "amount",
    "实发金额": "amount",
    "银行账号": "id",
    "联系电话": "id",
}
_WRAP_MIN_ROW = 34.0  # points: room to sign (about 1 cm at the usual fit-to-width scale)
_LINE_HEIGHT = 13.0  # points per line of 10-point text
_TITLE_SCALE = 1.7  # a 16-point bold title is about this much wider than 10-point text
_SIGN_MIN = 20.0  # column units for one sign-off cell: the label, a name, and room to sign by hand
_HEADER_CHARS = 60  # the page header (payer, batch name) is one line in the top margin
_SIGN_ROW = 34.0  # points: a sign-off row, a signature fits under the label
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_MAX_TEXT = 32767  # Excel's limit for one cell
_MAX_MANUAL_BREAKS = 1000  # Excel keeps at most 1,026 manual page breaks per sheet

# A4 landscape, in points; margins in inches
_PAGE_WIDTH, _PAGE_HEIGHT = 842.0, 595.0
_MARGINS = PageMargins(left=0.4, right=0.4, top=0.75, bottom=0.7, header=0.3, footer=0.3)


# ---------------------------------------------------------------- what the workbook needs to know


@dataclass(frozen=True)
class PayeeDetails:
    """Where a recipient is paid (收款信息)."""

    account_name: str = ""  # 户名
    bank_name: str = ""  # 开户行
    account_number: str = ""  # 银行账号
    phone: str = ""  # 联系电话 (people)
    credit_code: str = ""  # 统一社会信用代码 (units)

    def complete(self, kind: str) -> bool:
        """Enough to pay by bank transfer (a unit also needs its 统一社会信用代码)."""
        needed = [self.account_name, self.bank_name, self.account_number]
        return all(needed) and (kind != "unit" or bool(self.credit_code))


def payee_key(line: Any) -> tuple[str, str]:
    """How a line names its recipient: ("person", 证件号码) or ("unit", 单位名称)."""
    return ("unit" if line.role == "unit" else "person", line.recipient_id)


@dataclass(frozen=True)
class TierBasis:
    title: str
    rule: str  # the amount rule in words
    quote: str  # the clause, quoted


@dataclass
class WorkbookInfo:
    """The title block, the sign-off and the payment details; built by the payout service (or the
    CLI, from the policy). Names are people's names, never account names (fin, fin2)."""

    title: str  # the policy's full name
    document: str = ""  # its document number
    batch_name: str = ""
    batch_number: str = ""  # "#12"
    status: str = ""  # 已审批 / 待审批(未审批,不能据此付款) ...; "" when not from a batch
    final: bool = False  # approved or paid: the sheets are protected
    made_on: date | None = None  # 制表日期
    prepared_by: str = ""  # 制表人: the batch creator's name
    approved_by: str = ""  # 批准人: the approver's name
    approved_on: date | None = None
    override: str = ""  # approved before the results were final: why, by whom, when
    notes: tuple[str, ...] = ()  # more lines for the 汇总 notes (modes, sources ...)
    payees: Mapping[tuple[str, str], PayeeDetails] = field(default_factory=dict)
    phones: Mapping[str, str] = field(default_factory=dict)  # 证件号码 -> the roster's 联系电话
    mask_accounts: bool = False  # organizers: account numbers masked, no 代发 sheets
    bases: Mapping[str, TierBasis] = field(default_factory=dict)  # tier id -> its clause
    purpose: str = "职业技能竞赛奖金"  # 用途 on the bank sheet (units: 技能人才培养补助)

    @classmethod
    def for_result(cls, result: AwardResult, policy: Policy | None = None) -> WorkbookInfo:
        """What the result and its policy say (the CLI's workbook, and the defaults of a batch's)."""
        bases: dict[str, TierBasis] = {}
        if policy is not None:
            for tier in policy.tiers:
                rule = tier.competitor.describe() if tier.competitor is not None else "只授予荣誉称号"
                bases[tier.id] = TierBasis(tier.title, rule, tier.source)
        notes = []
        if result.ledger_mode:
            notes.append(
                f"跨批次:{LEDGER_MODE_LABELS.get(result.ledger_mode, result.ledger_mode)};"
                f"单位补助:{UNIT_MODE_LABELS.get(result.unit_subsidy_mode, result.unit_subsidy_mode)}"
            )
        return cls(
            title=policy.name if policy else result.policy_name,
            document=policy.document if policy else "",
            batch_name=result.batch_id,
            made_on=result.batch_date,
            bases=bases,
            notes=tuple(notes),
        )


# ---------------------------------------------------------------- cells and rows


class _Styled:
    """A value written with one of the sheet's named styles; the value may be None (an empty,
    bordered cell such as 签字)."""

    __slots__ = ("style", "value")

    def __init__(self, value: Any, style: str) -> None:
        self.value = value
        self.style = style


_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="center")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_SONG, _HEI = "宋体", "黑体"  # what Chinese finance forms print in (LibreOffice substitutes Noto CJK)
_BODY = Font(name=_SONG, size=10)
_BOLD = Font(name=_SONG, size=10, bold=True)
_STYLES: dict[str, dict[str, Any]] = {
    "title": {"font": Font(name=_HEI, size=16, bold=True), "alignment": Alignment(horizontal="center", vertical="center")},
    "subtitle": {"font": _BODY, "alignment": Alignment(vertical="center", wrap_text=True)},
    "unit": {"font": _BODY, "alignment": Alignment(horizontal="right", vertical="center")},
    "header": {"font": Font(name=_HEI, size=10), "alignment": _CENTER, "border": _BOX, "fill": PatternFill("solid", fgColor="F2F2F2")},
    "text": {"font": _BODY, "alignment": _WRAP, "border": _BOX},
    "center": {"font": _BODY, "alignment": _CENTER, "border": _BOX},
    "id": {"font": _BODY, "alignment": _WRAP, "border": _BOX},
    "amount": {"font": _BODY, "number_format": AMOUNT_FORMAT, "border": _BOX, "alignment": Alignment(vertical="center")},
    "bank_amount": {"font": _BODY, "number_format": BANK_AMOUNT_FORMAT, "border": _BOX, "alignment": Alignment(vertical="center")},
    "total": {"font": _BOLD, "number_format": AMOUNT_FORMAT, "border": _BOX, "alignment": Alignment(vertical="center")},
    "total_text": {"font": _BOLD, "alignment": _WRAP, "border": _BOX},
    "bold": {"font": _BOLD, "alignment": Alignment(vertical="center")},
    "note": {"font": Font(name=_SONG, size=9), "alignment": Alignment(vertical="top", wrap_text=True)},
    "sign": {"font": _BODY, "alignment": Alignment(vertical="top", wrap_text=True)},
    "plain": {"font": _BODY, "alignment": Alignment(vertical="center")},
}


def _clean(text: str) -> str:
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text[:_MAX_TEXT]


_TEXT_CACHE: dict[str, str] = {}  # a text as it goes into <t ...>: escaped, illegal characters removed
_CACHE_LIMIT = 20_000  # competitions, units, items, results and reasons repeat on 100,000s of rows


def _text_body(text: str) -> str:
    """'>text' or ' xml:space="preserve">text', escaped: what follows <t in an inline string."""
    body = _TEXT_CACHE.get(text)
    if body is None:
        clean = _clean(text)
        space = ' xml:space="preserve"' if clean != clean.strip() or "\n" in clean else ""
        body = f"{space}>{xml_escape(clean)}"
        if len(_TEXT_CACHE) < _CACHE_LIMIT:
            _TEXT_CACHE[text] = body
    return body


class _Rows(tuple):
    """A row for the fast path (a tuple, so WriteOnlyWorksheet.append accepts it)."""

    style_ids: dict[str, int]
    height: float | None = None
    styles: tuple[str, ...] | None = None  # one style per column, for rows of plain values

    def xml(self, row_idx: int) -> str:
        number = str(row_idx)
        height = f' ht="{self.height:g}" customHeight="1"' if self.height else ""
        parts = [f'<row r="{number}"{height}>']
        attrs = _style_attrs(self.style_ids)
        styles = self.styles
        for index, value in enumerate(self):
            if type(value) is _Styled:
                style = attrs[value.style]
                value = value.value
            elif styles is not None:
                style = attrs[styles[index]]
            elif value is None:
                continue
            else:
                style = ""
            ref = _LETTERS[index] + number
            kind = type(value)
            if value is None or value == "":
                if style:
                    parts.append(f'<c r="{ref}"{style}/>')
            elif kind is str:
                parts.append(f'<c r="{ref}"{style} t="inlineStr"><is><t{_text_body(value)}</t></is></c>')
            elif kind is Money:
                parts.append(f'<c r="{ref}"{style or attrs["amount"]} t="n"><v>{value.plain()}</v></c>')
            else:
                parts.append(f'<c r="{ref}"{style} t="n"><v>{int(value)}</v></c>')
        parts.append("</row>")
        return "".join(parts)


_ATTRS: dict[int, dict[str, str]] = {}


def _style_attrs(style_ids: dict[str, int]) -> dict[str, str]:
    key = id(style_ids)
    found = _ATTRS.get(key)
    if found is None or found.get("__ids__") is not style_ids:  # type: ignore[comparison-overlap]  # the entry keeps its key's dict alive
        found = {name: f' s="{number}"' for name, number in style_ids.items()}
        found["__ids__"] = style_ids  # type: ignore[assignment]  # (an id() is reused once its object is gone)
        _ATTRS[key] = found
    return found


_LETTERS = [get_column_letter(i) for i in range(1, 64)]
_QUOTE = {'"': "&quot;"}


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


class _FastWorksheetWriter(WorksheetWriter):
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


def text_pixels(text: str) -> float:
    """How wide ``text`` prints at 10 points, in pixels (96 dpi), a little generously: a CJK
    character 13.5, anything else 6.8 (宋体 is half an em wide for digits and Latin letters; GB18030
    takes 2 bytes for the one, 1 for the other)."""
    wide = len(text.encode("gb18030", "replace")) - len(text)
    return wide * 13.5 + (len(text) - wide) * 6.8


_LINES_CACHE: dict[tuple[str, float], int] = {}


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` wraps to in a column ``width`` wide (cached: texts repeat)."""
    key = (text, width)
    found = _LINES_CACHE.get(key)
    if found is None:
        usable = max(7.0, width * 7 + 5 - 6)  # the column in pixels, less the cell's padding
        found = sum(max(1, -int(-text_pixels(part) // usable)) for part in text.split("\n"))
        if len(_LINES_CACHE) < _CACHE_LIMIT:
            _LINES_CACHE[key] = found
    return found


def _column_points(width: float) -> float:
    return (int(width * 7 + 5)) * 0.75  # Excel: about 7 pixels a unit plus 5 of padding; 0.75 pt a pixel


@dataclass
class _Layout:
    """A printed sheet: its columns, the rows above the repeated header, the header row."""

    title: str
    widths: tuple[float, ...]
    header_row: int = 0  # 1-based: repeated on every printed page, frozen on screen
    freeze_column: int = 1  # columns left of this stay on screen (2: 序号)
    header_text: str = ""  # page header, left
    protect: bool = False


class _Sheet:
    """Rows for one write-only sheet, printed as _Layout says.

    Values: str (always an inline string: text, never a formula), int, Money (a number with two
    decimals), _Styled, or None. openpyxl's write-only path costs about 8 µs a cell (a Cell
    object, type inference, an incremental-writer context per cell), which made 300,000 rows
    take 25 s. The fast path keeps openpyxl's workbook, styles, sheet layout and packaging, and
    serialises each row of ours as one string (escaped, illegal characters removed). Should
    openpyxl's internals change, it falls back to ordinary cells (same content, slower); tests
    compare both paths cell by cell.
    """

    def __init__(self, book: Workbook, layout: _Layout, fast: bool = True) -> None:
        self.layout = layout
        self.sheet = sheet = book.create_sheet(layout.title)
        self.row = 0
        self.heights = array("d")  # every row's height, for the page breaks (8 bytes a row, not 32)
        self.keep_from: int | None = None  # rows from here (the total, the sign-off) stay together
        self.keep_until: int = 0
        for index, width in enumerate(layout.widths):
            sheet.column_dimensions[get_column_letter(index + 1)].width = width
        # page setup goes before the first row: openpyxl writes a sheet's head when it starts streaming
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_margins = _MARGINS
        sheet.print_options.horizontalCentered = True
        sheet.oddFooter.center.text = FOOTER
        sheet.oddFooter.center.size = 9
        if layout.header_text:
            sheet.oddHeader.left.text = layout.header_text.replace("&", "&&")
            sheet.oddHeader.left.size = 9
        if layout.header_row:
            sheet.print_title_rows = f"{layout.header_row}:{layout.header_row}"
            sheet.freeze_panes = f"{get_column_letter(layout.freeze_column)}{layout.header_row + 1}"
        if layout.protect:
            sheet.protection.sheet = True  # no password: against accidental edits only
            sheet.protection.formatColumns = False
            sheet.protection.formatRows = False
        self.style_ids: dict[str, int] = {}
        self._slow_cells: dict[str, Any] = {}
        for name, attributes in _STYLES.items():
            cell = WriteOnlyCell(sheet)
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

    @property
    def width(self) -> int:
        return len(self.layout.widths)

    def append(self, values: Sequence[Any], height: float | None = None, styles: tuple[str, ...] | None = None) -> None:
        """One row; ``styles`` (one per column) styles plain values without a _Styled each."""
        self.row += 1
        self.heights.append(height or 15.0)
        if self.fast:
            row = _Rows(values)
            row.height = height
            row.styles = styles
            self.sheet.append(row)
            return
        if height:
            self.sheet.row_dimensions[self.row].height = height
        cells: list[Any] = []
        for index, value in enumerate(values):  # the ordinary openpyxl path
            style = styles[index] if styles is not None else None
            if type(value) is _Styled:
                style, value = value.style, value.value
            if type(value) is Money:
                style = style or "amount"
                value = Decimal(value.fen).scaleb(-2)
            if value is None or value == "":
                if style is None:
                    cells.append(None)
                    continue
                cell = WriteOnlyCell(self.sheet)
            elif type(value) is str:
                cell = text_cell(self.sheet, value)
            else:
                cell = WriteOnlyCell(self.sheet, value)
            for key, attribute in self._slow_cells.get(style or "", {}).items():
                setattr(cell, key, attribute)
            cells.append(cell)
        self.sheet.append(cells)

    def merge(self, first_column: int, last_column: int, row: int | None = None) -> None:
        row = row or self.row
        if last_column > first_column:
            self.sheet.merged_cells.add(f"{_LETTERS[first_column - 1]}{row}:{_LETTERS[last_column - 1]}{row}")

    def line(self, text: str, style: str, height: float | None = None, last_column: int | None = None) -> None:
        """One merged line across the sheet (or up to ``last_column``)."""
        self.append([_Styled(text, style)], height)
        self.merge(1, last_column or self.width)

    def table_header(self, columns: Iterable[str]) -> None:
        names = list(columns)
        height = max(_LINE_HEIGHT * _lines(name, width) + 6 for name, width in zip(names, self.layout.widths, strict=False))
        self.append([_Styled(name, "header") for name in names], max(20.0, height))

    def keep_together_from_here(self) -> None:
        self.keep_from = self.row + 1

    def keep_together_until_here(self) -> None:
        self.keep_until = self.row

    def place_page_breaks(self) -> None:
        """Manual page breaks where the rows fill an A4 page, so that the kept block (the total,
        its 大写, the sign-off) shares its page with at least the last line above it. The page's
        capacity is estimated from the fit-to-width scale, with a margin for the spreadsheet's
        own rounding."""
        heights = self.heights
        widths = sum(_column_points(w) for w in self.layout.widths)
        scale = min(1.0, (_PAGE_WIDTH - 72 * (_MARGINS.left + _MARGINS.right)) / widths)
        capacity = (_PAGE_HEIGHT - 72 * (_MARGINS.top + _MARGINS.bottom)) / scale * 0.98
        header_row = self.layout.header_row
        header = heights[header_row - 1] if header_row else 0.0
        keep_from = self.keep_from or len(heights) + 1
        keep_until = max(keep_from - 1, min(self.keep_until or len(heights), len(heights)))
        breaks: list[int] = []  # a break after row N: row N + 1 starts a page
        used = 0.0

        def place(first: int, last: int) -> None:
            nonlocal used
            for index in range(first, last + 1):
                height = heights[index - 1]
                if used + height > capacity and index > header_row + 1:
                    breaks.append(index - 1)
                    used = header
                used += height

        place(1, keep_from - 1)
        block = sum(heights[keep_from - 1 : keep_until])
        last_line = keep_from - 1
        if keep_from <= keep_until and used + block > capacity:
            if last_line > header_row + 1 and (not breaks or breaks[-1] < last_line - 1):
                breaks.append(last_line - 1)  # the last line moves on: the total is never alone on a page
                used = header + heights[last_line - 1]
            else:
                breaks.append(keep_from - 1)
                used = header
        used += block
        place(keep_until + 1, len(heights))
        if len(breaks) <= _MAX_MANUAL_BREAKS:  # beyond: leave pagination to the spreadsheet
            for row in breaks:
                self.sheet.row_breaks.append(Break(id=row))


def _sheet_title(name: str, taken: set[str], prefix: str = "") -> str:
    base = (prefix + _BAD_SHEET_CHARS.sub("_", name)).strip("'") or "支付方"
    base = base[:28]
    title = base
    counter = 2
    while title in taken:
        title = f"{base[:26]}-{counter}"
        counter += 1
    taken.add(title)
    return title


def _row_height(cells: Iterable[tuple[str, float]], minimum: float = 18.0, line: float = _LINE_HEIGHT) -> float:
    lines = 1
    for text, width in cells:
        if text:
            count = _lines(text, width)
            if count > lines:
                lines = count
    return max(minimum, line * lines + 4)


# ---------------------------------------------------------------- the workbook


class _Writer:
    def __init__(self, result: AwardResult, info: WorkbookInfo, fast: bool) -> None:
        self.result = result
        self.info = info
        self.fast = fast
        self.book = Workbook(write_only=True)
        self.taken = {SUMMARY_SHEET, BASES_SHEET, EXCLUDED_SHEET, HONOURS_SHEET}
        self.withholds = result.withholds
        self.by_payer: dict[str, list[PayoutLine]] = {}
        for line in result.lines:  # already sorted by payer, then achievement, role, recipient
            self.by_payer.setdefault(line.payer, []).append(line)
        self.missing: dict[str, list[PayoutLine]] = {}  # payer -> lines without payment details

    # --- shared blocks ---------------------------------------------------------------------------
    def _title_block(self, sheet: _Sheet, title: str, extra: Sequence[str] = ()) -> None:
        """Title, 依据, extra lines, then the batch line (批次, 状态, 制表日期) across every column but
        the last, which says 单位:元. Every line is as tall as its text wraps to (a batch name may be
        200 characters): nothing is clipped or printed over the next line."""
        info = self.info
        total = sum(sheet.layout.widths)
        sheet.line(title, "title", max(30.0, 24.0 * _lines(title, total / _TITLE_SCALE) + 6))
        for text in ([f"依据:{info.document}"] if info.document else []) + list(extra):
            sheet.line(text, "subtitle", _row_height([(text, total)], 18))
        parts = [f"批次:{info.batch_name or '(未命名批次)'}" + (f"({info.batch_number})" if info.batch_number else "")]
        if info.status:
            parts.append(f"状态:{info.status}")
        parts.append(f"制表日期:{(info.made_on or date.today()).isoformat()}")
        text = "    ".join(parts)
        span = max(1, sheet.width - 1)
        height = _row_height([(text, sum(sheet.layout.widths[:span])), ("单位:元", sum(sheet.layout.widths[span:]))], 18)
        sheet.append([_Styled(text, "subtitle")] + [None] * (span - 1) + [_Styled("单位:元", "unit")], height)
        sheet.merge(1, span)
        sheet.merge(span + 1, sheet.width)

    def _header_row(self, extra_lines: int) -> int:
        """Where _title_block leaves the column header: title, document, extra lines, batch line."""
        return 1 + (1 if self.info.document else 0) + extra_lines + 1 + 1

    def _sign_off(self, sheet: _Sheet) -> None:
        """制表人 (the creator's name), 审核人 (signed by hand), 批准人 (the approver's name), 日期, then
        支付单位(盖章) and 财务部门(盖章). Each gets a run of columns at least _SIGN_MIN wide (as many
        to a row as the sheet's columns allow), tall enough for its text and a signature below it."""
        info = self.info
        cells = [f"制表人:{info.prepared_by}", "审核人:", f"批准人:{info.approved_by}", "日期:      年    月    日"]
        widths = sheet.layout.widths
        sheet.append([], 10)
        per_row = next(k for k in range(len(cells), 0, -1) if k == 1 or _width_groups(widths, k, _SIGN_MIN))
        bounds = _width_groups(widths, per_row, _SIGN_MIN) or [(1, sheet.width)]
        for start in range(0, len(cells), per_row):
            chunk = cells[start : start + per_row]
            row: list[Any] = [None] * sheet.width
            measured = []
            for (first, last), text in zip(bounds, chunk, strict=False):
                row[first - 1] = _Styled(text, "sign")
                measured.append((text, sum(widths[first - 1 : last])))
            sheet.append(row, max(_SIGN_ROW, _LINE_HEIGHT * _longest(measured) + 22))  # the text, then room to sign
            for first, last in bounds[: len(chunk)]:
                sheet.merge(first, last)
        halves = _width_groups(widths, 2, _SIGN_MIN) or [(1, sheet.width)]
        seal: list[Any] = [None] * sheet.width
        for (first, _last), text in zip(halves, ("支付单位(盖章):", "财务部门(盖章):"), strict=False):
            seal[first - 1] = _Styled(text, "sign")
        sheet.append(seal, 56)
        for first, last in halves:
            sheet.merge(first, last)

    def _layout(self, title: str, widths: Sequence[float], header_row: int, header_text: str = "", freeze_column: int = 3) -> _Layout:
        return _Layout(
            title=safe_text(title),  # user text (a payer's name): no control characters in the file
            widths=tuple(widths),
            header_row=header_row,
            freeze_column=freeze_column,
            header_text=_shorten(safe_text(header_text), _HEADER_CHARS),  # one line at the top of the page
            protect=self.info.final,
        )

    def _payee(self, line: PayoutLine) -> PayeeDetails:
        return self.info.payees.get(payee_key(line), _NO_PAYEE)

    def _account(self, number: str) -> str:
        return idcard.mask(number) if self.info.mask_accounts else number

    # --- sheets ---------------------------------------------------------------------------------
    def write(self) -> Workbook:
        totals = self.result.payer_totals()
        for total in totals:
            lines = self.by_payer[total.payer]
            self.missing[total.payer] = [line for line in lines if not self._payee(line).complete(payee_key(line)[0])]
        self._summary(totals)
        self._bases_sheet()
        for total in totals:
            self._payer_sheet(total.payer, self.by_payer[total.payer])
        if not self.info.mask_accounts:
            for total in totals:
                self._bank_sheet(total.payer, self.by_payer[total.payer])
        if self.result.excluded:
            self._excluded_sheet()
        if self.result.honours:
            self._honours_sheet()
        return self.book

    def _summary(self, totals: Sequence[Any]) -> None:
        info, result = self.info, self.result
        columns = ["序号", "支付单位", "笔数", "应发合计" if self.withholds else "合计金额"]
        widths = [6, 40, 8, 16]
        if self.withholds:
            columns += ["代扣个税", "实发合计"]
            widths += [14, 16]
        columns.append("大写金额")
        widths.append(44)
        sheet = _Sheet(self.book, self._layout(SUMMARY_SHEET, widths, self._header_row(0), info.batch_name, 2), self.fast)
        self._title_block(sheet, f"{info.title}奖金发放汇总表")
        sheet.table_header(columns)
        for number, total in enumerate(totals, 1):
            lines = self.by_payer[total.payer]
            row: list[Any] = [
                _Styled(number, "center"),
                _Styled(total.payer, "text"),
                _Styled(total.lines, "center"),
                _Styled(total.total, "amount"),
            ]
            if self.withholds:
                row += [_Styled(Money.total(x.withheld for x in lines), "amount"), _Styled(Money.total(x.net for x in lines), "amount")]
            row.append(_Styled(to_chinese_capital(total.total), "text"))
            sheet.append(row, _row_height([(total.payer, widths[1])], 22))
        sheet.keep_together_from_here()
        grand = result.total
        row = [_Styled("合计", "total_text"), _Styled(None, "total_text"), _Styled(len(result.lines), "center"), _Styled(grand, "total")]
        if self.withholds:
            row += [
                _Styled(Money.total(x.withheld for x in result.lines), "total"),
                _Styled(Money.total(x.net for x in result.lines), "total"),
            ]
        row.append(_Styled(to_chinese_capital(grand), "total_text"))
        sheet.append(row, 22)
        sheet.merge(1, 2)

        notes = self._notes()
        if notes:
            sheet.append([], 8)
            sheet.line("说明", "bold", 18)
            for text in notes:
                sheet.line(text, "note", _row_height([(text, sum(widths))], 15, 12))
        self._sign_off(sheet)
        sheet.keep_together_until_here()
        sheet.place_page_breaks()

    def _bases_sheet(self) -> None:
        """发放依据: the clause of every tier the lines rest on, quoted; a sheet of its own, so the
        summary's repeated column header never prints above it."""
        bases = self._bases_used()
        if not bases:
            return
        widths = (6, 30, 34, 80)
        layout = self._layout(BASES_SHEET, widths, 3, f"发放依据  {self.info.batch_name}", 2)
        sheet = _Sheet(self.book, layout, self.fast)
        sheet.line(f"附:{self.info.title}发放依据(各档原文)", "title", 28)
        document = f"依据:{self.info.document}" if self.info.document else ""
        sheet.line(document, "subtitle", _row_height([(document, sum(widths))], 18))
        sheet.table_header(BASES_COLUMNS)
        for number, basis in enumerate(bases, 1):
            sheet.append(
                [_Styled(number, "center"), _Styled(basis.title, "text"), _Styled(basis.rule, "text"), _Styled(basis.quote, "text")],
                _row_height([(basis.title, widths[1]), (basis.rule, widths[2]), (basis.quote, widths[3])], 20),
            )
        sheet.place_page_breaks()

    def _notes(self) -> list[str]:
        info, result = self.info, self.result
        notes: list[str] = []
        if not info.final and info.status:
            notes.append(f"本表为{info.status}状态的批次,未经审批,不能据此付款。")
        if info.override:
            notes.append(f"成绩未最终确认即审批:{info.override}")
        if result.excluded:
            notes.append(f"未发放 {len(result.excluded)} 条,逐条原因见“{EXCLUDED_SHEET}”表。")
        if result.honours:
            notes.append(f"非现金奖励 {len(result.honours)} 项,见“{HONOURS_SHEET}”表。")
        missing = sum(len(lines) for lines in self.missing.values())
        if missing:
            notes.append(f"{missing} 笔缺少收款信息(户名、开户行、银行账号;单位另需统一社会信用代码),未列入代发明细,须补全后另行支付。")
        if info.mask_accounts:
            notes.append("银行账号已遮蔽;代发明细仅财务人员下载的工作簿中有。")
        if self.withholds:
            notes.append(WITHHOLDING_NOTE)
        notes.extend(info.notes)
        if info.final:
            notes.append(PROTECTION_NOTE)
        return notes

    def _bases_used(self) -> list[TierBasis]:
        used = dict.fromkeys(line.tier_id for line in self.result.lines)
        return [self.info.bases[tier_id] for tier_id in used if tier_id in self.info.bases]

    def _payer_columns(self) -> tuple[list[str], list[float]]:
        columns = list(PAYER_COLUMNS)
        if self.withholds:
            at = columns.index("金额")
            columns[at : at + 1] = list(WITHHOLDING_COLUMNS)
        return columns, [_COLUMN_WIDTHS[name] for name in columns]

    def _payer_sheet(self, payer: str, lines: list[PayoutLine]) -> None:
        info = self.info
        columns, widths = self._payer_columns()
        position = {name: index for index, name in enumerate(columns)}
        header_text = f"{payer}    {info.batch_name}"
        sheet = _Sheet(self.book, self._layout(_sheet_title(payer, self.taken), widths, self._header_row(1), header_text), self.fast)
        self._title_block(sheet, f"{info.title}奖金发放表", [f"支付单位:{payer}"])
        sheet.table_header(columns)
        styles = tuple(_PAYER_STYLES.get(name, "text") for name in columns)
        note_width, unit_width = widths[position["说明"]], widths[position["选送单位"]]
        event_width, bank_width = widths[position["赛事"]], widths[position["开户行"]]
        name_width, item_width = widths[position["姓名"]], widths[position["赛项"]]
        for number, line in enumerate(lines, 1):
            payee = self._payee(line)
            kind = payee_key(line)[0]
            name = line.recipient_name
            if payee.account_name and payee.account_name != name:
                name = f"{name}\n(户名:{payee.account_name})"
            document = payee.credit_code if kind == "unit" else line.recipient_id
            phone = payee.phone or info.phones.get(line.recipient_id, "")
            explain = self._explain(line)
            bank = payee.bank_name
            account = self._account(payee.account_number)
            if not payee.complete(kind):
                bank = bank or "(缺收款信息)"
            row: list[Any] = [number, name, document, line.recipient_unit, line.competition, line.item, line.result, ROLE_LABELS[line.role]]
            if self.withholds:
                row += [line.amount, line.withheld, line.net]
            else:
                row.append(line.amount)
            row += [bank, account, phone, explain, None]
            height = _row_height(
                [
                    (explain, note_width),
                    (line.recipient_unit, unit_width),
                    (line.competition, event_width),
                    (bank, bank_width),
                    (name, name_width),
                    (line.item, item_width),
                ],
                _WRAP_MIN_ROW,
            )
            sheet.append(row, height, styles)
        sheet.keep_together_from_here()
        self._payer_total(sheet, lines, position)
        self._sign_off(sheet)
        sheet.place_page_breaks()

    def _payer_total(self, sheet: _Sheet, lines: list[PayoutLine], position: dict[str, int]) -> None:
        total = Money.total(line.amount for line in lines)
        first_amount = position["应发金额" if self.withholds else "金额"]
        words = f"共 {len(lines)} 笔  合计人民币(大写):{to_chinese_capital(total)}"
        if self.withholds:
            net = Money.total(line.net for line in lines)
            words += f";实发(大写):{to_chinese_capital(net)}"
        row: list[Any] = [_Styled("合计", "total_text"), _Styled(None, "total_text")]
        row += [_Styled(words if i == 2 else None, "total_text") for i in range(2, first_amount)]
        row.append(_Styled(total, "total"))
        if self.withholds:
            row += [_Styled(Money.total(x.withheld for x in lines), "total"), _Styled(Money.total(x.net for x in lines), "total")]
        row += [_Styled(None, "total_text") for _ in range(len(row), sheet.width)]
        sheet.append(row, _row_height([(words, sum(sheet.layout.widths[2:first_amount]))], 24))
        sheet.merge(1, 2)
        sheet.merge(3, first_amount)

    def _explain(self, line: PayoutLine) -> str:
        rule, _quote = basis_parts(line.basis, self.info.document)
        return "\n".join([rule, *line.notes])

    def _bank_sheet(self, payer: str, lines: list[PayoutLine]) -> None:
        """代发明细: one row per payee (the net of their lines), the control total above."""
        nets: dict[tuple[str, str], list[PayoutLine]] = {}
        for line in lines:
            nets.setdefault(payee_key(line), []).append(line)
        rows: list[tuple[PayeeDetails, Money, str]] = []
        missing: list[tuple[str, Money]] = []
        recover: list[tuple[str, Money]] = []
        for key, group in nets.items():
            amount = Money.total(x.net for x in group)
            payee = self.info.payees.get(key, _NO_PAYEE)
            who = group[0].recipient_name
            if amount.fen < 0:
                recover.append((who, amount))
            elif amount.fen > 0 and not payee.complete(key[0]):
                missing.append((who, amount))
            elif amount.fen > 0:
                purpose = "技能人才培养补助" if key[0] == "unit" else self.info.purpose
                rows.append((payee, amount, purpose))
        widths = (6, 18, 28, 30, 14, 24)
        sheet = _Sheet(self.book, self._layout(_sheet_title(payer, self.taken, "代发-"), widths, 5, f"代发明细  {payer}", 2), self.fast)
        sheet.line("批量代发明细", "title", 28)
        sheet.line(
            f"付款单位:{payer}    批次:{self.info.batch_name}" + (f"({self.info.batch_number})" if self.info.batch_number else ""),
            "subtitle",
            18,
        )
        control = Money.total(amount for _, amount, _ in rows)
        sheet.append(
            [
                _Styled("总笔数", "bold"),
                _Styled(len(rows), "plain"),
                _Styled("总金额(元)", "bold"),
                _Styled(control, "bank_amount"),
                _Styled("大写", "bold"),
                _Styled(to_chinese_capital(control), "plain"),
            ],
            18,
        )
        sheet.line("下列明细可复制到网上银行的批量代发模板;金额为实发金额,保留两位小数。", "note", 16)
        sheet.table_header(BANK_COLUMNS)
        for number, (payee, amount, purpose) in enumerate(rows, 1):
            sheet.append(
                [
                    _Styled(number, "center"),
                    _Styled(payee.account_name, "text"),
                    _Styled(payee.account_number, "id"),
                    _Styled(payee.bank_name, "text"),
                    _Styled(amount, "bank_amount"),
                    _Styled(purpose, "text"),
                ],
                _row_height([(payee.bank_name, widths[3]), (payee.account_name, widths[1])], 18),
            )
        if missing or recover:
            sheet.append([], 10)
        if missing:
            text = "缺少收款信息、未列入代发:" + "、".join(f"{who} {amount.format()} 元" for who, amount in missing)
            sheet.line(text, "note", _row_height([(text, sum(widths))], 16))
        if recover:
            text = "冲销后应收回(不代发):" + "、".join(f"{who} {(-amount).format()} 元" for who, amount in recover)
            sheet.line(text, "note", _row_height([(text, sum(widths))], 16))
        sheet.place_page_breaks()

    def _excluded_sheet(self) -> None:
        widths = (5, 10, 9, 22.5, 13, 14, 9, 8, 6, 11, 44)
        sheet = _Sheet(self.book, self._layout(EXCLUDED_SHEET, widths, 2, f"未发放  {self.info.batch_name}"), self.fast)
        sheet.line(f"{self.info.title}:未发放名单", "title", 28)
        sheet.table_header(EXCLUDED_COLUMNS)
        styles = ("center", "text", "text", "id", "text", "text", "text", "text", "center", "amount", "text")
        for number, ex in enumerate(self.result.excluded, 1):
            status = EXCLUDED_LABELS.get(ex.status, ex.status)
            sheet.append(
                [
                    number,
                    status,
                    ex.recipient_name,
                    None if ex.role == "unit" else ex.recipient_id,
                    ex.recipient_unit,
                    ex.competition,
                    ex.item,
                    ex.result,
                    ROLE_LABELS[ex.role],
                    ex.amount,
                    ex.reason,
                ],
                _row_height(
                    [(ex.reason, widths[10]), (ex.competition, widths[5]), (status, widths[1]), (ex.recipient_unit, widths[4])], 18
                ),
                styles,
            )
        sheet.place_page_breaks()

    def _honours_sheet(self) -> None:
        widths = (5, 9, 22.5, 13, 14, 9, 8, 6, 24, 40)
        sheet = _Sheet(self.book, self._layout(HONOURS_SHEET, widths, 2, f"非现金奖励  {self.info.batch_name}"), self.fast)
        sheet.line(f"{self.info.title}:非现金奖励名单", "title", 28)
        sheet.table_header(HONOUR_COLUMNS)
        styles = ("center", "text", "id", "text", "text", "text", "text", "center", "text", "text")
        for number, honour in enumerate(self.result.honours, 1):
            sheet.append(
                [
                    number,
                    honour.recipient_name,
                    honour.recipient_id,
                    honour.recipient_unit,
                    honour.competition,
                    honour.item,
                    honour.result,
                    ROLE_LABELS.get(honour.role, honour.role),
                    honour.title,
                    honour.source,
                ],
                _row_height([(honour.source, widths[9]), (honour.title, widths[8]), (honour.competition, widths[4])], 18),
                styles,
            )
        sheet.place_page_breaks()


_NO_PAYEE = PayeeDetails()


def _width_groups(widths: Sequence[float], parts: int, minimum: float) -> list[tuple[int, int]] | None:
    """The columns split into ``parts`` consecutive runs (1-based, inclusive), the narrowest as wide
    as it can be; None when it would be narrower than ``minimum`` (column units)."""
    count = len(widths)
    if parts < 1 or parts > count:
        return None
    best: tuple[float, float, list[tuple[int, int]]] | None = None
    for cuts in combinations(range(1, count), parts - 1):
        edges = (0, *cuts, count)
        runs = [(edges[i] + 1, edges[i + 1]) for i in range(parts)]
        sizes = [sum(widths[a - 1 : b]) for a, b in runs]
        key = (min(sizes), -max(sizes))
        if best is None or key > best[:2]:
            best = (key[0], key[1], runs)
    if best is None or best[0] < minimum:
        return None
    return best[2]


def _shorten(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _longest(cells: Sequence[tuple[str, float]]) -> int:
    return max((_lines(text, width) for text, width in cells), default=1)


def write_finance_workbook(
    result: AwardResult, target: str | Path | IO[bytes], *, info: WorkbookInfo | None = None, fast: bool = True
) -> None:
    """Write the finance workbook for ``result`` to a path or a binary stream."""
    book = _Writer(result, info or WorkbookInfo.for_result(result), fast).write()
    book.save(target)
