"""Payout batches end to end over HTTP: our published results -> a batch -> review -> approval by a
second account -> paid -> the ledger; recompute differences; corrections by reversal; refusals.

The results come from the real services (payout_seed): marks through the judges' mark service,
lock, reveal, publish; a revision is a reopen with a reason, new marks and a second publication.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from contest.awards.finance_workbook import text_pixels
from contest.awards.results_io import write_template
from contest.db.models import AuditRecord, PayoutBatch, PayoutLedgerEntry, PayoutLineRow
from contest.payouts import service
from contest.payouts.sources import OVERRIDE_NOTE, PROVISIONAL_PREFIX, SETTLED_NOTE
from tests.conftest import post_form
from tests.integration.payout_seed import (
    ORGANIZER,
    Live,
    close_appeal_window,
    published_competition,
    republish_with_marks,
    run,
    workbook_sheets,
)
from tests.integration.seed import make_id

ID = {label: make_id(100 + i) for i, label in enumerate(["甲1", "甲2", "乙1", "乙2"])}
# v1 ranking of the seeded marks: 甲2 1st, 乙2 2nd, 甲1 3rd, 乙1 no award (see payout_seed)
V1 = {"甲2": 200000, "乙2": 150000, "甲1": 100000}


@pytest.fixture
def live(migrated) -> Live:
    """Published, and its appeal window has passed with no appeal (approval waits for that)."""
    live = published_competition(migrated.database_url)
    close_appeal_window(migrated.database_url, live)
    return live


@pytest.fixture
def in_appeal(migrated) -> Live:
    """Published a moment ago: still in its 2-hour appeal window."""
    return published_competition(migrated.database_url)


@pytest.fixture
def fin(judge_client, role_users):
    return judge_client(role_users["finance"])


@pytest.fixture
def fin2(judge_client):
    """The second finance account (the approver); payout_seed creates it: ask for ``live`` or
    ``in_appeal`` before this fixture."""
    return judge_client("fin2")


def create_batch(client, name: str = "2026年第一批") -> int:
    response = post_form(
        client,
        "/finance/batches",
        {"name": name, "policy_id": "jinengxingwei-weihai-2021", "period_from": "2026-01-01", "period_to": "2026-12-31"},
    )
    assert response.status_code in (302, 303), response.text[:2000]
    return int(response.headers["location"].rsplit("/", 1)[1])


def ok(response) -> None:
    assert response.status_code in (302, 303), response.text[:3000]


def batch_state(url: str, batch_id: int) -> tuple[str, dict[str, int], dict[str, Any]]:
    """(status, recipient id -> amount in fen (payments and reversals summed), settings)."""

    async def work(db):
        batch = await service.get_batch(db, batch_id)
        amounts: dict[str, int] = {}
        for line in batch.lines:
            amounts[line.recipient_id] = amounts.get(line.recipient_id, 0) + line.amount_fen
        return batch.status, amounts, dict(batch.settings or {})

    return run(url, work)


def lines_of(url: str, batch_id: int) -> list[PayoutLineRow]:
    async def work(db):
        return list((await service.get_batch(db, batch_id)).lines)

    return run(url, work)


def computed_batch(client) -> int:
    batch_id = create_batch(client)
    ok(post_form(client, f"/finance/batches/{batch_id}/compute"))
    return batch_id


def approve_and_pay(fin, fin2, batch_id: int, paid_on: str) -> None:
    ok(post_form(fin, f"/finance/batches/{batch_id}/submit"))
    ok(post_form(fin2, f"/finance/batches/{batch_id}/approve"))
    ok(post_form(fin, f"/finance/batches/{batch_id}/paid", {"paid_on": paid_on}))


def test_published_results_flow_into_a_batch_with_basis_and_notes(in_appeal, fin, migrated) -> None:
    live = in_appeal
    batch_id = computed_batch(fin)
    status, amounts, _ = batch_state(migrated.database_url, batch_id)
    assert status == "computed"
    assert amounts == {ID[k]: v for k, v in V1.items()}
    lines = lines_of(migrated.database_url, batch_id)
    assert {line.payer for line in lines} == {ORGANIZER}  # 市级一类: the competition's organizer pays
    assert all("威人社字〔2021〕16号" in line.basis for line in lines)
    for line in lines:  # published, in its appeal window: says so, and until when
        (note,) = [n for n in line.notes if n.startswith(PROVISIONAL_PREFIX)]
        assert "申诉期内(至 " in note and "申诉处理后可能变动" in note
    assert all(line.source == f"item:{live.item_id}" for line in lines)
    page = fin.get(f"/finance/batches/{batch_id}").text
    assert "选手甲2" in page and ID["甲2"] in page  # finance sees the full 证件号码
    assert "肆仟伍佰元整" in page  # the payer's total 4,500.00 in 大写
    assert "未发放" not in page or "选手乙1" not in page  # no award: not an achievement at all


def test_creator_cannot_approve_and_approved_lines_are_frozen(live, fin, fin2, migrated) -> None:
    batch_id = computed_batch(fin)
    assert post_form(fin, f"/finance/batches/{batch_id}/approve").status_code == 409  # not submitted yet
    ok(post_form(fin, f"/finance/batches/{batch_id}/submit"))
    refused = post_form(fin, f"/finance/batches/{batch_id}/approve")
    assert refused.status_code == 409 and "审批人不能是本批次的创建人" in refused.text
    assert batch_state(migrated.database_url, batch_id)[0] == "submitted"

    ok(post_form(fin2, f"/finance/batches/{batch_id}/approve"))
    before = [(line.id, line.amount_fen) for line in lines_of(migrated.database_url, batch_id)]
    assert batch_state(migrated.database_url, batch_id)[0] == "approved"
    frozen = post_form(fin2, f"/finance/batches/{batch_id}/compute")
    assert frozen.status_code == 409 and "已冻结" in frozen.text
    assert post_form(fin, f"/finance/batches/{batch_id}/settings", {"amount:municipal-class1-1st": "3000"}).status_code == 409
    assert post_form(fin, f"/finance/batches/{batch_id}/external", files={"file": ("x.xlsx", b"x")}).status_code == 409
    assert [(line.id, line.amount_fen) for line in lines_of(migrated.database_url, batch_id)] == before
    assert batch_state(migrated.database_url, batch_id)[2] == {}

    async def audit(db):
        rows = (await db.execute(select(AuditRecord).where(AuditRecord.entity == "payout_batch"))).scalars().all()
        return [r.action for r in rows], [r.detail for r in rows]

    actions, details = run(migrated.database_url, audit)
    assert actions == ["payout.batch_create", "payout.batch_compute", "payout.batch_submit", "payout.batch_approve"]
    assert not any(number in str(details) for number in ID.values())  # never 证件号码 in the audit log


def test_bad_amounts_are_refused_and_nothing_is_written(live, fin, migrated) -> None:
    batch_id = computed_batch(fin)
    before = [(line.id, line.amount_fen) for line in lines_of(migrated.database_url, batch_id)]
    below = post_form(
        fin, f"/finance/batches/{batch_id}/settings", {"amount:municipal-class1-1st": "2500", "amount:municipal-class1-3rd": "999.99"}
    )
    assert below.status_code == 422
    assert "低于下限(不低于 1,000.00 元)" in below.text
    garbage = post_form(fin, f"/finance/batches/{batch_id}/settings", {"amount:municipal-class1-1st": "两千"})
    assert garbage.status_code == 422 and "未保存" in garbage.text
    fraction = post_form(fin, f"/finance/batches/{batch_id}/settings", {"amount:municipal-class1-1st": "2000.001"})
    assert fraction.status_code == 422
    status, _, settings = batch_state(migrated.database_url, batch_id)
    assert settings == {} and status == "computed"
    assert [(line.id, line.amount_fen) for line in lines_of(migrated.database_url, batch_id)] == before

    ok(post_form(fin, f"/finance/batches/{batch_id}/settings", {"amount:municipal-class1-1st": "2500"}))
    assert batch_state(migrated.database_url, batch_id)[1][ID["甲2"]] == 250000  # above the floor: allowed


def test_recompute_after_republish_shows_the_difference_before_approval(live, fin, fin2, migrated) -> None:
    batch_id = computed_batch(fin)
    ok(post_form(fin, f"/finance/batches/{batch_id}/submit"))
    # an appeal succeeds: 甲2's theory mark was wrong; the item is republished as v2
    republish_with_marks(migrated.database_url, live, {"甲2": 0})
    ok(post_form(fin, f"/finance/batches/{batch_id}/compute"))
    status, amounts, _ = batch_state(migrated.database_url, batch_id)
    assert status == "computed"  # back from submitted: the changed batch must be submitted again
    assert amounts == {ID["乙2"]: 200000, ID["甲1"]: 150000, ID["甲2"]: 100000}

    async def diff(db):
        return (await service.get_batch(db, batch_id)).diff

    changed = {(d["recipient_name"], d["old"], d["new"]) for d in run(migrated.database_url, diff)["changed"]}
    assert changed == {("选手甲2", "2000.00", "1000.00"), ("选手乙2", "1500.00", "2000.00"), ("选手甲1", "1000.00", "1500.00")}
    page = fin.get(f"/finance/batches/{batch_id}").text
    assert "与上次计算的差异" in page and "金额变化" in page
    assert post_form(fin2, f"/finance/batches/{batch_id}/approve").status_code == 409  # not before resubmission
    ok(post_form(fin, f"/finance/batches/{batch_id}/submit"))
    waiting = post_form(fin2, f"/finance/batches/{batch_id}/approve")  # v2 is in its appeal window again
    assert waiting.status_code == 409 and "成绩尚未最终确认" in waiting.text
    close_appeal_window(migrated.database_url, live)
    ok(post_form(fin2, f"/finance/batches/{batch_id}/approve"))

    # a recompute with nothing changed says so and leaves a submitted batch submitted
    other = computed_batch(fin)
    ok(post_form(fin, f"/finance/batches/{other}/submit"))
    ok(post_form(fin, f"/finance/batches/{other}/compute"))
    assert batch_state(migrated.database_url, other)[0] == "submitted"
    assert "重新计算的结果与上次相同" in fin.get(f"/finance/batches/{other}").text


def external_workbook(rows: list[dict[str, str]]) -> bytes:
    """The award engine's results template, filled in."""
    stream = io.BytesIO()
    write_template(stream)
    book = load_workbook(io.BytesIO(stream.getvalue()))
    sheet = book["成绩"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for offset, row in enumerate(rows):
        for header, value in row.items():
            sheet.cell(row=2 + offset, column=headers[header]).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


PROVINCIAL_WIN = {
    "成绩编号": "SD-2026-001",
    "赛事名称": "2026年山东省职业技能大赛",
    "赛事级别": "省级",
    "赛事类别": "一类",
    "年份": "2026",
    "赛项": "焊工",
    "技能代码": "6-18-02-04",
    "成绩": "第1名",
    "角色": "选手",
    "姓名": "选手甲1",
    "证件号码": ID["甲1"],
    "选送单位": "甲单位",
}


@pytest.mark.parametrize("mode", ["top_up", "skip"])
def test_ledger_across_two_batches(live, fin, fin2, migrated, mode: str) -> None:
    first = computed_batch(fin)
    approve_and_pay(fin, fin2, first, "2026-12-01")

    async def ledger(db):
        return [(e.recipient_id, e.amount_fen, e.batch_id) for e in (await db.execute(select(PayoutLedgerEntry))).scalars()]

    assert sorted(run(migrated.database_url, ledger)) == sorted((ID[k], v, first) for k, v in V1.items())

    # a year's second batch: the same municipal results again, and 甲1's provincial 1st place
    # in the same skill (5,000, paid by the city), imported from the results template
    second = create_batch(fin, "2026年第二批")
    ok(post_form(fin, f"/finance/batches/{second}/external", files={"file": ("外部成绩.xlsx", external_workbook([PROVINCIAL_WIN]))}))
    ok(post_form(fin, f"/finance/batches/{second}/settings", {"ledger_mode": mode}))
    _status, amounts, _ = batch_state(migrated.database_url, second)
    lines = lines_of(migrated.database_url, second)
    if mode == "top_up":  # the difference up to the higher award, saying what was paid before and when
        assert amounts == {ID["甲1"]: 400000}
        assert any("此前已发 1,000.00 元" in note and "2026-12-01" in note for note in lines[0].notes)
    else:  # skip: nothing where an equal or higher award was paid; a higher one is paid in full
        assert amounts == {ID["甲1"]: 500000}
    assert lines[0].payer == "威海市人力资源和社会保障局、威海市财政局" and lines[0].source == "external"

    async def excluded(db):
        return {(e.recipient_name, e.status) for e in (await service.get_batch(db, second)).excluded}

    found = run(migrated.database_url, excluded)
    assert {("选手甲2", "already_paid"), ("选手乙2", "already_paid"), ("选手甲1", "superseded")} <= found
    approve_and_pay(fin, fin2, second, "2027-01-15")
    total: dict[str, int] = {}
    for recipient, amount, _batch in run(migrated.database_url, ledger):
        total[recipient] = total.get(recipient, 0) + amount
    assert total[ID["甲1"]] == (500000 if mode == "top_up" else 600000)


def test_a_bad_external_row_imports_nothing(live, fin, migrated) -> None:
    batch_id = computed_batch(fin)
    bad = dict(PROVINCIAL_WIN, 证件号码="371002199001011234", 成绩编号="SD-2")
    response = post_form(
        fin, f"/finance/batches/{batch_id}/external", files={"file": ("外部成绩.xlsx", external_workbook([PROVINCIAL_WIN, bad]))}
    )
    assert response.status_code == 422
    assert "未导入任何成绩" in response.text and "第 3 行" in response.text and "证件号码" in response.text

    async def external(db):
        batch = await service.get_batch(db, batch_id)
        return batch.external, batch.external_filename, len(batch.lines)

    assert run(migrated.database_url, external) == ({}, "", 3)


def test_a_paid_line_is_corrected_by_reversal_and_a_new_line(live, fin, fin2, migrated) -> None:
    first = computed_batch(fin)
    approve_and_pay(fin, fin2, first, "2026-12-01")
    paid_before = [(line.id, line.amount_fen, line.recipient_id) for line in lines_of(migrated.database_url, first)]

    republish_with_marks(migrated.database_url, live, {"甲2": 0})  # 乙2 1st, 甲1 2nd, 甲2 3rd
    close_appeal_window(migrated.database_url, live)
    assert post_form(fin, f"/finance/batches/{first}/compute").status_code == 409  # a paid batch never changes
    response = post_form(fin, f"/finance/batches/{first}/correction")
    ok(response)
    correction = int(response.headers["location"].rsplit("/", 1)[1])
    assert [(line.id, line.amount_fen, line.recipient_id) for line in lines_of(migrated.database_url, first)] == paid_before

    lines = lines_of(migrated.database_url, correction)
    reversals = [line for line in lines if line.kind == "reversal"]
    payments = [line for line in lines if line.kind == "payment"]
    paid_ids = {line_id: (amount, who) for line_id, amount, who in paid_before}
    assert len(reversals) == 3 and len(payments) == 3
    for line in reversals:  # each cancels exactly the paid line it references
        assert line.reverses_line_id is not None and paid_ids[line.reverses_line_id] == (-line.amount_fen, line.recipient_id)
        assert f"#{first}" in line.notes[0]
    assert {(line.recipient_id, line.amount_fen) for line in payments} == {(ID["乙2"], 200000), (ID["甲1"], 150000), (ID["甲2"], 100000)}
    page = fin.get(f"/finance/batches/{correction}").text
    assert "冲销" in page and "-2,000.00" in page

    assert post_form(fin, f"/finance/batches/{first}/correction").status_code == 409  # one open correction at a time
    approve_and_pay(fin, fin2, correction, "2026-12-20")

    async def net(db):
        rows = await db.execute(
            select(PayoutLedgerEntry.recipient_id, func.sum(PayoutLedgerEntry.amount_fen)).group_by(PayoutLedgerEntry.recipient_id)
        )
        return dict(rows.all())

    assert run(migrated.database_url, net) == {ID["乙2"]: 200000, ID["甲1"]: 150000, ID["甲2"]: 100000}
    # the ledger now holds what is right: a later batch for the same results pays nothing more
    later = computed_batch(fin)
    assert batch_state(migrated.database_url, later)[1] == {}
    # and a correction of an already corrected batch finds nothing to correct
    response = post_form(fin, f"/finance/batches/{first}/correction")
    ok(response)
    assert lines_of(migrated.database_url, int(response.headers["location"].rsplit("/", 1)[1])) == []


def test_workbook_and_honours_download(live, fin, judge_client, role_users, migrated) -> None:
    batch_id = computed_batch(fin)
    organizer = judge_client(role_users["organizer"])
    response = organizer.get(f"/finance/batches/{batch_id}/workbook.xlsx")  # organizers may view and download
    assert response.status_code == 200
    sheets = workbook_sheets(response.content)
    assert set(sheets) == {"汇总", "发放依据", ORGANIZER}  # nothing excluded, no honours: no empty sheets; no 代发 for organizers
    summary = sheets["汇总"]
    assert any(row[1] == ORGANIZER and row[3] == 4500 and row[4] == "肆仟伍佰元整" for row in summary)
    payer = sheets[ORGANIZER]
    header = next(i for i, row in enumerate(payer) if row[0] == "序号")
    assert payer[header][:4] == ("序号", "姓名", "证件号码", "选送单位")
    lines = [row for row in payer[header + 1 :] if isinstance(row[0], int)]
    assert {(row[1], row[2], row[8]) for row in lines} == {
        ("选手甲2", ID["甲2"], 2000),
        ("选手乙2", ID["乙2"], 1500),
        ("选手甲1", ID["甲1"], 1000),
    }
    assert "已计算" in str(summary) and "不能据此付款" in str(summary)  # an unapproved batch says so on the workbook


def test_access_judges_and_the_public_are_refused(live, judge_client, role_users) -> None:
    fin = judge_client(role_users["finance"])
    batch_id = computed_batch(fin)
    judge = judge_client(role_users["judge"])
    anonymous = judge_client("fin2")
    ok(post_form(anonymous, "/logout"))
    for path in ("/finance", f"/finance/batches/{batch_id}", f"/finance/batches/{batch_id}/workbook.xlsx", "/finance/ledger"):
        assert judge.get(path, follow_redirects=False).status_code == 403
        assert anonymous.get(path, follow_redirects=False).status_code in (302, 303, 401)
    assert post_form(judge, f"/finance/batches/{batch_id}/approve").status_code == 403
    organizer = judge_client(role_users["organizer"])
    assert post_form(organizer, f"/finance/batches/{batch_id}/submit").status_code == 403  # organizers only view
    assert organizer.get(f"/finance/batches/{batch_id}").status_code == 200


def test_honours_are_listed_beside_the_payouts(migrated) -> None:
    """龙技赛场 lists non-cash honours; the batch stores them and the workbook has a sheet for them."""
    from contest.awards.policies import load_policy
    from contest.domain.awards import compute_awards
    from contest.domain.awards.model import Achievement, Competition, Member, Person, Result

    policy = load_policy("longjisaichang-heilongjiang-2022")
    person = Person(id_number=make_id(501), name="选手黑", unit="哈尔滨单位", employment_region="黑龙江省哈尔滨市")
    result = compute_awards(
        policy,
        [
            Achievement(
                "H1",
                Competition("2026年黑龙江省职业技能大赛", "provincial", 2026, 1),
                "焊工",
                "6-18-02-04",
                Result(place=1),
                (Member(person),),
            )
        ],
    )
    assert "按规定晋升相应职业技能等级" in {h.title for h in result.honours}

    async def work(db):
        from contest.payouts.service import _Computation, _store
        from contest.payouts.sources import Collected

        batch = PayoutBatch(
            name="h",
            policy_id=policy.id,
            period_from=date(2026, 1, 1),
            period_to=date(2026, 12, 31),
            settings={},
            external={},
            sources=[],
            diff={},
        )
        db.add(batch)
        await db.flush()
        batch = await service.get_batch(db, batch.id)
        await _store(db, batch, _Computation(result, Collected(), 0))
        await db.commit()
        batch = await service.get_batch(db, batch.id)
        return len(batch.honours), await service.workbook_bytes(db, batch)

    count, content = run(migrated.database_url, work)
    assert count == 3
    honours = workbook_sheets(content)["非现金奖励"]
    body = [row for row in honours if isinstance(row[0], int)]
    assert {row[1:3] for row in body} == {("选手黑", make_id(501))}
    assert "按规定晋升相应职业技能等级" in {row[8] for row in body}


# ---------------------------------------------------------------- issue 12: finality, payees, labels, forms, concurrency


def set_display_name(url: str, username: str, name: str) -> None:
    from sqlalchemy import update

    from contest.db.models import User

    async def work(db):
        await db.execute(update(User).where(User.username == username).values(display_name=name))
        await db.commit()

    run(url, work)


def _listed_errors(page: str) -> list[str]:
    """The problems a refused page lists (its <ul class="errors">), as text."""
    import html
    import re

    found = re.search(r'<ul class="errors">(.*?)</ul>', page, re.S)
    assert found is not None, page[:2000]
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


def test_a_bad_external_workbook_is_explained_in_english_and_in_chinese(live, fin, migrated) -> None:
    """Each problem names its sheet, row and column; in English only the file's own words (the
    sheet's name, the Chinese column headers to look for) and what was typed stay as they are."""
    from contest.awards.results_io import COLUMNS
    from tests.unit.test_i18n_python_messages import CJK

    batch_id = computed_batch(fin)
    bad_id = dict(PROVINCIAL_WIN, 证件号码="371002199001011234", 成绩编号="SD-2")
    bad_level = dict(PROVINCIAL_WIN, 成绩编号="SD-3", 赛事级别="galactic", 年份="26")
    workbook = external_workbook([PROVINCIAL_WIN, bad_id, bad_level])
    fin.cookies.set("lang", "en")
    english = post_form(fin, f"/finance/batches/{batch_id}/external", files={"file": ("外部成绩.xlsx", workbook)})
    assert english.status_code == 422
    heading, *problems = _listed_errors(english.text)
    assert heading == "The external results file has 3 errors; no result was imported"
    assert len(problems) == 3, problems
    assert problems[0].startswith(
        "Sheet “成绩”, row 3, column “证件号码” (N): ID number 3710**********1234 has a wrong check digit (it should be "
    )
    assert (
        problems[1] == "Sheet “成绩”, row 4, column “赛事级别” (C): Level 'galactic' is not valid: use world/national/provincial/municipal"
    )
    assert problems[2] == "Sheet “成绩”, row 4, column “年份” (F): Year '26' is not valid: it should be four digits, such as 2023"
    for problem in problems:
        rest = problem.replace("“成绩”", "")
        for column in COLUMNS:
            rest = rest.replace(f"“{column.header}”", "")
        assert not CJK.search(rest), problem

    fin.cookies.set("lang", "zh")
    chinese = post_form(fin, f"/finance/batches/{batch_id}/external", files={"file": ("外部成绩.xlsx", workbook)})
    assert chinese.status_code == 422 and "外部成绩文件有 3 处错误,未导入任何成绩" in chinese.text
    assert _listed_errors(chinese.text)[2:] == [
        "工作表“成绩”第 4 行“赛事级别”列(C): 级别 'galactic' 无效;可填 世界/国家/省级/市级(或 world/national/provincial/municipal)",
        "工作表“成绩”第 4 行“年份”列(F): 年份 '26' 无效;应为四位数字,如 2023",
    ]
    assert _listed_errors(chinese.text)[1].startswith("工作表“成绩”第 3 行“证件号码”列(N): 证件号码 3710**********1234 校验位错误(应为 ")


def test_bad_amounts_are_refused_in_english(live, fin, migrated) -> None:
    from tests.unit.test_i18n_python_messages import CJK

    batch_id = computed_batch(fin)
    fin.cookies.set("lang", "en")
    refused = post_form(
        fin,
        f"/finance/batches/{batch_id}/settings",
        {"amount:municipal-class1-1st": "two thousand", "amount:municipal-class1-3rd": "999.99"},
    )
    assert refused.status_code == 422
    heading, *problems = _listed_errors(refused.text)
    assert heading == "The batch settings have errors; nothing was saved"
    assert any(p.endswith("Amount 999.99 yuan is below the floor (at least 1,000.00 yuan)") for p in problems), problems
    assert any("The amount is malformed: 'two thousand'" in p for p in problems), problems
    policy = service.policy_of("jinengxingwei-weihai-2021")
    for problem in problems:
        for tier in policy.tiers:  # the policy's own words
            problem = problem.replace(tier.title, "")
        assert not CJK.search(problem), problem
    fin.cookies.set("lang", "zh")
    chinese = post_form(fin, f"/finance/batches/{batch_id}/settings", {"amount:municipal-class1-3rd": "999.99"})
    assert chinese.status_code == 422 and "金额 999.99 元低于下限(不低于 1,000.00 元)" in chinese.text


def test_why_results_are_not_final_in_english(in_appeal, fin, migrated) -> None:
    import re

    batch_id = computed_batch(fin)
    fin.cookies.set("lang", "en")
    page = fin.get(f"/finance/batches/{batch_id}").text
    section = re.search(r'id="results-not-final">(.*?)</section>', page, re.S)
    assert section is not None
    assert re.search(r"Within the appeal period \(until \d{4}-\d\d-\d\d \d\d:\d\d\)", section.group(1))
    assert "申诉期内" not in section.group(1)
    fin.cookies.set("lang", "zh")
    page = fin.get(f"/finance/batches/{batch_id}").text
    section = re.search(r'id="results-not-final">(.*?)</section>', page, re.S)
    assert section is not None and re.search(r"申诉期内\(至 \d{4}-\d\d-\d\d \d\d:\d\d\)", section.group(1))


def test_approval_waits_for_the_appeal_window_and_an_organizer_may_vouch(in_appeal, fin, fin2, judge_client, role_users, migrated) -> None:
    set_display_name(migrated.database_url, "fin", "王会计")
    set_display_name(migrated.database_url, role_users["organizer"], "赵主任")
    batch_id = computed_batch(fin)
    ok(post_form(fin, f"/finance/batches/{batch_id}/submit"))
    refused = post_form(fin2, f"/finance/batches/{batch_id}/approve")
    assert refused.status_code == 409
    assert "成绩尚未最终确认" in refused.text and "焊工" in refused.text and "申诉期内" in refused.text
    assert batch_state(migrated.database_url, batch_id)[0] == "submitted"
    # finance may not vouch; an organizer may, with a reason
    assert post_form(fin2, f"/finance/batches/{batch_id}/override", {"reason": "x"}).status_code == 403
    organizer = judge_client(role_users["organizer"])
    assert "override-form" in organizer.get(f"/finance/batches/{batch_id}").text
    blank = post_form(organizer, f"/finance/batches/{batch_id}/override", {"reason": "   "})
    assert blank.status_code == 422 and "请填写理由" in blank.text and 'aria-invalid="true"' in blank.text
    ok(post_form(organizer, f"/finance/batches/{batch_id}/override", {"reason": "本赛项无人申诉,申诉不涉及获奖名次"}))
    ok(post_form(fin2, f"/finance/batches/{batch_id}/approve"))
    page = fin.get(f"/finance/batches/{batch_id}").text
    assert "本赛项无人申诉" in page and "赵主任" in page and "王会计" in page and "财务审批人" in page
    assert "组织方已准许提前审批" in page and "申诉期已过" not in page
    sheets = workbook_sheets(fin.get(f"/finance/batches/{batch_id}/workbook.xlsx").content)
    notes = [str(row[12]) for row in sheets[ORGANIZER] if row and isinstance(row[0], int)]
    assert len(notes) == 3 and all("申诉期内(至 " in n and OVERRIDE_NOTE in n for n in notes)  # the lines say it was vouched
    summary = " ".join(str(c) for row in sheets["汇总"] for c in row if c)
    assert "成绩未最终确认即审批" in summary and "赵主任" in summary and "本赛项无人申诉" in summary
    assert "制表人:王会计" in summary and "批准人:财务审批人" in summary  # names, not fin / fin2

    async def audit(db):
        rows = (await db.execute(select(AuditRecord).where(AuditRecord.action == "payout.results_override"))).scalars().all()
        return [r.detail for r in rows]

    assert run(migrated.database_url, audit)[0]["reason"] == "本赛项无人申诉,申诉不涉及获奖名次"


def test_an_undecided_appeal_blocks_approval_after_the_window(in_appeal, fin, fin2, judge_client, role_users, migrated) -> None:
    from contest.audit.service import Actor
    from contest.results.service import record_appeal

    async def appeal(db):
        await record_appeal(
            db, Actor.system("tests"), in_appeal.item_id, in_appeal.stations["甲2"], "甲单位领队", "对第2名的理论成绩有异议"
        )

    run(migrated.database_url, appeal)
    close_appeal_window(migrated.database_url, in_appeal)
    batch_id = computed_batch(fin)
    ok(post_form(fin, f"/finance/batches/{batch_id}/submit"))
    refused = post_form(fin2, f"/finance/batches/{batch_id}/approve")
    assert refused.status_code == 409 and "有 1 件申诉尚未处理" in refused.text
    assert "焊工:有 1 件申诉尚未处理" in refused.text and "申诉期内(至" not in refused.text
    # results reopened after the computation: the lines are stale, nobody can vouch for them
    republish_with_marks(migrated.database_url, in_appeal, {"甲2": 0})
    organizer = judge_client(role_users["organizer"])
    stale = post_form(organizer, f"/finance/batches/{batch_id}/override", {"reason": "急需发放"})
    assert stale.status_code == 409 and "须先重新计算" in stale.text


def payee_workbook(rows: list[dict[str, object]]) -> bytes:
    from contest.payouts.payees import SHEET, write_template

    stream = io.BytesIO()
    write_template(stream)
    book = load_workbook(io.BytesIO(stream.getvalue()))
    sheet = book[SHEET]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for offset, row in enumerate(rows):
        for header, value in row.items():
            sheet.cell(row=2 + offset, column=headers[header]).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ACCOUNTS = {"甲2": "6222020200112233445", "乙2": "6217000011112222333", "甲1": "6228480012345678901"}


def payee_rows() -> list[dict[str, object]]:
    return [
        {
            "类型": "个人",
            "姓名或单位名称": f"选手{k}",
            "证件号码": ID[k],
            "开户行": "中国工商银行威海分行",
            "银行账号": v,
            "联系电话": "13800000000",
        }
        for k, v in ACCOUNTS.items()
    ]


def test_payees_import_and_the_workbook_pays_from_them(live, fin, fin2, judge_client, role_users, migrated) -> None:
    batch_id = computed_batch(fin)
    page = fin.get(f"/finance/batches/{batch_id}").text
    assert "缺少收款信息(3)" in page
    template = fin.get(f"/finance/payees/template.xlsx?batch={batch_id}")  # the recipients still to fill in
    listed = load_workbook(io.BytesIO(template.content))["收款信息"]
    assert {listed.cell(row=r, column=3).value for r in (2, 3, 4)} == set(ID[k] for k in ACCOUNTS)

    bad = payee_rows()
    bad[1] = {**bad[1], "银行账号": "6217-0000-1111"}  # 12 digits: fine
    bad[2] = {**bad[2], "银行账号": 6228480012345678901}  # a number cell loses digits
    bad.append(
        {
            "类型": "单位",
            "姓名或单位名称": "甲单位",
            "证件号码": "",
            "统一社会信用代码": "91350100M000100Y44",
            "开户行": "中国银行",
            "银行账号": "237012345678",
        }
    )
    refused = post_form(fin, "/finance/payees/import", files={"file": ("收款.xlsx", payee_workbook(bad))})
    assert refused.status_code == 422 and "未导入任何收款信息" in refused.text
    assert "第 4 行“银行账号”列(G)" in refused.text and "文本格式" in refused.text
    assert "第 5 行“统一社会信用代码”列(D)" in refused.text and "校验位错误(应为 3)" in refused.text
    xls = post_form(fin, "/finance/payees/import", files={"file": ("收款.xls", b"\xd0\xcf\x11\xe0")})
    assert xls.status_code == 422 and "旧版 Excel(.xls)" in xls.text
    assert "6222020200112233445" not in fin.get("/finance/payees").text  # nothing was imported

    ok_response = post_form(fin, "/finance/payees/import", files={"file": ("收款.xlsx", payee_workbook(payee_rows()))})
    assert ok_response.status_code == 302  # the page after the import says what it did, once
    ok_response = fin.get(ok_response.headers["location"])
    assert ok_response.status_code == 200 and "新增 3 条" in ok_response.text
    assert "新增 3 条" not in fin.get("/finance/payees").text
    page = fin.get(f"/finance/batches/{batch_id}").text
    assert "缺少收款信息" not in page and ACCOUNTS["甲2"] in page  # finance sees the full number
    organizer = judge_client(role_users["organizer"])
    seen = organizer.get(f"/finance/batches/{batch_id}").text
    assert ACCOUNTS["甲2"] not in seen and "6222***********3445" in seen  # masked for organizers
    assert organizer.get("/finance/payees").status_code == 403

    ok(post_form(fin, f"/finance/batches/{batch_id}/submit"))
    ok(post_form(fin2, f"/finance/batches/{batch_id}/approve"))
    sheets = workbook_sheets(fin.get(f"/finance/batches/{batch_id}/workbook.xlsx").content)
    bank = sheets[f"代发-{ORGANIZER}"]
    assert next(row for row in bank if row[0] == "总笔数")[1:4] == (3, "总金额(元)", 4500)
    assert {(row[1], row[2], row[4]) for row in bank if isinstance(row[0], int)} == {
        ("选手甲2", ACCOUNTS["甲2"], 2000),
        ("选手乙2", ACCOUNTS["乙2"], 1500),
        ("选手甲1", ACCOUNTS["甲1"], 1000),
    }
    masked = workbook_sheets(organizer.get(f"/finance/batches/{batch_id}/workbook.xlsx").content)
    assert not [name for name in masked if name.startswith("代发")] and ACCOUNTS["甲2"] not in str(masked)

    async def audit(db):
        return [r.detail for r in (await db.execute(select(AuditRecord))).scalars()]

    details = str(run(migrated.database_url, audit))
    assert not any(number in details for number in ACCOUNTS.values())  # never an account number in the audit log


def test_one_payee_edited_on_the_page_keeps_what_was_typed_on_an_error(live, fin, migrated) -> None:
    form = {
        "kind": "unit",
        "name": "甲单位",
        "key": "",
        "account_name": "甲单位",
        "bank_name": "中国银行威海分行",
        "account_number": "2370 1234 5678",
        "credit_code": "91350100M000100Y44",
        "phone": "",
        "note": "",
    }
    refused = post_form(fin, "/finance/payees", form)
    assert refused.status_code == 422 and "校验位错误" in refused.text
    assert 'value="2370 1234 5678"' in refused.text and 'value="中国银行威海分行"' in refused.text
    assert 'name="credit_code" maxlength="18" value="91350100M000100Y44" class="invalid" aria-invalid="true"' in refused.text
    saved = post_form(fin, "/finance/payees", {**form, "credit_code": "91350100M000100Y43"})
    assert saved.status_code == 302
    saved = fin.get(saved.headers["location"])
    assert saved.status_code == 200 and "已保存 甲单位 的收款信息" in saved.text and "237012345678" in saved.text


def test_forms_keep_what_was_typed_and_name_the_field(live, fin, migrated) -> None:
    batch_id = computed_batch(fin)
    refused = post_form(
        fin,
        f"/finance/batches/{batch_id}/settings",
        {"amount:municipal-class1-1st": "2500", "amount:municipal-class1-2nd": "1499", "ledger_mode": "skip"},
    )
    assert refused.status_code == 422
    assert 'value="2500"' in refused.text and 'value="1499"' in refused.text  # typed values stay
    assert "市级一类职业技能竞赛项目第2名·选手:金额 1,499.00 元低于下限" in refused.text
    assert 'name="amount:municipal-class1-2nd" value="1499" inputmode="decimal" class="invalid"' in refused.text
    assert '<option value="skip" selected>' in refused.text
    assert batch_state(migrated.database_url, batch_id)[2] == {}  # nothing saved
    created = post_form(
        fin,
        "/finance/batches",
        {"name": "", "policy_id": "jinengxingwei-weihai-2021", "period_from": "2026-01-01", "period_to": "2025-12-31"},
    )
    assert created.status_code == 422 and "期间的结束日期不能早于开始日期" in created.text
    assert 'value="2025-12-31" required class="invalid"' in created.text


def visible(html: str) -> str:
    """The page's text as a reader sees it (no tags, attributes or form values)."""
    import re

    return re.sub(r"<[^>]*>", " ", html)


def test_a_blank_batch_name_gets_a_meaningful_one_and_pages_show_labels(live, fin, fin2, migrated) -> None:
    batch_id = create_batch(fin, "")
    ok(post_form(fin, f"/finance/batches/{batch_id}/compute"))

    async def name(db):
        return (await service.get_batch(db, batch_id)).name

    assert run(migrated.database_url, name) == f"技能兴威行动:重要赛事奖励 2026年度第1批({date.today().isoformat()})"
    page = visible(fin.get(f"/finance/batches/{batch_id}").text)
    assert "jinengxingwei-weihai-2021" not in page and "top_up" not in page and "per_winner" not in page, page
    assert "补差" in page and "技能兴威行动:重要赛事奖励" in page
    english = fin.get(f"/finance/batches/{batch_id}", headers={"Accept-Language": "en"}).text
    assert "Skills for Weihai: awards for major competitions" in english
    assert "Municipal class-1 competition: 1st place" in english
    # the workbook's batch line holds the real default name whole: across the summary, as tall as it wraps
    book = load_workbook(io.BytesIO(fin.get(f"/finance/batches/{batch_id}/workbook.xlsx").content))
    summary = book["汇总"]
    line = next(c for row in summary.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("批次:"))
    assert run(migrated.database_url, name) in line.value and f"(#{batch_id})" in line.value
    merged = next(r for r in summary.merged_cells.ranges if (r.min_row, r.min_col) == (line.row, 1))
    assert merged.max_col == summary.max_column - 1  # every column but 单位:元's
    width = sum(summary.column_dimensions[chr(64 + c)].width for c in range(1, merged.max_col + 1))
    assert summary.row_dimensions[line.row].height >= 13 * -int(-text_pixels(line.value) // (width * 7 - 6))
    approve_and_pay(fin, fin2, batch_id, "2026-12-01")
    ledger = visible(fin.get("/finance/ledger").text)
    assert "选手甲2" in ledger and "市级一类职业技能竞赛项目第1名" in ledger and "municipal-class1-1st" not in ledger


# ---------------------------------------------------------------- marking paid twice at once (issue 10)


def _serve(settings):
    """The app under uvicorn on 127.0.0.1 in a thread, as in production: concurrent requests."""
    import socket
    import threading
    import time

    import uvicorn

    from contest.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def _signed_in(base: str, username: str):
    import re

    import httpx

    from tests.conftest import PASSWORD

    client = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/login").text)
    assert found is not None, "the login page carries a CSRF token"
    token = found.group(1)
    assert client.post("/login", data={"username": username, "password": PASSWORD, "_csrf_token": token}).status_code in (302, 303)
    return client, token


def _double_clicks(settings, batch_id: int, times: int = 7) -> list[int]:
    """``times`` concurrent 登记为已发放 requests for one batch, from one signed-in browser."""
    from concurrent.futures import ThreadPoolExecutor

    server, thread, base = _serve(settings)
    try:
        client, token = _signed_in(base, "fin")
        client.get("/finance")
        csrf = client.cookies.get("csrftoken") or token
        with ThreadPoolExecutor(times) as pool:
            responses = list(
                pool.map(
                    lambda _: client.post(f"/finance/batches/{batch_id}/paid", data={"paid_on": "2026-12-01", "_csrf_token": csrf}),
                    range(times),
                )
            )
        client.close()
        return [r.status_code for r in responses]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _ledger_rows(url: str, batch_id: int) -> int:
    async def work(db):
        return (
            await db.execute(select(func.count()).select_from(PayoutLedgerEntry).where(PayoutLedgerEntry.batch_id == batch_id))
        ).scalar_one()

    return run(url, work)


def test_marking_paid_seven_times_at_once_pays_once_and_never_fails(live, fin, fin2, migrated) -> None:
    batch_id = computed_batch(fin)
    ok(post_form(fin, f"/finance/batches/{batch_id}/submit"))
    ok(post_form(fin2, f"/finance/batches/{batch_id}/approve"))
    statuses = _double_clicks(migrated, batch_id)
    assert statuses == [303] * 7 or set(statuses) <= {302, 303}, statuses  # the same result for every click
    assert batch_state(migrated.database_url, batch_id)[0] == "paid"
    assert _ledger_rows(migrated.database_url, batch_id) == 3  # one ledger entry per line, once

    async def audits(db):
        return (
            await db.execute(select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "payout.batch_paid"))
        ).scalar_one()

    assert run(migrated.database_url, audits) == 1


@pytest.mark.services
def test_marking_paid_at_once_on_postgresql(pg_url, tmp_path) -> None:
    import asyncio

    from contest.db.migrate import upgrade
    from contest.settings import REPO_ROOT, Settings
    from tests.conftest import _create_role_users, login

    settings = Settings(database_url=pg_url, secret_key="test-secret-key-0123456789abcdef", var_dir=tmp_path, seeds_dir=REPO_ROOT / "seeds")
    upgrade(pg_url)
    asyncio.run(_create_role_users(pg_url))
    live = published_competition(pg_url)
    close_appeal_window(pg_url, live)
    from litestar.testing import TestClient

    from contest.app import create_app

    with TestClient(app=create_app(settings)) as first, TestClient(app=create_app(settings)) as second:
        login(first, "fin")
        login(second, "fin2")
        batch_id = computed_batch(first)
        ok(post_form(first, f"/finance/batches/{batch_id}/submit"))
        ok(post_form(second, f"/finance/batches/{batch_id}/approve"))
    statuses = _double_clicks(settings, batch_id)
    assert set(statuses) <= {302, 303}, statuses
    assert _ledger_rows(pg_url, batch_id) == 3


def test_after_the_window_with_no_appeal_the_lines_and_the_page_say_final(in_appeal, fin, fin2, migrated) -> None:
    """The rule approval applies is the one the 说明 and the tag use: computed in the window, the
    lines say 申诉期内; once the window closes with no appeal, the page, the workbook and approval
    all treat the results as final (no 申诉期内 left anywhere); computed after it, never said."""
    batch_id = computed_batch(fin)
    page = fin.get(f"/finance/batches/{batch_id}").text
    assert "未确认最终成绩" in page and "申诉期内(至 " in page

    async def computed_at(db):
        return (await service.get_batch(db, batch_id)).computed_at

    local = run(migrated.database_url, computed_at).astimezone().strftime("%Y-%m-%d %H:%M")
    assert f"· {local}" in page and " UTC" not in page  # the computation time in local time, as other pages show times
    close_appeal_window(migrated.database_url, in_appeal)
    page = fin.get(f"/finance/batches/{batch_id}").text
    assert "申诉期已过,视为最终成绩" in page and "未确认最终成绩" not in page and "申诉期内" not in page
    ok(post_form(fin, f"/finance/batches/{batch_id}/submit"))
    ok(post_form(fin2, f"/finance/batches/{batch_id}/approve"))  # the same rule: no override needed
    sheets = workbook_sheets(fin.get(f"/finance/batches/{batch_id}/workbook.xlsx").content)
    notes = [str(row[12]) for row in sheets[ORGANIZER] if row and isinstance(row[0], int)]
    assert len(notes) == 3 and all(SETTLED_NOTE in n and "申诉期内" not in n for n in notes)
    again = computed_batch(fin)  # computed after the window: the lines never said 申诉期内
    assert not any(n.startswith(PROVISIONAL_PREFIX) for line in lines_of(migrated.database_url, again) for n in line.notes)
    assert "申诉期已过,视为最终成绩" in fin.get(f"/finance/batches/{again}").text


def test_a_policy_with_groups_pays_our_own_items_results_by_the_items_group(live, fin, judge_client, role_users, migrated) -> None:
    """组别 of our own items: the item form stores it (bounded, a clear error beyond), the award
    inputs carry it, and a policy whose tiers name groups (the Dalian example: 院校组 / 非院校组)
    pays our item's places by it; an item with no group matches none of those tiers."""
    from dataclasses import replace

    from contest.awards.policies import load_policy
    from contest.db.models import Item
    from contest.domain.awards import compute_awards
    from contest.domain.limits import ITEM_GROUP
    from contest.payouts.sources import collect_ours
    from tests.integration.payout_seed import POLICY

    organizer = judge_client(role_users["organizer"])
    form = {"name": "焊工", "skill_code": "6-18-02-04", "skill_name": "焊工", "is_team": "0", "excellence_fraction": "0.5"}
    too_long = post_form(organizer, f"/items/{live.item_id}/", {**form, "group_name": "组" * (ITEM_GROUP.max + 1)})
    assert too_long.status_code == 422 and "组别" in too_long.text and f"{ITEM_GROUP.max}" in too_long.text
    ok(post_form(organizer, f"/items/{live.item_id}/", {**form, "group_name": " 院校组 "}))
    assert "院校组" in organizer.get(f"/competitions/{live.competition_id}").text

    policy = replace(load_policy("seeds/policies/examples/dalian-12th-2021.toml"), id=POLICY, in_force_from=None, in_force_until=None)

    def paid(group: str | None = None) -> dict[str, tuple[str, int]]:
        async def work(db):
            if group is not None:
                (await db.get(Item, live.item_id)).group_name = group
                await db.commit()
            collected = await collect_ours(db, policy, date(2026, 1, 1), date(2026, 12, 31))
            assert {a.group for a in collected.achievements} == {"院校组" if group is None else group}
            result = compute_awards(policy, collected.achievements)
            return {line.recipient_id: (line.tier_id, line.amount.fen) for line in result.lines if line.role == "competitor"}

        return run(migrated.database_url, work)

    school = paid()  # as the form stored it, trimmed
    assert school[ID["甲2"]] == ("school-1st", 500000) and school[ID["乙2"]] == ("school-2nd-3rd", 200000)
    other = paid("非院校组")
    assert other[ID["甲2"]] == ("non-school-1st", 1000000) and other[ID["乙2"]] == ("non-school-2nd-3rd", 500000)
    assert paid("") == {}  # no group: the group tiers do not match
