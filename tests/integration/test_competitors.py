"""Competitors' own results, certificates and their verification (issue 17), through the pages.

The competition is the payout seed's: scored by the judges' service, locked, revealed, published.
Totals: 甲2 90.00 (1st), 乙2 84.80 (2nd), 甲1 80.80 (3rd), 乙1 62.80 (4th, no award: the
excellence cutoff of 4 entries is 2). Each test starts from a fresh database.
"""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from contest.db.migrate import upgrade
from contest.db.models import AccessCode, Certificate, CompetitorSettings, LookupAttempt, ResultVersion
from contest.domain.certificates import normalise_serial
from tests.conftest import ROLE_USERS, _create_role_users, post_form
from tests.integration.live_seed import Live
from tests.integration.payout_seed import published_competition, republish_with_marks, run
from tests.integration.seed import make_id

ID_TAILS = {"甲1": make_id(100)[-4:], "甲2": make_id(101)[-4:], "乙1": make_id(102)[-4:], "乙2": make_id(103)[-4:]}


@pytest.fixture(scope="module")
def published_template(tmp_path_factory) -> tuple[Path, Live]:
    """The published competition (with the role users), built once: each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("published") / "published.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    asyncio.run(_create_role_users(url))
    return path, published_competition(url)


@pytest.fixture
def migrated(settings, published_template):  # overrides conftest's: a copy of the template
    source, _ = published_template
    target = Path(settings.database_url.removeprefix("sqlite+aiosqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return settings


@pytest.fixture
def role_users(migrated) -> dict[str, str]:  # already in the template
    return dict(ROLE_USERS)


@pytest.fixture
def published(migrated, published_template) -> Live:
    return published_template[1]


def certificates(url: str) -> list[Certificate]:
    async def work(db: Any) -> list[Certificate]:
        return list((await db.execute(select(Certificate).order_by(Certificate.id))).scalars())

    return run(url, work)


def by_holder(url: str) -> dict[tuple[str, str], list[Certificate]]:
    found: dict[tuple[str, str], list[Certificate]] = {}
    for c in certificates(url):
        found.setdefault((c.name, c.honour or c.award), []).append(c)
    return found


def look_up(client, competition_id: int, name: str, secret: str):
    if not client.cookies.get("csrftoken"):
        client.get(f"/public/competitions/{competition_id}/me")  # the form's page sets the CSRF cookie, as in a browser
    return post_form(client, f"/public/competitions/{competition_id}/me", {"name": name, "secret": secret})


def download_links(page: str) -> list[str]:
    return [link.replace("&amp;", "&") for link in re.findall(r'href="(/certificates/[^"]+/pdf\?token=[^"]+)"', page)]


def test_publication_keeps_component_scores_and_issues_one_certificate_per_award(published, migrated) -> None:
    url = migrated.database_url

    async def rows(db: Any) -> list[dict]:
        return (await db.execute(select(ResultVersion.rows))).scalar_one()

    published_rows = {row["names"]: row for row in run(url, rows)}
    jia1 = published_rows["选手甲1"]
    assert [(c["name"], c["weight"], c["score"]) for c in jia1["components"]] == [("理论", "20", "80.00"), ("实操", "80", "81.00")]
    assert jia1["total"] == "80.80" and jia1["place"] == 3 and jia1["people"][0]["name"] == "选手甲1"
    issued = {(c.name, c.award, c.version, c.status) for c in certificates(url)}
    assert issued == {("选手甲2", "一等奖", 1, "valid"), ("选手乙2", "二等奖", 1, "valid"), ("选手甲1", "三等奖", 1, "valid")}
    assert all(normalise_serial(c.serial) == c.serial for c in certificates(url))


def test_a_competitor_sees_their_own_result_only_with_the_second_factor(published, client) -> None:
    refused = look_up(client, published.competition_id, "选手甲1", "0000")
    assert refused.status_code == 403 and "姓名或证件号码后四位不正确" in refused.text
    assert "80.80" not in refused.text and refused.headers["cache-control"] == "private, no-store"
    other_tail = look_up(client, published.competition_id, "选手甲1", ID_TAILS["乙1"])  # someone else's ending
    assert other_tail.status_code == 403
    missing = look_up(client, published.competition_id, "选手甲1", "")
    assert missing.status_code == 422 and "请填写姓名和证件号码后四位" in missing.text

    page = look_up(client, published.competition_id, " 选手甲1 ", ID_TAILS["甲1"])
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    result = page.text[page.text.index('id="my-result"') :]
    for shown in ("理论", "80.00", "实操", "81.00", "80.80", "三等奖", "v1", "公示中"):
        assert shown in result, shown
    assert "/ 4" in result  # place 3 of 4
    for other in ("选手甲2", "选手乙1", "选手乙2", "90.00", "84.80", "62.80"):
        assert other not in page.text, other
    assert make_id(100) not in page.text  # not even their own full 证件号码
    assert len(download_links(page.text)) == 1

    nothing = look_up(client, published.competition_id, "选手乙1", ID_TAILS["乙1"])
    assert nothing.status_code == 200 and "62.80" in nothing.text and download_links(nothing.text) == []


def _shown_errors(page: str) -> list[str]:
    import html

    found = re.search(r'<ul class="errors">(.*?)</ul>', page, re.S)
    assert found is not None, page[:2000]
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


def test_the_public_reads_the_refusals_in_english(published, client, migrated) -> None:
    """Read on a phone in English (cookie lang=en): the look-up and verification refusals, the
    second factor named in English; in Chinese exactly as before."""
    from contest.domain.certificates import encode_serial
    from tests.unit.test_i18n_python_messages import CJK

    client.cookies.set("lang", "en")
    missing = look_up(client, published.competition_id, "选手甲1", "")
    assert missing.status_code == 422
    assert _shown_errors(missing.text) == ["The look-up details are wrong", "Enter your name and “Last four characters of the ID number”"]
    refused = look_up(client, published.competition_id, "选手甲1", "0000")
    assert refused.status_code == 403
    assert _shown_errors(refused.text) == [
        "The name or “Last four characters of the ID number” is not correct (after repeated mistakes, look-ups are paused)"
    ]
    for _ in range(migrated.login_max_failures):
        look_up(client, published.competition_id, "选手甲1", "9999")
    throttled = look_up(client, published.competition_id, "选手甲1", ID_TAILS["甲1"])
    assert throttled.status_code == 429
    (message,) = _shown_errors(throttled.text)
    assert re.fullmatch(r"Too many failed look-ups: try again in \d+ minute\(s\)", message), message
    unknown = client.get(f"/verify/{encode_serial(999)}")
    assert unknown.status_code == 404 and "No certificate has this number: check it and enter it again" in unknown.text
    malformed = client.get("/verify", params={"serial": "not-a-serial"})
    assert malformed.status_code == 422 and "The certificate number is malformed" in malformed.text
    for page in (unknown.text, malformed.text):
        flash = re.search(r'id="verify-error">(.*?)</div>', page, re.S)
        assert flash is not None and not CJK.search(flash.group(1))

    client.cookies.set("lang", "zh")
    again = look_up(client, published.competition_id, "选手甲1", ID_TAILS["甲1"])
    assert again.status_code == 429 and re.fullmatch(r"查询失败次数过多,请 \d+ 分钟后再试", _shown_errors(again.text)[0])
    assert _shown_errors(look_up(client, published.competition_id, "选手乙1", "").text) == ["查询信息有误", "请填写姓名和证件号码后四位"]
    assert "未找到该证书编号:请核对后重新输入" in client.get(f"/verify/{encode_serial(998)}").text


def test_failed_look_ups_are_throttled_in_the_database(published, client, migrated) -> None:
    for _ in range(migrated.login_max_failures):
        assert look_up(client, published.competition_id, "选手甲1", "9999").status_code == 403
    throttled = look_up(client, published.competition_id, "选手甲1", ID_TAILS["甲1"])
    assert throttled.status_code == 429 and "查询失败次数过多" in throttled.text and "80.80" not in throttled.text
    # Another competitor from the same address is not held up by someone else's typos.
    assert look_up(client, published.competition_id, "选手乙2", ID_TAILS["乙2"]).status_code == 200

    async def attempts(db: Any) -> tuple[int, int]:
        failures = (await db.execute(select(func.count()).where(LookupAttempt.success.is_(False)))).scalar_one()
        successes = (await db.execute(select(func.count()).where(LookupAttempt.success.is_(True)))).scalar_one()
        return failures, successes

    assert run(migrated.database_url, attempts) == (migrated.login_max_failures, 1)


def test_many_addresses_cannot_walk_through_the_endings_of_one_name(published, migrated) -> None:
    from contest.accounts.sessions import throttle_of
    from contest.competitors import service

    throttle = throttle_of(migrated)
    subject = f"{published.competition_id}:选手甲1"

    async def spray(db: Any) -> tuple[Any, Any, Any]:
        for n in range(throttle.max_failures * service.SUBJECT_FACTOR):
            await service.note_attempt(db, "lookup", subject, f"10.0.{n // 250}.{n % 250}", False, throttle)
        return (
            await service.throttled_until(db, "lookup", subject, "10.9.9.9", throttle),  # a fresh address: the name waits
            await service.throttled_until(db, "lookup", f"{published.competition_id}:选手乙2", "10.9.9.9", throttle),
            await service.throttled_until(db, "verify", "", "10.9.9.9", throttle),
        )

    name_blocked, other_name, verify = run(migrated.database_url, spray)
    assert name_blocked is not None and other_name is None and verify is None


def test_a_certificate_downloads_through_the_signed_link_only(published, client) -> None:
    from pypdf import PdfReader

    page = look_up(client, published.competition_id, "选手甲1", ID_TAILS["甲1"])
    (link,) = download_links(page.text)
    response = client.get(link)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "private, no-store"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text().replace(" ", "")  # the title is letter-spaced
    for shown in ("荣誉证书", "选手甲1", "焊工", "三等奖", "威海市测试主办单位", "二〇二六年十一月二十二日"):
        assert shown in text, shown
    fonts = {f["/BaseFont"] for page_ in reader.pages for f in _fonts(page_)}
    assert any("Noto-Serif-CJK-SC" in str(f) for f in fonts)
    serial, token = re.match(r"/certificates/([^/]+)/pdf\?token=(.+)", link).groups()  # type: ignore[union-attr]  # no match fails the test here
    expires, mac = token.split(".")
    for bad in (
        f"/certificates/{serial}/pdf",
        f"/certificates/{serial}/pdf?token={int(expires) + 1}.{mac}",
        f"/certificates/{'0' * 26}/pdf?token={token}",
        f"/certificates/{serial}/pdf?token={'9' * 80}",
    ):
        refused = client.get(bad)
        assert refused.status_code == 404 and "下载链接无效或已过期" in refused.text


def _fonts(page: Any) -> list[Any]:
    found = []
    resources = page["/Resources"]
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        descendants = font.get("/DescendantFonts")
        for descendant in descendants.get_object() if descendants else []:
            descriptor = descendant.get_object()["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), "font not embedded"
        found.append(font)
    return found


def test_the_verification_page_is_public_masked_and_cacheable(published, client, migrated) -> None:
    certificate = next(c for c in certificates(migrated.database_url) if c.name == "选手甲1")
    page = client.get(f"/verify/{certificate.serial}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "public, max-age=5, stale-while-revalidate=5" and "Cookie" in page.headers["vary"]
    assert page.headers["etag"] and page.headers["last-modified"]
    same = client.get(f"/verify/{certificate.serial}", headers={"If-None-Match": page.headers["etag"]})
    assert same.status_code == 304 and same.content == b""
    assert "set-cookie" not in page.headers  # no CSRF cookie: a cache may keep the page
    assert "证书有效" in page.text and "选**1" in page.text and "选手甲1" not in page.text
    for shown in ("2026年直播测试大赛", "焊工", "三等奖", "v1", "2026-11-22", "威海市测试主办单位"):
        assert shown in page.text, shown
    typed = client.get(f"/verify/{certificate.serial.lower()[:4]}-{certificate.serial.lower()[4:]}", follow_redirects=False)
    assert typed.status_code in (301, 302) and typed.headers["location"] == f"/verify/{certificate.serial}"
    form = client.get("/verify", params={"serial": certificate.serial.lower()}, follow_redirects=False)
    assert form.headers["location"] == f"/verify/{certificate.serial}"
    assert client.get("/verify", params={"serial": "nonsense"}).status_code == 422
    english = client.get(f"/verify/{certificate.serial}", headers={"accept-language": "en"})
    assert "Certificate valid" in english.text and "Results version" in english.text


def test_unknown_serials_are_throttled_per_address(published, client, migrated) -> None:
    from contest.domain.certificates import encode_serial

    budget = migrated.login_max_failures * 4
    for n in range(budget):
        missing = client.get(f"/verify/{encode_serial(n + 1)}")
        assert missing.status_code == 404 and "未找到该证书编号" in missing.text
    real = certificates(migrated.database_url)[0]
    throttled = client.get(f"/verify/{real.serial}")
    assert throttled.status_code == 429 and "查验次数过多" in throttled.text and throttled.headers["cache-control"] == "private, no-store"


def test_a_republication_supersedes_changed_certificates_and_keeps_unchanged_ones(published, client, migrated) -> None:
    url = migrated.database_url
    before = by_holder(url)
    # 乙2's theory mark was wrong: 60 -> 30; 乙2 falls to 3rd (78.80), 甲1 rises to 2nd.
    republish_with_marks(url, published, {"乙2": 30})
    after = by_holder(url)
    (jia2,) = after[("选手甲2", "一等奖")]
    assert (
        jia2.serial == before[("选手甲2", "一等奖")][0].serial
        and jia2.status == "valid"
        and (jia2.version, jia2.confirmed_version) == (1, 2)
    )
    (old_jia1,) = after[("选手甲1", "三等奖")]
    (new_jia1,) = after[("选手甲1", "二等奖")]
    assert old_jia1.status == "superseded" and old_jia1.status_version == 2
    assert new_jia1.status == "valid" and new_jia1.version == 2 and new_jia1.replaces_id == old_jia1.id
    assert after[("选手乙2", "二等奖")][0].status == "superseded" and after[("选手乙2", "三等奖")][0].status == "valid"

    old = client.get(f"/verify/{old_jia1.serial}").text
    assert "证书已被取代" in old and "成绩公示 v2" in old and new_jia1.serial not in old
    kept = client.get(f"/verify/{jia2.serial}").text
    assert "证书有效" in kept and "v2 复核后未变" in kept
    page = look_up(client, published.competition_id, "选手甲1", ID_TAILS["甲1"])
    assert "二等奖" in page.text and "v2" in page.text and "已修订" in page.text
    (link,) = download_links(page.text)
    assert new_jia1.serial in link


def test_a_correction_that_takes_an_award_away_revokes_its_certificate(published, client, migrated) -> None:
    url = migrated.database_url
    # Theory marks corrected: 甲1 80 -> 0 (64.80) and 乙1 70 -> 100 (68.80): 乙1 is 3rd, 甲1 4th and without an award.
    republish_with_marks(url, published, {"甲1": 0, "乙1": 100})
    (old,) = by_holder(url)[("选手甲1", "三等奖")]
    assert old.status == "revoked" and "v2" in old.status_reason
    page = client.get(f"/verify/{old.serial}").text
    assert "证书已撤销" in page and "成绩公示 v2 更正后不再获得三等奖" in page
    assert by_holder(url)[("选手乙1", "三等奖")][0].status == "valid"


def test_honours_come_with_their_own_certificate_from_the_next_publication(published, judge_client, role_users, migrated) -> None:
    organizer = judge_client(role_users["organizer"])
    desk = f"/competitions/{published.competition_id}/certificates"
    refused = post_form(organizer, f"{desk}/honours", {"title": "威海市技术能手"})
    assert refused.status_code == 422 and "请选择获得该称号的奖项" in refused.text
    added = organizer.post(
        f"{desk}/honours",
        data={"title": "威海市技术能手", "awards": ["first", "second"], "_csrf_token": organizer.cookies.get("csrftoken")},
        follow_redirects=False,
    )
    assert added.status_code == 302
    assert not any(c.honour for c in certificates(migrated.database_url))  # v1 was published before the rule
    republish_with_marks(migrated.database_url, published, {})
    honours = {(c.name, c.honour, c.status) for c in certificates(migrated.database_url) if c.honour}
    assert honours == {("选手甲2", "威海市技术能手", "valid"), ("选手乙2", "威海市技术能手", "valid")}
    batch = organizer.get(f"{desk}/all.pdf")
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(batch.content))
    assert len(reader.pages) == 5  # 3 awards, 2 honours
    assert "被授予“威海市技术能手”称号" in "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    one_item = organizer.get(f"{desk}/all.pdf", params={"item": published.other_item_id})
    assert one_item.status_code == 404  # the other item has no certificates


def test_the_organizer_revokes_a_certificate_with_a_public_reason(published, judge_client, role_users, migrated, client) -> None:
    organizer = judge_client(role_users["organizer"])
    target = certificates(migrated.database_url)[0]
    desk = f"/competitions/{published.competition_id}/certificates"
    before = client.get(f"/verify/{target.serial}")
    assert before.status_code == 200 and "证书有效" in before.text and before.headers["cache-control"].startswith("public")
    assert post_form(organizer, f"{desk}/{target.id}/revoke", {"reason": ""}).status_code == 422
    assert post_form(organizer, f"{desk}/{target.id}/revoke", {"reason": "技" * 201}).status_code == 422
    assert post_form(organizer, f"{desk}/{target.id}/revoke", {"reason": "选手资格审查不合格"}).status_code == 302
    assert post_form(organizer, f"{desk}/{target.id}/revoke", {"reason": "again"}).status_code == 409
    page = client.get(f"/verify/{target.serial}").text
    assert "证书已撤销" in page and "选手资格审查不合格" in page
    # A reader revalidating the valid copy they (or a cache) kept gets the revoked page, not a 304.
    revalidated = client.get(f"/verify/{target.serial}", headers={"If-None-Match": before.headers["etag"]})
    assert revalidated.status_code == 200 and "证书已撤销" in revalidated.text and "证书有效" not in revalidated.text
    assert revalidated.headers["etag"] != before.headers["etag"]
    signed_in = organizer.get(f"/verify/{target.serial}")
    assert signed_in.headers["cache-control"] == "private, no-store" and "证书已撤销" in signed_in.text
    # The competitor no longer gets it either.
    name = target.name.removeprefix("选手")
    found = look_up(client, published.competition_id, target.name, ID_TAILS[name])
    assert download_links(found.text) == []


def test_access_codes_are_exported_with_the_draw_and_replace_the_id_number(published, judge_client, role_users, migrated, client) -> None:
    organizer = judge_client(role_users["organizer"])
    desk = f"/competitions/{published.competition_id}/certificates"
    settings = {
        "lookup_factor": "access_code",
        "title": "荣誉证书",
        "award_body": "{姓名}:荣获{奖项}",
        "honour_body": "{姓名}:{荣誉}",
        "issuer": "",
        "issue_date": "",
    }
    assert post_form(organizer, f"{desk}/settings", settings).status_code == 302
    exported = post_form(organizer, f"{desk}/codes")
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(exported.content))
    assert sorted(archive.namelist()) == ["准考证.pdf", "抽签对照表与查询码.xlsx"]
    book = load_workbook(io.BytesIO(archive.read("抽签对照表与查询码.xlsx")))
    codes = {}
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[2][-1] == "查询码"
        codes.update({row[2]: row[-1] for row in rows[3:]})
    assert set(codes) == {"选手甲1", "选手甲2", "选手乙1", "选手乙2", "电工选手"} and all(
        re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", c) for c in codes.values()
    )

    async def stored(db: Any) -> list[str]:
        return list((await db.execute(select(AccessCode.code_hash))).scalars())

    hashes = run(migrated.database_url, stored)
    assert len(hashes) == 5 and not any(code.replace("-", "") in h for code in codes.values() for h in hashes)
    from pypdf import PdfReader

    slips = "".join(p.extract_text() for p in PdfReader(io.BytesIO(archive.read("准考证.pdf"))).pages).replace(" ", "")
    assert codes["选手甲1"] in slips and "准考证" in slips and make_id(100) not in slips

    assert look_up(client, published.competition_id, "选手甲1", ID_TAILS["甲1"]).status_code == 403  # the ID ending no longer works
    assert look_up(client, published.competition_id, "选手甲2", codes["选手甲1"]).status_code == 403  # nor someone else's code
    found = look_up(client, published.competition_id, "选手甲1", codes["选手甲1"].lower().replace("-", " "))
    assert found.status_code == 200 and "80.80" in found.text

    reissued = post_form(organizer, f"{desk}/codes/person", {"id_number": make_id(100)})
    new_code = re.search(r'id="new-code">[^<]*<strong class="mono">([^<]+)</strong>', reissued.text).group(1)  # type: ignore[union-attr]  # no match fails the test here
    assert new_code != codes["选手甲1"] and reissued.headers["cache-control"] == "private, no-store"
    assert look_up(client, published.competition_id, "选手甲1", codes["选手甲1"]).status_code == 403
    assert look_up(client, published.competition_id, "选手甲1", new_code).status_code == 200
    assert look_up(client, published.competition_id, "选手甲2", codes["选手甲2"]).status_code == 200  # the others keep theirs
    judge = make_id(300, "19700101")
    assert post_form(organizer, f"{desk}/codes/person", {"id_number": judge}).status_code == 404  # not a competitor


def test_a_bad_template_is_refused_and_nothing_changes(published, judge_client, role_users, migrated) -> None:
    organizer = judge_client(role_users["organizer"])
    desk = f"/competitions/{published.competition_id}/certificates"
    bad = {
        "lookup_factor": "access_code",
        "title": "荣誉证书",
        "award_body": "{姓名}荣获{名次}",
        "honour_body": "{姓名",
        "issuer": "",
        "issue_date": "2026-02-30",
    }
    refused = post_form(organizer, f"{desk}/settings", bad)
    assert refused.status_code == 422 and "颁发日期「2026-02-30」不是有效日期" in refused.text
    bad["issue_date"] = ""
    refused = post_form(organizer, f"{desk}/settings", bad)
    assert refused.status_code == 422
    assert "「{名次}」不是可用的占位符" in refused.text and "不成对的花括号" in refused.text
    assert "{姓名}荣获{名次}" in refused.text  # what was typed survives the refusal
    too_long = post_form(organizer, f"{desk}/settings", {**bad, "award_body": "{姓名}" + "技" * 500, "honour_body": "{姓名}"})
    assert too_long.status_code == 422 and "证书正文过长" in too_long.text

    async def stored(db: Any) -> Any:
        return await db.get(CompetitorSettings, published.competition_id)

    assert run(migrated.database_url, stored) is None
    assert "证件号码后四位" in organizer.get(f"/public/competitions/{published.competition_id}/me").text


def test_the_seal_is_checked_re_encoded_and_printed(published, judge_client, role_users, migrated) -> None:
    from tests.unit.test_certificates import picture

    organizer = judge_client(role_users["organizer"])
    desk = f"/competitions/{published.competition_id}/certificates"

    def upload(content: bytes, name: str = "seal.png"):
        return post_form(organizer, f"{desk}/seal", files={"file": (name, content, "image/png")})

    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    refused = upload(svg, "seal.svg")
    assert refused.status_code == 422 and "PNG 或 JPEG" in refused.text
    organizer.cookies.set("lang", "en")
    english = upload(svg, "seal.svg")
    assert english.status_code == 422
    assert "The seal image must be a PNG or JPEG (not SVG, GIF, a web page or any other file)" in english.text
    assert "印章图片应为" not in english.text  # beside the field too: the form macros see the reader's language
    assert re.search(r'id="error-seal-file">The seal image must be a PNG or JPEG', english.text)
    organizer.cookies.set("lang", "zh")
    assert organizer.get(f"{desk}/seal.png").status_code == 404
    jpeg = picture("JPEG")
    assert upload(jpeg, "印章.jpg").status_code == 302
    served = organizer.get(f"{desk}/seal.png")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png" and served.content.startswith(b"\x89PNG")
    assert served.content != jpeg and served.headers["x-content-type-options"] == "nosniff"
    assert upload(b"\x89PNG\r\n\x1a\n" + b"x" * 100).status_code == 422  # a damaged file leaves the seal as it was
    assert organizer.get(f"{desk}/seal.png").content == served.content
    specimen = organizer.get(f"{desk}/specimen.pdf")
    assert specimen.status_code == 200 and b"/Subtype /Image" in specimen.content
    assert post_form(organizer, f"{desk}/seal/delete").status_code == 302
    assert organizer.get(f"{desk}/seal.png").status_code == 404


def test_an_archive_carries_the_certificates_and_the_seal(published, migrated, tmp_path) -> None:
    """`contest export` / `contest import`: certificates keep their serials and states (so printed
    QR codes still verify on the new system), the seal image travels as base64."""
    from click.testing import CliRunner

    from contest.audit.service import Actor
    from contest.cli import main
    from contest.competitors import service
    from contest.competitors.seal import clean_seal
    from contest.db.migrate import upgrade
    from contest.events.service import get_competition
    from tests.unit.test_certificates import picture

    url = migrated.database_url
    republish_with_marks(url, published, {"乙2": 30})
    seal = clean_seal(picture("PNG"))

    async def with_seal(db: Any) -> None:
        await service.save_seal(db, Actor.system("tests"), await get_competition(db, published.competition_id), seal)

    run(url, with_seal)
    target = f"sqlite+aiosqlite:///{tmp_path / 'target.db'}"
    upgrade(target)
    archive = tmp_path / "archive.json"
    env = {"CONTEST_VAR_DIR": str(tmp_path)}
    exported = CliRunner().invoke(
        main, ["export", str(published.competition_id), "--out", str(archive)], env={**env, "CONTEST_DATABASE_URL": url}
    )
    assert exported.exit_code == 0, exported.output
    imported = CliRunner().invoke(main, ["import", str(archive)], env={**env, "CONTEST_DATABASE_URL": target})
    assert imported.exit_code == 0, imported.output

    def picture_of(database: str) -> tuple[Any, ...]:
        async def work(db: Any) -> tuple[Any, ...]:
            certs = (await db.execute(select(Certificate).order_by(Certificate.serial))).scalars()
            states = [(c.serial, c.name, c.award, c.status, c.version, c.confirmed_version, c.replaces_id is not None) for c in certs]
            stored = (await db.execute(select(CompetitorSettings.seal_png))).scalar_one()
            return states, stored

        return run(database, work)

    before, after = picture_of(url), picture_of(target)
    assert before[0] and after == before and after[1] == seal


def test_access_codes_are_stored_keyed_and_unkeyed_ones_upgraded_on_use(published, judge_client, role_users, migrated, client) -> None:
    """A 查询码 is stored as an HMAC under a key outside the database: the stored value is neither
    the code nor its plain SHA-256. A code stored the old way (before the keyed hash) still works and
    is re-stored keyed by its first successful look-up; a failed one changes nothing."""
    import hashlib
    import hmac

    from contest.audit.service import key_for
    from contest.competitors.service import ACCESS_CODE_KEY_LABEL, code_hash, legacy_code_hash

    organizer = judge_client(role_users["organizer"])
    desk = f"/competitions/{published.competition_id}/certificates"
    settings = {"lookup_factor": "access_code", "title": "荣誉证书", "award_body": "{姓名}:荣获{奖项}", "honour_body": "{姓名}:{荣誉}"}
    assert post_form(organizer, f"{desk}/settings", settings | {"issuer": "", "issue_date": ""}).status_code == 302
    reissued = post_form(organizer, f"{desk}/codes/person", {"id_number": make_id(100)})
    code = re.search(r'id="new-code">[^<]*<strong class="mono">([^<]+)</strong>', reissued.text).group(1)  # type: ignore[union-attr]
    key = key_for(migrated.audit_key, ACCESS_CODE_KEY_LABEL)
    cid = published.competition_id

    async def stored(db: Any) -> dict[int, str]:
        return dict((await db.execute(select(AccessCode.person_id, AccessCode.code_hash))).all())

    ((person_id, value),) = run(migrated.database_url, stored).items()
    plain = hashlib.sha256(f"{cid}:{code.replace('-', '')}".encode()).hexdigest()
    assert value == code_hash(key, cid, code) and value.startswith("hmac:") and len(value) == 48
    assert value != plain and plain == legacy_code_hash(cid, code)
    assert code_hash(hmac.new(b"another key", b"", hashlib.sha256).digest(), cid, code) != value  # the key matters

    async def make_legacy(db: Any) -> None:
        row = (await db.execute(select(AccessCode))).scalar_one()
        row.code_hash = plain
        await db.commit()

    run(migrated.database_url, make_legacy)
    assert look_up(client, cid, "选手甲1", "ABCD-EFGH").status_code == 403  # a wrong code: still the old value
    assert run(migrated.database_url, stored) == {person_id: plain}
    assert look_up(client, cid, "选手甲2", code).status_code == 403  # someone else's name: no upgrade either
    assert run(migrated.database_url, stored) == {person_id: plain}
    found = look_up(client, cid, "选手甲1", code)
    assert found.status_code == 200 and "80.80" in found.text
    assert run(migrated.database_url, stored) == {person_id: code_hash(key, cid, code)}
    assert look_up(client, cid, "选手甲1", code).status_code == 200  # and the upgraded one works
