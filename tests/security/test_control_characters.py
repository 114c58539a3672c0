"""Control characters in stored names (a stray \\x01 pasted from another system, or a fuzzer's form)
never break a workbook: the 查询码 zip and the draw export open, with the characters removed."""

from __future__ import annotations

import io
import sqlite3
import zipfile

import pytest
from litestar.testing import TestClient
from openpyxl import load_workbook

from contest.xlsx.cells import sheet_title
from tests.conftest import login
from tests.integration.live_seed import seed_live

NOISE = "\x01\x0b:[]'"


def test_a_sheet_title_keeps_no_control_character_and_no_character_excel_refuses() -> None:
    title = sheet_title("12-焊工\x01\x1f:[A]/B\\C*?" + "长" * 40)
    assert len(title) == 31
    assert not any(ord(c) < 32 for c in title)
    assert not set(title) & set("[]:*?/\\")
    assert title.startswith("12-焊工：（A）／B＼C＊？")
    assert sheet_title("\x01") == "Sheet"


@pytest.mark.parametrize("table", ["items", "competitions", "units", "people"])
def test_names_with_control_characters_still_export(app, role_users, migrated, table: str) -> None:
    live = seed_live(migrated.database_url)
    with sqlite3.connect(migrated.database_url.split("///", 1)[1]) as db:
        db.execute(f"UPDATE {table} SET name = name || ?", (NOISE,))
    with TestClient(app=app) as client:
        login(client, role_users["organizer"])
        csrf = client.cookies.get("csrftoken") or ""
        response = client.post("/competitions/1/certificates/codes", headers={"x-csrftoken": csrf})
        assert response.status_code == 200, response.text[:300]
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            book = load_workbook(io.BytesIO(archive.read("抽签对照表与查询码.xlsx")))
        texts = [title for title in book.sheetnames] + [
            str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None
        ]
        assert texts and not any(ord(c) < 32 for text in texts for c in text)

        draw = client.get(f"/items/{live.item_id}/draw.xlsx")
        assert draw.status_code == 200
        assert load_workbook(io.BytesIO(draw.content)).worksheets[0].max_row > 1
