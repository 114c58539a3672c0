"""The tablet's offline shell: a service worker that keeps the page and its assets on the tablet.

The worker is served at /tablet-sw.js (so its scope can cover /tablet) from static/js/tablet-sw.js
with two things filled in: its version, which is the app version and a hash of every static file
and of the templates the tablet page is built from, so any change on the server gives the browser
a new worker (and a fresh cache); and the list of assets the tablet page references, read from
those templates, so an asset added to the page is cached without editing the worker.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re

from contest import __version__
from contest.resources import static_dir, templates_dir

STATIC = static_dir()
TEMPLATES = (templates_dir() / "base.html", templates_dir() / "live" / "tablet.html")
WORKER = STATIC / "js" / "tablet-sw.js"
ASSET = re.compile(r"""(?:src|href)="(/static/[^"?#]+)""")


@functools.cache
def tablet_version() -> str:
    """``<app version>+<10 hex>``: changes whenever a static file or the tablet's templates change."""
    digest = hashlib.sha256()
    for path in sorted(p for p in STATIC.rglob("*") if p.is_file()) + list(TEMPLATES):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:10]}"


@functools.cache
def tablet_assets() -> tuple[str, ...]:
    found: list[str] = []
    for template in TEMPLATES:
        for url in ASSET.findall(template.read_text(encoding="utf-8")):
            if url not in found and (STATIC / url.removeprefix("/static/")).is_file():
                found.append(url)
    return tuple(found)


@functools.cache
def service_worker() -> str:
    source = WORKER.read_text(encoding="utf-8")
    return source.replace('"__VERSION__"', json.dumps(tablet_version())).replace('["__ASSETS__"]', json.dumps(list(tablet_assets())))
