"""contest.papers.cache: a paper is kept by what it prints, readers asking at once share one render,
and the kept files are the operator's only and bounded in number."""

from __future__ import annotations

import asyncio
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from contest.papers import cache, pdf


@pytest.fixture
def renders(monkeypatch) -> list[dict[str, Any]]:
    """Replaces WeasyPrint with a slow fake that records what it was asked to render."""
    calls: list[dict[str, Any]] = []
    lock = threading.Lock()

    def fake(template: str, context: Any, assets: Any = None) -> bytes:
        with lock:
            calls.append(dict(context))
        time.sleep(0.2)
        return f"%PDF {template} {context['n']} {context.get('printed_at')}".encode()

    monkeypatch.setattr(pdf, "render_pdf", fake)
    return calls


def test_a_repeat_is_read_back_and_a_change_in_what_is_printed_renders_again(tmp_path: Path, renders) -> None:
    async def scenario() -> list[bytes]:
        first = await cache.render_cached(tmp_path, "papers/score_sheet.html", {"n": 1, "printed_at": "10:00"})
        again = await cache.render_cached(tmp_path, "papers/score_sheet.html", {"n": 1, "printed_at": "10:05"})
        changed = await cache.render_cached(tmp_path, "papers/score_sheet.html", {"n": 2, "printed_at": "10:06"})
        other = await cache.render_cached(tmp_path, "papers/lock_record.html", {"n": 2, "printed_at": "10:07"})
        return [first, again, changed, other]

    first, again, changed, other = asyncio.run(scenario())
    assert first == again == b"%PDF papers/score_sheet.html 1 10:00"  # the moment of printing is not what it depends on
    assert changed == b"%PDF papers/score_sheet.html 2 10:06" and other.startswith(b"%PDF papers/lock_record.html")
    assert [c["n"] for c in renders] == [1, 2, 2]
    kept = list(tmp_path.glob("*.pdf"))
    assert len(kept) == 3 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept)
    assert not list(tmp_path.glob(".*"))  # no staged file left behind


def test_readers_asking_at_once_share_one_render(tmp_path: Path, renders) -> None:
    async def scenario() -> list[bytes]:
        same = [cache.render_cached(tmp_path, "papers/score_sheet.html", {"n": 7, "printed_at": str(i)}) for i in range(6)]
        different = cache.render_cached(tmp_path, "papers/score_sheet.html", {"n": 8, "printed_at": "x"})
        results = await asyncio.gather(*same, different)
        assert cache.renders_in_flight() == 0
        return results

    results = asyncio.run(scenario())
    assert len(set(results[:6])) == 1 and results[6] != results[0]
    assert sorted(c["n"] for c in renders) == [7, 8]  # six readers, one render; the other paper its own


def test_a_reader_who_gives_up_does_not_cancel_the_others_render(tmp_path: Path, renders) -> None:
    async def scenario() -> bytes:
        leaving = asyncio.ensure_future(cache.render_cached(tmp_path, "papers/score_sheet.html", {"n": 3}))
        staying = asyncio.ensure_future(cache.render_cached(tmp_path, "papers/score_sheet.html", {"n": 3}))
        await asyncio.sleep(0.05)
        leaving.cancel()
        return await staying

    assert asyncio.run(scenario()) == b"%PDF papers/score_sheet.html 3 None"
    assert len(renders) == 1 and len(list(tmp_path.glob("*.pdf"))) == 1


def test_a_failed_render_is_not_kept_and_is_tried_again(tmp_path: Path, monkeypatch) -> None:
    attempts = []

    def failing(template: str, context: Any, assets: Any = None) -> bytes:
        attempts.append(1)
        raise RuntimeError("layout failed")

    monkeypatch.setattr(pdf, "render_pdf", failing)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            asyncio.run(cache.render_cached(tmp_path, "papers/score_sheet.html", {"n": 1}))
    assert len(attempts) == 2 and not list(tmp_path.glob("*.pdf"))


def test_only_the_newest_papers_are_kept(tmp_path: Path, renders, monkeypatch) -> None:
    monkeypatch.setattr(cache, "KEEP", 2)

    async def scenario() -> None:
        for n in range(4):
            await cache.render_cached(tmp_path, "papers/score_sheet.html", {"n": n})

    asyncio.run(scenario())
    assert len(list(tmp_path.glob("*.pdf"))) == 2
    assert (tmp_path / f"{cache.paper_key('papers/score_sheet.html', {'n': 3})}.pdf").exists()
    assert not (tmp_path / f"{cache.paper_key('papers/score_sheet.html', {'n': 0})}.pdf").exists()


def test_an_edited_template_is_a_different_paper(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "templates"
    (folder / "papers").mkdir(parents=True)
    sheet = folder / "papers" / "sheet.css"
    sheet.write_text("a {}")
    monkeypatch.setattr(cache, "templates_dir", lambda: folder)
    before = cache.paper_key("papers/score_sheet.html", {"n": 1})
    sheet.write_text("a { color: red }")
    assert cache.paper_key("papers/score_sheet.html", {"n": 1}) != before


def test_render_lanes_are_declared() -> None:
    async def scenario() -> None:
        await pdf.render_pdf_off_loop("papers/score_sheet.html", {}, lane="nowhere")

    with pytest.raises(ValueError, match="unknown render lane"):
        asyncio.run(scenario())
