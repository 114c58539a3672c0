"""The audit chain's arithmetic: what a record's MAC covers, and checkpoints. No I/O.

A record's MAC is HMAC-SHA256, under a key kept outside the database, over the canonical JSON of
its fields and the previous record's MAC (`payload`). Records written before the key existed carry
a plain SHA-256 of the same payload (`legacy_digest`); the upgrade seals them (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

SEAL_ACTION = "audit.seal"  # the keyed record that closes the unkeyed records of before the upgrade
CHECKPOINT_FORMAT = "contest-audit-checkpoint/1"


def payload(
    prev: str, at: datetime, actor_id: int | None, actor: str, device: str, action: str, entity: str, entity_id: str, detail: dict
) -> bytes:
    """The bytes a record's MAC covers: sorted-key JSON, no spaces, UTF-8 (docs/security.md)."""
    return json.dumps(
        {
            "prev": prev,
            "at": at.isoformat(),
            "actor_id": actor_id,
            "actor": actor,
            "device": device,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "detail": detail,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
        separators=(",", ":"),
    ).encode()


class Mac:
    """HMAC-SHA256 under one key; the keyed state is computed once and copied per record, so a MAC
    costs what a plain SHA-256 of the record did."""

    def __init__(self, key: str | bytes) -> None:
        self._keyed = hmac.new(key.encode() if isinstance(key, str) else key, digestmod=hashlib.sha256)

    def __call__(self, data: bytes) -> str:
        mac = self._keyed.copy()
        mac.update(data)
        return mac.hexdigest()

    def matches(self, data: bytes, stored: str) -> bool:
        return hmac.compare_digest(self(data), stored)

    @property
    def key_id(self) -> str:
        """Names the key without revealing it: a checkpoint made under another key is told apart."""
        return self(b"contest audit key id")[:16]


def legacy_digest(data: bytes) -> str:
    """How records were hashed before the chain was keyed (and what a forger without the key computes)."""
    return hashlib.sha256(data).hexdigest()


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read; the message is Chinese."""


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment: kept outside the database (printed, mailed, signed), it
    proves later that no record up to it was changed and none after it was cut away."""

    records: int  # how many records the chain had
    last_id: int  # the id of the last of them (0: none)
    mac: str  # that record's MAC
    at: str  # when the checkpoint was taken (ISO 8601, UTC)
    key_id: str  # which key made the MACs (Mac.key_id)
    format: str = CHECKPOINT_FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        try:
            data: Any = json.loads(text)
        except ValueError as exc:
            raise CheckpointError(f"检查点文件不是有效的 JSON:{exc}") from None
        if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f'检查点文件格式不对:应有 "format": "{CHECKPOINT_FORMAT}"')
        try:
            checkpoint = cls(records=data["records"], last_id=data["last_id"], mac=data["mac"], at=data["at"], key_id=data["key_id"])
        except KeyError as exc:
            raise CheckpointError(f"检查点文件缺少字段 {exc.args[0]}") from None
        if not (isinstance(checkpoint.records, int) and isinstance(checkpoint.last_id, int) and checkpoint.records >= 0):
            raise CheckpointError("检查点文件的 records / last_id 应为非负整数")
        if not all(isinstance(v, str) for v in (checkpoint.mac, checkpoint.at, checkpoint.key_id)):
            raise CheckpointError("检查点文件的 mac / at / key_id 应为字符串")
        return checkpoint
