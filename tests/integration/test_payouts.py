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

from contest.awards.results_io import write_template
from contest.db.models import AuditRecord
from contest.db.payout_models import PayoutBatch, PayoutLedgerEntry, PayoutLineRow
from contest.payouts import service
from contest.payouts.sources import PROVISIONAL_NOTE
from tests.conftest import post_form
from tests.integration.payout_seed import (
    ORGANIZER,
    Live,
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
def live(migrated) -> Live:  # type: ignore[no-untyped-def]
    return published_competition(migrated.database_url)


@pytest.fixture
def fin(judge_client, role_users):  # type: ignore[no-untyped-def]
    return judge_client(role_users["finance"])


@pytest.fixture
def fin2(judge_client, live):  # type: ignore[no-untyped-def]
    return judge_client("fin2")


def create_batch(client, name: str = "2026年第一批") -> int:  # type: ignore[no-untyped-def]
    response = post_form(client, "/finance/batches", {"name": name, "policy_id": "jinengxingwei-weihai-2021",
                                                      "period_from": "2026-01-01", "period_to": "2026-12-31"})
    assert response.status_code in (302, 303), response.text[:2000]
    return int(response.headers["location"].rsplit("/", 1)[1])


def ok(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (302, 303), response.text[:3000]


def batch_state(url: str, batch_id: int) -> tuple[str, dict[str, int], dict[str, Any]]:
    """(status, recipient id -> amount in fen (payments and reversals summed), settings)."""

    async def work(db):  # type: ignore[no-untyped-def]
        batch = await service.get_batch(db, batch_id)
        amounts: dict[str, int] = {}
        for line in batch.lines:
            amounts[line.recipient_id] = amounts.get(line.recipient_id, 0) + line.amount_fen
        return batch.status, amounts, dict(batch.settings or {})

    return run(url, work)


def lines_of(url: str, batch_id: int) -> list[PayoutLineRow]:
    async def work(db):  # type: ignore[no-untyped-def]
        return list((await service.get_batch(db, batch_id)).lines)

    return run(url, work)


def computed_batch(client) -> int:  # type: ignore[no-untyped-def]
    batch_id = create_batch(client)
    ok(post_form(client, f"/finance/batches/{batch_id}/compute"))
    return batch_id


def approve_and_pay(fin, fin2, batch_id: int, paid_on: str) -> None:  # type: ignore[no-untyped-def]
    ok(post_form(fin, f"/finance/batches/{batch_id}/submit"))
    ok(post_form(fin2, f"/finance/batches/{batch_id}/approve"))
    ok(post_form(fin, f"/finance/batches/{batch_id}/paid", {"paid_on": paid_on}))


def test_published_results_flow_into_a_batch_with_basis_and_notes(live, fin, migrated) -> None:  # type: ignore[no-untyped-def]
    batch_id = computed_batch(fin)
    status, amounts, _ = batch_state(migrated.database_url, batch_id)
    assert status == "computed"
    assert amounts == {ID[k]: v for k, v in V1.items()}
    lines = lines_of(migrated.database_url, batch_id)
    assert {line.payer for line in lines} == {ORGANIZER}  # 市级一类: the competition's organizer pays
    assert all("威人社字〔2021〕16号" in line.basis for line in lines)
    assert all(PROVISIONAL_NOTE in line.notes for line in lines)  # published, not final yet
    assert all(line.source == f"item:{live.item_id}" for line in lines)
    page = fin.get(f"/finance/batches/{batch_id}").text
    assert "选手甲2" in page and ID["甲2"] in page  # finance sees the full 证件号码
    assert "肆仟伍佰元整" in page  # the payer's total 4,500.00 in 大写
    assert "未发放" not in page or "选手乙1" not in page  # no award: not an achievement at all


def test_creator_cannot_approve_and_approved_lines_are_frozen(live, fin, fin2, migrated) -> None:  # type: ignore[no-untyped-def]
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

    async def audit(db):  # type: ignore[no-untyped-def]
        rows = (await db.execute(select(AuditRecord).where(AuditRecord.entity == "payout_batch"))).scalars().all()
        return [r.action for r in rows], [r.detail for r in rows]

    actions, details = run(migrated.database_url, audit)
    assert actions == ["payout.batch_create", "payout.batch_compute", "payout.batch_submit", "payout.batch_approve"]
    assert not any(number in str(details) for number in ID.values())  # never 证件号码 in the audit log


def test_bad_amounts_are_refused_and_nothing_is_written(live, fin, migrated) -> None:  # type: ignore[no-untyped-def]
    batch_id = computed_batch(fin)
    before = [(line.id, line.amount_fen) for line in lines_of(migrated.database_url, batch_id)]
    below = post_form(fin, f"/finance/batches/{batch_id}/settings",
                      {"amount:municipal-class1-1st": "2500", "amount:municipal-class1-3rd": "999.99"})
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


def test_recompute_after_republish_shows_the_difference_before_approval(live, fin, fin2, migrated) -> None:  # type: ignore[no-untyped-def]
    batch_id = computed_batch(fin)
    ok(post_form(fin, f"/finance/batches/{batch_id}/submit"))
    # an appeal succeeds: 甲2's theory mark was wrong; the item is republished as v2
    republish_with_marks(migrated.database_url, live, {"甲2": 0})
    ok(post_form(fin, f"/finance/batches/{batch_id}/compute"))
    status, amounts, _ = batch_state(migrated.database_url, batch_id)
    assert status == "computed"  # back from submitted: the changed batch must be submitted again
    assert amounts == {ID["乙2"]: 200000, ID["甲1"]: 150000, ID["甲2"]: 100000}

    async def diff(db):  # type: ignore[no-untyped-def]
        return (await service.get_batch(db, batch_id)).diff

    changed = {(d["recipient_name"], d["old"], d["new"]) for d in run(migrated.database_url, diff)["changed"]}
    assert changed == {("选手甲2", "2000.00", "1000.00"), ("选手乙2", "1500.00", "2000.00"), ("选手甲1", "1000.00", "1500.00")}
    page = fin.get(f"/finance/batches/{batch_id}").text
    assert "与上次计算的差异" in page and "金额变化" in page
    assert post_form(fin2, f"/finance/batches/{batch_id}/approve").status_code == 409  # not before resubmission
    ok(post_form(fin, f"/finance/batches/{batch_id}/submit"))
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


PROVINCIAL_WIN = {"成绩编号": "SD-2026-001", "赛事名称": "2026年山东省职业技能大赛", "赛事级别": "省级", "赛事类别": "一类",
                  "年份": "2026", "赛项": "焊工", "技能代码": "6-18-02-04", "成绩": "第1名", "角色": "选手",
                  "姓名": "选手甲1", "证件号码": ID["甲1"], "选送单位": "甲单位"}


@pytest.mark.parametrize("mode", ["top_up", "skip"])
def test_ledger_across_two_batches(live, fin, fin2, migrated, mode: str) -> None:  # type: ignore[no-untyped-def]
    first = computed_batch(fin)
    approve_and_pay(fin, fin2, first, "2026-12-01")

    async def ledger(db):  # type: ignore[no-untyped-def]
        return [(e.recipient_id, e.amount_fen, e.batch_id) for e in (await db.execute(select(PayoutLedgerEntry))).scalars()]

    assert sorted(run(migrated.database_url, ledger)) == sorted((ID[k], v, first) for k, v in V1.items())

    # a year's second batch: the same municipal results again, and 甲1's provincial 1st place
    # in the same skill (5,000, paid by the city), imported from the results template
    second = create_batch(fin, "2026年第二批")
    ok(post_form(fin, f"/finance/batches/{second}/external",
                 files={"file": ("外部成绩.xlsx", external_workbook([PROVINCIAL_WIN]))}))
    ok(post_form(fin, f"/finance/batches/{second}/settings", {"ledger_mode": mode}))
    _status, amounts, _ = batch_state(migrated.database_url, second)
    lines = lines_of(migrated.database_url, second)
    if mode == "top_up":  # the difference up to the higher award, saying what was paid before and when
        assert amounts == {ID["甲1"]: 400000}
        assert any("此前已发 1,000.00 元" in note and "2026-12-01" in note for note in lines[0].notes)
    else:  # skip: nothing where an equal or higher award was paid; a higher one is paid in full
        assert amounts == {ID["甲1"]: 500000}
    assert lines[0].payer == "威海市人力资源和社会保障局、威海市财政局" and lines[0].source == "external"

    async def excluded(db):  # type: ignore[no-untyped-def]
        return {(e.recipient_name, e.status) for e in (await service.get_batch(db, second)).excluded}

    found = run(migrated.database_url, excluded)
    assert {("选手甲2", "already_paid"), ("选手乙2", "already_paid"), ("选手甲1", "superseded")} <= found
    approve_and_pay(fin, fin2, second, "2027-01-15")
    total = {}
    for recipient, amount, _batch in run(migrated.database_url, ledger):
        total[recipient] = total.get(recipient, 0) + amount
    assert total[ID["甲1"]] == (500000 if mode == "top_up" else 600000)


def test_a_bad_external_row_imports_nothing(live, fin, migrated) -> None:  # type: ignore[no-untyped-def]
    batch_id = computed_batch(fin)
    bad = dict(PROVINCIAL_WIN, 证件号码="371002199001011234", 成绩编号="SD-2")
    response = post_form(fin, f"/finance/batches/{batch_id}/external",
                         files={"file": ("外部成绩.xlsx", external_workbook([PROVINCIAL_WIN, bad]))})
    assert response.status_code == 422
    assert "未导入任何成绩" in response.text and "第 3 行" in response.text and "证件号码" in response.text

    async def external(db):  # type: ignore[no-untyped-def]
        batch = await service.get_batch(db, batch_id)
        return batch.external, batch.external_filename, len(batch.lines)

    assert run(migrated.database_url, external) == ({}, "", 3)


def test_a_paid_line_is_corrected_by_reversal_and_a_new_line(live, fin, fin2, migrated) -> None:  # type: ignore[no-untyped-def]
    first = computed_batch(fin)
    approve_and_pay(fin, fin2, first, "2026-12-01")
    paid_before = [(line.id, line.amount_fen, line.recipient_id) for line in lines_of(migrated.database_url, first)]

    republish_with_marks(migrated.database_url, live, {"甲2": 0})  # 乙2 1st, 甲1 2nd, 甲2 3rd
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
        assert paid_ids[line.reverses_line_id] == (-line.amount_fen, line.recipient_id)
        assert f"#{first}" in line.notes[0]
    assert {(line.recipient_id, line.amount_fen) for line in payments} == {
        (ID["乙2"], 200000), (ID["甲1"], 150000), (ID["甲2"], 100000)}
    page = fin.get(f"/finance/batches/{correction}").text
    assert "冲销" in page and "-2,000.00" in page

    assert post_form(fin, f"/finance/batches/{first}/correction").status_code == 409  # one open correction at a time
    approve_and_pay(fin, fin2, correction, "2026-12-20")

    async def net(db):  # type: ignore[no-untyped-def]
        rows = await db.execute(select(PayoutLedgerEntry.recipient_id, func.sum(PayoutLedgerEntry.amount_fen))
                                .group_by(PayoutLedgerEntry.recipient_id))
        return dict(rows.all())

    assert run(migrated.database_url, net) == {ID["乙2"]: 200000, ID["甲1"]: 150000, ID["甲2"]: 100000}
    # the ledger now holds what is right: a later batch for the same results pays nothing more
    later = computed_batch(fin)
    assert batch_state(migrated.database_url, later)[1] == {}
    # and a correction of an already corrected batch finds nothing to correct
    response = post_form(fin, f"/finance/batches/{first}/correction")
    ok(response)
    assert lines_of(migrated.database_url, int(response.headers["location"].rsplit("/", 1)[1])) == []


def test_workbook_and_honours_download(live, fin, judge_client, role_users, migrated) -> None:  # type: ignore[no-untyped-def]
    batch_id = computed_batch(fin)
    organizer = judge_client(role_users["organizer"])
    response = organizer.get(f"/finance/batches/{batch_id}/workbook.xlsx")  # organizers may view and download
    assert response.status_code == 200
    sheets = workbook_sheets(response.content)
    assert set(sheets) >= {"汇总", "未发放", "非现金奖励"}
    summary = sheets["汇总"]
    assert any(row[0] == ORGANIZER and row[2] == 4500 and row[3] == "肆仟伍佰元整" for row in summary)
    payer = next(rows for title, rows in sheets.items() if title not in ("汇总", "未发放", "非现金奖励"))
    assert payer[1][:4] == ("序号", "姓名", "证件号码", "选送单位")
    assert {(row[1], row[2], row[8]) for row in payer[2:-1]} == {
        ("选手甲2", ID["甲2"], 2000), ("选手乙2", ID["乙2"], 1500), ("选手甲1", ID["甲1"], 1000)}
    assert "草稿" in str(summary) or "已计算" in str(summary)  # an unapproved batch says so on the workbook


def test_access_judges_and_the_public_are_refused(live, judge_client, role_users) -> None:  # type: ignore[no-untyped-def]
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


def test_honours_are_listed_beside_the_payouts(migrated) -> None:  # type: ignore[no-untyped-def]
    """龙技赛场 lists non-cash honours; the batch stores them and the workbook has a sheet for them."""
    from contest.awards.policies import load_policy
    from contest.domain.awards import compute_awards
    from contest.domain.awards.model import Achievement, Competition, Member, Person, Result

    policy = load_policy("longjisaichang-heilongjiang-2022")
    person = Person(id_number=make_id(501), name="选手黑", unit="哈尔滨单位", employment_region="黑龙江省哈尔滨市")
    result = compute_awards(policy, [Achievement("H1", Competition("2026年黑龙江省职业技能大赛", "provincial", 2026, 1),
                                                 "焊工", "6-18-02-04", Result(place=1), (Member(person),))])
    assert "按规定晋升相应职业技能等级" in {h.title for h in result.honours}

    async def work(db):  # type: ignore[no-untyped-def]
        from contest.payouts.service import _Computation, _store
        from contest.payouts.sources import Collected

        batch = PayoutBatch(name="h", policy_id=policy.id, period_from=date(2026, 1, 1), period_to=date(2026, 12, 31),
                            settings={}, external={}, sources=[], diff={})
        db.add(batch)
        await db.flush()
        batch = await service.get_batch(db, batch.id)
        await _store(db, batch, _Computation(result, Collected(), 0))
        await db.commit()
        batch = await service.get_batch(db, batch.id)
        return len(batch.honours), service.workbook_bytes(batch)

    count, content = run(migrated.database_url, work)
    assert count == 3
    honours = workbook_sheets(content)["非现金奖励"]
    assert {row[1:3] for row in honours[1:]} == {("选手黑", make_id(501))}
    assert "按规定晋升相应职业技能等级" in {row[7] for row in honours[1:]}
