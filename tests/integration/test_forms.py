"""Issue 15 on the server: refused forms keep what was typed with each message beside its field,
a save says so once (a signed flash cookie), confirmations name their consequence with the real
numbers, buttons show why an action is refused (the same rule the server applies), and drafts that
nothing depends on can be deleted (audited), the rest refused with the reason."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from contest.audit.service import Actor
from contest.db.models import AuditRecord, Competition, Item, JudgeAssignment, LoginLink, User
from contest.domain import allowed
from contest.domain.lifecycle import LOCKED, PUBLISHED, SCORING, SETUP
from contest.domain.payouts import COMPUTED, DRAFT
from contest.events import service
from contest.events.service import CompetitionForm, ItemForm
from contest.web import flash
from tests.conftest import login, post_form
from tests.integration.payout_seed import close_appeal_window, published_competition
from tests.integration.payout_seed import run as _run
from tests.integration.seed import JUDGE_ID, seed

ACTOR = Actor.system("tests")


@pytest.fixture
def published(migrated):
    """Published a moment ago (in its appeal window); fin2 exists."""
    return published_competition(migrated.database_url)


def _count(url: str, model: Any, *where: Any) -> int:
    async def work(db: Any) -> int:
        return int((await db.execute(select(func.count()).select_from(model).where(*where))).scalar_one())

    return _run(url, work)


def _audit(url: str, action: str) -> list[dict]:
    async def work(db: Any) -> list[dict]:
        return [r.detail for r in (await db.execute(select(AuditRecord).where(AuditRecord.action == action))).scalars()]

    return _run(url, work)


NEW = {
    "name": "2026年表单测试大赛",
    "year": "2026",
    "level": "provincial",
    "category": "2",
    "policy_id": "",
    "organizer": "测试主办单位",
    "start_date": "2026-06-10",
    "end_date": "2026-06-01",
    "appeal_hours": "5",
    "appeal_contact": "仲裁组:一号楼 201 室",
    "show_provisional": "1",
}


def test_a_refused_new_competition_keeps_what_was_typed_and_names_the_field(client, role_users, migrated) -> None:
    login(client, role_users["organizer"])
    refused = post_form(client, "/competitions/", NEW)
    assert refused.status_code == 422
    page = refused.text
    # every value as typed, the selects and the checkbox too
    for name in ("name", "organizer", "start_date", "end_date", "appeal_hours", "appeal_contact"):
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(NEW[name])}"', page), name
    assert '<option value="provincial" selected>' in page and '<option value="2" selected>' in page
    assert re.search(r'name="show_provisional" value="1" checked', page)
    # the message beside the end date, the field marked and pointing at it, and in the summary on top
    marked = 'class="invalid" aria-invalid="true" aria-describedby="error-new-competition-end_date"'
    assert f'name="end_date" type="date" value="2026-06-01" {marked}' in page
    assert '<span class="error field-error" id="error-new-competition-end_date">结束日期不能早于开始日期</span>' in page
    assert re.search(r'id="form-errors".*赛事信息有误.*结束日期不能早于开始日期', page, re.S)
    assert 'name="start_date" type="date" value="2026-06-10">' in page  # the good field is not marked
    assert _count(migrated.database_url, Competition) == 0  # nothing written

    # a year that is not a number and an empty name: both fields, at once
    both = post_form(client, "/competitions/", {**NEW, "name": "", "year": "二〇二六", "end_date": "2026-06-20"})
    assert both.status_code == 422
    assert 'id="error-new-competition-name">赛事名称不能为空' in both.text
    assert 'id="error-new-competition-year">年度「二〇二六」不是整数' in both.text
    assert 'value="二〇二六"' in both.text

    # who takes appeals is bounded like every text field: the message beside it, nothing written
    long_contact = post_form(client, "/competitions/", {**NEW, "end_date": "2026-06-20", "appeal_contact": "电" * 201})
    assert long_contact.status_code == 422
    assert 'id="error-new-competition-appeal_contact">申诉受理过长:最多 200 个字符,实际 201 个' in long_contact.text
    assert _count(migrated.database_url, Competition) == 0


def test_a_save_says_so_once_and_a_forged_message_is_not_shown(client, role_users, migrated) -> None:
    login(client, role_users["organizer"])
    created = post_form(client, "/competitions/", {**NEW, "end_date": "2026-06-20"})
    assert created.status_code in (302, 303) and created.headers["location"] == "/competitions/1"
    assert flash.COOKIE in created.headers.get("set-cookie", "") and "HttpOnly" in created.headers["set-cookie"]
    shown = client.get("/competitions/1")
    assert '<div class="flash ok saved" role="status" id="flash">已创建赛事</div>' in shown.text
    assert "Max-Age=0" in shown.headers.get("set-cookie", "")  # shown once: the page deletes it
    assert 'id="flash"' not in client.get("/competitions/1").text

    # English readers get it in English
    client.cookies.set("lang", "en")
    post_form(client, "/competitions/1", {**NEW, "end_date": "2026-06-20"})
    assert 'id="flash">Saved</div>' in client.get("/competitions/1").text
    client.cookies.set("lang", "zh")

    # a cookie someone else wrote (unsigned, or signed with another key) shows nothing
    forged = flash.encode(b"not-the-secret", "已保存")
    client.cookies.set(flash.COOKIE, forged)
    assert 'id="flash"' not in client.get("/competitions/1").text
    client.cookies.set(flash.COOKIE, forged.split(".")[0] + ".0")
    assert 'id="flash"' not in client.get("/competitions/1").text


def test_item_units_people_and_the_scheme_rows_keep_what_was_typed(client, role_users, migrated) -> None:
    ids = seed(migrated.database_url)
    login(client, role_users["organizer"])
    competition = ids["competition_id"]
    # 新建赛项: a team of 5 and a bad fraction, beside their fields; the rest kept
    item = {"name": "钳工", "skill_code": "6-20-01-01", "skill_name": "钳工", "is_team": "1", "team_size": "5", "excellence_fraction": "x"}
    refused = post_form(client, f"/competitions/{competition}/items", item)
    assert refused.status_code == 422
    assert 'id="error-new-item-team_size">团队赛项的团队人数应为 2 到 3 人' in refused.text
    assert 'id="error-new-item-excellence_fraction">' in refused.text
    assert re.search(r'name="skill_code"[^>]*value="6-20-01-01"', refused.text)
    assert '<option value="1" selected>' in refused.text
    # the competition's own edit form keeps its stored values (another form on the same page)
    assert re.search(r'name="name"[^>]*value="2026年测试市职业技能大赛"', refused.text)
    # an item code already used in the competition: the message is beside 职业(工种)代码... as a conflict on top
    taken = {**item, "team_size": "2", "excellence_fraction": "0.5", "skill_code": "6-18-02-04"}
    clash = post_form(client, f"/competitions/{competition}/items", taken)
    assert clash.status_code == 409 and "已有职业(工种)代码为「6-18-02-04」的赛项" in clash.text
    assert re.search(r'name="skill_code"[^>]*value="6-18-02-04"', clash.text)

    # item edit: the <details> opens on a refusal
    edit = post_form(client, f"/items/{ids['item_id']}/", {"name": "", "skill_code": "6-18-02-04", "skill_name": "焊工"})
    assert edit.status_code == 422 and '<details open id="edit-item">' in edit.text
    assert 'id="error-edit-item-name">赛项名称不能为空' in edit.text

    # a criterion row with a bad maximum is marked in its row
    scheme = {
        "weight_theory": "20",
        "weight_practical": "80",
        "crit_component": ["theory", "practical"],
        "crit_code": ["T1", "P1"],
        "crit_name": ["理论", "实操"],
        "crit_max": ["100", "abc"],
        "crit_step": ["0.5", "0.5"],
        "crit_kind": ["measurement", "measurement"],
        "crit_panel": ["1", "1"],
        "crit_agg": ["single", "single"],
    }
    bad_row = post_form(client, f"/items/{ids['item_id']}/scheme", scheme)
    assert bad_row.status_code == 422
    marked_row = r'<tr class="invalid-row" aria-invalid="true">.*?value="abc".*?</tr>\s*<tr class="row-error-line">.*?第 2 行评分项满分'
    assert re.search(marked_row, bad_row.text, re.S)
    assert 'value="T1"' in bad_row.text  # the good row too

    unit = post_form(client, "/units/", {"name": "甲单位", "code": "X1", "region": "威海", "contact": "王"})
    assert unit.status_code == 409 and 'id="error-new-unit-name">单位「甲单位」已存在' in unit.text
    assert re.search(r'name="region"[^>]*value="威海"', unit.text)
    saved_unit = post_form(client, "/units/", {"name": "丙单位", "code": "", "region": "", "contact": ""})
    assert saved_unit.status_code in (302, 303) and "已保存" in client.get("/units").text

    typed = {"id_number": "123", "name": "新人", "unit_id": str(ids["unit_id"]), "gender": "女", "phone": "138"}
    person = post_form(client, "/people/", typed)
    assert person.status_code == 422 and 'id="error-new-person-id_number">' in person.text
    assert re.search(r'name="name"[^>]*value="新人"', person.text)
    assert f'<option value="{ids["unit_id"]}" selected>' in person.text and '<option value="女" selected>女</option>' in person.text

    conflict = post_form(client, "/conflicts/", {"judge_id_number": JUDGE_ID, "other_id_number": "1", "reason": "同乡"})
    assert conflict.status_code == 422 and 'id="error-new-conflict-other_id_number">' in conflict.text
    assert re.search(r'name="reason"[^>]*value="同乡"', conflict.text)


def test_confirmations_name_the_consequence_with_the_real_numbers(client, role_users, migrated) -> None:
    ids = seed(migrated.database_url, judge_username=role_users["judge"], chief_username=role_users["chief_judge"])
    login(client, role_users["organizer"])
    page = client.get(f"/competitions/{ids['competition_id']}").text
    assert 'data-confirm="将为 2 名裁判重新生成登录二维码。"' in page  # none printed yet
    issued = post_form(client, f"/competitions/{ids['competition_id']}/judge-links")
    assert issued.status_code == 200 and "已为 2 名裁判生成新的登录二维码" in issued.text
    assert _count(migrated.database_url, LoginLink) == 2
    page = client.get(f"/competitions/{ids['competition_id']}").text
    assert "已打印的 2 张二维码将失效,须重新打印发放。" in page and 'data-confirm-danger="1"' in page

    item = client.get(f"/items/{ids['item_id']}").text
    assert "将为 4 个参赛单元随机分配工位号" in item
    drawn = post_form(client, f"/items/{ids['item_id']}/draw", {"seed": "abc"})
    assert drawn.status_code in (302, 303) and drawn.headers["location"] == f"/items/{ids['item_id']}#entries"
    after = client.get(f"/items/{ids['item_id']}").text
    assert 'id="flash">已完成抽签</div>' in after and "重新抽签将改变全部 4 个参赛单元的工位号" in after


def test_buttons_say_why_an_action_is_refused_and_the_server_refuses_the_same(client, role_users, migrated) -> None:
    ids = seed(migrated.database_url)
    login(client, role_users["organizer"])
    item = client.get(f"/items/{ids['item_id']}").text
    # an item with entries cannot be deleted: the button is disabled with the reason beside it
    reason = "该赛项已有 4 个参赛单元,不能删除:参赛名单来自导入"
    assert f'id="delete-item-button" disabled title="{reason}"' in item
    assert f'<span class="why-not" id="delete-item-button-why">{reason}</span>' in item
    refused = post_form(client, f"/items/{ids['item_id']}/delete")
    assert refused.status_code == 409 and reason in refused.text
    competition = client.get(f"/competitions/{ids['competition_id']}").text
    assert 'id="delete-competition-button" disabled title="该赛事还有 1 个赛项,请先删除赛项"' in competition
    assert post_form(client, f"/competitions/{ids['competition_id']}/delete").status_code == 409

    # a started item: scheme, draw and removing judges are disabled, and refused alike
    async def start(db: Any) -> None:
        found = await db.get(Item, ids["item_id"])
        found.status = SCORING
        await db.commit()

    _run(migrated.database_url, start)
    item = client.get(f"/items/{ids['item_id']}").text
    assert 'id="save-scheme" disabled title="评分已开始,评分方案不能再修改"' in item
    assert 'id="draw-button" disabled title="评分已开始,不能重新抽签"' in item
    assert f'id="remove-judge-{ids["assignment_id"]}" disabled title="评分已开始,不能移除裁判"' in item
    assert post_form(client, f"/items/{ids['item_id']}/draw", {"seed": ""}).status_code == 409
    assert post_form(client, f"/items/{ids['item_id']}/judges/{ids['assignment_id']}/delete").status_code == 409
    assert _count(migrated.database_url, JudgeAssignment) == 2


def test_the_rules_themselves() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert str(allowed.finalize(PUBLISHED, now, now - timedelta(hours=1), 2, 0)).startswith("申诉期至")
    assert allowed.finalize(PUBLISHED, now, now - timedelta(hours=3), 2, 1) == "还有申诉未作出仲裁结论,不能确认最终成绩"
    assert allowed.finalize(PUBLISHED, now, now - timedelta(hours=3), 2, 0) is None
    assert allowed.finalize(LOCKED, now, None, 2, 0) == "只有已公示的赛项可以确认最终成绩"
    assert allowed.delete_item(SETUP, 0, 0, 0) is None
    assert allowed.delete_item(SETUP, 0, 3, 0) == "该赛项已有 3 个分数,不能删除"
    assert allowed.delete_item(SCORING, 0, 0, 0) == "只有筹备中的赛项可以删除"
    assert allowed.delete_competition(0) is None and "2 个赛项" in str(allowed.delete_competition(2))
    assert allowed.delete_batch(DRAFT) is None and allowed.delete_batch(COMPUTED)
    assert allowed.draw(SETUP, 0) == "该赛项还没有参赛单元,无法抽签" and allowed.draw(SETUP, 3) is None


def test_deleting_drafts_is_audited_and_takes_what_hangs_on_them(client, role_users, migrated) -> None:
    url = migrated.database_url

    async def make(db: Any) -> dict[str, int]:
        competition = await service.save_competition(db, ACTOR, CompetitionForm("草稿赛事", 2026, "municipal", 1))
        item = await service.save_item(db, ACTOR, competition.id, ItemForm("草稿赛项", "X-1", "草稿"))
        from tests.integration.seed import simple_scheme

        await service.save_scheme(db, ACTOR, item.id, simple_scheme())
        return {"competition": competition.id, "item": item.id}

    made = _run(url, make)
    login(client, role_users["organizer"])
    page = client.get(f"/items/{made['item']}").text
    assert "删除赛项「草稿赛项」,不能恢复" in page and "其 3 个评分项和 0 名裁判分配一并删除" in page
    deleted = post_form(client, f"/items/{made['item']}/delete")
    assert deleted.status_code in (302, 303) and deleted.headers["location"] == f"/competitions/{made['competition']}"
    assert "已删除赛项「草稿赛项」" in client.get(deleted.headers["location"]).text
    assert _count(url, Item) == 0
    assert _audit(url, "item.delete")[0]["name"] == "草稿赛项" and _audit(url, "item.delete")[0]["criteria"] == 3
    assert post_form(client, f"/items/{made['item']}/delete").status_code == 404  # gone: no 500 on a second click

    gone = post_form(client, f"/competitions/{made['competition']}/delete")
    assert gone.status_code in (302, 303) and gone.headers["location"] == "/competitions"
    assert "已删除赛事「草稿赛事」" in client.get("/competitions").text
    assert _count(url, Competition) == 0 and _audit(url, "competition.delete")[0]["name"] == "草稿赛事"


def test_only_the_links_of_this_competitions_judges_are_counted(migrated, role_users) -> None:
    ids = seed(migrated.database_url, judge_username=role_users["judge"])

    async def counts(db: Any) -> tuple[int, int]:
        found = await service.link_counts(db, ids["competition_id"])
        return found.accounts, found.live

    assert _run(migrated.database_url, counts) == (1, 0)

    async def issue(db: Any) -> None:
        from contest.live.links import issue_links

        await issue_links(db, ACTOR, ids["competition_id"])

    _run(migrated.database_url, issue)
    assert _run(migrated.database_url, counts) == (1, 1)

    async def deactivate(db: Any) -> None:
        user = (await db.execute(select(User).where(User.username == role_users["judge"]))).scalar_one()
        user.is_active = False
        await db.commit()

    _run(migrated.database_url, deactivate)
    assert _run(migrated.database_url, counts) == (0, 0)


def test_favicon_is_served(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    assert response.content.startswith(b"<svg") and 'rel="icon" href="/favicon.ico"' in client.get("/login").text


def test_a_draft_batch_can_be_deleted_a_computed_one_cannot_and_the_creator_is_not_offered_approval(
    published, role_users, judge_client, migrated
) -> None:
    from contest.db.models import PayoutBatch
    from tests.integration.test_payouts import computed_batch, create_batch

    close_appeal_window(migrated.database_url, published)
    fin, fin2 = judge_client(role_users["finance"]), judge_client("fin2")

    draft = create_batch(fin, "草稿批次")
    page = fin.get(f"/finance/batches/{draft}").text
    assert "删除草稿批次「草稿批次」,不能恢复" in page and 'id="delete-batch-button">' in page
    organizer = judge_client(role_users["organizer"])
    assert post_form(organizer, f"/finance/batches/{draft}/delete").status_code == 403  # finance only
    deleted = post_form(fin, f"/finance/batches/{draft}/delete")
    assert deleted.status_code in (302, 303) and deleted.headers["location"] == "/finance"
    assert "已删除发放批次「草稿批次」" in fin.get("/finance").text
    assert _count(migrated.database_url, PayoutBatch, PayoutBatch.id == draft) == 0
    assert _audit(migrated.database_url, "payout.batch_delete")[0]["name"] == "草稿批次"
    assert post_form(fin, f"/finance/batches/{draft}/delete").status_code == 404

    computed = computed_batch(fin)
    assert 'id="delete-batch-form"' not in fin.get(f"/finance/batches/{computed}").text  # only drafts offer it
    refused = post_form(fin, f"/finance/batches/{computed}/delete")
    assert refused.status_code == 409 and "只有草稿(尚未计算)的发放批次可以删除" in refused.text
    assert _count(migrated.database_url, PayoutBatch, PayoutBatch.id == computed) == 1

    assert post_form(fin, f"/finance/batches/{computed}/submit").status_code in (302, 303)
    mine = fin.get(f"/finance/batches/{computed}").text
    reason = "审批人不能是本批次的创建人:须由另一名财务人员审批"
    assert f'id="approve-button" disabled title="{reason}"' in mine
    assert f'<span class="why-not" id="approve-button-why">{reason}</span>' in mine
    assert "审批通过后发放行冻结" in mine
    assert post_form(fin, f"/finance/batches/{computed}/approve").status_code == 409  # the server says the same
    theirs = fin2.get(f"/finance/batches/{computed}").text
    assert '<button class="primary" id="approve-button">审批通过</button>' in theirs


def test_finalize_is_offered_once_the_window_has_closed(published, role_users, judge_client, migrated) -> None:
    in_appeal = published
    organizer = judge_client(role_users["organizer"])
    item_id = in_appeal.item_id
    page = organizer.get(f"/items/{item_id}/results").text
    assert re.search(r'id="finalize-button" disabled title="申诉期至 [0-9-]+ [0-9:]+ 结束,之后才能确认最终成绩"', page)
    assert post_form(organizer, f"/items/{item_id}/results/finalize").status_code == 409
    close_appeal_window(migrated.database_url, in_appeal)
    page = organizer.get(f"/items/{item_id}/results").text
    assert '<button class="primary" id="finalize-button">确认最终成绩</button>' in page
    assert "确认后成绩成为最终成绩,不再受理申诉" in page
