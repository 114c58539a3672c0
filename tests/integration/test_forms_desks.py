"""Issue 15, the rest of the desks: the appeal and decision forms, the chief console's forms, the
certificate desk and the finance forms keep what was typed after a refusal, with each message
beside its field (and in the summary on top); a saved change says so once; the desk's irreversible
actions ask first, naming the consequence."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from contest.db.models import Appeal
from tests.conftest import post_form
from tests.integration.payout_seed import published_competition
from tests.integration.payout_seed import run as _run


@pytest.fixture
def published(migrated):
    """Published a moment ago (in its appeal window)."""
    return published_competition(migrated.database_url)


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
