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


# ---------------------------------------------------------------- the one panel rule (import and item page)


def test_coaches_and_competitors_of_an_item_may_not_judge_it() -> None:
    from contest.domain.conflicts import EntryPeople, panel_refusal, taking_part

    entries = [
        EntryPeople("001", frozenset({"A", "B"}), frozenset({"C"})),
        EntryPeople("002", frozenset({"D"}), frozenset({"C", "E"})),
    ]
    roles = taking_part(entries)
    assert set(roles) == {"A", "B", "C", "D", "E"}
    assert roles["A"] == "参赛号「001」的选手" and roles["E"] == "参赛号「002」的教练"
    assert "Z" not in roles  # anyone else may sit on the panel (same unit: per entry, at scoring time)
    assert taking_part([]) == {}
    message = panel_refusal("6-18-02-04", roles["E"])
    assert str(message) == "该裁判是赛项「6-18-02-04」参赛号「002」的教练,不能执裁该赛项"
    assert message.template == "该裁判是赛项「{code}」{role_there},不能执裁该赛项"


def test_a_competitor_who_also_coaches_is_named_as_competitor() -> None:
    from contest.domain.conflicts import EntryPeople, taking_part

    roles = taking_part([EntryPeople("007", frozenset({7}), frozenset({7}))])
    assert roles == {7: "参赛号「007」的选手"}
