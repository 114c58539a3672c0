"""A hostile name shows as text, never runs, on every page that shows it: the judge's tablet, the
chief judge's console, the big-screen board and the public results. Names typed on a form or
imported from a roster workbook reach these pages; here they are put straight into the database,
which is what any of those paths ends in. Also: no page breaks the Content-Security-Policy."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from contest.db.models import Competition, Criterion, Item, Person, Unit
from tests.browser.test_live_flow import BIG_SCREEN, TABLET, in_thread, new_tab, shot, sign_in
from tests.integration.live_seed import Live, seed_live
from tests.integration.payout_seed import _score_and_publish
from tests.integration.payout_seed import run as run_in_db

pytestmark = pytest.mark.browser

# Closes the JSON <script> block, opens a script, and tries an attribute handler and markup.
HOSTILE = """x</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"><b>粗</b>'"&"""


@pytest.fixture
def live(migrated) -> Live:
    live = seed_live(migrated.database_url)

    async def rename(db) -> None:
        await db.execute(update(Competition).values(name="赛事" + HOSTILE))
        await db.execute(update(Item).where(Item.id == live.item_id).values(name="赛项" + HOSTILE))
        await db.execute(update(Criterion).values(name="评分项" + HOSTILE))
        await db.execute(update(Unit).where(Unit.name == "甲单位").values(name="单位" + HOSTILE))
        await db.execute(update(Person).where(Person.name == "选手甲1").values(name="选手" + HOSTILE))
        await db.commit()

    run_in_db(migrated.database_url, rename)
    return live


def _watch(page) -> list[str]:
    """Console errors of the page (a refused inline script shows up here)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _assert_inert(page, errors: list[str], must_show: str) -> None:
    assert page.evaluate("window.__pwned") is None, "the hostile name ran as script"
    assert page.locator("img[src=x]").count() == 0 and page.locator("b:text-is('粗')").count() == 0
    assert must_show + HOSTILE in page.inner_text("body")
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_hostile_names_are_text_on_tablet_console_board_and_public_page(live, live_server, browser, migrated) -> None:
    context, tablet = new_tab(browser, live_server, TABLET)
    errors = _watch(tablet)
    sign_in(tablet, "ja")
    tablet.wait_for_url("**/tablet")
    tablet.wait_for_selector("#conn[data-state=connected]")
    tablet.locator(".stations button, .stations .station").first.click()
    tablet.wait_for_selector("#sheet:not([hidden])")
    _assert_inert(tablet, errors, "评分项")
    assert "赛项" + HOSTILE in tablet.inner_text("#item-title") + tablet.inner_text("#item-tabs")
    shot(tablet, "hostile-tablet")
    context.close()

    context, console = new_tab(browser, live_server, TABLET)
    errors = _watch(console)
    sign_in(console, "cj")
    console.goto(f"/chief/items/{live.item_id}")
    _assert_inert(console, errors, "赛项")
    context.close()

    context, board = new_tab(browser, live_server, BIG_SCREEN)
    errors = _watch(board)
    board.goto(f"/board/{live.competition_id}")
    # The competition's name is in the page; the item's arrives with the board's first frame.
    board.wait_for_function("() => document.body.innerText.includes('赛项x</script>')")
    _assert_inert(board, errors, "赛项")
    shot(board, "hostile-board")
    context.close()

    in_thread_publish(migrated.database_url, live)
    context, public = new_tab(browser, live_server, BIG_SCREEN)
    errors = _watch(public)
    public.goto(f"/public/competitions/{live.competition_id}")
    _assert_inert(public, errors, "选手")
    assert "单位" + HOSTILE in public.inner_text("body")
    shot(public, "hostile-public")
    context.close()


def in_thread_publish(url: str, live: Live) -> None:
    """Score, lock, reveal and publish with the real services (off Playwright's event loop)."""
    in_thread(lambda: _publish(url, live))


async def _publish(url: str, live: Live) -> None:
    from contest.db.engine import make_engine, make_session_factory

    engine = make_engine(url)
    async with make_session_factory(engine)() as db:
        await _score_and_publish(db, live)
    await engine.dispose()
