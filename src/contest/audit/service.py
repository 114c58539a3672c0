"""Every write that matters is recorded here, in the caller's transaction.

Each record carries a MAC (HMAC-SHA256) over its content and its predecessor's MAC, under a key
kept outside the database (CONTEST_AUDIT_KEY or <var dir>/audit_key): whoever can only write to
the database can neither edit nor remove a record, nor recompute the chain, without
`contest audit verify` naming the record; cutting records off the end shows against a checkpoint
(`contest audit checkpoint`). What this does and does not protect against: docs/security.md.
ID numbers never go into audit detail: people are referred to by id.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from contest.audit.chain import SEAL_ACTION, Checkpoint, Mac, legacy_digest, payload
from contest.db.models import AuditRecord, utcnow

# The key a session's records are signed with travels in session.info (create_app and the CLI put
# settings.audit_key there); sessions made without it use the key of the environment's settings.
AUDIT_KEY_INFO = "audit_key"

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


@functools.lru_cache(maxsize=1)
def _environment_key() -> str:
    from contest.settings import Settings

    return Settings.from_env().audit_key


@functools.lru_cache(maxsize=8)
def _mac_for_key(key: str) -> Mac:
    return Mac(key)


def mac_of(session: Session | AsyncSession) -> Mac:
    """The MAC of the key this session's records are signed with."""
    return _mac_for_key(session.info.get(AUDIT_KEY_INFO) or _environment_key())


@functools.lru_cache(maxsize=16)
def key_for(audit_key: str, label: str) -> bytes:
    """The key for ``label`` derived from ``audit_key``: HMAC-SHA256(audit_key, "contest/" + label)."""
    return hmac.new(audit_key.encode(), f"contest/{label}".encode(), hashlib.sha256).digest()


def derived_key(session: Session | AsyncSession, label: str) -> bytes:
    """A key for another purpose (``label``), derived from the audit key (HMAC-SHA256 of the label):
    kept outside the database like it, and unrelated to the chain's MACs and to other labels."""
    return key_for(session.info.get(AUDIT_KEY_INFO) or _environment_key(), label)


def _payload_of(rec: AuditRecord) -> bytes:
    return payload(rec.prev_hash, rec.at, rec.actor_id, rec.actor, rec.device, rec.action, rec.entity, rec.entity_id, rec.detail)


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
    mac = mac_of(session)
    records = []
    for entry in entries:
        at = utcnow()
        actor = Actor(entry.actor.user_id, entry.actor.username, entry.actor.device[:200])  # hashed as stored
        clean = _normalise(entry.detail or {})
        entity_id = str(entry.entity_id)
        digest = mac(payload(prev_hash, at, actor.user_id, actor.username, actor.device, entry.action, entry.entity, entity_id, clean))
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
    record_id: int  # the record that is wrong (0: the chain as a whole, or the checkpoint)
    problem: str


@dataclass(frozen=True)
class ChainHead:
    """The chain's head: how many records, and the last one's id and MAC. Printed on result pages
    (and by the chief judge's lock): a later `contest audit verify` against it shows any change."""

    records: int
    last_id: int
    mac: str
    at: datetime | None
    key_id: str = ""  # which key made the MAC (printed beside it: a checkpoint file needs it)


async def chain_head(session: AsyncSession) -> ChainHead:
    """The current head of the audit chain (records 0, mac "" for an empty chain)."""
    records = (await session.execute(select(func.count()).select_from(AuditRecord))).scalar_one()
    newest = select(AuditRecord.id, AuditRecord.hash, AuditRecord.at).order_by(AuditRecord.id.desc()).limit(1)
    last = (await session.execute(newest)).first()
    key_id = mac_of(session).key_id
    return ChainHead(records, last.id, last.hash, last.at, key_id) if last else ChainHead(0, 0, "", None, key_id)


async def head_at(session: AsyncSession, action: str, entity: str, entity_id: object) -> ChainHead | None:
    """The chain's head as the latest ``action`` on the entity left it (its record is the head then):
    printed with the chief judge's signature on a lock, so the lock can be checked against it."""
    newest = (
        select(AuditRecord.id, AuditRecord.hash, AuditRecord.at)
        .where(AuditRecord.action == action, AuditRecord.entity == entity, AuditRecord.entity_id == str(entity_id))
        .order_by(AuditRecord.id.desc())
        .limit(1)
    )
    found = (await session.execute(newest)).first()
    if found is None:
        return None
    position = (await session.execute(select(func.count()).select_from(AuditRecord).where(AuditRecord.id <= found.id))).scalar_one()
    return ChainHead(position, found.id, found.hash, found.at, mac_of(session).key_id)


async def verify_chain(session: AsyncSession, checkpoint: Checkpoint | None = None) -> tuple[int, list[ChainProblem]]:
    """Check every record's MAC and link, and the chain against a checkpoint if one is given.
    Returns (records checked, problems found); each problem names its record and what is wrong."""
    count, problems, _ = await _verify(session, checkpoint)
    return count, problems


async def verified_checkpoint(session: AsyncSession) -> tuple[int, list[ChainProblem], Checkpoint | None]:
    """Verify the chain and return a checkpoint of exactly the records verified (None if any problem)."""
    count, problems, last = await _verify(session, None)
    if problems:
        return count, problems, None
    last_id, last_mac = last
    return count, problems, Checkpoint(records=count, last_id=last_id, mac=last_mac, at=utcnow().isoformat(), key_id=mac_of(session).key_id)


async def _verify(session: AsyncSession, checkpoint: Checkpoint | None) -> tuple[int, list[ChainProblem], tuple[int, str]]:
    mac = mac_of(session)
    # Records before the seal were written before the chain had a key: plain SHA-256, vouched for
    # as a whole by the seal's MAC over their head. No seal: every record must carry a MAC.
    seal_id = (await session.execute(select(func.min(AuditRecord.id)).where(AuditRecord.action == SEAL_ACTION))).scalar()
    problems: list[ChainProblem] = []
    prev_hash, prev_id, count = "", 0, 0
    keyed = keyed_ok = 0
    result = await session.stream_scalars(select(AuditRecord).order_by(AuditRecord.id))
    async for rec in result:
        count += 1
        data = _payload_of(rec)
        if rec.prev_hash != prev_hash:
            if prev_id:
                what = f"记录 {rec.id} 的前序校验值与记录 {prev_id} 不符:两者之间的记录缺失(被删除),或记录 {rec.id} 被改动"
            else:
                what = f"记录 {rec.id} 是现存的第一条记录,但它有前序校验值:此前的记录缺失(被删除)"
            problems.append(ChainProblem(rec.id, what))
        if seal_id is not None and rec.id < seal_id:
            if rec.hash != legacy_digest(data):
                problems.append(ChainProblem(rec.id, f"记录 {rec.id}(启用审计密钥前的旧记录)的内容与哈希不符:已被篡改"))
        else:
            keyed += 1
            if mac.matches(data, rec.hash):
                keyed_ok += 1
            elif rec.hash == legacy_digest(data):
                problems.append(ChainProblem(rec.id, f"记录 {rec.id} 的校验值是不带密钥的普通哈希:记录被篡改后重新计算过"))
            else:
                problems.append(ChainProblem(rec.id, f"记录 {rec.id} 的内容与 MAC 不符:记录被篡改,或 MAC 用其他密钥重算过"))
        if rec.id == seal_id:
            sealed = rec.detail if isinstance(rec.detail, dict) else {}
            if sealed.get("legacy_records") != count - 1 or sealed.get("legacy_head") != rec.prev_hash:
                problems.append(ChainProblem(rec.id, f"封存记录 {rec.id} 与它之前的旧记录不符:旧记录被删除或增加"))
        if checkpoint is not None and count == checkpoint.records and (rec.id != checkpoint.last_id or rec.hash != checkpoint.mac):
            problems.append(
                ChainProblem(
                    rec.id,
                    f"第 {count} 条记录(记录 {rec.id})与检查点不符:检查点时第 {count} 条是记录 {checkpoint.last_id},"
                    f"MAC {checkpoint.mac[:16]}…;检查点之前的记录被删除、插入或重写",
                )
            )
        prev_hash, prev_id = rec.hash, rec.id
    if keyed > 1 and keyed_ok == 0:
        problems.insert(
            0,
            ChainProblem(
                0, "没有一条记录的 MAC 能用当前的审计密钥验证:审计密钥不对(CONTEST_AUDIT_KEY 或 var/audit_key 被更换、删除),或整条链被重写"
            ),
        )
    if checkpoint is not None:
        if checkpoint.key_id != mac.key_id:
            problems.insert(0, ChainProblem(0, f"检查点是用另一把审计密钥生成的(检查点 key_id {checkpoint.key_id},当前 {mac.key_id})"))
        if count < checkpoint.records:
            problems.append(
                ChainProblem(
                    checkpoint.last_id,
                    f"检查点({checkpoint.at})时有 {checkpoint.records} 条记录,最后一条是记录 {checkpoint.last_id};"
                    f"现在只有 {count} 条:链尾的 {checkpoint.records - count} 条记录被删除",
                )
            )
    return count, problems, (prev_id, prev_hash)
