"""Read an uploaded import workbook into rows, and read cells with Chinese problems per cell.

No database here: the service checks references (units, items, people) against the database.
Every problem names the sheet, the row number as Excel shows it, and the column header.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from contest.domain import idcard
from contest.domain.scheme import parse_decimal
from contest.domain.text import N_, Text, message_of
from contest.rosters.sheets import EXAMPLE_PREFIX, ID_NUMBER, SheetSpec
from contest.xlsx.cells import cell_text
from contest.xlsx.upload import MAX_DATA_ROWS, open_xlsx, sheet_rows

T = TypeVar("T")

HEADER_SEARCH_ROWS = 5
YES_NO = {"是": True, "否": False}


def label_of(name: str) -> str:
    """A sheet's or a column's name put into a message: a catalog label (sheets.py marks them), so
    the page translates it with the message; a ``Text`` is kept as it is."""
    return name if isinstance(name, Text) else Text(name)


@dataclass(frozen=True, order=True)
class Problem:
    sheet_order: int
    row: int  # as Excel shows it; 0 for a problem with the sheet as a whole
    sheet: str
    column: str
    message: str


class Problems:
    def __init__(self, sheet_order: Mapping[str, int]) -> None:
        self._order = dict(sheet_order)
        self._items: list[Problem] = []
        self._seen: set[tuple[str, int, str, str]] = set()

    def add(self, sheet: str, row: int, column: str, message: str) -> None:
        key = (sheet, row, column, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self._items.append(Problem(self._order.get(sheet, 99), row, sheet, column, message))

    def sorted(self) -> list[Problem]:
        return sorted(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)


def normalise_header(value: Any) -> str:
    text = cell_text(value).replace("（", "(").replace("）", ")")
    text = re.sub(r"\s+", "", text).rstrip("*")
    return text


@dataclass
class Row:
    """One data row; typed readers record a problem and mark the row failed."""

    sheet: str
    number: int
    cells: dict[str, Any]
    problems: Problems
    failed: bool = False

    def error(self, column: str, message: str) -> None:
        """Records ``message`` (a ``Text``, or a catalog string, so the page can translate it)."""
        self.failed = True
        self.problems.add(self.sheet, self.number, column, message)

    def has(self, column: str) -> bool:
        return column in self.cells

    def text(self, column: str) -> str:
        return cell_text(self.cells.get(column))

    def required(self, column: str) -> str:
        value = self.text(column)
        if not value:
            self.error(column, Text("「{column}」不能为空", column=label_of(column)))
        return value

    def choice(self, column: str, options: Mapping[str, T], required: bool = False) -> T | None:
        value = self.text(column)
        if not value:
            if required:
                self.error(column, Text("「{column}」不能为空,应为 {options}", column=label_of(column), options="/".join(options)))
            return None
        if value in options:
            return options[value]
        self.error(column, Text("「{value}」无效,{column}应为 {options}", value=value, column=label_of(column), options="/".join(options)))
        return None

    def flag(self, column: str) -> bool | None:
        value = self.text(column)
        if not value:
            return None
        if value in YES_NO:
            return YES_NO[value]
        self.error(column, Text("「{value}」无效,{column}应为 是 或 否", value=value, column=label_of(column)))
        return None

    def integer(self, column: str, minimum: int | None = None, maximum: int | None = None) -> int | None:
        raw = self.cells.get(column)
        value = self.text(column)
        if not value:
            return None
        number: int | None = None
        if isinstance(raw, bool):
            number = None
        elif isinstance(raw, int):
            number = raw
        elif isinstance(raw, float) and raw.is_integer():
            number = int(raw)
        elif re.fullmatch(r"[+-]?\d+", value):
            number = int(value)
        if number is None:
            self.error(column, Text("「{value}」不是整数", value=value))
            return None
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            if maximum is not None:
                self.error(
                    column,
                    Text(
                        "{column} {number} 超出范围,应为 {minimum} 到 {maximum}",
                        column=label_of(column),
                        number=number,
                        minimum=minimum,
                        maximum=maximum,
                    ),
                )
            else:
                self.error(
                    column,
                    Text("{column} {number} 超出范围,应为 不小于 {minimum}", column=label_of(column), number=number, minimum=minimum),
                )
            return None
        return number

    def decimal(self, column: str, percent: bool = False) -> Decimal | None:
        raw = self.cells.get(column)
        value = self.text(column)
        if not value:
            return None
        scale = Decimal(1)
        if percent and isinstance(raw, str) and value.endswith(("%", "%")):
            raw, scale = value[:-1], Decimal(100)
        try:
            return parse_decimal(raw, column) / scale
        except ValueError as exc:
            self.error(column, message_of(exc))
            return None

    def id_number(self, column: str = ID_NUMBER) -> str | None:
        raw = self.cells.get(column)
        if raw is None or not self.text(column):
            self.error(column, N_("证件号码不能为空"))
            return None
        if isinstance(raw, float) or (isinstance(raw, int) and not isinstance(raw, bool) and len(str(raw)) >= 16):
            # Excel keeps 15 significant digits: an 18-digit number typed as a number has lost its tail.
            self.error(column, N_("证件号码被 Excel 存成了数字,末几位可能已丢失:请把该列设为“文本”格式后重新填写"))
            return None
        try:
            return idcard.validate(raw)
        except idcard.IdNumberError as exc:
            self.error(column, message_of(exc))
            return None


@dataclass
class Sheet:
    spec: SheetSpec
    present: bool = False
    rows: list[Row] = field(default_factory=list)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)


def read_sheets(content: bytes, specs: tuple[SheetSpec, ...], problems: Problems) -> dict[str, Sheet]:
    """Every spec'd sheet, with its data rows (blank rows and 示例 rows skipped)."""
    workbook = open_xlsx(content)
    try:
        names = {str(name).strip(): name for name in workbook.sheetnames}
        sheets: dict[str, Sheet] = {}
        for spec in specs:
            sheet = Sheet(spec)
            sheets[spec.name] = sheet
            if spec.name not in names:
                if spec.required:
                    problems.add(spec.name, 0, "", Text("缺少工作表「{sheet}」", sheet=label_of(spec.name)))
                continue
            sheet.present = True
            _read_sheet(workbook[names[spec.name]], sheet, problems)
        return sheets
    finally:
        workbook.close()


def _read_sheet(worksheet: Any, sheet: Sheet, problems: Problems) -> None:
    spec = sheet.spec
    known = {normalise_header(h): h for h in spec.headers}
    rows = sheet_rows(worksheet, spec.name)
    header_row_no = 0
    columns: list[tuple[int, str]] = []
    anything = False
    for number, values in rows:
        columns = [(i, known[normalise_header(v)]) for i, v in enumerate(values) if normalise_header(v) in known]
        if columns:
            header_row_no = number
            break
        anything = anything or any(cell_text(v) for v in values)
        if number >= HEADER_SEARCH_ROWS:
            break
    if not header_row_no:
        if anything:
            problems.add(
                spec.name,
                0,
                "",
                Text(
                    "工作表「{sheet}」没有找到表头行(第一行应为列名,如「{header}」)",
                    sheet=label_of(spec.name),
                    header=label_of(spec.headers[0]),
                ),
            )
        else:
            sheet.present = False  # an empty sheet counts as absent
        return
    seen: dict[str, int] = {}
    for index, header in columns:
        if header in seen:
            problems.add(spec.name, header_row_no, header, Text("列「{header}」出现了两次", header=label_of(header)))
            continue
        seen[header] = index
    missing = [c.header for c in spec.columns if c.required and c.header not in seen]
    for header in missing:
        problems.add(
            spec.name,
            header_row_no,
            header,
            Text("工作表「{sheet}」缺少必需的列「{header}」", sheet=label_of(spec.name), header=label_of(header)),
        )
    if missing:
        return
    count = 0
    limits = {c.header: c.limit for c in spec.columns}
    for number, values in rows:
        cells = {header: (values[i] if i < len(values) else None) for header, i in seen.items()}
        texts = [cell_text(v) for v in values]
        if not any(texts):
            continue
        first = next(t for t in texts if t)
        if first.startswith(EXAMPLE_PREFIX):
            continue
        count += 1
        if count > MAX_DATA_ROWS:
            problems.add(
                spec.name,
                number,
                "",
                Text("工作表「{sheet}」超过 {rows} 行,请分成多个文件导入", sheet=label_of(spec.name), rows=MAX_DATA_ROWS),
            )
            return
        row = Row(spec.name, number, cells, problems)
        for header in cells:
            too_long = limits[header].problem(row.text(header), header)
            if too_long:
                row.error(header, too_long)
        sheet.rows.append(row)
