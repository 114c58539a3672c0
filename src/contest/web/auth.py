"""Resolve the signed-in user from the session cookie, once per request, from the database."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from contest.accounts.service import user_for_token

SESSION_COOKIE = "contest_session"


class SessionAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        token = connection.cookies.get(SESSION_COOKIE)
        if not token:
            return AuthenticationResult(user=None, auth=None)
        async with connection.app.state.session_factory() as session:
            user = await user_for_token(session, token)
        return AuthenticationResult(user=user, auth=token if user else None)
