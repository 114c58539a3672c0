"""Ranking, places and awards (DOMAIN.md §3). Expected places are worked out by hand."""

from __future__ import annotations

import random
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contest.domain.ranking import Ranked, RankInput, rank


def entry(entry_id: int, total: str | None, practical: str | None = "50", seconds: int | None = 3600) -> RankInput:
    return RankInput(entry_id, None if total is None else D(total), None if practical is None else D(practical), seconds)


def places(result: list[Ranked]) -> dict[int, int | None]:
    return {r.entry_id: r.place for r in result}


def awards(result: list[Ranked]) -> dict[int, str | None]:
    return {r.entry_id: r.award for r in result}


def test_plain_order_and_place_awards() -> None:
    result = rank([entry(3, "80"), entry(1, "90"), entry(2, "85")])
    assert [r.entry_id for r in result] == [1, 2, 3]
    assert [r.place for r in result] == [1, 2, 3]
    assert [r.award for r in result] == ["first", "second", "third"]
    assert not any(r.tied or r.needs_decision for r in result)


def test_tied_places_are_1_2_2_4() -> None:
    # 2 and 3 are equal on the total, the 实操 score and the time
    result = rank([entry(1, "90"), entry(2, "85"), entry(3, "85"), entry(4, "80")])
    assert places(result) == {1: 1, 2: 2, 3: 2, 4: 4}
    assert {r.entry_id: r.tied for r in result} == {1: False, 2: True, 3: True, 4: False}
    # both tied 2nd get "second"; there is no 3rd, and place 4 gets no place award
    # (field of 4 x 0.5 = 2: no excellence either)
    assert awards(result) == {1: "first", 2: "second", 3: "second", 4: None}
    assert not any(r.needs_decision for r in result)


def test_tie_at_first_then_third() -> None:
    result = rank([entry(1, "90"), entry(2, "90"), entry(3, "85"), entry(4, "80")])
    assert places(result) == {1: 1, 2: 1, 3: 3, 4: 4}
    assert awards(result) == {1: "first", 2: "first", 3: "third", 4: None}


def test_equal_totals_compare_numerically() -> None:
    result = rank([entry(1, "85.0"), entry(2, "85.00"), entry(3, "85")])
    assert places(result) == {1: 1, 2: 1, 3: 1}


def test_tie_break_by_practical_score() -> None:
    # equal totals 85: entry 2 has the higher 实操 (62 > 60), so it comes first
    result = rank([entry(1, "85", "60"), entry(2, "85", "62"), entry(3, "90", "40")])
    assert places(result) == {3: 1, 2: 2, 1: 3}
    assert not any(r.tied for r in result)


def test_tie_break_by_time_when_practical_is_equal() -> None:
    # equal total and 实操; 3500 s beats 3600 s; no time counts as the slowest
    result = rank([entry(1, "85", "60", 3600), entry(2, "85", "60", 3500), entry(3, "85", "60", None)])
    assert places(result) == {2: 1, 1: 2, 3: 3}


def test_practical_score_comes_before_time_in_the_chain() -> None:
    # entry 1: better 实操 but slower; entry 2: faster but lower 实操 -> 1 first
    result = rank([entry(1, "85", "61", 4000), entry(2, "85", "60", 3000)])
    assert places(result) == {1: 1, 2: 2}
    # with the chain reversed, time decides first
    reversed_chain = rank([entry(1, "85", "61", 4000), entry(2, "85", "60", 3000)], tie_break=("practical_time", "practical_score"))
    assert places(reversed_chain) == {2: 1, 1: 2}


def test_missing_practical_counts_as_the_lowest() -> None:
    result = rank([entry(1, "85", None, 100), entry(2, "85", "0", 9999)])
    assert places(result) == {2: 1, 1: 2}


def test_an_empty_chain_ranks_on_the_total_alone() -> None:
    result = rank([entry(1, "85", "60", 3000), entry(2, "85", "70", 2000), entry(3, "70")], tie_break=())
    assert places(result) == {1: 1, 2: 1, 3: 3}
    only_time = rank([entry(1, "85", "60", 3000), entry(2, "85", "70", 3000)], tie_break=("practical_time",))
    assert places(only_time) == {1: 1, 2: 1}


def test_no_ties_without_a_decision_keeps_the_tie_and_flags_it() -> None:
    result = rank([entry(1, "90"), entry(2, "85"), entry(3, "85"), entry(4, "80")], no_ties=True)
    assert places(result) == {1: 1, 2: 2, 3: 2, 4: 4}
    assert {r.entry_id: r.needs_decision for r in result} == {1: False, 2: True, 3: True, 4: False}
    assert {r.entry_id: r.tied for r in result} == {1: False, 2: True, 3: True, 4: False}


def test_no_ties_with_the_organizers_decision() -> None:
    # the organizer puts 3 before 2 (lower first): 3 is 2nd, 2 is 3rd
    result = rank([entry(1, "90"), entry(2, "85"), entry(3, "85"), entry(4, "80")], no_ties=True, decisions={3: 1, 2: 2})
    assert places(result) == {1: 1, 3: 2, 2: 3, 4: 4}
    assert awards(result) == {1: "first", 3: "second", 2: "third", 4: None}
    assert not any(r.tied or r.needs_decision for r in result)
    assert [r.entry_id for r in result] == [1, 3, 2, 4]


def test_no_ties_decision_values_are_relative() -> None:
    result = rank([entry(5, "85"), entry(6, "85"), entry(7, "85")], no_ties=True, decisions={5: 30, 6: 10, 7: 20})
    assert places(result) == {6: 1, 7: 2, 5: 3}


def test_a_partial_or_ambiguous_decision_does_not_count() -> None:
    tied_three = [entry(1, "85"), entry(2, "85"), entry(3, "85")]
    partial = rank(tied_three, no_ties=True, decisions={1: 1, 2: 2})
    assert places(partial) == {1: 1, 2: 1, 3: 1}
    assert all(r.needs_decision and r.tied for r in partial)
    same_value = rank(tied_three, no_ties=True, decisions={1: 1, 2: 1, 3: 2})
    assert all(r.needs_decision for r in same_value)


def test_decisions_only_matter_for_no_ties_groups() -> None:
    # without no_ties the decision is ignored
    tied = rank([entry(1, "85"), entry(2, "85")], decisions={2: 1, 1: 2})
    assert places(tied) == {1: 1, 2: 1}
    assert not any(r.needs_decision for r in tied)
    # a decision against the chain is ignored: the chain already orders these two
    chain = rank([entry(1, "85", "70"), entry(2, "85", "60")], no_ties=True, decisions={2: 1, 1: 2})
    assert places(chain) == {1: 1, 2: 2}


def test_only_the_undecided_group_is_flagged() -> None:
    result = rank([entry(1, "90"), entry(2, "90"), entry(3, "80"), entry(4, "80")], no_ties=True, decisions={2: 1, 1: 2})
    assert places(result) == {2: 1, 1: 2, 3: 3, 4: 3}
    assert {r.entry_id: r.needs_decision for r in result} == {1: False, 2: False, 3: True, 4: True}


def ten(total_count: int) -> list[RankInput]:
    """Entries 1..n with totals 100, 99, ... (all distinct): entry i is placed i."""
    return [entry(i, str(101 - i)) for i in range(1, total_count + 1)]


def test_excellence_takes_the_places_after_the_top_three_within_the_fraction() -> None:
    # 10 ranked x 0.5 = 5: places 4 and 5 get 优胜奖, 6 does not
    result = awards(rank(ten(10)))
    assert [result[i] for i in range(1, 11)] == ["first", "second", "third", "excellence", "excellence"] + [None] * 5


def test_excellence_cutoff_rounds_down() -> None:
    # 9 x 0.5 = 4.5 -> 4: only place 4
    result = awards(rank(ten(9)))
    assert [i for i, a in result.items() if a == "excellence"] == [4]
    # 7 x 0.5 = 3.5 -> 3: nobody after the top three
    assert "excellence" not in awards(rank(ten(7))).values()


@pytest.mark.parametrize(
    ("fraction", "excellent"),
    [("0", []), ("0.3", []), ("0.4", [4]), ("0.6", [4, 5, 6]), ("0.65", [4, 5, 6]), ("1", [4, 5, 6, 7, 8, 9, 10])],
)
def test_excellence_fraction_setting(fraction: str, excellent: list[int]) -> None:
    # field of 10: 0.3 -> 3, 0.4 -> 4, 0.6 -> 6, 0.65 -> 6.5 -> 6, 1 -> 10
    result = awards(rank(ten(10), excellence_fraction=D(fraction)))
    assert sorted(i for i, a in result.items() if a == "excellence") == excellent


def test_a_tied_group_at_the_cutoff_is_in_or_out_as_a_whole() -> None:
    # totals 100 99 98 97 96 96 95 94 93 92: places 1 2 3 4 5 5 7 8 9 10; cutoff 10 x 0.5 = 5
    totals = ["100", "99", "98", "97", "96", "96", "95", "94", "93", "92"]
    result = rank([entry(i, t) for i, t in enumerate(totals, start=1)])
    assert places(result)[5] == places(result)[6] == 5
    assert awards(result)[5] == awards(result)[6] == "excellence"
    assert awards(result)[7] is None
    # cutoff 4 (fraction 0.4): the pair at place 5 is out together
    narrow = awards(rank([entry(i, t) for i, t in enumerate(totals, start=1)], excellence_fraction=D("0.4")))
    assert narrow[4] == "excellence" and narrow[5] is None and narrow[6] is None


def test_unranked_entries_are_listed_last_and_not_counted_in_the_field() -> None:
    entries = [*ten(8), entry(20, None), entry(9, None)]
    result = rank(entries)
    assert [r.entry_id for r in result][-2:] == [9, 20]
    assert all(r.place is None and r.award is None and not r.tied and not r.needs_decision for r in result[-2:])
    # field = 8 ranked -> cutoff 4: only place 4 is excellent (10 x 0.5 would also take 5)
    assert [r.entry_id for r in result if r.award == "excellence"] == [4]


def test_nothing_ranked() -> None:
    assert rank([]) == []
    assert rank([entry(2, None), entry(1, None)]) == [Ranked(1, None, None, False, False), Ranked(2, None, None, False, False)]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="重复"):
        rank([entry(1, "90"), entry(1, "80")])
    with pytest.raises(ValueError, match="并列"):
        rank([entry(1, "90")], tie_break=("theory_score",))
    with pytest.raises(ValueError, match="比例"):
        rank([entry(1, "90")], excellence_fraction=D("1.5"))
    with pytest.raises(ValueError, match="比例"):
        rank([entry(1, "90")], excellence_fraction=D("-0.1"))
    with pytest.raises(ValueError, match="有效数字"):
        rank([entry(1, "NaN")])
    with pytest.raises(ValueError, match="负数"):
        rank([entry(1, "90", "50", -1)])


# --- properties -------------------------------------------------------------------------------

# few distinct values, so ties and tie-breaks happen often
totals = st.one_of(st.none(), st.sampled_from([D(70), D(85), D("85.00"), D("90.5"), D(100)]))
practicals = st.one_of(st.none(), st.sampled_from([D(40), D(60), D("60.0"), D("75.5")]))
seconds = st.one_of(st.none(), st.sampled_from([1800, 2400, 3600]))


@st.composite
def fields(draw: st.DrawFn) -> list[RankInput]:
    ids = draw(st.lists(st.integers(1, 10_000), max_size=25, unique=True))
    return [RankInput(i, draw(totals), draw(practicals), draw(seconds)) for i in ids]


def better(a: RankInput, b: RankInput) -> bool:
    """a is strictly ahead of b after the default chain (written out independently of rank())."""
    assert a.total is not None and b.total is not None
    if a.total != b.total:
        return a.total > b.total
    pa = D(-1) if a.practical is None else a.practical  # practical scores are >= 0
    pb = D(-1) if b.practical is None else b.practical
    if pa != pb:
        return pa > pb
    ta = 10**9 if a.practical_seconds is None else a.practical_seconds
    tb = 10**9 if b.practical_seconds is None else b.practical_seconds
    return ta < tb


@given(fields())
def test_places_are_a_competition_ranking(entries: list[RankInput]) -> None:
    result = rank(entries)
    by_id = {e.entry_id: e for e in entries}
    ranked = [e for e in entries if e.total is not None]
    for r in result:
        e = by_id[r.entry_id]
        if e.total is None:
            assert r.place is None and r.award is None
            continue
        assert r.place == 1 + sum(1 for other in ranked if better(other, e))
        assert r.tied == any(o.entry_id != e.entry_id and not better(o, e) and not better(e, o) for o in ranked)
        assert not r.needs_decision


@given(fields())
def test_output_is_a_permutation_of_the_input_sorted_by_place(entries: list[RankInput]) -> None:
    result = rank(entries)
    assert sorted(r.entry_id for r in result) == sorted(e.entry_id for e in entries)
    keys = [(r.place is None, r.place or 0, r.entry_id) for r in result]
    assert keys == sorted(keys)


@given(fields(), st.randoms(use_true_random=False), st.booleans(), st.data())
def test_rank_does_not_depend_on_input_order(entries: list[RankInput], rnd: random.Random, no_ties: bool, data: st.DataObject) -> None:
    decisions = data.draw(st.dictionaries(st.sampled_from([e.entry_id for e in entries] or [0]), st.integers(0, 5)))
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    assert rank(shuffled, no_ties=no_ties, decisions=decisions) == rank(entries, no_ties=no_ties, decisions=decisions)


@given(fields(), st.data())
def test_no_ties_with_full_decisions_shares_no_place(entries: list[RankInput], data: st.DataObject) -> None:
    ids = [e.entry_id for e in entries]
    order = data.draw(st.permutations(ids))
    decisions = {entry_id: position for position, entry_id in enumerate(order)}
    result = rank(entries, no_ties=True, decisions=decisions)
    ranked_places = [r.place for r in result if r.place is not None]
    assert ranked_places == list(range(1, len(ranked_places) + 1))
    assert not any(r.tied or r.needs_decision for r in result)
    by_id = {e.entry_id: e for e in entries}
    ranked = [e for e in entries if e.total is not None]
    for r in result:
        e = by_id[r.entry_id]
        if e.total is None:
            continue
        ahead = sum(1 for o in ranked if better(o, e))
        tied_before = sum(1 for o in ranked if not better(o, e) and not better(e, o) and decisions[o.entry_id] < decisions[e.entry_id])
        assert r.place == 1 + ahead + tied_before


@given(fields(), st.sampled_from([D(0), D("0.25"), D("0.5"), D("0.6"), D(1)]), st.booleans())
def test_awards_follow_places(entries: list[RankInput], fraction: D, no_ties: bool) -> None:
    result = rank(entries, excellence_fraction=fraction, no_ties=no_ties)
    field = sum(1 for e in entries if e.total is not None)
    cutoff = int(field * fraction)  # exact: field is an int, the fraction a short Decimal
    for r in result:
        if r.place is None:
            assert r.award is None
        elif r.place <= 3:
            assert r.award == ("first", "second", "third")[r.place - 1]
        else:
            assert r.award == ("excellence" if r.place <= cutoff else None)
        if r.needs_decision:
            assert no_ties and r.tied
