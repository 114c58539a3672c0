"""Finance in real Chromium: published results -> a payout batch -> amounts -> submit -> the creator
is refused approval -> a second finance account approves -> the workbook is downloaded and checked."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.browser.test_setup_flow import sign_in
from tests.integration.payout_seed import ORGANIZER, published_competition
from tests.integration.seed import make_id

pytestmark = pytest.mark.browser


@pytest.fixture
def published(migrated, role_users):  # type: ignore[no-untyped-def]
    """Marks entered through the judges' service, locked, revealed, published; fin2 exists."""
    return published_competition(migrated.database_url)


def test_finance_flow_down_to_the_downloaded_workbook(published, page, browser, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "fin")
    page.wait_for_load_state()
    page.goto("/finance")
    page.fill("input[name=name]", "2026年市赛奖励")
    page.select_option("select[name=policy_id]", "jinengxingwei-weihai-2021")
    page.fill("input[name=period_from]", "2026-01-01")
    page.fill("input[name=period_to]", "2026-12-31")
    with page.expect_navigation():
        page.click("form[action='/finance/batches'] button.primary")
    assert "/finance/batches/" in page.url
    batch_url = page.url
    assert page.locator("#batch-status").inner_text() == "草稿"

    with page.expect_navigation():
        page.click("form[action$='/compute'] button")
    assert page.locator("#batch-status").inner_text() == "已计算"
    lines = page.locator("#lines").inner_text()
    assert "选手甲2" in lines and make_id(101) in lines  # finance sees the full 证件号码
    assert "肆仟伍佰元整" in lines  # 2,000 + 1,500 + 1,000 (the floors)

    # an amount under its floor is refused, in Chinese, and nothing changes
    page.fill("input[name='amount:municipal-class1-1st']", "1999")
    with page.expect_navigation():
        page.click("form[action$='/settings'] button.primary")
    assert "低于下限(不低于 2,000.00 元)" in page.locator(".flash").inner_text()
    page.goto(batch_url)
    assert "肆仟伍佰元整" in page.locator("#lines").inner_text()
    page.fill("input[name='amount:municipal-class1-1st']", "2500")
    with page.expect_navigation():
        page.click("form[action$='/settings'] button.primary")
    assert "伍仟元整" in page.locator("#lines").inner_text()

    with page.expect_navigation():
        page.click("form[action$='/submit'] button")
    assert page.locator("#batch-status").inner_text() == "待审批"
    with page.expect_navigation():
        page.click("form[action$='/approve'] button")
    assert "审批人不能是本批次的创建人" in page.locator(".flash").inner_text()

    approver = browser.new_context(base_url=live_server, locale="zh-CN")
    try:
        tab = approver.new_page()
        tab.set_default_timeout(10_000)
        sign_in(tab, "fin2")
        tab.wait_for_load_state()
        tab.goto(batch_url)
        with tab.expect_navigation():
            tab.click("form[action$='/approve'] button")
        assert tab.locator("#batch-status").inner_text() == "已审批"
        assert tab.locator("form[action$='/compute']").count() == 0  # frozen: no recompute offered
    finally:
        approver.close()

    page.goto(batch_url)
    with page.expect_download() as info:
        page.click("#download-workbook")
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    book = load_workbook(target)
    summary = [tuple(row) for row in book["汇总"].iter_rows(values_only=True)]
    assert any(row[0] == ORGANIZER and row[1] == 3 and row[2] == 5000 and row[3] == "伍仟元整" for row in summary)
    assert any(row[0] == "合计" and row[3] == "伍仟元整" for row in summary)
    payer_sheets = [name for name in book.sheetnames if name not in ("汇总", "未发放", "非现金奖励")]
    assert len(payer_sheets) == 1
    rows = [tuple(row) for row in book[payer_sheets[0]].iter_rows(values_only=True)]
    assert rows[1] == ("序号", "姓名", "证件号码", "选送单位", "赛事", "赛项", "成绩", "奖励对象", "金额", "说明", "签字")
    paid = {(row[1], row[2], row[7], row[8]) for row in rows[2:-1]}
    assert paid == {("选手甲2", make_id(101), "选手", 2500), ("选手乙2", make_id(103), "选手", 1500),
                    ("选手甲1", make_id(100), "选手", 1000)}
    assert rows[-1][8] == 5000 and rows[-1][9] == "伍仟元整"
    assert all("威人社字〔2021〕16号" in row[9] for row in rows[2:-1])  # every line carries its basis

    with page.expect_navigation():
        page.click("form[action$='/paid'] button.primary")
    assert page.locator("#batch-status").inner_text() == "已发放"
    page.goto("/finance/ledger")
    assert page.locator("table tbody tr").count() == 3
