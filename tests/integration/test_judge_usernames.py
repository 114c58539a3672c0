"""The judges' import checks login accounts as every account creation does: normalised, a safe
set, no look-alike of an existing account or of another row (issue 10: `оrg`, `ORG` beside `org`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.accounts.service import create_user
from contest.db.models import User
from contest.rosters import service
from contest.rosters.sheets import JUDGES
from tests.integration.test_roster_import import (
    ACTOR,
    WELD,
    cells,
    good_sheets,
    judge_sheets,
    make_competition,
    messages,
    pid,
    run_roster,
    snapshot,
    workbook,
)


def _judge(name: str, seq: int, username: str) -> list:
    return [name, pid(seq), "男", None, None, "裁判", WELD, username]


async def test_unsafe_and_look_alike_usernames_are_refused_per_row(db: AsyncSession) -> None:
    cid = await make_competition(db)
    assert (await run_roster(db, cid, good_sheets())).ok
    await create_user(db, ACTOR, "org", "long-enough-1", "organizer")
    await db.commit()
    sheets = judge_sheets()
    sheets[JUDGES.name] += [
        _judge("甲", 40, "оrg"),  # row 5: Cyrillic о
        _judge("乙", 41, "0rg"),  # row 6: reads like the organizer's org
        _judge("丙", 42, "<b>x</b>"),  # row 7: markup
        _judge("丁", 43, "CHEN"),  # row 8: row 2's chen, in capitals
        _judge("戊", 44, "1in"),  # row 9: reads like row 3's lin
    ]
    before = await snapshot(db)
    result = await service.import_judges(db, ACTOR, cid, "裁判.xlsx", workbook(sheets))
    assert {(JUDGES.name, row, "登录账号") for row in range(5, 10)} <= cells(result), messages(result)
    text = messages(result)
    assert "「о」是西里尔字母,与英文字母「o」形似" in text
    assert "登录账号「0rg」与已有账号「org」形似" in text
    assert "不能包含「<」" in text
    assert "登录账号「chen」在第 2 行已使用" in text
    assert "登录账号「1in」与第 3 行的「lin」形似" in text
    assert await snapshot(db) == before


async def test_usernames_are_stored_normalised_and_match_the_same_account_again(db: AsyncSession) -> None:
    cid = await make_competition(db)
    assert (await run_roster(db, cid, good_sheets())).ok
    sheets = judge_sheets()
    sheets[JUDGES.name][1][7] = "Chen"
    sheets[JUDGES.name][2][7] = "ＬＩＮ"
    assert (await service.import_judges(db, ACTOR, cid, "j.xlsx", workbook(sheets))).ok
    assert set((await db.execute(select(User.username))).scalars()) == {"chen", "lin"}
    sheets[JUDGES.name][1][7] = "CHEN"  # the same person's account, however it is typed
    again = await service.import_judges(db, ACTOR, cid, "j.xlsx", workbook(sheets))
    assert again.ok and again.changed == 0, messages(again)
