"""回避: why a judge must not score an entry. Derived from units plus declared relations."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class JudgeFacts:
    person_id: int
    unit_id: int | None
    declared_person_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class EntryFacts:
    unit_id: int
    member_person_ids: frozenset[int]
    member_unit_ids: frozenset[int] = field(default_factory=frozenset)
    coach_person_ids: frozenset[int] = field(default_factory=frozenset)


def conflict_reasons(judge: JudgeFacts, entry: EntryFacts) -> list[str]:
    """Empty when the judge may score the entry; otherwise each reason, in Chinese."""
    reasons: list[str] = []
    if judge.unit_id is not None and (judge.unit_id == entry.unit_id or judge.unit_id in entry.member_unit_ids):
        reasons.append("裁判与选手同一单位")
    if judge.person_id in entry.member_person_ids or judge.person_id in entry.coach_person_ids:
        reasons.append("裁判本人是该参赛单元的选手或教练")
    related = judge.declared_person_ids & (entry.member_person_ids | entry.coach_person_ids)
    if related:
        reasons.append("裁判申报了与该参赛单元人员的关系")
    return reasons
