"""Every Excel upload goes through one guarded reader: hostile files are refused quickly with a
Chinese message, nothing is written, and the server keeps acknowledging judges' marks meanwhile."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select
from websockets.asyncio.client import connect

from contest.app import create_app
from contest.cli import SERVE_OPTIONS
from contest.db.engine import make_engine, make_session_factory
from contest.db.models import Person, Unit
from contest.rosters.parse import Problems, read_sheets
from contest.rosters.sheets import COMPETITORS, ROSTER_SHEETS
from contest.xlsx import upload
from contest.xlsx.upload import UploadRejected, UploadTooLarge, check_upload, open_xlsx, sheet_rows
from tests.conftest import PASSWORD, login, post_form
from tests.integration.live_seed import seed_live
from tests.integration.test_payouts import create_batch
from tests.security import hostile

REFUSALS = [
    ("empty", b"", "上传的文件是空的"),
    ("old .xls", hostile.OLD_XLS, "旧版 Excel(.xls)"),
    ("not a zip", hostile.NOT_A_ZIP, "文件不是 .xlsx 格式"),
    ("damaged zip", hostile.DAMAGED_ZIP, "文件已损坏"),
    ("zip bomb", hostile.zip_bomb(), "解压后过大"),
    ("a million empty rows", hostile.million_empty_rows(), "解压后过大"),
    ("compression ratio", hostile.ratio_bomb(), "压缩比过高"),
    ("oversized sheet", hostile.workbook(hostile.empty_styled_rows(600_000)), "工作表内容过多"),
]


@pytest.mark.parametrize(("what", "content", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_file_that_must_not_be_opened_is_refused_before_parsing(what: str, content: bytes, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(UploadRejected) as refused:
        open_xlsx(content)
    assert message in refused.value.message
    assert refused.value.status_code == 422
    # Refused from the zip directory alone, without unpacking: far below a second even here.
    assert time.monotonic() - started < 5


def test_over_the_size_cap_is_a_413() -> None:
    with pytest.raises(UploadTooLarge) as refused:
        check_upload(b"PK" + b"\0" * upload.MAX_FILE_BYTES)
    assert refused.value.status_code == 413 and "10 MB" in refused.value.message


def test_empty_styled_rows_under_the_size_caps_stop_at_the_row_cap() -> None:
    content = hostile.many_empty_rows()
    check_upload(content)  # small enough and not a bomb by ratio: it is the walk that must stop
    book = open_xlsx(content)
    seen = 0
    with pytest.raises(UploadRejected) as refused:
        for _ in sheet_rows(book.worksheets[0]):
            seen += 1
    book.close()
    assert seen == upload.MAX_SCANNED_ROWS
    assert "超过 25000 行(含空行)" in refused.value.message


def test_the_roster_reader_refuses_the_many_row_file() -> None:
    problems = Problems({})
    with pytest.raises(UploadRejected) as refused:
        read_sheets(hostile.many_empty_rows(COMPETITORS.headers), ROSTER_SHEETS, problems)
    assert "含空行" in refused.value.message


def test_wide_rows_are_cut_to_the_column_cap() -> None:
    row = '<row r="1">' + "".join(f'<c r="A1" t="inlineStr"><is><t>x{i}</t></is></c>' for i in range(500)) + "</row>"
    book = open_xlsx(hostile.workbook(row))
    [(number, values)] = list(sheet_rows(book.worksheets[0]))
    book.close()
    assert number == 1 and len(values) == upload.MAX_COLUMNS


def _count(url: str, model: type) -> int:
    async def run() -> int:
        engine = make_engine(url)
        async with make_session_factory(engine)() as db:
            count = (await db.execute(select(func.count()).select_from(model))).scalar_one()
        await engine.dispose()
        return count

    return asyncio.run(run())


@pytest.mark.parametrize(("what", "content", "message"), [REFUSALS[1], REFUSALS[5]], ids=["xls", "million-rows"])
def test_a_hostile_roster_upload_is_a_clear_page_and_writes_nothing(client, role_users, migrated, what, content, message) -> None:
    seed_live(migrated.database_url)
    login(client, role_users["organizer"])
    before = (_count(migrated.database_url, Person), _count(migrated.database_url, Unit))
    response = post_form(client, "/competitions/1/import/roster", files={"file": ("名单.xlsx", content)})
    assert response.status_code == 422
    assert message in response.text
    assert (_count(migrated.database_url, Person), _count(migrated.database_url, Unit)) == before


def test_a_hostile_finance_upload_names_the_problem_not_a_python_object(judge_client, role_users, migrated) -> None:
    seed_live(migrated.database_url)
    fin = judge_client(role_users["finance"])
    batch_id = create_batch(fin)
    for content, message in ((hostile.OLD_XLS, "旧版 Excel(.xls)"), (hostile.DAMAGED_ZIP, "文件已损坏")):
        response = post_form(fin, f"/finance/batches/{batch_id}/external", files={"file": ("外部成绩.xlsx", content)})
        assert response.status_code == 422
        assert message in response.text
        assert "_io.BytesIO" not in response.text and "object at 0x" not in response.text


def test_an_upload_over_the_body_cap_gets_a_chinese_413(judge_client, role_users, migrated) -> None:
    seed_live(migrated.database_url)
    fin = judge_client(role_users["finance"])
    batch_id = create_batch(fin)
    response = post_form(fin, f"/finance/batches/{batch_id}/external", files={"file": ("big.xlsx", b"PK" + b"\0" * (11 * 1024 * 1024))})
    assert response.status_code == 413
    assert "不能超过 10 MB" in response.text and "Request Entity Too Large" not in response.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_judges_marks_are_acknowledged_while_a_hostile_upload_is_parsed(migrated, role_users) -> None:
    """Under a real server: the many-row workbook takes the parser a second or more to refuse,
    and a judge sending marks one after another gets them acknowledged all along. With the parse
    on the event loop, no acknowledgement could arrive until the upload was answered."""
    live = seed_live(migrated.database_url)
    content = hostile.many_empty_rows(COMPETITORS.headers)

    async def run() -> tuple[int, float, list[float], int]:
        app = create_app(migrated)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **SERVE_OPTIONS))
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=120) as organizer, httpx.AsyncClient(base_url=base) as judge:
                for http, username in ((organizer, role_users["organizer"]), (judge, "ja")):
                    page = await http.get("/login")
                    token = page.text.split('name="_csrf_token" value="')[1].split('"')[0]
                    await http.post("/login", data={"username": username, "password": PASSWORD, "_csrf_token": token})
                cookies = "; ".join(f"{k}={v}" for k, v in judge.cookies.items())
                async with connect(f"ws://127.0.0.1:{port}/ws/judge", additional_headers={"Cookie": cookies}) as socket_:
                    await socket_.send(json.dumps({"type": "hello", "device": "pytest"}))
                    assert json.loads(await socket_.recv())["type"] == "welcome"
                    csrf = organizer.cookies.get("csrftoken")
                    loop = asyncio.get_running_loop()
                    started = loop.time()
                    uploading = asyncio.create_task(
                        organizer.post(
                            f"/competitions/{live.competition_id}/import/roster",
                            data={"_csrf_token": csrf},
                            files={"file": ("名单.xlsx", content)},
                        )
                    )
                    acks: list[float] = []
                    value = 0
                    while not uploading.done():
                        value = (value + 1) % 60
                        await socket_.send(
                            json.dumps(
                                {
                                    "type": "mark",
                                    "client_id": str(uuid.uuid4()),
                                    "item_id": live.item_id,
                                    "station": live.stations["乙1"],
                                    "criterion_id": live.criteria["P1"],
                                    "value": str(value),
                                }
                            )
                        )
                        reply = json.loads(await socket_.recv())
                        assert reply["type"] == "ack", reply
                        acks.append(loop.time() - started)
                    response = await uploading
                    answered = loop.time() - started
                return response.status_code, answered, acks, len(response.text)
        finally:
            server.should_exit = True
            await serving

    status, answered, acks, _ = asyncio.run(run())
    assert status == 422
    during = [t for t in acks if t < answered]
    # The parse of the hostile file takes about a second here; a judge gets dozens of marks
    # acknowledged meanwhile (each one a round trip through the batch writer and the database).
    assert len(during) >= 10, f"only {len(during)} acks during the {answered:.2f} s upload"
