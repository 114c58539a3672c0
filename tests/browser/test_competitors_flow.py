"""A competitor on a 390 px phone in real Chromium: looks up their result (refused without the second
factor), downloads their certificate, scans its QR code (rendered from the PDF and decoded here),
sees it verified; after a reopen and republication the same QR code shows it superseded. Then the
organizer switches the second factor to 查询码: the ID ending and a wrong code are refused, the code
(typed as a person might) finds the result. Names, labels and verdicts keep their words whole at
390 px (element by element, as tests/browser/test_board_and_public.py measures the public pages)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.browser.test_board_and_public import _assert_kept_whole
from tests.integration.payout_seed import published_competition, republish_with_marks
from tests.integration.seed import make_id
from tests.unit.test_i18n_python_messages import CJK

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def scan_qr(pdf_bytes: bytes) -> str:
    """What a phone camera reads off the printed certificate: the page as pixels, then the QR code."""
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        image = document[0].render(scale=150 / 72).to_pil()  # 150 dpi, a modest print scan
    finally:
        document.close()
    codes = [code.text for code in zxingcpp.read_barcodes(image) if code.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(codes) == 1, codes
    return codes[0]


def fits_the_screen(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def published(migrated, role_users):
    return published_competition(migrated.database_url)


def test_look_up_download_scan_verify_then_superseded(published, browser, live_server, migrated, tmp_path) -> None:
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True, accept_downloads=True
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"/public/competitions/{published.competition_id}")
        with page.expect_navigation():
            page.click("#my-result-link")
        assert fits_the_screen(page)

        # Without the right second factor: refused, and nothing of the result shows.
        page.fill("input[name=name]", "选手甲1")
        page.fill("input[name=secret]", "0000")
        with page.expect_navigation():
            page.click("#lookup-form button.primary")
        assert "姓名或证件号码后四位不正确" in page.locator(".flash").inner_text()
        assert page.locator("#my-result").count() == 0

        page.fill("input[name=secret]", make_id(100)[-4:])
        with page.expect_navigation():
            page.click("#lookup-form button.primary")
        result = page.locator("#my-result").inner_text()
        for shown in ("理论", "80.00", "实操", "81.00", "80.80", "三等奖", "v1"):
            assert shown in result, shown
        assert "选手甲2" not in page.content()
        assert fits_the_screen(page)
        assert_my_result_kept_whole(page)
        page.screenshot(path=str(tmp_path / "my-result-390.png"), full_page=True)

        with page.expect_download() as info:
            page.click("ul.downloads a")
        target = tmp_path / "certificate.pdf"
        info.value.save_as(target)
        pdf_bytes = target.read_bytes()
        assert pdf_bytes.startswith(b"%PDF")

        url = scan_qr(pdf_bytes)
        assert url.startswith(f"{live_server}/verify/")
        page.goto(url)
        assert page.locator("#verdict").inner_text().strip() == "证书有效"
        facts = page.locator("dl.facts").inner_text()
        assert "选**1" in facts and "焊工" in facts and "三等奖" in facts and "v1" in facts and "选手甲1" not in facts
        assert fits_the_screen(page)
        _assert_kept_whole(page, "#verdict, dl.facts dt, dl.facts dd:not(.serial)", whole=True)
        _assert_kept_whole(page, "dl.facts dd.serial, .verify h1, .hint", whole=False)
        page.screenshot(path=str(tmp_path / "verify-valid-390.png"), full_page=True)

        # The chief judge reopens, a theory mark is corrected, and the item is published again (v2):
        # 甲1 moves from 3rd to 2nd, so the certificate printed from v1 is superseded.
        # (In a thread of its own: Playwright's sync API keeps an event loop running in this one.)
        with ThreadPoolExecutor(1) as worker:
            worker.submit(republish_with_marks, migrated.database_url, published, {"乙2": 30}).result(timeout=60)
        page.reload()  # a cache may keep the page a few seconds; a reload revalidates it
        assert page.locator("#verdict").inner_text().strip() == "证书已被取代"
        assert "成绩公示 v2" in page.locator(".verdict-note").inner_text()
        _assert_kept_whole(page, "#verdict", whole=True)
        _assert_kept_whole(page, ".verdict-note", whole=False)

        # The same page in English.
        page.goto(f"/lang/en?next=/verify/{url.rsplit('/', 1)[1]}")
        assert page.locator("#verdict").inner_text().strip() == "Certificate superseded"
        assert "Results version" in page.locator("dl.facts").inner_text()
        page.goto(f"/public/competitions/{published.competition_id}/me")
        assert page.locator("h1").inner_text() == "My result"
        assert fits_the_screen(page)
        # A wrong second factor is refused in English too, the factor named in English
        page.fill("input[name=name]", "选手甲1")
        page.fill("input[name=secret]", "0000")
        with page.expect_navigation():
            page.click("#lookup-form button.primary")
        refusal = page.locator(".flash").inner_text()
        assert "The name or “Last four characters of the ID number” is not correct" in refusal and not CJK.search(refusal)
        assert page.locator("#my-result").count() == 0
        assert fits_the_screen(page)
    finally:
        context.close()

    # The organizer chooses 查询码 and prints new slips: 甲1's code (as the slip shows it) replaces the ID ending.
    with ThreadPoolExecutor(1) as worker:
        code = worker.submit(switch_to_access_code, migrated, published.competition_id, "选手甲1").result(timeout=60)
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"/public/competitions/{published.competition_id}/me")
        assert "查询码" in page.locator("#lookup-form").inner_text() and "证件号码后四位" not in page.locator("#lookup-form").inner_text()
        for wrong in (make_id(100)[-4:], "2345-6789"):  # the ID ending no longer works; nor a wrong code
            page.fill("input[name=name]", "选手甲1")
            page.fill("input[name=secret]", wrong)
            with page.expect_navigation():
                page.click("#lookup-form button.primary")
            assert "姓名或查询码不正确" in page.locator(".flash").inner_text(), wrong
            assert page.locator("#my-result").count() == 0
        page.fill("input[name=name]", "选手甲1")
        page.fill("input[name=secret]", code.lower().replace("-", " "))  # typed in lower case, a space for the dash
        with page.expect_navigation():
            page.click("#lookup-form button.primary")
        result = page.locator("#my-result").inner_text()
        for shown in ("选手甲1", "理论", "80.80", "v2"):
            assert shown in result, shown
        assert fits_the_screen(page)
        assert_my_result_kept_whole(page)
    finally:
        context.close()


def assert_my_result_kept_whole(page) -> None:
    _assert_kept_whole(page, ".my-result dt, .my-result dd, .my-item .tag, .downloads a", whole=True)
    _assert_kept_whole(page, ".my-result h2, .my-item h3, .my-item p.muted, .lookup .hint", whole=False)


def switch_to_access_code(settings, competition_id: int, name: str) -> str:
    """As the organizer's desk does: 查询码 chosen, a code issued for ``name``. The session carries the
    app's audit key, as the app's do: the code is stored keyed by it."""
    import asyncio

    from contest.audit.service import Actor
    from contest.competitors import service
    from contest.db.engine import make_engine, make_session_factory
    from contest.events.service import get_competition

    async def work() -> str:
        engine = make_engine(settings.database_url)
        try:
            async with make_session_factory(engine, settings.audit_key)() as db:
                competition = await get_competition(db, competition_id)
                stored = await service.settings_of(db, competition)
                form = service.SettingsForm("access_code", stored.title, stored.award_body, stored.honour_body, stored.issuer, None)
                await service.save_settings(db, Actor.system("test"), competition, form)
                (person,) = await service.competitors_of(db, competition_id, name)
                codes = await service.issue_codes(db, Actor.system("test"), competition_id, [person.id])
                return codes[person.id]
        finally:
            await engine.dispose()

    return asyncio.run(work())
