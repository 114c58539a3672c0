"""Cell helpers: user text goes into workbooks as text, never as a formula."""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from contest.domain.text import Text

# openpyxl turns any str starting with "=" into a formula; these prefixes are also
# interpreted by Excel/WPS as formulas or DDE when a user re-types the cell.
_FORMULA_PREFIXES = ("=", "+", "-", "@")


def text_cell(sheet: Worksheet, value: Any) -> WriteOnlyCell:
    """A write-only cell that holds ``value`` as a string, even when it looks like a formula."""
    cell = WriteOnlyCell(sheet, value=None)
    cell.value = safe_text(value)
    cell.data_type = "s"  # force string: openpyxl would otherwise mark "=..." as a formula
    return cell


def safe_text(value: Any) -> str:
    """The text to store: control characters that openpyxl refuses (IllegalCharacterError,
    e.g. a stray \\x01 pasted from another system) are removed rather than failing the export."""
    if value is None:
        return ""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def sheet_title(value: Any) -> str:
    """A worksheet title from user text: no control characters (they make the file unreadable),
    none of the characters Excel refuses in a title (replaced by their full-width forms), at most 31."""
    return safe_text(value).translate(_TITLE_CHARS)[:31] or "Sheet"


_TITLE_CHARS = str.maketrans("[]:*?/\\", "（）：＊？／＼")


def set_text(cell: Any, value: Any) -> None:
    """Put ``value`` in an ordinary worksheet cell as text, never as a formula."""
    cell.value = safe_text(value)
    cell.data_type = "s"


def cell_text(value: Any) -> str:
    """Read a cell as trimmed text (numbers typed into text columns come back as text)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def place(sheet: str, row: int, header: str | None = None, index: int = 1) -> str:
    """Where a problem is in an uploaded workbook, as the upload pages list it: a ``Text``. The
    sheet's name and the column's header stay as the file has them (the reader looks for them
    there); the rest is in the reader's language."""
    if header is None:
        return Text("工作表“{sheet}”第 {row} 行", sheet=sheet, row=row)
    return Text("工作表“{sheet}”第 {row} 行“{header}”列({letter})", sheet=sheet, row=row, header=header, letter=get_column_letter(index))
