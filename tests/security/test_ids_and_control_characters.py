"""Out-of-range ids, NUL and other control characters, over-long external results: a Chinese 4xx,
never a 500, and nothing written, on SQLite and on PostgreSQL alike (PostgreSQL answers an id
beyond 32 bits, a NUL in text or an over-long VARCHAR with a database error: the 500s the fuzz
lane found there)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from contest.db.models import LoginAttempt, PayoutLineRow, Unit
from contest.domain import limits
from contest.live.protocol import ID_MAX
from contest.payouts import service
from contest.rosters.sheets import COMPETITORS
from contest.settings import REPO_ROOT, Settings
from contest.web.fields import MAX_INT
from tests.conftest import csrf_token, post_form
from tests.integration.payout_seed import close_appeal_window, published_competition, run
from tests.integration.seed import make_id
from tests.integration.test_payouts import PROVINCIAL_WIN, computed_batch, external_workbook

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)]


@pytest.fixture(name="settings", params=BACKENDS)
def backend_settings(request, tmp_path: Path) -> Settings:
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    return Settings(database_url=url, secret_key="test-secret-key-0123456789abcdef", var_dir=tmp_path, seeds_dir=REPO_ROOT / "seeds")


def _count(url: str, model: Any) -> int:
    async def work(db):
        return (await db.execute(select(func.count()).select_from(model))).scalar_one()

    return run(url, work)


def test_one_id_bound_everywhere() -> None:
    assert limits.ID_MAX == MAX_INT == ID_MAX == 2**31 - 1


# ------------------------------------------------------------------ B: ids in the path

PUBLIC_PATHS = ["/board/{}", "/board/{}/snapshot", "/public/competitions/{}"]
OUT_OF_RANGE = [0, -1, 2**31, 99999999999, 10**40]


def test_an_out_of_range_id_on_a_public_page_is_404_without_signing_in(client) -> None:
    for number in OUT_OF_RANGE:
        for path in PUBLIC_PATHS:
            response = client.get(path.format(number))
            assert response.status_code == 404, (path, number, response.text[:300])
            assert "页面不存在" in response.text
        api = client.get(PUBLIC_PATHS[1].format(number), headers={"accept": "application/json"})
        assert api.status_code == 404
        assert api.json()["error"] == {"code": "not_found", "message": "页面不存在", "details": []}


def test_out_of_range_ids_behind_sign_in_are_404_for_reads_and_writes(judge_client, role_users) -> None:
    organizer = judge_client(role_users["organizer"])
    finance = judge_client(role_users["finance"])
    big = 2**31
    for path in (f"/competitions/{big}", f"/items/{big}", f"/chief/items/{big}/matrix", f"/items/{big}/papers/results-sheet.pdf"):
        assert organizer.get(path).status_code == 404, path
    # the largest id that fits is an ordinary missing row, answered the same way
    assert organizer.get(f"/items/{MAX_INT}").status_code == 404
    for path in (f"/items/{big}/delete", f"/competitions/{big}/items", f"/finance/batches/{big}/compute"):
        client = finance if path.startswith("/finance") else organizer
        response = post_form(client, path, {"name": "x"})
        assert response.status_code == 404, (path, response.text[:300])
    # an int query parameter, too
    # any number of digits (the fuzz found 20), and floats Litestar turns into an int (the fuzz found
    # -4094102755216026.0 on PostgreSQL)
    for batch in (big, -(10**20), 10**30, "0" * 30 + "1" + "0" * 10, "-4094102755216026.0", "3e9", "1e999999999", "0.0"):
        assert finance.get(f"/finance/payees/template.xlsx?batch={batch}").status_code == 404, batch
    assert finance.get("/finance/payees/template.xlsx?batch=1").status_code in (200, 404)


# ------------------------------------------------------------------ C: control characters


def test_a_nul_in_the_sign_in_form_is_refused_naming_the_field(client, role_users, migrated) -> None:
    before = _count(migrated.database_url, LoginAttempt)
    token = csrf_token(client)
    response = client.post("/login", data={"username": "org\x00", "password": "x", "_csrf_token": token})
    assert response.status_code == 400
    assert "“用户名”含有不允许的控制字符 U+0000" in response.text
    assert _count(migrated.database_url, LoginAttempt) == before


def test_nul_and_control_characters_in_forms_and_queries_are_refused(judge_client, role_users, migrated) -> None:
    organizer = judge_client(role_users["organizer"])
    url = migrated.database_url
    units = _count(url, Unit)
    nul = post_form(organizer, "/units", {"name": "甲\x00单位"})
    assert nul.status_code == 400 and "“单位名称”含有不允许的控制字符 U+0000" in nul.text
    other = post_form(organizer, "/units", {"name": "甲\x01单位"})
    assert other.status_code == 422 and "单位名称含有不允许的控制字符 U+0001(第 2 个字符)" in other.text, other.text[:500]
    line_break = post_form(organizer, "/units", {"name": "甲\n单位"})
    assert line_break.status_code == 422 and "U+000A" in line_break.text
    assert _count(url, Unit) == units
    search = post_form(organizer, "/people/search", {"q": "张\x00"})
    assert search.status_code == 400 and "U+0000" in search.text
    ledger = organizer.get("/finance/ledger", params={"policy": "x\x00"})
    assert ledger.status_code == 400 and "参数 policy" in ledger.text
    locks = post_form(organizer, "/accounts/locks/clear", {"ip": "10.0.0.1\x00"})
    assert locks.status_code == 400
    assert organizer.get("/verify/AB%00CD").status_code == 404  # a text path parameter
    assert post_form(organizer, "/units", {"name": "甲单位"}).status_code in (302, 303)  # the same form, clean, is taken
    assert _count(url, Unit) == units + 1


def test_multi_line_text_keeps_tab_and_line_breaks_but_no_other_control() -> None:
    assert limits.APPEAL_TEXT.problem("第一行\r\n第二行\t附件") is None
    assert limits.APPEAL_TEXT.problem("第一行\x00") == "申诉内容含有不允许的控制字符 U+0000(第 4 个字符),请删除后重试"
    assert limits.APPEAL_TEXT.problem("a\x1bb") is not None and limits.APPEAL_TEXT.problem("a\x7fb") is not None
    assert limits.PERSON_NAME.problem("张\t三") == "姓名含有不允许的控制字符 U+0009(第 2 个字符),请删除后重试"
    assert limits.PERSON_NAME.problem("张三·Ā") is None


def test_a_line_break_in_a_roster_name_is_named_by_row_and_column(judge_client, role_users, migrated) -> None:
    organizer = judge_client(role_users["organizer"])
    post_form(organizer, "/competitions", {"name": "赛事", "year": "2026", "level": "municipal", "category": "1"})
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = COMPETITORS.name
    sheet.append(list(COMPETITORS.headers))
    sheet.append(["6-18-02-04", "HG900", "", "张\n三", make_id(800), "男", "甲单位", "", "否", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    response = post_form(organizer, "/competitions/1/import/roster", files={"file": ("名单.xlsx", buffer.getvalue())})
    assert response.status_code == 422
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", response.text)
    assert ("选手", "2", "姓名", "姓名含有不允许的控制字符 U+000A(第 2 个字符),请删除后重试") in rows, rows


# ------------------------------------------------------------------ A: external results


LONG_CELLS = [
    ("姓名", "名" * 300, "姓名过长:最多 100 个字符,实际 300 个"),
    ("选送单位", "单" * 500, "选送单位过长:最多 200 个字符,实际 500 个"),
    ("赛项", "项" * 300, "赛项过长:最多 200 个字符,实际 300 个"),
    ("赛事名称", "赛" * 400, "赛事名称过长:最多 200 个字符,实际 400 个"),
    ("成绩编号", "N" * 300, "成绩编号过长:最多 100 个字符,实际 300 个"),
    ("姓名", "选手\n甲1", "姓名含有不允许的控制字符 U+000A"),
]


def test_an_over_long_external_result_cell_is_named_and_nothing_is_written(judge_client, role_users, migrated) -> None:
    close_appeal_window(migrated.database_url, published_competition(migrated.database_url))
    fin = judge_client(role_users["finance"])
    batch_id = computed_batch(fin)
    lines_before = _count(migrated.database_url, PayoutLineRow)

    async def external(db):
        batch = await service.get_batch(db, batch_id)
        return batch.external, batch.external_filename

    for header, value, message in LONG_CELLS:
        bad = dict(PROVINCIAL_WIN, 成绩编号="SD-2")
        bad[header] = value
        workbook = external_workbook([PROVINCIAL_WIN, bad])
        response = post_form(fin, f"/finance/batches/{batch_id}/external", files={"file": ("外部成绩.xlsx", workbook)})
        assert response.status_code == 422, (header, response.text[:500])
        assert "未导入任何成绩" in response.text and "第 3 行" in response.text and f"“{header}”列" in response.text
        assert message in response.text, header
        assert run(migrated.database_url, external) == ({}, "")
        assert _count(migrated.database_url, PayoutLineRow) == lines_before
    # a team whose members' ID numbers would not fit the payout line's 参赛单元 column
    team = [dict(PROVINCIAL_WIN, 成绩编号="SD-T", 姓名=f"队员{n}", 证件号码=make_id(900 + n)) for n in range(25)]
    response = post_form(fin, f"/finance/batches/{batch_id}/external", files={"file": ("外部成绩.xlsx", external_workbook(team))})
    assert response.status_code == 422 and "选手过多:25 名选手的证件号码合计超过 400 个字符" in response.text, response.text[:500]
    assert run(migrated.database_url, external) == ({}, "")
    # at the maximum, every value fits the columns it reaches: imported and computed, no database error
    at_max = dict(PROVINCIAL_WIN, 成绩编号="N" * 100, 姓名="名" * 100, 选送单位="单" * 200, 赛项="项" * 200, 赛事名称="赛" * 200)
    ok = post_form(fin, f"/finance/batches/{batch_id}/external", files={"file": ("外部成绩.xlsx", external_workbook([at_max]))})
    assert ok.status_code in (302, 303), ok.text[:1000]
    assert run(migrated.database_url, external)[1] == "外部成绩.xlsx"


def test_the_live_protocol_refuses_control_characters_in_its_text_fields() -> None:
    from contest.live.protocol import ProtocolError, parse_mark, parse_status

    mark = {"type": "mark", "client_id": "c0ffee00-1234", "item_id": 1, "station": 1, "criterion_id": 1, "value": "5"}
    assert parse_mark({**mark, "reason": "第一行\n第二行"}).reason == "第一行\n第二行"
    with pytest.raises(ProtocolError, match="理由含有不允许的控制字符 U\\+0000"):
        parse_mark({**mark, "reason": "a\x00b"})
    with pytest.raises(ProtocolError, match="分值含有不允许的控制字符"):
        parse_mark({**mark, "value": "5\x00"})
    with pytest.raises(ProtocolError, match="设备名称含有不允许的控制字符 U\\+0001"):
        parse_status({"device": "iPad\x01"})
    with pytest.raises(ProtocolError):
        parse_mark({**mark, "item_id": ID_MAX + 1})
