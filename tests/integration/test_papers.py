"""Printed papers (docs/papers.md): the 成绩公示表, the 评分汇总表 and the chief judge's lock record, as
PDFs read back to text; who may print which; and a long list's pages, headers and page numbers."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from contest.audit.service import head_at
from contest.papers import pdf
from tests.conftest import post_form
from tests.integration.live_seed import Live, seed_live
from tests.integration.seed import make_id
from tests.integration.test_live_flow import score_everything
from tests.integration.test_results import run


@pytest.fixture
def live(migrated) -> Live:
    return seed_live(migrated.database_url)


def pages_of(content: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(content))
    return [page.extract_text() for page in reader.pages]


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def checkpoint(url: str, action: str, item_id: int):
    return run(url, lambda db: head_at(db, action, "item", item_id))


def test_papers_follow_the_item_and_print_what_was_signed(judge_client, client, live, migrated, role_users) -> None:
    organizer = judge_client(role_users["organizer"])
    chief = judge_client("cj")
    judge = judge_client("ja")
    sheet = f"/items/{live.item_id}/papers/results-sheet.pdf"
    scores = f"/items/{live.item_id}/papers/score-sheet.pdf"
    lock_record = f"/items/{live.item_id}/papers/lock-record.pdf"

    # Before anything is published or locked: nothing to post, no lock to file; the score sheet is a draft.
    assert organizer.get(sheet).status_code == 409
    assert chief.get(lock_record).status_code == 409
    score_everything(judge_client, live)
    draft = squeezed(" ".join(pages_of(chief.get(scores).content)))
    assert "未锁定" in draft and "选手甲1" not in draft  # blind until the reveal: stations only

    assert post_form(chief, f"/chief/items/{live.item_id}/lock").status_code == 302
    lock_head = checkpoint(migrated.database_url, "item.lock", live.item_id)
    assert lock_head is not None

    # The lock record: who signed, when, how many marks, the checkpoint the lock left.
    response = chief.get(lock_record)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "private, no-store"
    text = squeezed(" ".join(pages_of(response.content)))
    expected = ("裁判长锁定记录", "焊工", "裁判cj", "20条", "锁定并签字", lock_head.mac, f"第{lock_head.records}条记录", "裁判长（签字）")
    for shown in (*expected, f"key_id{lock_head.key_id}"):  # key_id: what a checkpoint file needs besides the MAC
        assert shown in text, shown

    # The score sheet: every judge's marks by seat, names on the signature lines, totals, the checkpoint.
    text_pages = pages_of(organizer.get(scores).content)
    text = squeezed(" ".join(text_pages))
    shown_on_sheet = ("评分汇总表", "裁判1", "裁判2", "裁判3", "裁判ja", "裁判jb", "裁判jc", "裁判长", "签字", "总分", lock_head.mac)
    for shown in (*shown_on_sheet, f"key_id{lock_head.key_id}"):
        assert shown in text, shown
    for station in live.stations.values():
        assert re.search(rf"(?<![0-9]){station}(?![0-9])", text), station
    assert "未锁定" not in text
    assert "第1页共" in text

    assert post_form(chief, f"/chief/items/{live.item_id}/reveal").status_code == 302
    contact = "大赛仲裁组:一号楼 201 室,电话 0631-5201234"
    competition = {"name": "2026年直播测试大赛", "year": "2026", "level": "municipal", "category": "1", "show_provisional": "1"}
    saved = post_form(organizer, f"/competitions/{live.competition_id}", {**competition, "appeal_hours": "2", "appeal_contact": contact})
    assert saved.status_code in (302, 303)
    assert post_form(organizer, f"/items/{live.item_id}/publish").status_code == 302
    assert contact in client.get(f"/public/competitions/{live.competition_id}").text  # the public page says whom to appeal to
    publish_head = checkpoint(migrated.database_url, "item.publish", live.item_id)
    assert publish_head is not None

    # The 成绩公示表 is public once published: names and units as the public page shows them, no ID numbers.
    for reader in (organizer, judge, client):  # client: not signed in
        response = reader.get(sheet)
        assert response.status_code == 200, reader
    text = squeezed(" ".join(pages_of(response.content)))
    for shown in (
        "成绩公示表",
        "2026年直播测试大赛",
        "焊工",
        "选手甲1",
        "选手乙2",
        "甲单位",
        "乙单位",
        "公示期",
        "申诉",
        "申诉受理：" + squeezed(contact),
        "v1",
        "实操",
        "总分",
        "奖项",
        "裁判长（签字）",
        "（盖章）",
        publish_head.mac,
        f"key_id{publish_head.key_id}",
        "第1页共1页",
    ):
        assert shown in text, shown
    assert not any(make_id(100 + i) in text for i in range(4))
    # The competition's sheet holds every published item (only 焊工 here).
    whole = squeezed(" ".join(pages_of(organizer.get(f"/competitions/{live.competition_id}/papers/results-sheet.pdf").content)))
    assert "选手甲1" in whole and "电工选手" not in whole
    # After the reveal the score sheet names the entries.
    assert "选手甲1" in squeezed(" ".join(pages_of(organizer.get(scores).content)))


def test_who_may_print_the_score_sheet_and_the_lock_record(judge_client, client, live, role_users) -> None:
    paths = [f"/items/{live.item_id}/papers/score-sheet.pdf", f"/items/{live.item_id}/papers/lock-record.pdf"]
    judge = judge_client("ja")
    other_chief = judge_client(role_users["chief_judge"])  # a chief judge, not of this item
    for path in paths:
        assert judge.get(path).status_code == 403
        assert other_chief.get(path).status_code == 403
    assert judge_client("cj").get(paths[0]).status_code == 200
    assert judge_client(role_users["organizer"]).get(paths[0]).status_code == 200
    assert judge.get(f"/items/{live.other_item_id}/papers/results-sheet.pdf").status_code == 409  # not published
    assert judge.get("/items/99999/papers/results-sheet.pdf").status_code == 404
    anonymous = client.get(paths[0], follow_redirects=False)  # not signed in: to the login page
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/login")


def test_a_long_results_sheet_repeats_its_header_and_numbers_its_pages() -> None:
    rows = [
        {
            "place": i + 1,
            "station": i + 1,
            "names": f"长名单选手{i + 1:03d}",
            "unit": "某某市高级技工学校" if i % 2 else "某某集团有限公司第二分公司",
            "scores": {"theory": "88.50", "practical": "90.25"},
            "total": "89.90",
            "award": "一等奖" if i < 3 else "",
        }
        for i in range(160)
    ]
    section = {
        "item": "焊工",
        "skill_code": "6-18-02-04",
        "version": 2,
        "revised": True,
        "reason": "工位 12 分数录入错误",
        "published_at": "2026-11-22 16:00",
        "deadline": "2026-11-22 18:00",
        "final": False,
        "components": [{"kind": "theory", "name": "理论", "weight": "20"}, {"kind": "practical", "name": "实操", "weight": "80"}],
        "rows": rows,
        "awards": [("一等奖", 3)],
        "checkpoint": {"records": 812, "last_id": 812, "mac": "ab" * 32, "at": "2026-11-22 16:00", "key_id": "0123456789abcdef"},
    }
    context = {
        "competition": {"name": "2026年测试市职业技能大赛", "organizer": "测试市人社局", "appeal_hours": 2, "appeal_contact": ""},
        "sections": [section],
        "printed_at": "2026-11-22 16:05",
    }
    pages = pages_of(pdf.render_pdf("papers/results_sheet.html", context))
    assert 4 <= len(pages) <= 8  # 160 rows, about 30-40 a page
    total = len(pages)
    for number, page in enumerate(pages, start=1):
        text = squeezed(page)
        assert f"第{number}页共{total}页" in text
        assert "名次工位号姓名选送单位" in text  # the header row, on every page
    everything = squeezed(" ".join(pages))
    assert all(f"长名单选手{i + 1:03d}" in everything for i in range(160))  # no row lost at a break
    assert "修订原因" in everything and "v2" in everything and "ab" * 32 in everything


def test_papers_are_rendered_once_per_state_and_the_public_sheet_is_cacheable(
    judge_client, client, live, migrated, role_users, monkeypatch
) -> None:
    """A repeat costs no render (the PDF is kept under the var dir by what it prints); a lock or a
    publication changes what is printed, so the next request renders again. The public 成绩公示表 is
    shared-cacheable for an anonymous reader, with an ETag a revalidation gets a 304 for."""
    rendered: list[str] = []
    real = pdf.render_pdf

    def counting(template: str, context, assets=None) -> bytes:
        rendered.append(template)
        return real(template, context, assets)

    monkeypatch.setattr(pdf, "render_pdf", counting)
    organizer = judge_client(role_users["organizer"])
    chief = judge_client("cj")
    scores = f"/items/{live.item_id}/papers/score-sheet.pdf"
    sheet = f"/items/{live.item_id}/papers/results-sheet.pdf"
    score_everything(judge_client, live)

    first, again = chief.get(scores), organizer.get(scores)
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert rendered == ["papers/score_sheet.html"] and again.headers["cache-control"] == "private, no-store"
    assert len(list((migrated.var_dir / "papers").glob("*.pdf"))) == 1

    assert post_form(chief, f"/chief/items/{live.item_id}/lock").status_code == 302
    locked = chief.get(scores)
    assert len(rendered) == 2 and locked.content != first.content  # the lock is printed on it
    assert "未锁定" not in squeezed(" ".join(pages_of(locked.content)))

    assert post_form(chief, f"/chief/items/{live.item_id}/reveal").status_code == 302
    assert post_form(organizer, f"/items/{live.item_id}/publish").status_code == 302
    public = client.get(sheet)
    assert public.status_code == 200 and public.headers["content-type"] == "application/pdf"
    assert public.headers["cache-control"].startswith("public, max-age=") and public.headers["etag"]
    assert "set-cookie" not in public.headers
    for _ in range(3):
        assert client.get(sheet).content == public.content
    revalidated = client.get(sheet, headers={"If-None-Match": public.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert organizer.get(sheet).headers["cache-control"] == "private, no-store"  # a signed-in reader's copy
    assert rendered.count("papers/results_sheet.html") == 1
