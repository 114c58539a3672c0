"""Issue 15, the rest of the desks: the appeal and decision forms, the chief console's forms, the
certificate desk and the finance forms keep what was typed after a refusal, with each message
beside its field (and in the summary on top); a saved change says so once; the desk's irreversible
actions ask first, naming the consequence."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from contest.db.models import Appeal, AuditRecord, Certificate, Item
from tests.conftest import post_form
from tests.integration.live_seed import Live, seed_live
from tests.integration.payout_seed import published_competition, republish_with_marks
from tests.integration.payout_seed import run as _run
from tests.integration.seed import make_id


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


def _certificates(url: str) -> list[Any]:
    async def work(db: Any) -> list[Any]:
        return list((await db.execute(select(Certificate).where(Certificate.status == "valid").order_by(Certificate.id))).scalars())

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


def test_the_certificate_desk_keeps_what_was_typed_says_saved_and_asks_first(published, role_users, judge_client, migrated) -> None:
    from tests.unit.test_certificates import picture

    organizer = judge_client(role_users["organizer"])
    desk = f"/competitions/{published.competition_id}/certificates"
    settings = {
        "lookup_factor": "access_code",
        "title": "荣誉证书",
        "award_body": "{姓名}荣获{名次}",
        "honour_body": "{姓名}:{荣誉}",
        "issuer": "威海市人社局",
        "issue_date": "2026-02-30",
    }
    refused = post_form(organizer, f"{desk}/settings", settings)
    assert refused.status_code == 422
    assert _field(refused.text, "settings", "issue_date", "颁发日期「2026-02-30」不是有效日期")
    assert 'name="issuer" value="威海市人社局"' in refused.text and '<option value="access_code" selected>' in refused.text
    template = post_form(organizer, f"{desk}/settings", {**settings, "issue_date": "2026-06-30"})
    assert template.status_code == 422 and 'class="wide invalid"' in template.text
    assert _field(template.text, "settings", "award_body", "获奖证书正文中的「{名次}」不是可用的占位符")
    assert 'aria-describedby="error-settings-honour_body"' not in template.text  # the good body is not marked
    assert 'type="date" name="issue_date" value="2026-06-30"' in template.text
    ok = post_form(organizer, f"{desk}/settings", {**settings, "award_body": "{姓名}荣获{奖项}", "issue_date": ""})
    assert ok.status_code in (302, 303) and ok.headers["location"] == f"{desk}#template"
    page = organizer.get(desk).text
    assert 'id="flash">已保存证书与查询设置</div>' in page and 'name="issuer" value="威海市人社局"' in page

    # 荣誉称号: the title and the ticked awards kept, the message beside the awards
    honour = organizer.post(
        f"{desk}/honours", data={"title": "技术能手", "_csrf_token": organizer.cookies.get("csrftoken")}, follow_redirects=False
    )
    assert honour.status_code == 422 and 'id="error-honour-awards">请选择获得该称号的奖项' in honour.text
    assert 'name="title" value="技术能手"' in honour.text
    data = {"title": "技术能手", "awards": ["first", "second"], "_csrf_token": organizer.cookies.get("csrftoken")}
    assert organizer.post(f"{desk}/honours", data=data, follow_redirects=False).status_code in (302, 303)
    assert 'id="flash">已添加荣誉称号</div>' in organizer.get(desk).text
    again = organizer.post(f"{desk}/honours", data=data, follow_redirects=False)
    assert again.status_code == 422 and 'id="error-honour-title">荣誉称号「技术能手」已存在' in again.text
    assert re.search(r'value="first" checked>.*value="second" checked>', again.text, re.S)
    assert 'value="third" checked' not in again.text
    assert "删除荣誉称号「技术能手」:下一次公示时不再颁发,已颁发的 0 张该称号证书将被撤销。" in again.text
    republish_with_marks(migrated.database_url, published, {})  # the next publication grants it twice
    assert "已颁发的 2 张该称号证书将被撤销。" in organizer.get(desk).text

    # 查询码: the confirmation names how many are made and, once printed, how many die
    page = organizer.get(desk).text
    assert 'data-confirm="将为 5 名选手重新生成查询码。"' in page
    assert re.search(r'id="issue-codes-form"\s+data-confirm="[^"]*"\s+data-confirm-ok="重新生成">', page)  # not red yet
    assert post_form(organizer, f"{desk}/codes").headers["content-type"] == "application/zip"
    page = organizer.get(desk).text
    assert "将为 5 名选手重新生成查询码。已打印的 5 张准考证上的查询码将全部失效,须重新打印发放。" in page
    assert re.search(r'id="issue-codes-form"[^>]*data-confirm-danger="1"', page)
    assert "其准考证上已打印的查询码将失效" in page  # one competitor's code
    judge = make_id(300, "19700101")
    lost = post_form(organizer, f"{desk}/codes/person", {"id_number": judge})
    assert lost.status_code == 404 and _field(lost.text, "reissue-code", "id_number", "该人员不是本赛事的参赛选手")
    assert f'name="id_number" value="{judge}"' in lost.text and 'id="new-code"' not in lost.text

    # 撤销证书: asks first naming whose certificate; a refusal keeps the reason, the row open
    certificate = _certificates(migrated.database_url)[0]
    page = organizer.get(desk).text
    assert f"撤销 {certificate.name} 的证书 " in page and "不能恢复,查验页面将公开显示“已撤销”和撤销原因" in page
    too_long = post_form(organizer, f"{desk}/{certificate.id}/revoke", {"reason": "技" * 201})
    assert too_long.status_code == 422 and f'id="error-revoke-{certificate.id}-reason">撤销原因过长' in too_long.text
    assert '<details class="revoke" open>' in too_long.text and "技" * 201 in too_long.text
    assert post_form(organizer, f"{desk}/{certificate.id}/revoke", {"reason": "资格审查不合格"}).status_code in (302, 303)
    assert 'id="flash">已撤销证书</div>' in organizer.get(desk).text

    # 印章: a refused file beside the field; deleting asks first and says so
    svg = post_form(organizer, f"{desk}/seal", files={"file": ("seal.svg", b"<svg/>", "image/svg+xml")})
    assert svg.status_code == 422 and 'id="error-seal-file">' in svg.text and 'id="delete-seal"' not in svg.text
    assert post_form(organizer, f"{desk}/seal", files={"file": ("印章.jpg", picture("JPEG"), "image/jpeg")}).status_code in (302, 303)
    page = organizer.get(desk).text
    assert 'id="flash">已上传印章</div>' in page and "此后下载或打印的证书(包括已颁发的)都不再带电子印章" in page
    assert post_form(organizer, f"{desk}/seal/delete").status_code in (302, 303)
    assert 'id="flash">已删除印章</div>' in organizer.get(desk).text


def test_finance_field_messages_sit_beside_their_fields_in_the_readers_language(published, role_users, judge_client, migrated) -> None:
    from tests.integration.payout_seed import close_appeal_window
    from tests.integration.test_payouts import batch_state, computed_batch

    close_appeal_window(migrated.database_url, published)
    fin, fin2 = judge_client(role_users["finance"]), judge_client("fin2")
    batch = computed_batch(fin)
    page = f"/finance/batches/{batch}"
    assert post_form(fin, f"{page}/submit").status_code in (302, 303)
    # 退回理由: the message beside the field (it was only marked)
    blank = post_form(fin2, f"{page}/return", {"reason": "  "})
    assert blank.status_code == 422
    assert 'aria-invalid="true" aria-describedby="error-return-reason"' in blank.text
    assert '<span class="error field-error" id="error-return-reason">请填写退回理由</span>' in blank.text
    long = post_form(fin2, f"{page}/return", {"reason": "退" * 501})
    assert long.status_code == 422 and 'id="error-return-reason">理由过长' in long.text and "退" * 501 in long.text
    assert post_form(fin2, f"{page}/approve").status_code in (302, 303)
    # 发放日期: a bad date beside the field, what was typed kept, nothing registered
    bad = post_form(fin, f"{page}/paid", {"paid_on": "2026-13-01"})
    assert bad.status_code == 422
    assert 'name="paid_on" value="2026-13-01" class="invalid" aria-invalid="true" aria-describedby="error-paid-on"' in bad.text
    assert '<span class="error field-error" id="error-paid-on">发放日期「2026-13-01」无效:应为 YYYY-MM-DD</span>' in bad.text
    assert batch_state(migrated.database_url, batch)[0] == "approved"
    # in English the message beside the field is English too
    fin.cookies.set("lang", "en")
    english = post_form(fin, f"{page}/paid", {"paid_on": "2026-13-01"})
    assert english.status_code == 422
    english_message = "Payment date &#34;2026-13-01&#34; is not valid: use YYYY-MM-DD"
    assert f'<span class="error field-error" id="error-paid-on">{english_message}</span>' in english.text
