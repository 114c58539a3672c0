"""Every write that matters is recorded here, in the caller's transaction.

Each record carries the hash of its predecessor, so a deleted or edited record breaks the chain
(`contest audit verify`). ID numbers never go into audit detail: people are referred to by id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from contest.db.models import AuditRecord, utcnow

# Arbitrary constant: the advisory lock that serialises audit appends on PostgreSQL.
_AUDIT_LOCK_KEY = 727_001


@dataclass(frozen=True)
class Actor:
    """Who did it: a user (id and username), or the system (a CLI command, an import)."""

    user_id: int | None
    username: str
    device: str = ""

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        return cls(user_id=None, username=what, device="cli")


def _digest(prev_hash: str, at: datetime, actor: Actor, action: str, entity: str, entity_id: str, detail: dict) -> str:
    payload = json.dumps(
        {
            "prev": prev_hash,
            "at": at.isoformat(),
            "actor_id": actor.user_id,
            "actor": actor.username,
            "device": actor.device,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "detail": detail,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _normalise(detail: dict[str, Any]) -> dict[str, Any]:
    # Round-trip through JSON so the hash is computed over exactly what the database stores.
    return json.loads(json.dumps(detail, ensure_ascii=False, default=str))


@dataclass(frozen=True)
class AuditEntry:
    """One record to append: who did what to which entity, with what detail."""

    actor: Actor
    action: str
    entity: str
    entity_id: object = ""
    detail: dict[str, Any] | None = None


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object = "",
    detail: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record. Call inside the transaction of the change it describes."""
    (entry,) = await record_many(session, [AuditEntry(actor, action, entity, entity_id, detail)])
    return entry


async def record_many(session: AsyncSession, entries: list[AuditEntry]) -> list[AuditRecord]:
    """`append_records` on an async session."""
    return await session.run_sync(append_records, entries)


def append_records(session: Session, entries: list[AuditEntry]) -> list[AuditRecord]:
    """Append records in order, chained to the last one (read once). Call inside the transaction of
    the changes they describe."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
    else:
        # SQLite: flushing our pending writes first takes the database's write lock, so no other
        # writer can append between our read of the last hash and our insert.
        session.flush()
    prev_hash = session.execute(select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)).scalar() or ""
    records = []
    for entry in entries:
        at = utcnow()
        actor = Actor(entry.actor.user_id, entry.actor.username, entry.actor.device[:200])  # hashed as stored
        clean = _normalise(entry.detail or {})
        entity_id = str(entry.entity_id)
        digest = _digest(prev_hash, at, actor, entry.action, entry.entity, entity_id, clean)
        records.append(
            AuditRecord(
                at=at,
                actor_id=actor.user_id,
                actor=actor.username,
                device=actor.device,
                action=entry.action,
                entity=entry.entity,
                entity_id=entity_id,
                detail=clean,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        prev_hash = digest
    session.add_all(records)
    return records


@dataclass(frozen=True)
class ChainProblem:
    record_id: int
    problem: str


async def verify_chain(session: AsyncSession) -> tuple[int, list[ChainProblem]]:
    """Check every record's hash and link. Returns (records checked, problems found)."""
    problems: list[ChainProblem] = []
    prev_hash = ""
    prev_id = 0
    count = 0
    result = await session.stream_scalars(select(AuditRecord).order_by(AuditRecord.id))
    async for rec in result:
        count += 1
        if rec.prev_hash != prev_hash:
            problems.append(ChainProblem(rec.id, f"记录 {rec.id} 的前序哈希不符:记录 {prev_id} 之后的记录缺失或被改动"))
        actor = Actor(rec.actor_id, rec.actor, rec.device)
        expected = _digest(rec.prev_hash, rec.at, actor, rec.action, rec.entity, rec.entity_id, rec.detail)
        if rec.hash != expected:
            problems.append(ChainProblem(rec.id, f"记录 {rec.id} 的内容与哈希不符:已被篡改"))
        prev_hash = rec.hash
        prev_id = rec.id
    return count, problems
