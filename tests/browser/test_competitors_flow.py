"""A competitor on a 390 px phone in real Chromium: looks up their result (refused without the second
factor), downloads their certificate, scans its QR code (rendered from the PDF and decoded here),
sees it verified; after a reopen and republication the same QR code shows it superseded."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.payout_seed import published_competition, republish_with_marks
from tests.integration.seed import make_id

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
        page.screenshot(path=str(tmp_path / "verify-valid-390.png"), full_page=True)

        # The chief judge reopens, a theory mark is corrected, and the item is published again (v2):
        # 甲1 moves from 3rd to 2nd, so the certificate printed from v1 is superseded.
        # (In a thread of its own: Playwright's sync API keeps an event loop running in this one.)
        with ThreadPoolExecutor(1) as worker:
            worker.submit(republish_with_marks, migrated.database_url, published, {"乙2": 30}).result(timeout=60)
        page.reload()  # a cache may keep the page a few seconds; a reload revalidates it
        assert page.locator("#verdict").inner_text().strip() == "证书已被取代"
        assert "成绩公示 v2" in page.locator(".verdict-note").inner_text()

        # The same page in English.
        page.goto(f"/lang/en?next=/verify/{url.rsplit('/', 1)[1]}")
        assert page.locator("#verdict").inner_text().strip() == "Certificate superseded"
        assert "Results version" in page.locator("dl.facts").inner_text()
        page.goto(f"/public/competitions/{published.competition_id}/me")
        assert page.locator("h1").inner_text() == "My result"
        assert fits_the_screen(page)
    finally:
        context.close()
