"""Dependencies: one short database session per request, the signed-in user."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar import Request
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from contest.accounts.service import CurrentUser
from contest.audit.service import Actor


async def provide_db(state: State) -> AsyncGenerator[AsyncSession, None]:
    """Services commit explicitly; whatever is left uncommitted is rolled back on close."""
    async with state.session_factory() as session:
        yield session


def provide_actor(request: Request) -> Actor:
    user: CurrentUser | None = request.scope.get("user")
    device = request.headers.get("user-agent", "")[:200]
    if user is None:
        return Actor(user_id=None, username="anonymous", device=device)
    return Actor(user_id=user.id, username=user.username, device=device)
