"""Jinja2 set-up: the language, _() for translation, masking, labels; shared by every template."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jinja2 import pass_context
from litestar.plugins.jinja import JinjaTemplateEngine

from contest import __version__
from contest.domain import idcard, limits
from contest.domain.competition import CATEGORIES, ITEM_STATUSES, LEVELS
from contest.domain.roles import ROLES, SEES_PERSONAL_DATA
from contest.domain.scheme import AGGREGATIONS, COMPONENT_KINDS, CRITERION_KINDS, plain
from contest.web.i18n import LANGUAGES, pick_language, translate


def _language(ctx: Any) -> str:
    request = ctx.get("request")
    if request is None:
        return "zh"
    return pick_language(request.cookies.get("lang"), request.headers.get("accept-language"))


@pass_context
def _translate(ctx: Any, text: str) -> str:
    return translate(text, _language(ctx))


@pass_context
def _current_language(ctx: Any) -> str:
    return _language(ctx)


@pass_context
def _id_number(ctx: Any, number: str | None) -> str:
    """Full 证件号码 for organizers and finance, masked for everyone else (and the public)."""
    request = ctx.get("request")
    user = request.scope.get("user") if request is not None else None
    if user is not None and user.role in SEES_PERSONAL_DATA:
        return number or ""
    return idcard.mask(number)


def configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.globals.update(
        _=_translate,
        lang=_current_language,
        LANGUAGES=LANGUAGES,
        ROLES=ROLES,
        LEVELS=LEVELS,
        CATEGORIES=CATEGORIES,
        ITEM_STATUSES=ITEM_STATUSES,
        COMPONENT_KINDS=COMPONENT_KINDS,
        CRITERION_KINDS=CRITERION_KINDS,
        AGGREGATIONS=AGGREGATIONS,
        LIMITS=limits,
        VERSION=__version__,  # maxlength="{{ LIMITS.UNIT_NAME.max }}": forms say the same maximum as the column
        FIELD_LABELS={"total": "总分", "place": "名次", "award": "奖项", "entry": "参赛单元"},
    )
    env.filters["id_number"] = _id_number
    env.filters["mask_id"] = idcard.mask
    env.filters["plain"] = lambda d: "" if d is None else plain(d) if isinstance(d, Decimal) else str(d)
