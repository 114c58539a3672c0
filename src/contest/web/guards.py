"""One guard on every route: a handler declares who may use it in ``opt["access"]``.

A handler that declares nothing is refused for everyone, so a forgotten declaration fails
closed (and tests/integration/test_access.py fails).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from contest.domain.limits import ID_MAX, TextField, control_problem
from contest.domain.roles import CHIEF_JUDGE, FINANCE, JUDGE, ORGANIZER
from contest.domain.text import N_, Text
from contest.errors import ContestError

PUBLIC = "public"
ANY_USER = "any_user"


def access(*who: str) -> dict[str, Any]:
    """``opt=access(ORGANIZER)``, ``opt=access(PUBLIC)`` or ``opt=access(ANY_USER)``."""
    return {"access": frozenset(who)}


ORGANIZERS = access(ORGANIZER)
JUDGES = access(JUDGE, CHIEF_JUDGE)
CHIEF_JUDGES = access(CHIEF_JUDGE)
FINANCE_DESK = access(FINANCE, ORGANIZER)
FINANCE_ONLY = access(FINANCE)  # payout writes: organizers may only view
EVERYONE = access(PUBLIC)
SIGNED_IN = access(ANY_USER)


def access_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    allowed = handler.opt.get("access")
    if not allowed:
        raise PermissionDeniedException(N_("该页面未声明访问权限"))
    if PUBLIC in allowed:
        return
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException("请先登录")
    if ANY_USER in allowed or user.role in allowed:
        return
    raise PermissionDeniedException(N_("您的角色无权访问此页面"))


# ------------------------------------------------------------------ parameters

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _int_query_names(handler: BaseRouteHandler) -> tuple[str, ...]:
    """The handler's query parameters declared as ``int`` (or ``int | None``), read once per handler."""
    names = handler.opt.get("_int_query")
    if names is None:
        names = tuple(
            name
            for name, field in handler.parsed_fn_signature.parameters.items()
            if (field.is_subclass_of(int) and not field.is_subclass_of(bool)) or any(t.annotation is int for t in field.inner_types)
        )
        handler.opt["_int_query"] = names
    return names


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _int_out_of_range(text: str) -> bool:
    """An integer however many digits (Litestar takes any, and also a float with an integral value
    such as "-4094102755216026.0" or "1e12"), outside 1..ID_MAX; compared as a Decimal, so a
    megabyte of digits or a huge exponent is never turned into an int."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return False  # not a number: Litestar refuses it with its 400
    value = Decimal(text)
    return value == value.to_integral_value() and not 1 <= value <= ID_MAX


async def parameter_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """One check for every route, before any query runs (PostgreSQL would answer 500 to both):

    - an id in the path (or an ``int`` query parameter such as ``?batch=``) outside 1..ID_MAX
      names no row: 404, the same as a missing row, whatever the database;
    - a NUL character (or another control character in a path segment) is in no text we keep:
      404 in the path, 400 naming the field in a query parameter or a submitted form. Other control
      characters in form text are refused by the field's declaration (limits.TextField.problem).
    """
    for value in connection.path_params.values():
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and not 1 <= value <= ID_MAX:
            raise NotFoundException()
        if isinstance(value, str) and control_problem(value, "路径"):
            raise NotFoundException()
    query = connection.query_params
    for name in _int_query_names(handler):
        if any(_int_out_of_range(v) for v in query.getall(name, [])):
            raise NotFoundException()
    for name, value in query.multi_items():
        if "\x00" in name or "\x00" in value:
            raise ContestError(_nul(Text("参数 {name}", name=_shown(name))), code="control_character")
    if not isinstance(connection, Request):  # a websocket: no body
        return
    if connection.method not in ("POST", "PUT", "PATCH") or not connection.content_type[0].startswith(_FORM_TYPES):
        return
    form = await connection.form()
    described = getattr(getattr(handler, "operation_class", None), "form_fields", {})
    for name, value in form.multi_items():
        text = value.filename if isinstance(value, UploadFile) else value
        if "\x00" in name or (isinstance(text, str) and "\x00" in text):
            field = described.get(name)
            what = Text(field.label) if isinstance(field, TextField) else _shown(name)
            raise ContestError(_nul(what), code="control_character")


def _shown(name: str) -> str:
    """A parameter's name as a message may quote it: the NUL made visible, at most 40 characters."""
    return name.replace("\x00", "\\0")[:40]


def _nul(what: str) -> Text:
    return Text("“{name}”含有不允许的控制字符 U+0000(NUL),请删除后重试", name=what)
