"""The appeal form and the certificate desk in real Chromium (issue 15): a refused appeal keeps
what was typed with the message beside its field (focused) and on top, and a saved one says so;
the desk's 撤销证书 and 生成查询码 ask first, naming the consequence (cancel changes nothing,
confirm revokes and says so)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from contest.db.models import AccessCode, Appeal, Certificate
from tests.browser.test_forms_flow import _query
from tests.browser.test_setup_flow import sign_in
from tests.integration.payout_seed import published_competition

pytestmark = pytest.mark.browser


@pytest.fixture
def published(migrated, role_users):
    """Published a moment ago: in its appeal window, certificates issued."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(published_competition, migrated.database_url).result(timeout=120)


def test_a_refused_appeal_keeps_what_was_typed_with_the_error_beside_the_field(published, page, migrated) -> None:
    sign_in(page, "org")
    page.wait_for_url("**/competitions")
    page.goto(f"/items/{published.item_id}/results")
    station = str(published.stations["甲1"])
    form = page.locator("#new-appeal")
    form.locator("input[name=appellant]").fill("甲单位领队")
    form.locator("select[name=station]").select_option(station)
    form.locator("textarea[name=content]").fill("   ")  # blank once trimmed: the server refuses it
    with page.expect_navigation():
        form.locator("button.primary").click()

    content = page.locator("#new-appeal textarea[name=content]")
    assert content.get_attribute("aria-invalid") == "true"
    beside = page.locator("#error-new-appeal-content")
    assert beside.inner_text() == "申诉须以书面形式提出:请填写申诉内容"
    assert content.evaluate("(t) => t.parentElement.contains(document.getElementById('error-new-appeal-content'))")
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'content'")
    assert "请填写申诉内容" in page.locator("#form-errors").inner_text()  # and on top
    assert page.locator("#new-appeal input[name=appellant]").input_value() == "甲单位领队"
    assert page.locator("#new-appeal input[name=appellant]").get_attribute("aria-invalid") is None
    assert page.locator("#new-appeal select[name=station]").input_value() == station
    assert _query(migrated.database_url, select(Appeal)) == []

    content.fill("对 T1 的测量分有异议")
    with page.expect_navigation():
        page.locator("#new-appeal button.primary").click()
    assert page.locator("#flash").inner_text() == "已登记申诉"
    assert page.locator("#new-appeal input[name=appellant]").input_value() == ""  # a fresh form
    [appeal] = _query(migrated.database_url, select(Appeal))
    assert (appeal.appellant, appeal.station_no, appeal.content) == ("甲单位领队", int(station), "对 T1 的测量分有异议")


def test_the_desk_asks_before_revoking_a_certificate_and_before_new_codes(published, page, migrated) -> None:
    sign_in(page, "org")
    page.wait_for_url("**/competitions")
    page.goto(f"/competitions/{published.competition_id}/certificates")
    dialog = page.locator("#confirm-dialog")

    # 生成查询码: names how many; cancel makes none
    page.click("#issue-codes")
    dialog.wait_for(state="visible")
    assert page.locator("#confirm-message").inner_text() == "将为 5 名选手重新生成查询码。"
    page.click("#confirm-cancel")
    dialog.wait_for(state="hidden")
    assert _query(migrated.database_url, select(AccessCode)) == []

    # 撤销证书: names whose certificate and that it is public and final; cancel leaves it valid
    target = _query(migrated.database_url, select(Certificate).order_by(Certificate.id))[0]
    row = page.locator(f"#revoke-{target.id}")
    page.locator(f"#revoke-{target.id}").locator("xpath=..").locator("summary").click()
    row.locator("input[name=reason]").fill("资格审查不合格")
    row.locator("button.danger").click()
    dialog.wait_for(state="visible")
    message = page.locator("#confirm-message").inner_text()
    assert message.startswith(f"撤销 {target.name} 的证书 ") and "不能恢复,查验页面将公开显示“已撤销”和撤销原因" in message
    assert "danger" in (page.locator("#confirm-ok").get_attribute("class") or "")
    assert page.locator("#confirm-ok").inner_text() == "撤销证书"
    page.click("#confirm-cancel")
    dialog.wait_for(state="hidden")
    assert _query(migrated.database_url, select(Certificate.status).where(Certificate.id == target.id)) == ["valid"]

    row.locator("button.danger").click()
    dialog.wait_for(state="visible")
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator("#flash").inner_text() == "已撤销证书"
    assert _query(migrated.database_url, select(Certificate.status).where(Certificate.id == target.id)) == ["revoked"]
