"""回避: why a judge must not score an entry. Derived from units plus declared relations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from contest.domain.text import Text

K = TypeVar("K")


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


# ---------------------------------------------------------------- who may sit on an item's panel
# One rule for every path that puts a person on an item's panel (the judges import, the item page's
# 裁判分配, the API): a competitor or a coach of an entry of the item never judges that item. Same
# unit and declared relations are per entry (conflict_reasons above): the judge sits on the panel and
# is blocked from those entries at scoring time.


@dataclass(frozen=True)
class EntryPeople(Generic[K]):
    """Who takes part in one entry of the item, keyed by whatever the caller identifies people by
    (person id, or 证件号码 in an import that has not written the people yet)."""

    entry_no: str
    members: frozenset[K]
    coaches: frozenset[K]


def taking_part(entries: list[EntryPeople[K]]) -> dict[K, Text]:
    """Person -> what they are in the item ("参赛号「007」的选手"), for everyone who may not judge it."""
    roles: dict[K, Text] = {}
    for entry in entries:
        for person in entry.coaches:
            roles[person] = Text("参赛号「{entry_no}」的教练", entry_no=entry.entry_no)
        for person in entry.members:
            roles[person] = Text("参赛号「{entry_no}」的选手", entry_no=entry.entry_no)
    return roles


def panel_refusal(skill_code: str, role_there: str) -> Text:
    """The one message both paths give when a person may not judge the item."""
    return Text("该裁判是赛项「{code}」{role_there},不能执裁该赛项", code=skill_code, role_there=role_there)
