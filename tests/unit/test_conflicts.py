from __future__ import annotations

from contest.domain.conflicts import EntryFacts, JudgeFacts, conflict_reasons

ENTRY = EntryFacts(unit_id=10, member_person_ids=frozenset({1, 2}), member_unit_ids=frozenset({10, 11}), coach_person_ids=frozenset({3}))


def test_no_conflict() -> None:
    assert conflict_reasons(JudgeFacts(99, 12), ENTRY) == []
    assert conflict_reasons(JudgeFacts(99, None), ENTRY) == []


def test_same_sending_unit_or_member_unit() -> None:
    assert conflict_reasons(JudgeFacts(99, 10), ENTRY) == ["裁判与选手同一单位"]
    assert conflict_reasons(JudgeFacts(99, 11), ENTRY) == ["裁判与选手同一单位"]


def test_declared_relation_with_member_or_coach() -> None:
    assert conflict_reasons(JudgeFacts(99, 12, frozenset({2})), ENTRY) == ["裁判申报了与该参赛单元人员的关系"]
    assert conflict_reasons(JudgeFacts(99, 12, frozenset({3})), ENTRY) == ["裁判申报了与该参赛单元人员的关系"]
    assert conflict_reasons(JudgeFacts(99, 12, frozenset({4})), ENTRY) == []


def test_judge_who_coaches_the_entry() -> None:
    assert conflict_reasons(JudgeFacts(3, None), ENTRY) == ["裁判本人是该参赛单元的选手或教练"]


def test_several_reasons_are_all_reported() -> None:
    assert len(conflict_reasons(JudgeFacts(3, 10, frozenset({1})), ENTRY)) == 3
