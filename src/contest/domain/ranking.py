"""Ranking and places of one item (DOMAIN.md §3 "Ranking" and "Places").

Pure and deterministic: the result depends only on the set of entries, never on their order.

- Only entries with a total are ranked; entries whose total is ``None`` (not complete) get no
  place and no award and are listed last, by entry id. They do not count in the field size
  used for the excellence award.
- Order: total, descending; then the ``tie_break`` chain, in order:
  ``"practical_score"`` (higher 实操 component score first; an entry without one counts as
  the lowest) and ``"practical_time"`` (shorter 实操 time first; ``None`` counts as the
  slowest). An empty chain ranks on the total alone.
- Entries still equal after the chain share a place, competition style (1, 2, 2, 4):
  place = 1 + the number of ranked entries strictly better.
- ``no_ties`` (排名不并列): a tied group is ordered by the organizer's ``decisions``
  (entry id -> order within its tied group, lower first; only the relative order matters) and
  takes consecutive places. A decision is used only when it covers the whole group with
  distinct values; otherwise (none, partial, or two members with the same value) the group
  keeps its shared place and every member is flagged ``needs_decision``. Decisions for
  entries that are not tied after the chain are ignored (the chain already decides), and
  without ``no_ties`` decisions are ignored altogether.
- Awards follow the place shown: place 1 -> "first", 2 -> "second", 3 -> "third". Two
  entries tied at 2nd both get "second" and no one is 3rd (the next place is 4); two tied at
  1st both get "first" and the next entry, at place 3, gets "third". A group still flagged
  ``needs_decision`` carries the award of its shared place provisionally; it must not be
  published before the decision.
- 优胜奖 "excellence": a ranked entry with place > 3 and place <= floor(number of ranked
  entries x ``excellence_fraction``), computed exactly. A tied group is on one side of the
  cutoff as a whole, because its members share a place.
- Output: sorted by (unranked last, place, entry id).

Errors (ValueError): duplicate entry ids, an unknown tie-break name, a fraction outside
[0, 1], a non-finite number, a negative time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from contest.domain.text import N_, Text

__all__ = ["AWARDS", "TIE_BREAKS", "RankInput", "Ranked", "rank"]

TIE_BREAKS: dict[str, str] = {"practical_score": "实操成绩高者在前", "practical_time": "实操用时短者在前"}
AWARDS: dict[str, str] = {"first": N_("一等奖"), "second": N_("二等奖"), "third": N_("三等奖"), "excellence": N_("优胜奖")}
_PLACE_AWARDS = {1: "first", 2: "second", 3: "third"}


@dataclass(frozen=True)
class RankInput:
    entry_id: int
    total: Decimal | None  # None = not complete: unranked, listed last
    practical: Decimal | None  # 实操 component score (tie-break 1: higher first)
    practical_seconds: int | None  # 实操 time used (tie-break 2: shorter first; None counts as slowest)


@dataclass(frozen=True)
class Ranked:
    entry_id: int
    place: int | None  # competition ranking 1,2,2,4; None when unranked
    award: str | None  # "first" | "second" | "third" | "excellence" | None
    tied: bool  # shares its place with another entry
    needs_decision: bool  # no-ties item whose tie survived the chain and has no organizer decision yet


def rank(
    entries: Sequence[RankInput],
    *,
    no_ties: bool = False,
    decisions: Mapping[int, int] | None = None,
    excellence_fraction: Decimal = Decimal("0.5"),
    tie_break: Sequence[str] = ("practical_score", "practical_time"),
) -> list[Ranked]:
    """Places and awards of an item's entries; see the module doc for every rule."""
    _validate(entries, excellence_fraction, tie_break)
    decisions = decisions or {}
    chain = tuple(tie_break)

    ranked = sorted((e for e in entries if e.total is not None), key=lambda e: (_key(e, chain), e.entry_id))
    groups: list[list[RankInput]] = []
    for entry in ranked:
        if groups and _key(groups[-1][0], chain) == _key(entry, chain):
            groups[-1].append(entry)
        else:
            groups.append([entry])

    cutoff = math.floor(len(ranked) * Fraction(excellence_fraction))
    out: list[Ranked] = []
    position = 1
    for group in groups:
        if len(group) == 1:
            out.append(_placed(group[0].entry_id, position, cutoff, tied=False, needs_decision=False))
        elif no_ties and _decided(group, decisions):
            for offset, entry in enumerate(sorted(group, key=lambda e: decisions[e.entry_id])):
                out.append(_placed(entry.entry_id, position + offset, cutoff, tied=False, needs_decision=False))
        else:
            for entry in group:
                out.append(_placed(entry.entry_id, position, cutoff, tied=True, needs_decision=no_ties))
        position += len(group)

    out.extend(Ranked(e.entry_id, None, None, False, False) for e in entries if e.total is None)
    out.sort(key=lambda r: (r.place is None, r.place or 0, r.entry_id))
    return out


def _key(entry: RankInput, chain: tuple[str, ...]) -> tuple[Any, ...]:
    """Smaller is better: total descending, then each tie-break in order."""
    assert entry.total is not None
    parts: list[Any] = [-entry.total]
    for name in chain:
        if name == "practical_score":
            parts.append((1, 0) if entry.practical is None else (0, -entry.practical))
        else:  # practical_time
            parts.append((1, 0) if entry.practical_seconds is None else (0, entry.practical_seconds))
    return tuple(parts)


def _decided(group: list[RankInput], decisions: Mapping[int, int]) -> bool:
    """The organizer's decision orders the whole group: every member has one, all different."""
    orders = [decisions.get(e.entry_id) for e in group]
    return all(o is not None for o in orders) and len(set(orders)) == len(orders)


def _placed(entry_id: int, place: int, cutoff: int, *, tied: bool, needs_decision: bool) -> Ranked:
    award = _PLACE_AWARDS.get(place)
    if award is None and place <= cutoff:
        award = "excellence"
    return Ranked(entry_id, place, award, tied, needs_decision)


def _validate(entries: Sequence[RankInput], fraction: Decimal, tie_break: Sequence[str]) -> None:
    ids = [e.entry_id for e in entries]
    if len(set(ids)) != len(ids):
        raise ValueError(N_("排名输入中参赛单元重复"))
    unknown = [name for name in tie_break if name not in TIE_BREAKS]
    if unknown or isinstance(tie_break, str):
        raise ValueError(Text("未知的并列处理规则:{rules}", rules=unknown or tie_break))
    if not (isinstance(fraction, Decimal) and fraction.is_finite() and 0 <= fraction <= 1):
        raise ValueError(Text("优胜奖比例 {fraction} 应在 0 到 1 之间", fraction=fraction))
    for e in entries:
        for number in (e.total, e.practical):
            if number is not None and not number.is_finite():
                raise ValueError(Text("参赛单元 {entry_id} 的成绩不是有效数字", entry_id=e.entry_id))
        if e.practical_seconds is not None and e.practical_seconds < 0:
            raise ValueError(Text("参赛单元 {entry_id} 的实操用时不能为负数", entry_id=e.entry_id))
