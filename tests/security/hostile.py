"""Hostile and broken workbooks, built as raw zip archives (fast, and free to break the rules that
openpyxl would enforce when writing)."""

from __future__ import annotations

import io
import zipfile

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'  # noqa: E501 - one literal, clearer whole
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'  # noqa: E501 - one literal, clearer whole
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'  # noqa: E501 - one literal, clearer whole
    "</Relationships>"
)


def _workbook(sheet_name: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def workbook(sheet_xml_rows: str, sheet_name: str = "选手", extra: dict[str, bytes] | None = None) -> bytes:
    """A one-sheet .xlsx whose <sheetData> holds ``sheet_xml_rows`` (no <dimension>: openpyxl
    must then read the whole sheet to learn its size, which is what an attacker relies on)."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + sheet_xml_rows
        + "</sheetData></worksheet>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _workbook(sheet_name))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def inline_row(number: int, *values: str) -> str:
    cells = "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{value}</t></is></c>' for i, value in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def empty_styled_rows(count: int, start: int = 1) -> str:
    """``count`` rows that hold nothing but a style: what "format the whole column" leaves behind."""
    return "".join(f'<row r="{n}" s="1" customFormat="1"><c r="A{n}" s="1"/></row>' for n in range(start, start + count))


def million_empty_rows() -> bytes:
    """The tester's file: ~5 MB on the wire, 67 MB unpacked; openpyxl walks it for minutes."""
    return workbook(empty_styled_rows(1_000_000))


def many_empty_rows(header: tuple[str, ...] = ()) -> bytes:
    """Just under the unpacked caps (~20 MB of sheet XML): it must be opened, and the walk stops
    at the row cap; the slowest file the guard lets through to the parser. With ``header``, a
    roster sheet's header row comes first, so the reader walks on looking for data rows."""
    first = inline_row(1, *header) if header else ""
    return workbook(first + empty_styled_rows(300_000, start=2 if header else 1))


def zip_bomb() -> bytes:
    """A small archive with one member that unpacks to 200 MB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (200 * 1024 * 1024))
    return buffer.getvalue()


def ratio_bomb() -> bytes:
    """Under the unpacked cap, but one member compressed ~1000 times: no real sheet does that."""
    return workbook("", extra={"xl/media/padding.bin": b"\0" * (8 * 1024 * 1024)})


OLD_XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512
NOT_A_ZIP = "姓名,证件号码\n张三,110101199003077777\n".encode()
DAMAGED_ZIP = b"PK\x03\x04" + b"\x00" * 200
