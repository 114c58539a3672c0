"""Rendered papers kept by what they depend on, and one render for many readers of the same paper.

A paper's PDF is a function of its template (the files under templates/papers/) and its context
(what contest.results.papers reads from the database: the published version, the item's state,
the marks, the audit checkpoint printed). ``render_cached`` hashes exactly that, minus the moment
of printing (``printed_at``: the PDF says when it was generated), and keeps the PDF under
``<var dir>/papers/<hash>.pdf``: a repeat request costs the context's database reads and a file
read, not a render. Anything printed that changes (a republication, a reopen, a mark, a lock, a
renamed competition) changes the hash, so a stale paper cannot be served; files no longer asked for
are pruned, oldest first, beyond ``KEEP`` files.

Readers asking at once for a paper not yet kept wait for the one render in progress (per process);
two processes may each render it once. Papers render one at a time per process (contest.papers.pdf).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from contest.papers import pdf
from contest.resources import templates_dir

KEEP = 200  # PDFs kept at most: the newest by use
UNPRINTED = ("printed_at",)  # context keys that only say when the paper was rendered

_IN_FLIGHT: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Future[bytes]]] = WeakKeyDictionary()


def _templates_stamp() -> list[tuple[str, int, int]]:
    folder = templates_dir() / "papers"
    return sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir() if p.is_file())


def paper_key(template: str, context: Mapping[str, Any]) -> str:
    """The hash of what the PDF of ``template`` with ``context`` depends on."""
    kept = {k: v for k, v in context.items() if k not in UNPRINTED}
    material = json.dumps([template, _templates_stamp(), kept], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # used: pruned last
    return content


def _write(folder: Path, path: Path, content: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    staged = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # score sheets hold names: the operator's only
    with os.fdopen(fd, "wb") as file:
        file.write(content)
    os.replace(staged, path)
    _prune(folder)


def _prune(folder: Path) -> None:
    files = []
    for p in folder.glob("*.pdf"):
        with contextlib.suppress(FileNotFoundError):
            files.append((p.stat().st_mtime_ns, p))
    for _, p in sorted(files, reverse=True)[KEEP:]:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


async def render_cached(folder: Path, template: str, context: Mapping[str, Any]) -> bytes:
    """The PDF of ``template`` with ``context``: kept in ``folder``, or rendered once (concurrent
    callers for the same paper share that render) and kept."""
    key = paper_key(template, context)
    path = folder / f"{key}.pdf"
    kept = await asyncio.to_thread(_read, path)
    if kept is not None:
        return kept
    loop = asyncio.get_running_loop()
    in_flight = _IN_FLIGHT.setdefault(loop, {})
    running = in_flight.get(key)
    if running is None:
        running = loop.create_task(_render_and_keep(folder, path, template, context))
        in_flight[key] = running
        running.add_done_callback(lambda _: in_flight.pop(key, None))
    # shield: a reader who gives up (disconnects) does not cancel the others' render
    return await asyncio.shield(running)


async def _render_and_keep(folder: Path, path: Path, template: str, context: Mapping[str, Any]) -> bytes:
    content = await pdf.render_pdf_off_loop(template, context, lane="sheets")
    await asyncio.to_thread(_write, folder, path, content)
    return content


def renders_in_flight() -> int:
    """Renders this event loop is waiting for (tests)."""
    with contextlib.suppress(RuntimeError):
        return len(_IN_FLIGHT.get(asyncio.get_running_loop(), {}))
    return 0
