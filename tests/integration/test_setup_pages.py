"""Competition setup through the pages: validation in Chinese, nothing half-written, masking."""

from __future__ import annotations

import asyncio
import re
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from contest.db.engine import make_engine, make_session_factory
from contest.db.models import Component, Entry, Item
from contest.domain.draw import draw_stations
from contest.domain.idcard import mask
from tests.conftest import login, post_form
from tests.integration.seed import CHIEF_ID, COMPETITOR_IDS, JUDGE_ID, seed


def _item(url: str, item_id: int) -> Item:
    async def run() -> Item:
        engine = make_engine(url)
        async with make_session_factory(engine)() as db:
            item = (
                await db.execute(
                    select(Item).where(Item.id == item_id).options(selectinload(Item.components).selectinload(Component.criteria))
                )
            ).scalar_one()
        await engine.dispose()
        return item

    return asyncio.run(run())


def _stations(url: str, item_id: int) -> dict[str, int | None]:
    async def run() -> dict[str, int | None]:
        engine = make_engine(url)
        async with make_session_factory(engine)() as db:
            rows = (await db.execute(select(Entry.entry_no, Entry.station_no).where(Entry.item_id == item_id))).all()
        await engine.dispose()
        return dict(rows)

    return asyncio.run(run())


SCHEME = {
    "weight_theory": "30",
    "weight_practical": "70",
    "crit_component": ["theory", "practical", "practical"],
    "crit_code": ["T1", "P1", "P2"],
    "crit_name": ["理论", "操作", "工艺"],
    "crit_max": ["100", "70", "30"],
    "crit_step": ["0.5", "0.5", "1"],
    "crit_kind": ["measurement", "measurement", "judgement"],
    "crit_panel": ["1", "1", "5"],
    "crit_agg": ["single", "single", "trimmed_mean"],
}


def test_scheme_saved_from_the_form(client, role_users, migrated) -> None:
    ids = seed(migrated.database_url)
    login(client, "org")
    response = post_form(client, f"/items/{ids['item_id']}/scheme", SCHEME)
    assert response.status_code == 302
    item = _item(migrated.database_url, ids["item_id"])
    assert [(c.kind, str(c.weight)) for c in item.components] == [("theory", "30.00"), ("practical", "70.00")]
    practical = item.components[1].criteria
    assert [(k.code, k.kind, k.panel_size, k.aggregation) for k in practical] == [
        ("P1", "measurement", 1, "single"),
        ("P2", "judgement", 5, "trimmed_mean"),
    ]


def test_bad_scheme_is_refused_with_every_problem_and_the_old_scheme_kept(client, role_users, migrated) -> None:
    ids = seed(migrated.database_url)
    before = _item(migrated.database_url, ids["item_id"])
    login(client, "org")
    bad = {**SCHEME, "weight_practical": "60", "crit_max": ["100", "70", "abc"], "crit_panel": ["1", "1", "3"]}
    response = post_form(client, f"/items/{ids['item_id']}/scheme", bad)
    assert response.status_code == 422
    assert "「abc」不是有效数字" in response.text
    bad = {**SCHEME, "weight_practical": "60", "crit_panel": ["1", "1", "3"]}
    response = post_form(client, f"/items/{ids['item_id']}/scheme", bad)
    assert response.status_code == 422
    assert "权重之和为 90,应为 100" in response.text
    assert "去掉最高最低分需要至少 5 名裁判" in response.text
    after = _item(migrated.database_url, ids["item_id"])
    assert [(c.kind, c.weight) for c in after.components] == [(c.kind, c.weight) for c in before.components]


def test_competition_form_errors_are_specific(client, role_users, migrated) -> None:
    login(client, "org")
    response = post_form(client, "/competitions", {"name": "", "year": "20x6", "level": "galactic", "category": "3"})
    assert response.status_code == 422
    for message in ("年度「20x6」不是整数",):
        assert message in response.text
    response = post_form(client, "/competitions", {"name": "", "year": "2026", "level": "galactic", "category": "3"})
    assert "赛事名称不能为空" in response.text and "级别「galactic」无效" in response.text and "类别应为" in response.text
    response = post_form(
        client, "/competitions", {"name": "x", "year": "2026", "level": "municipal", "category": "1", "appeal_hours": "-1"}
    )
    assert response.status_code == 422 and "申诉时限应在 0 到 720 小时之间" in response.text


def test_duplicate_skill_code_in_one_competition_is_refused(client, role_users, migrated) -> None:
    ids = seed(migrated.database_url)
    login(client, "org")
    response = post_form(
        client, f"/competitions/{ids['competition_id']}/items", {"name": "焊工二", "skill_code": "6-18-02-04", "skill_name": "焊工"}
    )
    assert response.status_code == 409
    assert "已有职业(工种)代码为「6-18-02-04」的赛项" in response.text


def test_person_with_wrong_check_digit_is_refused(client, role_users, migrated) -> None:
    login(client, "org")
    good = COMPETITOR_IDS[0]
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = post_form(client, "/people", {"name": "张三", "id_number": wrong})
    assert response.status_code == 422
    assert "校验位错误" in response.text
    # In English the ID refusal beside the field is English too (the number shown masked).
    client.cookies.set("lang", "en")
    response = post_form(client, "/people", {"name": "张三", "id_number": wrong})
    assert response.status_code == 422
    assert "has a wrong check digit" in response.text
    assert "校验位错误" not in response.text
    assert wrong not in response.text.replace(f'value="{wrong}"', "")


def test_excellence_fraction_refusal_in_english(client, role_users, migrated) -> None:
    ids = seed(migrated.database_url)
    login(client, "org")
    client.cookies.set("lang", "en")
    form = {"name": "焊工二", "skill_code": "6-18-02-09", "skill_name": "焊工", "excellence_fraction": "0.12345"}
    response = post_form(client, f"/competitions/{ids['competition_id']}/items", form)
    assert response.status_code == 422
    assert "at most three decimals" in response.text
    assert "最多三位小数" not in response.text


def test_draw_through_the_page_matches_the_domain_and_exports(client, role_users, migrated) -> None:
    ids = seed(migrated.database_url)
    login(client, "org")
    response = post_form(client, f"/items/{ids['item_id']}/draw", {"seed": "2026-draw-A"})
    assert response.status_code == 302
    stations = _stations(migrated.database_url, ids["item_id"])
    assert stations == draw_stations(list(stations), "2026-draw-A")
    export = client.get(f"/items/{ids['item_id']}/draw.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(BytesIO(export.content)).active
    rows = [row for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert {(r[0], r[1]) for r in rows} == {(station, entry_no) for entry_no, station in stations.items()}
    assert "2026-draw-A" in sheet.cell(2, 1).value
    # the same seed again gives the same stations
    post_form(client, f"/items/{ids['item_id']}/draw", {"seed": "2026-draw-A"})
    assert _stations(migrated.database_url, ids["item_id"]) == stations


def test_conflicts_from_unit_and_declaration_show_on_the_item_page(client, role_users, migrated) -> None:
    ids = seed(migrated.database_url)
    login(client, "org")
    page = client.get(f"/items/{ids['item_id']}").text
    page = page[page.index('id="judges"') :]
    judge_row = next(row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if "裁判甲" in row)
    # 裁判甲 belongs to 甲单位 (entries HG001, HG003) and declared a relation with 选手1 (HG002).
    assert re.findall(r"tag warn[^>]*>(HG\d+)", judge_row) == ["HG001", "HG002", "HG003"]
    chief_row = next(row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if "裁判长乙" in row)
    assert re.findall(r"tag warn[^>]*>(HG\d+)", chief_row) == ["HG004"]  # coach of HG004


def test_id_numbers_full_for_organizers_masked_for_judges_absent_for_public(app, role_users, migrated) -> None:
    from litestar.testing import TestClient

    ids = seed(migrated.database_url, judge_username="judge1", chief_username="chief")
    with TestClient(app=app) as organizer:
        login(organizer, "org")
        page = organizer.get(f"/items/{ids['item_id']}").text
        assert COMPETITOR_IDS[0] in page and JUDGE_ID in page
    with TestClient(app=app) as chief:
        login(chief, "chief")
        page = chief.get("/chief").text
        assert mask(JUDGE_ID) in page and JUDGE_ID not in page and CHIEF_ID not in page
        assert not re.search(r"选手\d", page)  # blind: the chief's desk shows stations, not competitor names
    with TestClient(app=app) as judge:
        login(judge, "judge1")
        page = judge.get("/judge").text
        assert "焊工" in page
        assert not any(number in page for number in [*COMPETITOR_IDS, JUDGE_ID])
        assert not re.search(r"选手\d", page)
    with TestClient(app=app) as public:
        for path in ("/", f"/public/competitions/{ids['competition_id']}"):
            page = public.get(path).text
            assert not any(number[:6] + number[6:14] in page for number in [*COMPETITOR_IDS, JUDGE_ID, CHIEF_ID])


def test_the_board_interval_is_a_competition_setting_within_its_range(client, role_users, migrated) -> None:
    """大屏翻页间隔: declared 3-600 s, 10 by default; refused beside its field (what was typed kept),
    saved, printed into the board page for board.js, and offered beside the 大屏 link."""
    login(client, "org")
    base = {"name": "翻页测试赛", "year": "2026", "level": "municipal", "category": "1"}
    for typed, message in (("2", "大屏翻页间隔应在 3 到 600 秒之间"), ("601", "大屏翻页间隔应在 3 到 600 秒之间"), ("十", "不是整数")):
        refused = post_form(client, "/competitions", {**base, "board_interval": typed})
        assert refused.status_code == 422 and message in refused.text, typed
        field = re.search(r'<input name="board_interval"[^>]*>', refused.text)
        assert field and f'value="{typed}"' in field.group(0) and "aria-invalid" in field.group(0), typed
    created = post_form(client, "/competitions", base)  # not given: the default
    assert created.status_code in (302, 303)
    competition_id = int(re.search(r"/competitions/(\d+)", created.headers["location"]).group(1))  # type: ignore[union-attr]
    assert 'data-interval="10"' in client.get(f"/board/{competition_id}").text
    saved = post_form(client, f"/competitions/{competition_id}", {**base, "board_interval": "20"})
    assert saved.status_code in (302, 303)
    assert 'data-interval="20"' in client.get(f"/board/{competition_id}").text
    page = client.get(f"/competitions/{competition_id}").text
    choices = re.search(r'<span class="board-choices".*?</span>', page, re.S).group(0)  # type: ignore[union-attr]
    assert f'href="/board/{competition_id}?interval=5"' in choices and "默认 20 秒" in choices
    assert re.search(rf'href="/board/{competition_id}\?interval=20" target="_blank" aria-current="true"', choices)
    assert re.search(r'<input name="board_interval"[^>]*value="20"', page)
