"""Across payout batches: the ledger in top_up and skip modes."""

from __future__ import annotations

from datetime import date

from contest.domain.awards import BatchSettings, LedgerEntry, compute_awards
from contest.domain.money import Money

from .builders import NATIONAL_COMPETITION, PROVINCIAL_1, achievement, longjiang, person

POLICY_ID = "longjisaichang-heilongjiang-2022"


def first_batch(winner, coaches=()):
    """Batch 1 (2023): the provincial 3rd place, 5,000 to the winner and to the coaching team."""
    ach = achievement(PROVINCIAL_1, "第3名", members=[winner], coaches=list(coaches), skill="S")
    return compute_awards(longjiang(), [ach], BatchSettings(batch_id="2023-1", batch_date=date(2023, 12, 1)))


def test_top_up_pays_the_difference_and_says_what_was_paid_before() -> None:
    winner = person()
    before = first_batch(winner)
    assert before.total == Money("5000")
    later = achievement(NATIONAL_COMPETITION, "第2名", members=[winner], skill="S")
    outcome = compute_awards(longjiang(), [later], BatchSettings(batch_id="2024-1"), before.ledger_entries())
    [line] = outcome.lines
    assert (line.amount, line.entitled) == (Money("45000"), Money("50000"))
    assert any("2023-12-01" in note and "2023-1" in note and "5,000.00" in note for note in line.notes)


def test_top_up_pays_nothing_when_an_equal_or_higher_award_was_paid() -> None:
    winner = person()
    before = first_batch(winner)
    again = achievement(PROVINCIAL_1, "第3名", members=[winner], skill="S")
    outcome = compute_awards(longjiang(), [again], BatchSettings(batch_id="2024-1"), before.ledger_entries())
    assert outcome.lines == []
    [excluded] = outcome.excluded
    assert excluded.status == "already_paid" and "5,000.00" in excluded.reason


def test_skip_mode_pays_nothing_after_an_equal_award_and_in_full_after_a_lower_one() -> None:
    winner = person()
    before = first_batch(winner)
    skip = BatchSettings(batch_id="2024-1", ledger_mode="skip")
    same = achievement(PROVINCIAL_1, "第3名", members=[winner], skill="S")
    assert compute_awards(longjiang(), [same], skip, before.ledger_entries()).lines == []
    higher = achievement(PROVINCIAL_1, "第1名", members=[winner], skill="S")
    [line] = compute_awards(longjiang(), [higher], skip, before.ledger_entries()).lines
    assert line.amount == Money("20000")
    assert any("skip" in note for note in line.notes)


def test_coaches_are_topped_up_per_person() -> None:
    winner, coach_a, coach_b = person(), person("甲"), person("乙")
    before = first_batch(winner, [coach_a, coach_b])  # 2,500 each
    later = achievement(PROVINCIAL_1, "第1名", members=[winner], coaches=[coach_a, coach_b], skill="S")
    outcome = compute_awards(longjiang(), [later], BatchSettings(batch_id="2024-1"), before.ledger_entries())
    coaches = {line.recipient_id: line.amount for line in outcome.lines if line.role == "coach"}
    assert coaches == {coach_a.id_number: Money("7500"), coach_b.id_number: Money("7500")}


def test_ledger_of_another_policy_is_ignored() -> None:
    winner = person()
    foreign = LedgerEntry(
        policy_id="another-policy",
        batch_id="X",
        paid_on=None,
        recipient_id=winner.id_number,
        role="competitor",
        skill_code="S",
        subject_id=winner.id_number,
        amount=Money("999999"),
    )
    ach = achievement(PROVINCIAL_1, "第1名", members=[winner], skill="S")
    [line] = compute_awards(longjiang(), [ach], ledger=[foreign]).lines
    assert line.amount == Money("20000")


def test_earlier_payments_add_up() -> None:
    winner = person()
    entries = [
        LedgerEntry(
            policy_id=POLICY_ID,
            batch_id=b,
            paid_on=date(2023, m, 1),
            recipient_id=winner.id_number,
            role="competitor",
            skill_code="S",
            subject_id=winner.id_number,
            amount=Money(a),
        )
        for b, m, a in (("2023-1", 3, "5000"), ("2023-2", 9, "5000"))
    ]
    ach = achievement(PROVINCIAL_1, "第1名", members=[winner], skill="S")
    [line] = compute_awards(longjiang(), [ach], ledger=entries).lines
    assert line.amount == Money("10000")
