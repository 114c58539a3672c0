"""Organizer pages in real Chromium (issue 15): a refused 新建赛事 keeps what was typed with the
error beside its field; a save says so once; the QR regeneration asks first, naming how many
printed codes die (cancel changes nothing, confirm regenerates); a refused action's button is
disabled with its reason; a draft item is deleted after the confirmation; no page asks for a
missing favicon."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from contest.db.engine import make_engine, make_session_factory
from contest.db.models import Item, LoginLink
from tests.browser.test_setup_flow import sign_in
from tests.integration.seed import seed

pytestmark = pytest.mark.browser


def in_thread(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine off Playwright's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result(timeout=60)


def _query(url: str, statement: Any) -> list[Any]:
    async def run() -> list[Any]:
        engine = make_engine(url)
        try:
            async with make_session_factory(engine)() as db:
                return list((await db.execute(statement)).scalars())
        finally:
            await engine.dispose()

    return in_thread(run)


@pytest.fixture
def seeded(migrated, role_users) -> dict[str, int]:
    """A competition with an item (4 entries) whose judge and chief judge have accounts."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(
            seed, migrated.database_url, judge_username=role_users["judge"], chief_username=role_users["chief_judge"]
        ).result(timeout=60)


def watch_for_missing(page) -> list[str]:
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    return missing


def test_a_refused_competition_keeps_what_was_typed_and_a_save_says_so_once(page, tmp_path) -> None:
    missing = watch_for_missing(page)
    sign_in(page, "org")
    page.wait_for_url("**/competitions")
    form = page.locator("#new-competition form")
    form.locator("input[name=name]").fill("2026年表单浏览器测试大赛")
    form.locator("select[name=level]").select_option("provincial")
    form.locator("input[name=organizer]").fill("测试主办单位")
    form.locator("input[name=start_date]").fill("2026-06-10")
    form.locator("input[name=end_date]").fill("2026-06-01")
    with page.expect_navigation():
        form.locator("button.primary").click()

    # the error is beside the end date, the field is marked and focused, the rest is as typed
    end = page.locator("#new-competition input[name=end_date]")
    assert end.get_attribute("aria-invalid") == "true"
    beside = page.locator("#error-new-competition-end_date")
    assert beside.inner_text() == "结束日期不能早于开始日期"
    assert end.evaluate("(input) => input.parentElement.contains(document.getElementById('error-new-competition-end_date'))")
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'end_date'")
    assert "结束日期不能早于开始日期" in page.locator("#new-competition .flash[role=alert]").inner_text()  # and on top
    assert page.locator("#new-competition input[name=name]").input_value() == "2026年表单浏览器测试大赛"
    assert page.locator("#new-competition select[name=level]").input_value() == "provincial"
    assert page.locator("#new-competition input[name=organizer]").input_value() == "测试主办单位"
    assert page.locator("#new-competition input[name=start_date]").input_value() == "2026-06-10"
    assert end.input_value() == "2026-06-01"
    page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)

    end.fill("2026-06-12")
    with page.expect_navigation():
        page.locator("#new-competition button.primary").click()
    assert page.locator("h1").inner_text() == "2026年表单浏览器测试大赛"
    assert page.locator("#flash").inner_text() == "已创建赛事"
    page.reload()
    assert page.locator("#flash").count() == 0  # once

    # the edit form: a save says 已保存
    page.click("#edit-competition summary")
    page.locator("#edit-competition input[name=organizer]").fill("另一主办单位")
    with page.expect_navigation():
        page.locator("#edit-competition button.primary").click()
    assert page.locator("#flash").inner_text() == "已保存"
    page.goto("/units")
    assert page.locator("#flash").count() == 0

    # no page asked for something missing, the favicon included; the favicon itself is there
    assert missing == []
    status = page.evaluate("() => fetch('/favicon.ico').then((r) => r.status)")
    assert status == 200
    assert page.locator("link[rel=icon]").get_attribute("href") == "/favicon.ico"


def test_regenerating_qr_codes_asks_first_naming_the_printed_codes(seeded, page, migrated) -> None:
    sign_in(page, "org")
    page.wait_for_url("**/competitions")
    page.goto(f"/competitions/{seeded['competition_id']}")
    # first time: nothing printed yet
    page.click("#judge-links-form button")
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert page.locator("#confirm-message").inner_text() == "将为 2 名裁判重新生成登录二维码。"
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator(".qr").count() == 2
    first = {link.token_hash for link in _query(migrated.database_url, select(LoginLink))}
    assert len(first) == 2

    page.goto(f"/competitions/{seeded['competition_id']}")
    page.click("#judge-links-form button")
    dialog.wait_for(state="visible")
    message = page.locator("#confirm-message").inner_text()
    assert "已打印的 2 张二维码将失效" in message
    assert "danger" in (page.locator("#confirm-ok").get_attribute("class") or "")
    assert page.locator("#confirm-ok").inner_text() == "重新生成"
    page.click("#confirm-cancel")
    dialog.wait_for(state="hidden")
    assert page.url.endswith(f"/competitions/{seeded['competition_id']}")
    assert {link.token_hash for link in _query(migrated.database_url, select(LoginLink))} == first  # unchanged

    # Escape cancels too
    page.click("#judge-links-form button")
    dialog.wait_for(state="visible")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert {link.token_hash for link in _query(migrated.database_url, select(LoginLink))} == first

    page.click("#judge-links-form button")
    dialog.wait_for(state="visible")
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert "已为 2 名裁判生成新的登录二维码" in page.locator("#links-issued").inner_text()
    second = {link.token_hash for link in _query(migrated.database_url, select(LoginLink))}
    assert len(second) == 2 and not second & first


def test_a_refused_action_is_disabled_with_its_reason_and_a_draft_item_is_deleted(seeded, page, migrated) -> None:
    sign_in(page, "org")
    page.wait_for_url("**/competitions")
    page.goto(f"/items/{seeded['item_id']}")
    button = page.locator("#delete-item-button")
    assert button.is_disabled()
    why = page.locator("#delete-item-button-why")
    assert why.is_visible() and why.inner_text() == "该赛项已有 4 个参赛单元,不能删除:参赛名单来自导入"
    assert button.get_attribute("title") == why.inner_text()
    # it looks disabled: faded
    assert float(button.evaluate("(b) => getComputedStyle(b).opacity")) < 0.9
    competition = page.locator("#delete-competition-button")
    page.goto(f"/competitions/{seeded['competition_id']}")
    assert competition.is_disabled() and "请先删除赛项" in page.locator("#delete-competition-button-why").inner_text()

    # a new draft item: nothing depends on it, so it may go
    new = page.locator("#new-item form")
    new.locator("input[name=name]").fill("草稿赛项")
    new.locator("input[name=skill_code]").fill("X-01")
    new.locator("input[name=skill_name]").fill("草稿")
    with page.expect_navigation():
        new.locator("button.primary").click()
    assert page.locator("#flash").inner_text() == "已创建赛项"
    draft_url = page.url
    assert page.locator("#delete-item-button").is_enabled() and page.locator("#delete-item-button-why").count() == 0

    page.click("#delete-item-button")
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert "删除赛项「草稿赛项」,不能恢复" in page.locator("#confirm-message").inner_text()
    page.click("#confirm-cancel")
    dialog.wait_for(state="hidden")
    assert page.url == draft_url
    assert len(_query(migrated.database_url, select(Item).where(Item.name == "草稿赛项"))) == 1

    page.click("#delete-item-button")
    dialog.wait_for(state="visible")
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.url.endswith(f"/competitions/{seeded['competition_id']}")
    assert page.locator("#flash").inner_text() == "已删除赛项「草稿赛项」"
    assert _query(migrated.database_url, select(Item).where(Item.name == "草稿赛项")) == []


def test_the_dialog_also_guards_an_htmx_request(page) -> None:
    """An htmx element with data-confirm waits for the same dialog (htmx:confirm): cancel sends
    nothing, confirm sends the request."""
    sign_in(page, "org")
    page.wait_for_url("**/competitions")
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate(
        """() => {
            const button = document.createElement("button");
            button.id = "htmx-probe";
            button.setAttribute("hx-get", "/favicon.ico?probe=1");
            button.setAttribute("hx-swap", "none");
            button.dataset.confirm = "探测:确认后才发送";
            document.querySelector("main").append(button);
            window.htmx.process(button);
        }"""
    )
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "probe=1" in request.url else None)
    page.click("#htmx-probe")
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert page.locator("#confirm-message").inner_text() == "探测:确认后才发送"
    page.click("#confirm-cancel")
    dialog.wait_for(state="hidden")
    page.click("#htmx-probe")
    dialog.wait_for(state="visible")
    with page.expect_request(lambda request: "probe=1" in request.url):
        page.click("#confirm-ok")
    assert len(sent) == 1  # the cancelled click sent nothing
