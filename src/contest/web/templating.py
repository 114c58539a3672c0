"""Jinja2 set-up: the language, _() for translation (Jinja's i18n extension over the message
catalogs, contest/i18n.py), masking, labels; shared by every template."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jinja2 import pass_context
from litestar.plugins.jinja import JinjaTemplateEngine

from contest import __version__
from contest.domain import competition as competition_rules
from contest.domain import idcard, limits
from contest.domain.certificates import CertificateStatus
from contest.domain.competition import CATEGORIES, ITEM_STATUSES, LEVELS
from contest.domain.lifecycle import ItemStatus
from contest.domain.payouts import BatchKind, BatchStatus
from contest.domain.results import AppealStatus
from contest.domain.roles import ROLES, SEES_PERSONAL_DATA, Role
from contest.domain.scheme import AGGREGATIONS, COMPONENT_KINDS, CRITERION_KINDS, plain
from contest.domain.text import N_
from contest.i18n import LANGUAGES, pick_language, translate
from contest.web import flash, forms


def _language(ctx: Any) -> str:
    request = ctx.get("request")
    if request is None:
        return "zh"
    return pick_language(request.cookies.get("lang"), request.headers.get("accept-language"))


@pass_context
def _gettext(ctx: Any, text: str) -> str:
    return translate(text, _language(ctx))


@pass_context
def _ngettext(ctx: Any, singular: str, plural: str, n: int) -> str:
    return translate(singular if n == 1 else plural, _language(ctx))


@pass_context
def _translated(ctx: Any, texts: list[str]) -> dict[str, str]:
    """{Chinese: the reader's language} for strings a page script shows (board labels)."""
    language = _language(ctx)
    return {text: translate(text, language) for text in texts}


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


@pass_context
def _form_for(ctx: Any, form_id: str) -> forms.FormState:
    """The state of one form on the page: as typed after a refusal (``posted``), else empty."""
    return forms.form_for(ctx.get("posted"), form_id)


@pass_context
def _flash_message(ctx: Any) -> str:
    """The "已保存" of the redirect that led here, in the reader's language, or ""."""
    request = ctx.get("request")
    message = flash.current(request)
    return translate(message, _language(ctx)) if message else ""


def configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.add_extension("jinja2.ext.i18n")
    # Old-style gettext: _("…%s…") % value, as the templates write it; the result is escaped like any text.
    env.install_gettext_callables(gettext=_gettext, ngettext=_ngettext, newstyle=False)  # type: ignore[attr-defined]  # added to the Environment by the i18n extension at run time
    env.globals.update(
        lang=_current_language,
        form_for=_form_for,
        flash_message=_flash_message,
        translated=_translated,
        LANGUAGES=LANGUAGES,
        ROLES=ROLES,
        LEVELS=LEVELS,
        BOARD_INTERVAL_MIN=competition_rules.BOARD_INTERVAL_MIN,
        BOARD_INTERVAL_MAX=competition_rules.BOARD_INTERVAL_MAX,
        BOARD_INTERVAL_DEFAULT=competition_rules.BOARD_INTERVAL_DEFAULT,
        BOARD_INTERVAL_CHOICES=competition_rules.BOARD_INTERVAL_CHOICES,
        CATEGORIES=CATEGORIES,
        ITEM_STATUSES=ITEM_STATUSES,
        GENDERS=(N_("男"), N_("女")),  # stored as written; shown with _()
        # The vocabularies' enums, for templates to compare with: {% if batch.status == BatchStatus.DRAFT %}
        Role=Role,
        ItemStatus=ItemStatus,
        BatchStatus=BatchStatus,
        BatchKind=BatchKind,
        AppealStatus=AppealStatus,
        CertificateStatus=CertificateStatus,
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
