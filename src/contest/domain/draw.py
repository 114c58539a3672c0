"""抽签: 工位号 (station numbers) from a recorded seed.

The permutation is defined without Python's PRNG so anyone can re-derive it from the seed:
entries are ordered by SHA-256 of "seed:参赛号" and numbered 1..N in that order.
"""

from __future__ import annotations

import hashlib
import secrets


def new_seed() -> str:
    return secrets.token_hex(8)


def draw_stations(entry_numbers: list[str], seed: str) -> dict[str, int]:
    """Map each 参赛号 to a 工位号 1..N; the same numbers and seed always give the same map."""
    if not seed:
        raise ValueError("抽签种子不能为空")
    if len(set(entry_numbers)) != len(entry_numbers):
        raise ValueError("参赛号重复,无法抽签")
    ordered = sorted(entry_numbers, key=lambda no: (hashlib.sha256(f"{seed}:{no}".encode()).hexdigest(), no))
    return {no: position for position, no in enumerate(ordered, start=1)}
