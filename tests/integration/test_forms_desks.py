"""Issue 15, the rest of the desks: the appeal and decision forms, the chief console's forms, the
certificate desk and the finance forms keep what was typed after a refusal, with each message
beside its field (and in the summary on top); a saved change says so once; the desk's irreversible
actions ask first, naming the consequence."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from contest.db.models import Appeal, AuditRecord, Item
from tests.conftest import post_form
from tests.integration.live_seed import Live, seed_live
from tests.integration.payout_seed import published_competition
from tests.integration.payout_seed import run as _run


@pytest.fixture
def published(migrated):
    """Published a moment ago (in its appeal window)."""
    return published_competition(migrated.database_url)


@pytest.fixture
def live(migrated) -> Live:
    """Scoring (the seeded item is open)."""
    return seed_live(migrated.database_url)


def _actions(url: str, action: str) -> int:
    async def work(db: Any) -> int:
        return len(list((await db.execute(select(AuditRecord.id).where(AuditRecord.action == action))).scalars()))

    return _run(url, work)


def _appeals(url: str) -> list[Any]:
    async def work(db: Any) -> list[Any]:
        return list((await db.execute(select(Appeal).order_by(Appeal.id))).scalars())

    return _run(url, work)


def _field(page: str, form_id: str, name: str, message: str) -> bool:
    """``message`` beside ``name`` in ``form_id``, the field marked and pointing at it."""
    marked = f'aria-invalid="true" aria-describedby="error-{form_id}-{name}"'
    return marked in page and f'<span class="error field-error" id="error-{form_id}-{name}">{message}' in page


def test_a_refused_appeal_keeps_what_was_typed_with_the_message_beside_the_field(published, role_users, judge_client, migrated) -> None:
    organizer = judge_client(role_users["organizer"])
    url = f"/items/{published.item_id}/results/appeals"
    station = str(published.stations["甲1"])
    typed = {"appellant": "甲单位领队", "station": station, "content": ""}
    refused = post_form(organizer, url, typed)
    assert refused.status_code == 422
    page = refused.text
    assert re.search(r'name="appellant" value="甲单位领队"', page)
    assert re.search(rf'<option value="{station}" selected>', page)
    assert _field(page, "new-appeal", "content", "申诉须以书面形式提出:请填写申诉内容")
    assert 'class="wide invalid"' in page  # one class attribute, the field's own class kept
    assert re.search(r'id="form-errors".*申诉信息有误.*请填写申诉内容', page, re.S)
    assert 'aria-describedby="error-new-appeal-appellant"' not in page  # the good field is not marked

    # a 工位号 that is not in the draw: beside the select; the typed text kept
    forged = post_form(organizer, url, {"appellant": "", "station": "77", "content": "对 T1 有异议"})
    assert forged.status_code == 422
    assert _field(forged.text, "new-appeal", "station", "工位号 77 不在本赛项的抽签结果中")
    assert _field(forged.text, "new-appeal", "appellant", "请填写申诉人")
    assert ">对 T1 有异议</textarea>" in forged.text
    # not a number at all
    word = post_form(organizer, url, {"appellant": "乙", "station": "七", "content": "复核"})
    assert word.status_code == 422 and _field(word.text, "new-appeal", "station", "工位号「七」不是整数")
    # over the maximum: beside the field, the text shown again (bounded)
    long = post_form(organizer, url, {"appellant": "乙" * 101, "station": "", "content": "复核"})
    assert long.status_code == 422 and 'id="error-new-appeal-appellant">申诉人过长' in long.text
    assert _appeals(migrated.database_url) == []  # nothing written

    saved = post_form(organizer, url, {"appellant": "甲单位领队", "station": station, "content": "对 T1 有异议"})
    assert saved.status_code in (302, 303)
    shown = organizer.get(f"/items/{published.item_id}/results").text
    assert 'id="flash">已登记申诉</div>' in shown
    assert 'name="appellant" value=""' in shown  # a fresh form after a save

    # the decision form: the refused one keeps its choice, the message beside 仲裁意见
    [appeal] = _appeals(migrated.database_url)
    decide = f"{url}/{appeal.id}"
    blank = post_form(organizer, decide, {"status": "upheld", "decision": "  "})
    assert blank.status_code == 422
    assert _field(blank.text, f"decide-appeal-{appeal.id}", "decision", "请填写仲裁意见")
    assert '<option value="upheld" selected>' in blank.text
    bad_status = post_form(organizer, decide, {"status": "maybe", "decision": "复核无误"})
    assert bad_status.status_code == 422 and 'name="decision" value="复核无误"' in bad_status.text
    assert _field(bad_status.text, f"decide-appeal-{appeal.id}", "status", "仲裁结论应为 申诉成立 或 申诉不成立")
    assert _appeals(migrated.database_url)[0].status == "pending"
    decided = post_form(organizer, decide, {"status": "rejected", "decision": "复核无误"})
    assert decided.status_code in (302, 303)
    assert 'id="flash">已保存仲裁结论</div>' in organizer.get(f"/items/{published.item_id}/results").text
    assert _appeals(migrated.database_url)[0].status == "rejected"


def test_the_chief_consoles_forms_keep_what_was_typed(live, role_users, judge_client, migrated) -> None:
    chief = judge_client("cj")
    console = f"/chief/items/{live.item_id}"
    station = str(live.stations["甲1"])
    # 回避豁免: a seat with no judge; the station and the reason kept
    override = post_form(chief, f"{console}/override", {"seat": "9", "station": station, "reason": "裁判人数不足"})
    assert override.status_code == 404
    assert _field(override.text, "override", "seat", "席位 9 没有裁判")
    assert f'name="station" value="{station}"' in override.text and 'name="reason" value="裁判人数不足"' in override.text
    assert re.search(r'id="form-errors".*席位 9 没有裁判', override.text, re.S)
    no_reason = post_form(chief, f"{console}/override", {"seat": "4", "station": station, "reason": " "})
    assert no_reason.status_code == 422 and _field(no_reason.text, "override", "reason", "回避豁免必须填写书面理由")
    assert 'name="seat" value="4"' in no_reason.text
    not_a_number = post_form(chief, f"{console}/override", {"seat": "四", "station": station, "reason": "裁判人数不足"})
    assert not_a_number.status_code == 422 and _field(not_a_number.text, "override", "seat", "席位号「四」不是整数")
    assert _actions(migrated.database_url, "conflict.override") == 0
    # 实操用时: a bad time beside 用时, a station that does not exist beside 工位号; the other form untouched
    bad_time = post_form(chief, f"{console}/time", {"station": station, "time": "1:75"})
    assert bad_time.status_code == 422 and _field(bad_time.text, "practical-time", "time", "用时「1:75」格式不正确")
    assert 'name="time" value="1:75"' in bad_time.text
    assert 'aria-describedby="error-override-' not in bad_time.text  # the 回避豁免 form is not marked
    unknown = post_form(chief, f"{console}/time", {"station": "99", "time": "1:00:00"})
    assert unknown.status_code == 404 and _field(unknown.text, "practical-time", "station", "工位号 99 不存在")
    assert 'name="time" value="1:00:00"' in unknown.text
    assert _actions(migrated.database_url, "entry.time") == 0
    done = post_form(chief, f"{console}/override", {"seat": "4", "station": station, "reason": "裁判人数不足"})
    assert done.status_code in (302, 303) and 'id="flash">已保存</div>' in chief.get(console).text

    # 并列名次 (organizer, a no-ties item): a word among the stations, the reason kept; the form is shown again
    async def no_ties(db: Any) -> None:
        (await db.get(Item, live.item_id)).no_ties = True
        await db.commit()

    _run(migrated.database_url, no_ties)
    organizer = judge_client(role_users["organizer"])
    tie = post_form(organizer, f"/items/{live.item_id}/tie", {"stations": f"{station} 乙", "reason": "抽签决定"})
    assert tie.status_code == 422 and 'id="error-tie-stations">请按名次先后填写工位号,用空格分隔' in tie.text
    assert f'name="stations" value="{station} 乙"' in tie.text and 'name="reason" value="抽签决定"' in tie.text
    one = post_form(organizer, f"/items/{live.item_id}/tie", {"stations": station, "reason": ""})
    assert one.status_code == 422 and _field(one.text, "tie", "reason", "确定并列名次必须填写理由")
    assert _actions(migrated.database_url, "item.tie_decision") == 0


def test_a_refused_reopen_keeps_its_place(published, role_users, judge_client) -> None:
    chief = judge_client("cj")
    console = f"/chief/items/{published.item_id}"
    refused = post_form(chief, f"{console}/reopen", {"reason": "x" * 501})
    assert refused.status_code == 422
    assert 'id="error-reopen-reason">理由过长:最多 500 个字符,实际 501 个' in refused.text
    assert 'name="reason" value="' + "x" * 501 + '"' in refused.text
    blank = post_form(chief, f"{console}/reopen", {"reason": "  "})
    assert blank.status_code == 422 and _field(blank.text, "reopen", "reason", "重新开放评分必须填写书面理由")
    assert post_form(chief, f"{console}/reopen", {"reason": "申诉成立,复核 T1"}).status_code in (302, 303)
    assert 'id="flash">已保存</div>' in chief.get(console).text
