"""Dependencies: one short database session per request."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession


async def provide_db(state: State) -> AsyncGenerator[AsyncSession, None]:
    """Services commit explicitly; whatever is left uncommitted is rolled back on close."""
    async with state.session_factory() as session:
        yield session
