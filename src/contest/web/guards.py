"""One guard on every route: a handler declares who may use it in ``opt["access"]``.

A handler that declares nothing is refused for everyone, so a forgotten declaration fails
closed (and tests/integration/test_access.py fails).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from contest.domain.roles import CHIEF_JUDGE, FINANCE, JUDGE, ORGANIZER
from contest.domain.text import N_

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
