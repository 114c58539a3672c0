"""The one guarded reader for Excel uploads (rosters, judges, finance files, any later one).

A workbook is a zip of XML: a 1 MB upload can unpack to gigabytes, or hold a million empty styled
rows that take minutes to walk. Every upload therefore goes through here:

- ``check_upload`` refuses what must not be opened at all: empty, over ``MAX_FILE_BYTES``, the old
  binary .xls, not a zip, a damaged zip, over ``MAX_UNPACKED_BYTES`` once unpacked, or a member
  compressed more than ``MAX_RATIO`` times (zip bombs);
- ``open_xlsx`` opens it read-only (values, not formulas);
- ``sheet_rows`` walks a sheet with a cap on the rows it will look at, blank ones included, and
  on the columns it keeps, so the work is bounded whatever the file says about itself;
- ``parse_off_loop`` runs the whole parse in a worker thread, one parse at a time per process,
  so the event loop keeps acknowledging judges' marks and serving boards meanwhile.

Every refusal is an ``UploadRejected`` (422; ``UploadTooLarge`` 413) with a Chinese message that
says what to do, and nothing has been written when it is raised.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar
from weakref import WeakKeyDictionary

from openpyxl import load_workbook

from contest.domain.text import N_, Text
from contest.errors import Invalid

if TYPE_CHECKING:
    from anyio import CapacityLimiter

T = TypeVar("T")

MAX_FILE_BYTES = 10 * 1024 * 1024
# A roster sheet of 20,000 rows unpacks to ~8 MB. openpyxl reads a whole sheet's XML on opening
# when the sheet does not state its size, so these caps also bound the time an upload can cost.
MAX_UNPACKED_BYTES = 48 * 1024 * 1024
MAX_SHEET_XML_BYTES = 24 * 1024 * 1024
# Real sheets compress 5-30 times; a zip bomb compresses thousands of times.
MAX_RATIO = 200
# Members below this size are never refused for their ratio (tiny XML compresses oddly).
RATIO_FLOOR_BYTES = 1024 * 1024
MAX_DATA_ROWS = 20_000
# Rows looked at per sheet, blank rows included: a million empty styled rows stop here.
MAX_SCANNED_ROWS = MAX_DATA_ROWS + 5_000
MAX_COLUMNS = 100

TOO_LARGE = Text("文件过大:导入文件不能超过 {megabytes} MB", megabytes=MAX_FILE_BYTES // 1024 // 1024)


class UploadRejected(Invalid):
    """The upload is not a workbook we will read; nothing was imported."""

    code = "bad_upload"


class UploadTooLarge(UploadRejected):
    status_code = 413
    code = "too_large"


def check_upload(content: bytes) -> None:
    """Refuse, without unpacking anything, a file we must not open."""
    if not content:
        raise UploadRejected("上传的文件是空的:请选择要导入的 .xlsx 文件")
    if len(content) > MAX_FILE_BYTES:
        raise UploadTooLarge(TOO_LARGE)
    if content[:4] == b"\xd0\xcf\x11\xe0":
        raise UploadRejected("这是旧版 Excel(.xls)文件:请在 Excel 或 WPS 中“另存为” .xlsx 格式后再上传")
    if content[:2] != b"PK":
        raise UploadRejected("文件不是 .xlsx 格式:请使用下载的模板,在 Excel 或 WPS 中填写并保存为 .xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UploadRejected(DAMAGED) from None
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise UploadRejected("文件解压后过大,无法导入:请删除多余的工作表、空行和格式后重试")
    for member in members:
        if member.filename.startswith("xl/worksheets/") and member.file_size > MAX_SHEET_XML_BYTES:
            raise UploadRejected("工作表内容过多(含大量空行或格式),无法导入:请删除多余的空行和格式后重试,数据多时请分成多个文件导入")
        if member.file_size > RATIO_FLOOR_BYTES and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise UploadRejected("文件内容异常(压缩比过高),无法导入:请删除空行和多余格式,在 Excel 或 WPS 中重新保存后再上传")


DAMAGED = N_("文件已损坏或不是有效的 .xlsx 文件,无法读取:请在 Excel 或 WPS 中重新保存后再上传")


def open_xlsx(content: bytes) -> Any:
    """The checked upload as a read-only openpyxl workbook (cell values, not formulas).
    Call ``close()`` on it when done."""
    check_upload(content)
    try:
        return load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for damaged or foreign files
        raise UploadRejected(DAMAGED) from None


def sheet_rows(worksheet: Any, sheet_name: str | None = None) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number as Excel shows it, values of the first MAX_COLUMNS columns) for each row,
    blank rows included; UploadRejected past MAX_SCANNED_ROWS rows."""
    name = sheet_name or worksheet.title
    # Some generators write a wrong <dimension>; read-only mode would then cut rows or columns.
    worksheet.reset_dimensions()
    for number, values in enumerate(worksheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
        if number > MAX_SCANNED_ROWS:
            raise UploadRejected(
                Text(
                    "工作表「{sheet}」超过 {rows} 行(含空行):请删除多余的空行,数据超过 {data_rows} 行时请分成多个文件导入",
                    sheet=name,
                    rows=MAX_SCANNED_ROWS,
                    data_rows=MAX_DATA_ROWS,
                )
            )
        yield number, values


# One parse at a time per event loop (per process in production): two hostile uploads must not
# take both cores from the judges. A limiter belongs to the loop it was first used on.
_PARSER_SLOTS: WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = WeakKeyDictionary()


def _slots() -> CapacityLimiter:
    from anyio import CapacityLimiter

    loop = asyncio.get_running_loop()
    if loop not in _PARSER_SLOTS:
        _PARSER_SLOTS[loop] = CapacityLimiter(1)
    return _PARSER_SLOTS[loop]


async def parse_off_loop(parse: Callable[..., T], *args: Any) -> T:
    """``parse(*args)`` in a worker thread; the event loop keeps serving meanwhile.

    ``parse`` must not touch the database session or anything else owned by the loop."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(parse, *args, limiter=_slots())
