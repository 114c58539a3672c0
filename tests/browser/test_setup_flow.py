"""An organizer sets up a competition in real Chromium: sign in, create, add an item, fix a bad scheme."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_organizer_creates_a_competition_an_item_and_a_scheme(page) -> None:
    sign_in(page, "org")
    page.wait_for_url("**/competitions")
    page.fill("input[name=name]", "2026年浏览器测试大赛")
    page.select_option("select[name=level]", "municipal")
    page.click("form[action='/competitions/'] button.primary")
    page.wait_for_url("**/competitions/1")
    assert page.locator("h1").inner_text() == "2026年浏览器测试大赛"

    page.fill("form[action$='/items'] input[name=name]", "焊工")
    page.fill("form[action$='/items'] input[name=skill_code]", "6-18-02-04")
    page.fill("form[action$='/items'] input[name=skill_name]", "焊工")
    page.click("form[action$='/items'] button.primary")
    page.wait_for_url("**/items/1")

    # A scheme whose weights add up to 90 is refused with the reason, in Chinese.
    page.fill("input[name=weight_theory]", "20")
    page.fill("input[name=weight_practical]", "70")
    rows = page.locator("#criteria tr")
    first, second = rows.nth(0), rows.nth(1)
    first.locator("select[name=crit_component]").select_option("theory")
    first.locator("input[name=crit_code]").fill("T1")
    first.locator("input[name=crit_name]").fill("理论考试")
    first.locator("input[name=crit_max]").fill("100")
    second.locator("input[name=crit_code]").fill("P1")
    second.locator("input[name=crit_name]").fill("实操考核")
    second.locator("input[name=crit_max]").fill("100")
    page.click("#scheme button.primary")
    assert "各组成部分权重之和为 90,应为 100" in page.locator(".flash[role=alert]").inner_text()

    # htmx adds a criterion row without a page load.
    before = page.locator("#criteria tr").count()
    page.click("text=添加评分项")
    page.wait_for_function(f"() => document.querySelectorAll('#criteria tr').length === {before + 1}")

    # What the organizer typed survives the refusal: fixing the one weight is enough.
    assert page.locator("input[name=crit_name]").first.input_value() == "理论考试"
    page.fill("input[name=weight_practical]", "80")
    with page.expect_navigation():
        page.click("#scheme button.primary")
    assert page.url.endswith("/items/1#scheme")
    assert page.locator(".flash[role=alert]").count() == 0
    assert page.locator("#flash").inner_text() == "已保存"
    assert page.locator("input[name=weight_practical]").input_value() == "80"
    assert page.locator("input[name=crit_code]").first.input_value() == "T1"


def test_judge_cannot_open_organizer_pages(page) -> None:
    sign_in(page, "judge1")
    page.wait_for_url("**/tablet")
    response = page.goto("/competitions")
    assert response.status == 403
    assert "无权访问" in page.content()
