"""Who is asking: the session cookie, resolved to the signed-in user once per request (from the
database, so every server process agrees), the audit actor it makes, and the sign-in throttle."""

from __future__ import annotations

from datetime import timedelta

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from contest.accounts.service import CurrentUser, Throttle, user_for_token
from contest.audit.service import Actor
from contest.settings import Settings

SESSION_COOKIE = "contest_session"


class SessionAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        token = connection.cookies.get(SESSION_COOKIE)
        if not token:
            return AuthenticationResult(user=None, auth=None)
        async with connection.app.state.session_factory() as session:
            user = await user_for_token(session, token)
        return AuthenticationResult(user=user, auth=token if user else None)


def session_cookie(settings: Settings, token: str) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.session_days * 86400,
        path="/",
    )


def throttle_of(settings: Settings) -> Throttle:
    return Throttle(settings.login_max_failures, timedelta(minutes=settings.login_window_minutes))


def provide_actor(request: Request) -> Actor:
    user: CurrentUser | None = request.scope.get("user")
    device = request.headers.get("user-agent", "")[:200]
    if user is None:
        return Actor(user_id=None, username="anonymous", device=device)
    return Actor(user_id=user.id, username=user.username, device=device)
