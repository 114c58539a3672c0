"""An item's status changes: the transition table is domain/lifecycle.py; this applies one to a
stored item, takes the item's next sequence number (boards and consoles follow it) and writes the
audit record, in one transaction. The live console and the results page both move items through here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from contest.audit.service import Actor, record
from contest.db.models import Item
from contest.domain.lifecycle import LifecycleError, next_status
from contest.errors import Conflict


async def next_seq(db: AsyncSession, item_id: int) -> int | None:
    """Take the item's next sequence number (an atomic increment in this transaction); None if no such item."""
    result = await db.execute(update(Item).where(Item.id == item_id).values(seq=Item.seq + 1).returning(Item.seq))
    return result.scalar_one_or_none()


async def transition(db: AsyncSession, actor: Actor, item: Item, name: str, detail: dict[str, Any]) -> int:
    """Apply transition ``name`` to ``item``, audit it and commit; returns the competition to notify."""
    try:
        item.status = next_status(name, item.status)
    except LifecycleError as exc:
        raise Conflict(exc.message, code=exc.code) from None
    seq = await next_seq(db, item.id)
    await record(db, actor, f"item.{name}", "item", item.id, {**detail, "status": item.status, "seq": seq})
    await db.commit()
    return item.competition_id
