"""In real Chromium: the organizer picks a judge by name with the keyboard (the htmx typeahead), and
records an appeal choosing a 工位号 from the item's draw; the papers' links open PDFs."""

from __future__ import annotations

import re

import pytest

from contest.events import service as events
from tests.browser.test_setup_flow import sign_in
from tests.integration.live_seed import Live
from tests.integration.payout_seed import published_competition
from tests.integration.seed import ACTOR, make_id, seed
from tests.integration.test_results import run

pytestmark = pytest.mark.browser


def _watch(page) -> list[str]:
    errors: list[str] = []
    # Script errors and failed requests (the favicon is another change's: issue 15, point 9).
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not m.text.startswith("Failed to load") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None)
    return errors


@pytest.fixture
def picker(migrated, role_users) -> dict[str, int]:
    """Seeded before the browser starts (Playwright runs an event loop in this thread)."""
    ids = seed(migrated.database_url)
    newcomer = run(migrated.database_url, lambda db: events.save_person(db, ACTOR, events.PersonForm(make_id(960, "19750101"), "裁判丙")))
    return {**ids, "newcomer": newcomer.id}


@pytest.fixture
def published(migrated, role_users) -> Live:
    return published_competition(migrated.database_url)


def test_a_judge_is_picked_by_name_with_the_keyboard(picker, page, tmp_path) -> None:
    ids = picker
    errors = _watch(page)
    sign_in(page, "org")
    page.wait_for_url("**/competitions")
    page.goto(f"/items/{ids['item_id']}")
    search = page.locator("form.judge-picker input[name=q]")
    search.click()
    page.keyboard.type("裁判")
    matches = page.locator("#judge-matches label.match")
    page.wait_for_function("() => document.querySelectorAll('#judge-matches label.match').length === 3", timeout=20_000)
    page.locator("#judges").screenshot(path=str(tmp_path / "judge-matches.png"))
    texts = matches.all_inner_texts()
    assert any("裁判丙" in t for t in texts) and any("裁判甲" in t for t in texts)
    assert make_id(960, "19750101") not in page.content()  # masked in the list
    assert any(re.search(r"\d{3,4}\*{6,}", t) for t in texts)
    # 裁判长乙 coaches HG004: offered, but disabled with the reason.
    chief = page.locator("#judge-matches label.match", has_text="裁判长乙")
    assert chief.locator("input").is_disabled() and "参赛号「HG004」的教练" in chief.inner_text()

    # Narrow to one person: it is chosen; Tab to the role and the button, Enter assigns.
    search.fill("")
    search.click()
    page.keyboard.type("丙")
    page.wait_for_function("() => document.querySelectorAll('#judge-matches label.match').length === 1", timeout=20_000)
    page.keyboard.press("Tab")  # into the matches
    assert page.evaluate("document.activeElement.name") == "person_id"
    page.keyboard.press("Space")
    assert page.locator("#judge-matches input[name=person_id]").is_checked()
    page.keyboard.press("Tab")  # the role
    assert page.evaluate("document.activeElement.name") == "role"
    page.keyboard.press("Tab")  # the button
    with page.expect_navigation():
        page.keyboard.press("Enter")
    judges = page.locator("#judges table").inner_text()
    assert "裁判丙" in judges
    assert page.locator(f"#judge-matches input[value='{ids['newcomer']}']").count() == 0  # a fresh page
    page.screenshot(path=str(tmp_path / "judge-picker.png"), full_page=True)
    assert errors == []


def test_an_appeal_takes_a_station_from_the_draw(published, page, tmp_path) -> None:
    live = published
    errors = _watch(page)
    sign_in(page, "org")
    page.wait_for_url("**/competitions")
    page.goto(f"/items/{live.item_id}/results")
    station_select = page.locator("select#appeal-station")
    options = station_select.locator("option").evaluate_all("(os) => os.map((o) => o.value)")
    assert sorted(int(v) for v in options if v) == sorted(live.stations.values()) and "" in options
    chosen = live.stations["乙2"]
    page.fill("input[name=appellant]", "乙单位领队")
    page.fill("textarea[name=content]", "对实操评分有异议,申请复核")
    station_select.select_option(str(chosen))
    with page.expect_navigation():
        page.click("form[action$='/results/appeals'] button.primary")
    appeal = page.locator("#appeals .appeal").first.inner_text()
    assert "乙单位领队" in appeal and f"工位号 {chosen}" in appeal
    # The papers' links are there, and the public 成绩公示表 is a PDF.
    links = page.locator("#papers a")
    assert links.count() == 3
    href = page.locator("#papers a", has_text="成绩公示表").get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    page.screenshot(path=str(tmp_path / "appeal-station.png"), full_page=True)
    assert errors == []
