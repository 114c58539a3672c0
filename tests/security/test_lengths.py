"""One declared maximum per text field (contest.domain.limits): too long is a Chinese error naming
the field, never a 500, and nothing is written; on SQLite (which would store megabytes) and on
PostgreSQL (which would refuse the VARCHAR with a database error) alike."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from contest.accounts.service import create_user
from contest.app import create_app
from contest.db.engine import make_engine, make_session_factory
from contest.db.migrate import upgrade
from contest.db.models import Appeal, Competition, DeclaredConflict, Item, Person, Unit
from contest.domain import limits
from contest.rosters.sheets import COMPETITORS
from contest.settings import REPO_ROOT, Settings
from tests.conftest import PASSWORD, login, post_form
from tests.integration.live_seed import seed_live
from tests.integration.seed import ACTOR, make_id


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def organizer(request, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'lengths.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    seed_live(url)

    async def users() -> None:
        engine = make_engine(url)
        async with make_session_factory(engine)() as db:
            await create_user(db, ACTOR, "org", PASSWORD, "organizer")
            await db.commit()
        await engine.dispose()

    asyncio.run(users())
    settings = Settings(database_url=url, secret_key="test-secret-key-0123456789abcdef", var_dir=tmp_path, seeds_dir=REPO_ROOT / "seeds")
    with TestClient(app=create_app(settings)) as client:
        login(client, "org")
        yield client, url


def _counts(url: str) -> dict[str, int]:
    async def run() -> dict[str, int]:
        engine = make_engine(url)
        async with make_session_factory(engine)() as db:
            counts = {
                m.__tablename__: (await db.execute(select(func.count()).select_from(m))).scalar_one()
                for m in (Unit, Person, Competition, Item, DeclaredConflict, Appeal)
            }
            counts["item_names"] = len(set((await db.execute(select(Item.name))).scalars()))
        await engine.dispose()
        return counts

    return asyncio.run(run())


def long(field: limits.TextField) -> str:
    return "技" * (field.max + 1)


SCHEME = {
    "weight_practical": "100",
    "crit_component": "practical",
    "crit_code": "P1",
    "crit_max": "100",
    "crit_step": "1",
    "crit_kind": "measurement",
    "crit_panel": "1",
    "crit_agg": "single",
}
CASES = [
    ("/units", {"name": long(limits.UNIT_NAME)}, "单位名称过长:最多 200 个字符"),
    ("/units", {"name": "新单位", "contact": long(limits.CONTACT)}, "联系人过长:最多 100 个字符"),
    ("/people", {"id_number": make_id(700), "name": long(limits.PERSON_NAME)}, "姓名过长:最多 100 个字符"),
    ("/people", {"id_number": make_id(701), "name": "张三", "phone": long(limits.PHONE)}, "联系电话过长"),
    ("/competitions", {"name": long(limits.COMPETITION_NAME), "year": "2026", "level": "municipal", "category": "1"}, "赛事名称过长"),
    ("/competitions/1/items", {"name": long(limits.ITEM_NAME), "skill_code": "X-1", "skill_name": "焊工"}, "赛项名称过长"),
    ("/items/2", {"name": "电工", "skill_code": "6-31-01-03", "skill_name": long(limits.SKILL_NAME)}, "职业(工种)名称过长"),
    ("/items/2/scheme", {**SCHEME, "crit_name": long(limits.CRITERION_NAME)}, "评分项名称过长:最多 200 个字符"),
    (
        "/conflicts",
        {"judge_id_number": make_id(300, "19700101"), "other_id_number": make_id(100), "reason": long(limits.CONFLICT_REASON)},
        "回避原因过长",
    ),
    ("/items/1/results/appeals", {"appellant": "张三", "content": long(limits.APPEAL_TEXT)}, "申诉内容过长:最多 2000 个字符"),
    ("/items/1/results/appeals", {"appellant": long(limits.APPELLANT), "content": "复核"}, "申诉人过长"),
    ("/items/2/draw", {"seed": long(limits.DRAW_SEED)}, "抽签种子过长"),
]


@pytest.mark.parametrize(("path", "form", "message"), CASES, ids=[f"{c[0]}:{c[2][:6]}" for c in CASES])
def test_too_long_is_a_clear_error_and_nothing_is_written(organizer, path: str, form: dict, message: str) -> None:
    client, url = organizer
    before = _counts(url)
    response = post_form(client, path, form)
    assert 400 <= response.status_code < 500, response.text[:300]
    assert message in response.text
    assert _counts(url) == before


def test_megabytes_of_text_are_refused_without_being_stored_or_echoed(organizer) -> None:
    client, url = organizer
    before = _counts(url)
    response = post_form(client, "/units", {"name": "单" * 1_000_000})
    assert response.status_code == 422 and "单位名称过长" in response.text
    assert len(response.text) < 100_000
    assert _counts(url) == before


def test_a_too_long_roster_cell_is_named_by_sheet_row_and_column(organizer) -> None:
    client, url = organizer
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = COMPETITORS.name
    sheet.append(list(COMPETITORS.headers))
    sheet.append(["6-18-02-04", "HG900", "", long(limits.PERSON_NAME), make_id(800), "男", "甲单位", "", "否", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    before = _counts(url)
    response = post_form(client, "/competitions/1/import/roster", files={"file": ("名单.xlsx", buffer.getvalue())})
    assert response.status_code == 422
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", response.text)
    assert ("选手", "2", "姓名", "姓名过长:最多 100 个字符,实际 101 个") in rows, rows
    assert _counts(url) == before
