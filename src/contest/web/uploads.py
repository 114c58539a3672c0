"""Receive one uploaded file from a multipart form, within the upload size cap.

What the file contains is checked by the guarded reader, ``contest.xlsx.upload``.
"""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import UploadFile

from contest.domain.limits import FILENAME
from contest.xlsx.upload import MAX_FILE_BYTES, TOO_LARGE, UploadRejected, UploadTooLarge

# The multipart envelope and the other form fields come on top of the file itself.
MAX_BODY_BYTES = MAX_FILE_BYTES + 256 * 1024


async def receive_file(request: Request, missing: str = "请选择要导入的 .xlsx 文件", field: str = "file") -> tuple[str, bytes]:
    """(file name, content) of the form's file field; UploadRejected with ``missing`` if there is none."""
    form = await request.form()
    upload = form.get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UploadRejected(missing)
    try:
        content = await upload.read(MAX_FILE_BYTES + 1)
    finally:
        await upload.close()
    if len(content) > MAX_FILE_BYTES:
        raise UploadTooLarge(TOO_LARGE)
    # The name is only shown and audited: keep its end (the extension) within the declared maximum.
    return upload.filename[-FILENAME.max :], content
