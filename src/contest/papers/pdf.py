"""The one way the product prints paper: a Jinja template under templates/papers/ rendered to PDF
by WeasyPrint, with the CJK fonts of Debian's fonts-noto-cjk embedded (subset) in the file.

Certificates (获奖证书) and admission slips (准考证) print here; so will the 成绩公示表 and the
评分汇总表. What a paper needs besides its text (QR codes, the seal image) is handed over as
``assets`` and referenced as ``asset:NAME`` from the template: the renderer fetches nothing else,
no file, no network address, whatever a template or a value in it says.

Rendering is CPU work (0.1-0.3 s a page): ``render_pdf_off_loop`` runs it in a worker thread, one
render at a time per process and lane (sheets, the rest), so the event loop keeps acknowledging
judges' marks meanwhile. The sheets are kept once rendered (contest.papers.cache).
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from contest.resources import templates_dir

if TYPE_CHECKING:
    from anyio import CapacityLimiter

# WeasyPrint reports every rendering step at INFO: not news in the server's log.
logging.getLogger("weasyprint").setLevel(logging.WARNING)
logging.getLogger("fontTools").setLevel(logging.WARNING)

# The families the paper stylesheets name; fonts-noto-cjk provides them (.ci/run installs it).
CJK_FONTS = ("Noto Serif CJK SC", "Noto Sans CJK SC")

_environment: Environment | None = None


def environment() -> Environment:
    """Templates under templates/papers/, escaped as HTML; a missing value is an error, not a blank."""
    global _environment
    if _environment is None:
        _environment = Environment(
            loader=FileSystemLoader(str(templates_dir())),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _environment


def qr_svg(url: str) -> bytes:
    """A QR code of ``url`` as SVG (vector: sharp at any print size), error correction M."""
    buffer = io.BytesIO()
    # A white quiet zone of two modules inside the image: the paper around it may be tinted.
    segno.make(url, error="m", micro=False).save(buffer, kind="svg", scale=4, border=2, dark="#000", light="#fff")
    return buffer.getvalue()


def render_html(template: str, context: Mapping[str, Any]) -> str:
    return environment().get_template(template).render(**context)


def render_pdf(template: str, context: Mapping[str, Any], assets: Mapping[str, tuple[bytes, str]] | None = None) -> bytes:
    """The PDF of ``template`` (a path under templates/, e.g. "papers/certificate.html").

    ``assets``: name -> (content, media type), e.g. {"seal": (png, "image/png")}, referenced in the
    template as ``asset:seal``.
    """
    from weasyprint import HTML

    html = render_html(template, context)
    return HTML(string=html, base_url="asset:/", url_fetcher=_fetcher(assets or {})).write_pdf()


def _fetcher(assets: Mapping[str, tuple[bytes, str]]) -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AssetsOnly(URLFetcher):
        """Serves ``asset:NAME`` from the given assets and refuses every other URL."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            name = url.removeprefix("asset:").lstrip("/")
            if not url.startswith("asset:") or name not in assets:
                raise ValueError(f"papers fetch nothing but their assets: {url[:80]!r}")
            content, media_type = assets[name]
            return URLFetcherResponse(url, content, {"Content-Type": media_type})

    return AssetsOnly(fail_on_errors=False)


# One render at a time per event loop (per process in production) and lane, like the Excel parser.
# Two lanes: the sheets (a 300-entry 评分汇总表 takes several seconds) and everything else
# (certificates, admission slips: a fraction of a second a page), so a long sheet does not hold up
# a competitor's certificate; at most two renders share the process's CPU with the event loop.
LANES = ("sheets", "other")
_RENDER_SLOTS: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, CapacityLimiter]] = WeakKeyDictionary()


def _slots(lane: str) -> CapacityLimiter:
    from anyio import CapacityLimiter

    if lane not in LANES:
        raise ValueError(f"unknown render lane {lane!r}")
    loop = asyncio.get_running_loop()
    lanes = _RENDER_SLOTS.setdefault(loop, {})
    if lane not in lanes:
        lanes[lane] = CapacityLimiter(1)
    return lanes[lane]


async def render_pdf_off_loop(
    template: str, context: Mapping[str, Any], assets: Mapping[str, tuple[bytes, str]] | None = None, lane: str = "other"
) -> bytes:
    """``render_pdf`` in a worker thread, one at a time per ``lane``. ``context`` must be plain data
    (nothing tied to a database session)."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(render_pdf, template, context, assets, limiter=_slots(lane))
