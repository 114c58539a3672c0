"""Finance in real Chromium: published results -> a payout batch -> amounts (a refused amount keeps
what was typed) -> submit -> the creator is refused approval -> a second finance account approves ->
the workbook is downloaded and checked as a finance office would print it -> paid -> the ledger."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.browser.test_setup_flow import sign_in
from tests.integration.payout_seed import ORGANIZER, close_appeal_window, published_competition
from tests.integration.seed import make_id

pytestmark = pytest.mark.browser


@pytest.fixture
def published(migrated, role_users):
    """Marks entered through the judges' service, locked, revealed, published, the appeal window
    passed; fin2 exists."""
    live = published_competition(migrated.database_url)
    close_appeal_window(migrated.database_url, live)
    return live


def test_finance_flow_down_to_the_downloaded_workbook(published, page, browser, live_server, tmp_path) -> None:
    sign_in(page, "fin")
    page.wait_for_load_state()
    page.goto("/finance")
    # the name is left blank: the batch is named by policy, year and date
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

    assert "技能兴威行动:重要赛事奖励 2026年度第1批" in page.locator("h1").inner_text()
    # an amount under its floor is refused, in Chinese, naming the field and keeping what was typed
    page.fill("input[name='amount:municipal-class1-1st']", "1999")
    with page.expect_navigation():
        page.click("form[action$='/settings'] button.primary")
    assert "低于下限(不低于 2,000.00 元)" in page.locator(".flash").inner_text()
    refused = page.locator("input[name='amount:municipal-class1-1st']")
    assert refused.input_value() == "1999" and refused.get_attribute("aria-invalid") == "true"
    page.goto(batch_url)
    assert "肆仟伍佰元整" in page.locator("#lines").inner_text()
    page.fill("input[name='amount:municipal-class1-1st']", "2500")
    with page.expect_navigation():
        page.click("form[action$='/settings'] button.primary")
    assert "伍仟元整" in page.locator("#lines").inner_text()

    with page.expect_navigation():
        page.click("form[action$='/submit'] button")
    assert page.locator("#batch-status").inner_text() == "待审批"
    # the creator is not offered approval: the button is disabled, with the reason beside it
    assert page.locator("#approve-button").is_disabled()
    assert "审批人不能是本批次的创建人" in page.locator("#approve-button-why").inner_text()

    approver = browser.new_context(base_url=live_server, locale="zh-CN")
    try:
        tab = approver.new_page()
        tab.set_default_timeout(10_000)
        sign_in(tab, "fin2")
        tab.wait_for_load_state()
        tab.goto(batch_url)
        tab.click("form[action$='/approve'] button")
        tab.locator("#confirm-dialog").wait_for(state="visible")
        assert "审批通过后发放行冻结" in tab.locator("#confirm-message").inner_text()
        with tab.expect_navigation():
            tab.click("#confirm-ok")
        assert tab.locator("#flash").inner_text() == "已审批通过"
        assert tab.locator("#batch-status").inner_text() == "已审批"
        assert tab.locator("form[action$='/compute']").count() == 0  # frozen: no recompute offered
    finally:
        approver.close()

    page.goto(batch_url)
    assert "缺少收款信息" in page.locator("#missing-payees").inner_text()
    page.screenshot(path=str(tmp_path / "batch.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#download-workbook")
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    book = load_workbook(target)
    assert book.sheetnames == ["汇总", "发放依据", ORGANIZER, f"代发-{ORGANIZER}"]  # nothing excluded, no honours: no empty sheets
    sheet = book[ORGANIZER]
    assert (sheet.page_setup.orientation, sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == ("landscape", 1, 0)
    assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页" and sheet.protection.sheet  # approved: protected
    rows = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    header = next(i for i, row in enumerate(rows) if row[0] == "序号")
    assert sheet.print_title_rows == f"${header + 1}:${header + 1}"
    assert rows[header][:9] == ("序号", "姓名", "证件号码", "选送单位", "赛事", "赛项", "成绩", "奖励对象", "金额")
    paid = {(row[1], row[2], row[7], row[8]) for row in rows[header + 1 :] if isinstance(row[0], int)}
    assert paid == {
        ("选手甲2", make_id(101), "选手", 2500),
        ("选手乙2", make_id(103), "选手", 1500),
        ("选手甲1", make_id(100), "选手", 1000),
    }
    total = next(row for row in rows if row[0] == "合计")
    assert total[8] == 5000 and "伍仟元整" in total[2]
    texts = [c for row in rows for c in row if isinstance(c, str)]
    assert "批准人:财务审批人" in texts and any(t.startswith("制表人:") for t in texts)  # names for the sign-off
    summary = [tuple(row) for row in book["汇总"].iter_rows(values_only=True)]
    assert any(row[1] == ORGANIZER and row[2] == 3 and row[3] == 5000 and row[4] == "伍仟元整" for row in summary)

    page.click("form[action$='/paid'] button.primary")
    page.locator("#confirm-dialog").wait_for(state="visible")
    assert "写入发放台账,不能撤销" in page.locator("#confirm-message").inner_text()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator("#batch-status").inner_text() == "已发放"
    page.goto("/finance/ledger")
    ledger = page.locator("#ledger tbody")
    assert ledger.locator("tr").count() == 3 and "选手甲2" in ledger.inner_text()
    assert "市级一类职业技能竞赛项目第1名" in ledger.inner_text()
