"""render(): an HTML page response, whatever the handler's return annotation says.

Handlers that return either a page or a redirect are annotated ``Any``, for which Litestar
defaults to JSON; a Template must therefore say it is HTML.
"""

from __future__ import annotations

from typing import Any

from litestar.enums import MediaType
from litestar.response import Template


def render(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template, context=context, status_code=status_code, media_type=MediaType.HTML)
