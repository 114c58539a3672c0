"""Values the system builds from other bounded values fit their columns (contest.domain.limits).

A certificate copies the competition's, the item's, the unit's, the team's and the person's names
and an honour title into columns as wide as theirs; its revocation reason quotes the honour; a
correction batch is named after the batch it corrects. With every input at its maximum, nothing
overflows: on PostgreSQL an over-long VARCHAR is a database error (a 500), so that is where it is
tried.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import String, select

from contest.app import create_app
from contest.competitors import service as competitors
from contest.db.migrate import upgrade
from contest.db.models import Certificate, Competition, Entry, Item, PayoutBatch, Person, Unit
from contest.db.models.competitors import HonourRuleRow
from contest.domain import limits
from contest.domain.certificates import DEFAULT_AWARD_BODY, SERIAL_LENGTH
from contest.settings import REPO_ROOT, Settings
from tests.conftest import _create_role_users, login, post_form
from tests.integration.live_seed import Live, seed_live
from tests.integration.payout_seed import ACTOR, _score_and_publish, _under_policy, close_appeal_window, republish_with_marks, run

COMPETITION = "赛" * limits.COMPETITION_NAME.max
ITEM = "项" * limits.ITEM_NAME.max
UNITS = {"甲单位": "甲" * limits.UNIT_NAME.max, "乙单位": "乙" * limits.UNIT_NAME.max}
TEAM = "团" * limits.TEAM_NAME.max
HONOUR = "称" * limits.HONOUR_TITLE.max
# every placeholder, padded to the template's maximum: filled, it is far longer (only printed)
HONOUR_BODY = ("{姓名}{单位}{团队}{赛事}{赛项}{奖项}{荣誉}" + "文" * limits.CERT_BODY.max)[: limits.CERT_BODY.max]


def person_name(label: str) -> str:
    return "名" * (limits.PERSON_NAME.max - len(label)) + label


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=url, secret_key="test-secret-key-0123456789abcdef", var_dir=tmp_path, seeds_dir=REPO_ROOT / "seeds")


def _longest_names(url: str, live: Live) -> None:
    """Every name the certificates copy at its maximum (as long as the forms and imports take),
    the organizer left empty (the issuer is then "<competition>组委会"), an honour rule with the
    longest title and the longest honour template."""

    async def work(db: Any) -> None:
        competition = await db.get(Competition, live.competition_id)
        competition.name, competition.organizer = COMPETITION, ""
        (await db.get(Item, live.item_id)).name = ITEM
        for unit in (await db.execute(select(Unit))).scalars():
            unit.name = UNITS.get(unit.name, unit.name)
        for person in (await db.execute(select(Person).where(Person.name.like("选手%")))).scalars():
            person.name = person_name(person.name.removeprefix("选手"))
        for entry in (await db.execute(select(Entry).where(Entry.item_id == live.item_id))).scalars():
            entry.team_name = TEAM
        await db.commit()
        await competitors.add_honour(db, ACTOR, live.competition_id, HONOUR, ["first", "second", "third"])
        form = competitors.SettingsForm("id_last4", "荣" * limits.CERT_TITLE.max, DEFAULT_AWARD_BODY, HONOUR_BODY, "", date(2026, 11, 22))
        await competitors.save_settings(db, ACTOR, competition, form)

    run(url, work)


def _certificates(url: str) -> list[Certificate]:
    async def work(db: Any) -> list[Certificate]:
        return list((await db.execute(select(Certificate).order_by(Certificate.id))).scalars())

    return run(url, work)


def _width(model: Any, column: str) -> int:
    kind = model.__table__.c[column].type
    assert isinstance(kind, String) and kind.length is not None, (model, column)
    return kind.length


def test_every_certificate_column_is_as_wide_as_what_it_copies() -> None:
    """The certificate's columns take whatever their sources hold (so no cut is ever needed), and
    the revocation reason, the one value built there, fits with the longest honour title."""
    width = {name: _width(Certificate, name) for name in ("name", "unit", "team", "competition", "item", "honour", "award")}
    assert width["name"] >= _width(Person, "name")
    assert width["unit"] >= _width(Unit, "name")
    assert width["team"] >= _width(Entry, "team_name")
    assert width["competition"] >= _width(Competition, "name")
    assert width["item"] >= _width(Item, "name")
    assert width["honour"] >= _width(HonourRuleRow, "title")
    from contest.standings import AWARD_LABELS

    assert max(len(label) for label in AWARD_LABELS.values()) <= width["award"]
    longest_reason = f"成绩公示 v{2**31 - 1} 更正后不再获得荣誉称号「{HONOUR}」"
    assert len(longest_reason) <= _width(Certificate, "status_reason")
    assert _width(Certificate, "serial") >= SERIAL_LENGTH


@pytest.mark.services
def test_certificates_with_the_longest_names_are_issued_revoked_and_shown_on_postgresql(pg_url, tmp_path) -> None:
    upgrade(pg_url)
    asyncio.run(_create_role_users(pg_url))
    live = seed_live(pg_url)
    _longest_names(pg_url, live)

    async def publish(db: Any) -> None:
        await _score_and_publish(db, live)

    run(pg_url, publish)  # v1: 甲2 1st, 乙2 2nd, 甲1 3rd
    issued = _certificates(pg_url)
    assert {(c.name, c.kind) for c in issued} == {
        (person_name(label), kind) for label in ("甲2", "乙2", "甲1") for kind in ("award", "honour")
    }
    for certificate in issued:
        assert (certificate.competition, certificate.item, certificate.team) == (COMPETITION, ITEM, TEAM)
        assert certificate.unit == UNITS["甲单位" if "甲" in certificate.name[-2:] else "乙单位"]
        assert certificate.honour == (HONOUR if certificate.kind == "honour" else "")
        assert certificate.status == "valid"

    # 甲1 loses the award (theory 80 -> 0, 乙1 70 -> 100): both its certificates are revoked with a
    # reason quoting the longest honour title
    republish_with_marks(pg_url, live, {"甲1": 0, "乙1": 100})
    revoked = {c.kind: c for c in _certificates(pg_url) if c.name == person_name("甲1") and c.status == "revoked"}
    assert revoked["honour"].status_reason == f"成绩公示 v2 更正后不再获得荣誉称号「{HONOUR}」"
    assert revoked["award"].status_reason == "成绩公示 v2 更正后不再获得三等奖"
    assert {c.name for c in _certificates(pg_url) if c.status == "valid" and c.kind == "honour"} == {
        person_name(label) for label in ("甲2", "乙2", "乙1")
    }

    # the verification page shows them (the issuer: the whole competition name and 组委会) and the
    # organizer prints one with the longest honour template
    honour = next(c for c in _certificates(pg_url) if c.status == "valid" and c.kind == "honour")
    with TestClient(app=create_app(_settings(pg_url, tmp_path))) as client:
        page = client.get(f"/verify/{honour.serial}")
        assert page.status_code == 200 and "证书有效" in page.text
        assert f"{COMPETITION}组委会" in page.text and HONOUR in page.text
        login(client, "org")
        pdf = client.get(f"/competitions/{live.competition_id}/certificates/{honour.id}/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text[:300]


@pytest.mark.services
def test_a_correction_of_a_batch_with_the_longest_name_is_named_within_the_column(pg_url, tmp_path) -> None:
    upgrade(pg_url)
    asyncio.run(_create_role_users(pg_url))
    live = seed_live(pg_url)

    async def under_policy(db: Any) -> None:
        await _under_policy(db, live)
        await _score_and_publish(db, live)

    run(pg_url, under_policy)
    close_appeal_window(pg_url, live)
    name = "批" * limits.BATCH_NAME.max
    with TestClient(app=create_app(_settings(pg_url, tmp_path))) as fin, TestClient(app=create_app(_settings(pg_url, tmp_path))) as fin2:
        login(fin, "fin")
        login(fin2, "fin2")
        created = post_form(
            fin,
            "/finance/batches",
            {"name": name, "policy_id": "jinengxingwei-weihai-2021", "period_from": "2026-01-01", "period_to": "2026-12-31"},
        )
        assert created.status_code in (302, 303), created.text[:500]
        batch_id = int(created.headers["location"].rsplit("/", 1)[1])
        for client, path, form in (
            (fin, "compute", {}),
            (fin, "submit", {}),
            (fin2, "approve", {}),
            (fin, "paid", {"paid_on": "2026-12-01"}),
            (fin, "correction", {}),
        ):
            response = post_form(client, f"/finance/batches/{batch_id}/{path}", form)
            assert response.status_code in (302, 303), (path, response.text[:500])
        correction_id = int(response.headers["location"].rsplit("/", 1)[1])

    async def names(db: Any) -> list[str]:
        return [(await db.get(PayoutBatch, i)).name for i in (batch_id, correction_id)]

    original, correction = run(pg_url, names)
    assert original == name
    assert correction == "批" * (limits.BATCH_NAME.max - len("(更正)") - 1) + "…(更正)" and len(correction) == limits.BATCH_NAME.max


def test_fit_keeps_the_distinguishing_part_whole_and_marks_the_cut() -> None:
    field = limits.TextField("名称", 10)
    assert field.fit("短名", "(更正)") == "短名(更正)"
    assert field.fit("一二三四五六", "(更正)") == "一二三四五六(更正)"  # exactly 10: no cut
    assert field.fit("一二三四五六七", "(更正)") == "一二三四五…(更正)"
    assert field.fit("x" * 1000) == "x" * 9 + "…"
    with pytest.raises(ValueError):
        field.fit("名", "(" * 10)
