"""Aggregation of marks (DOMAIN.md §3). Expected numbers are worked out by hand in comments."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contest.domain.aggregation import (
    ComponentRule,
    CriterionRule,
    aggregate,
    check_mark,
    judge_order,
    score_entry,
)


def measurement(cid: int, code: str, max_mark: str, step: str = "0.5") -> CriterionRule:
    return CriterionRule(cid, code, D(max_mark), D(step), "measurement", 1, "single")


def judgement(cid: int, code: str, max_mark: str, panel: int, how: str, step: str = "0.5") -> CriterionRule:
    return CriterionRule(cid, code, D(max_mark), D(step), "judgement", panel, how)


def marks(*values: str) -> dict[str, D]:
    """Judges j1, j2, ... in order."""
    return {f"j{i}": D(v) for i, v in enumerate(values, start=1)}


# --- check_mark ------------------------------------------------------------------------------

RULE = measurement(1, "A1", "10", "0.5")
WS = judgement(2, "W1", "5", 3, "worldskills", "1")


@pytest.mark.parametrize("value", ["0", "10", "7.5", "0.5", "9.50", "-0"])
def test_check_mark_accepts_values_in_range_on_the_step(value: str) -> None:
    assert check_mark(RULE, D(value)) is None


@pytest.mark.parametrize("value", ["10.5", "-0.5", "11", "1000000"])
def test_check_mark_out_of_range(value: str) -> None:
    problem = check_mark(RULE, D(value))
    assert problem is not None
    code, message = problem
    assert code == "out_of_range"
    assert "A1" in message and "超出范围" in message and "0 到 10" in message


@pytest.mark.parametrize("value", ["7.25", "0.1", "9.99", "0.0001"])
def test_check_mark_off_step(value: str) -> None:
    problem = check_mark(RULE, D(value))
    assert problem is not None and problem[0] == "off_step"
    assert "步长 0.5" in problem[1]


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_check_mark_not_a_number(value: str) -> None:
    problem = check_mark(RULE, D(value))
    assert problem is not None and problem[0] == "not_a_number"
    assert "不是有效数字" in problem[1]


def test_check_mark_on_other_steps() -> None:
    tenth = measurement(1, "B", "20", "0.1")
    assert check_mark(tenth, D("13.7")) is None
    assert check_mark(tenth, D("13.75")) == ("off_step", "评分项「B」的分值 13.75 不是步长 0.1 的整数倍")
    quarter = measurement(1, "C", "20", "0.25")
    assert check_mark(quarter, D("13.75")) is None
    assert check_mark(quarter, D("13.8")) is not None


@pytest.mark.parametrize("value", ["0", "1", "2", "3", "2.0"])
def test_worldskills_accepts_whole_numbers_0_to_3(value: str) -> None:
    assert check_mark(WS, D(value)) is None


def code_of(rule: CriterionRule, value: D) -> str | None:
    problem = check_mark(rule, value)
    return None if problem is None else problem[0]


def test_worldskills_refuses_everything_else() -> None:
    # the scale is 0..3 whatever the criterion's max mark (5 here)
    for value in ("4", "5", "-1", "3.5"):
        assert code_of(WS, D(value)) == "out_of_range"
    for value in ("1.5", "0.5", "2.01"):
        assert code_of(WS, D(value)) == "off_step"
    assert code_of(WS, D("NaN")) == "not_a_number"
    assert check_mark(WS, D("1.5")) == ("off_step", "评分项「W1」是世赛评价分,分值应为整数 0、1、2、3,不能是 1.5")


def test_check_mark_takes_ints_but_never_floats() -> None:
    assert check_mark(RULE, 7) is None  # type: ignore[arg-type]  # an int, as JSON may bring
    with pytest.raises(TypeError):
        check_mark(RULE, 7.5)  # type: ignore[arg-type]  # a float is refused


def test_check_mark_messages_stay_short_for_absurd_exponents() -> None:
    problem = check_mark(RULE, D("1E+999999"))
    assert problem is not None and problem[0] == "out_of_range" and len(problem[1]) < 200
    problem = check_mark(RULE, D("1E-999999"))
    assert problem is not None and problem[0] == "off_step" and len(problem[1]) < 200


# --- aggregate: each rule ---------------------------------------------------------------------


def test_measurement_is_the_single_mark() -> None:
    result = aggregate(measurement(7, "M1", "20"), {"judge-4": D("17.5")})
    assert result.criterion_id == 7
    assert result.value == D("17.50")
    assert str(result.value) == "17.50"
    assert result.marks == (("judge-4", D("17.5")),)
    assert result.dropped == ()
    assert result.complete and not result.spread_flag


def test_measurement_without_a_mark_is_incomplete() -> None:
    result = aggregate(measurement(7, "M1", "20"), {})
    assert result.value is None and not result.complete and result.marks == ()


def test_mean() -> None:
    # (7 + 8 + 8.5) / 3 = 23.5 / 3 = 7.8333... -> 7.83
    result = aggregate(judgement(1, "J", "10", 3, "mean"), marks("7", "8", "8.5"))
    assert result.value == D("7.83")
    assert result.dropped == ()


def test_mean_rounds_half_up() -> None:
    # (7.02 + 7.03) / 2 = 7.025 exactly -> 7.03 (half-even would give 7.02)
    result = aggregate(judgement(1, "J", "10", 2, "mean", step="0.01"), marks("7.02", "7.03"))
    assert result.value == D("7.03")
    # (0.5 + 0 + 0 + 0) / 4 = 0.125 exactly -> 0.13
    result = aggregate(judgement(1, "J", "10", 4, "mean"), marks("0.5", "0", "0", "0"))
    assert result.value == D("0.13")


def test_median_odd_count() -> None:
    # sorted 6, 7, 9 -> 7
    result = aggregate(judgement(1, "J", "10", 3, "median"), marks("6", "9", "7"))
    assert result.value == D("7.00")
    assert result.dropped == ()


def test_median_even_count_is_the_mean_of_the_two_middle_marks() -> None:
    # sorted 6, 7, 8.5, 9 -> (7 + 8.5) / 2 = 7.75
    result = aggregate(judgement(1, "J", "10", 4, "median"), marks("9", "6", "8.5", "7"))
    assert result.value == D("7.75")
    # sorted 7.02, 7.03 -> 7.025 -> 7.03 (half up)
    result = aggregate(judgement(1, "J", "10", 2, "median", step="0.01"), marks("7.03", "7.02"))
    assert result.value == D("7.03")


def test_trimmed_mean_drops_one_highest_and_one_lowest() -> None:
    # A 8, B 9, C 6.5, D 7, E 7.5: drop B (9) and C (6.5); (8 + 7 + 7.5) / 3 = 22.5 / 3 = 7.5
    rule = judgement(1, "J", "10", 5, "trimmed_mean")
    result = aggregate(rule, {"A": D(8), "B": D(9), "C": D("6.5"), "D": D(7), "E": D("7.5")})
    assert result.value == D("7.50")
    assert result.dropped == ("B", "C")
    assert result.marks == (("A", D(8)), ("B", D(9)), ("C", D("6.5")), ("D", D(7)), ("E", D("7.5")))


def test_trimmed_mean_drops_only_one_mark_when_extremes_repeat() -> None:
    # A 9, B 9, C 6, D 6, E 7: one 9 and one 6 go; (6 + 7 + 9) / 3 = 22 / 3 = 7.333... -> 7.33
    # (dropping both 9s and both 6s would give 7.00)
    rule = judgement(1, "J", "10", 5, "trimmed_mean")
    result = aggregate(rule, {"A": D(9), "B": D(9), "C": D(6), "D": D(6), "E": D(7)})
    assert result.value == D("7.33")
    # tie rule: lowest -> smallest judge key among the 6s (C); highest -> largest among the 9s (B)
    assert result.dropped == ("B", "C")
    assert len(result.dropped) == 2


def test_trimmed_mean_with_all_marks_equal_still_drops_two_judges() -> None:
    result = aggregate(judgement(1, "J", "10", 5, "trimmed_mean"), marks("8", "8", "8", "8", "8"))
    assert result.value == D("8.00")
    assert result.dropped == ("j1", "j5")


def test_trimmed_mean_with_seven_judges_drops_exactly_two() -> None:
    # 1 2 3 4 5 6 10: drop 1 and 10; (2+3+4+5+6) / 5 = 20 / 5 = 4
    result = aggregate(judgement(1, "J", "10", 7, "trimmed_mean", "1"), marks("1", "2", "3", "4", "5", "6", "10"))
    assert result.value == D("4.00")
    assert result.dropped == ("j1", "j7")


def test_trimmed_mean_under_five_marks_is_the_plain_mean() -> None:
    # a 3-judge panel (refused by validate_scheme, tolerated here): (6 + 7 + 9.5) / 3 = 7.5
    result = aggregate(judgement(1, "J", "10", 3, "trimmed_mean"), marks("6", "7", "9.5"))
    assert result.value == D("7.50")
    assert result.dropped == ()


def test_trimmed_mean_incomplete_drops_nothing_yet() -> None:
    result = aggregate(judgement(1, "J", "10", 5, "trimmed_mean"), marks("6", "7", "9.5", "8"))
    assert result.value is None and not result.complete and result.dropped == ()


def test_worldskills_value() -> None:
    # max 4, marks 2 3 3: mean 8/3, / 3 = 8/9, x 4 = 32/9 = 3.555... -> 3.56
    result = aggregate(judgement(1, "W", "4", 3, "worldskills", "1"), marks("2", "3", "3"))
    assert result.value == D("3.56")
    assert not result.spread_flag
    # max 30, marks 3 3 3 -> the full 30; 0 0 0 -> 0
    assert aggregate(judgement(1, "W", "30", 3, "worldskills"), marks("3", "3", "3")).value == D("30.00")
    assert aggregate(judgement(1, "W", "30", 3, "worldskills"), marks("0", "0", "0")).value == D("0.00")


def test_worldskills_spread_flag_boundary() -> None:
    rule = judgement(1, "W", "6", 3, "worldskills", "1")
    # 0 1 2: max - min = 2 > 1 -> flagged; value (3/3)/3 x 6 = 2
    flagged = aggregate(rule, marks("0", "1", "2"))
    assert flagged.spread_flag
    assert flagged.value == D("2.00")
    # 1 2 2: max - min = 1 -> not flagged; value (5/3)/3 x 6 = 30/9 = 3.333... -> 3.33
    calm = aggregate(rule, marks("1", "2", "2"))
    assert not calm.spread_flag
    assert calm.value == D("3.33")
    # 0 3 3: 3 > 1 -> flagged; 1 1 1 -> not
    assert aggregate(rule, marks("0", "3", "3")).spread_flag
    assert not aggregate(rule, marks("1", "1", "1")).spread_flag


def test_worldskills_spread_shows_as_soon_as_it_is_certain() -> None:
    rule = judgement(1, "W", "6", 3, "worldskills", "1")
    early = aggregate(rule, marks("0", "2"))
    assert early.spread_flag and not early.complete and early.value is None
    assert not aggregate(rule, marks("1", "2")).spread_flag


def test_spread_flag_is_only_for_worldskills() -> None:
    assert not aggregate(judgement(1, "J", "10", 3, "mean"), marks("0", "5", "10")).spread_flag


def test_marks_are_sorted_by_judge_key() -> None:
    result = aggregate(judgement(1, "J", "10", 3, "mean"), {"zed": D(1), "amy": D(2), "max": D(3)})
    assert [judge for judge, _ in result.marks] == ["amy", "max", "zed"]


def test_judge_keys_sort_naturally() -> None:
    # seats 1..10: "10" comes after "9", not between "1" and "2"
    rule = judgement(1, "J", "10", 10, "trimmed_mean", "1")
    seats = {str(seat): D(5) for seat in range(1, 11)}
    result = aggregate(rule, seats)
    assert [judge for judge, _ in result.marks] == [str(seat) for seat in range(1, 11)]
    # all equal: the lowest goes from the smallest seat (1), the highest from the largest (10)
    assert result.dropped == ("1", "10")
    assert judge_order("j2") < judge_order("j10") < judge_order("k1")


def test_more_marks_than_the_panel_is_an_error() -> None:
    with pytest.raises(ValueError, match="多于"):
        aggregate(judgement(1, "J", "10", 3, "mean"), marks("1", "2", "3", "4"))
    with pytest.raises(ValueError):
        aggregate(measurement(1, "M", "10"), marks("1", "2"))


def test_an_invalid_raw_mark_is_an_error() -> None:
    with pytest.raises(ValueError, match="超出范围"):
        aggregate(judgement(1, "J", "10", 3, "mean"), marks("1", "2", "11"))
    with pytest.raises(ValueError, match="步长"):
        aggregate(judgement(1, "J", "10", 3, "mean"), marks("1", "2", "2.2"))
    with pytest.raises(ValueError, match="有效数字"):
        aggregate(judgement(1, "J", "10", 3, "mean"), marks("1", "2", "NaN"))


def test_an_unusable_rule_is_an_error() -> None:
    with pytest.raises(ValueError):
        aggregate(judgement(1, "J", "10", 3, "mode"), marks("1"))
    with pytest.raises(ValueError):
        aggregate(judgement(1, "J", "10", 3, "single"), marks("1"))


# --- score_entry ------------------------------------------------------------------------------


def test_weights_20_80() -> None:
    theory = ComponentRule("theory", D(20), (measurement(1, "T1", "100"),))
    practical = ComponentRule("practical", D(80), (measurement(2, "P1", "40"), judgement(3, "P2", "60", 3, "mean")))
    score = score_entry([theory, practical], {1: {"t": D(85)}, 2: {"m": D("36.5")}, 3: marks("50", "52", "54")})
    # practical = 36.5 + (50+52+54)/3 = 36.5 + 52 = 88.5
    # total = 20 x 85 / 100 + 80 x 88.5 / 100 = 17 + 70.8 = 87.8
    assert score.components == {"theory": D("85.00"), "practical": D("88.50")}
    assert score.total == D("87.80")
    assert score.complete and score.missing == 0 and score.flags == ()
    assert score.criteria[3].value == D("52.00")


def test_weights_30_70_with_a_trimmed_mean() -> None:
    theory = ComponentRule("theory", D(30), (measurement(1, "T1", "100"),))
    practical = ComponentRule("practical", D(70), (judgement(2, "P1", "100", 5, "trimmed_mean", "1"),))
    score = score_entry([theory, practical], {1: {"t": D("72.5")}, 2: marks("80", "85", "91", "70", "95")})
    # practical: drop 70 (j4) and 95 (j5); (80 + 85 + 91) / 3 = 256 / 3 = 85.333... -> 85.33
    # total = 0.3 x 72.5 + 0.7 x 85.33 = 21.75 + 59.731 = 81.481 -> 81.48
    assert score.components == {"theory": D("72.50"), "practical": D("85.33")}
    assert score.criteria[2].dropped == ("j4", "j5")
    assert score.total == D("81.48")


def test_total_rounds_half_up() -> None:
    theory = ComponentRule("theory", D(30), (measurement(1, "T1", "100"),))
    practical = ComponentRule("practical", D(70), (measurement(2, "P1", "100", "0.01"),))
    score = score_entry([theory, practical], {1: {"t": D("72.5")}, 2: {"p": D("85.05")}})
    # 0.3 x 72.5 + 0.7 x 85.05 = 21.75 + 59.535 = 81.285 exactly -> 81.29 (half-even: 81.28)
    assert score.total == D("81.29")


def test_weights_25_55_20_with_every_aggregation() -> None:
    theory = ComponentRule("theory", D(25), (measurement(1, "T1", "100"),))
    practical = ComponentRule(
        "practical",
        D(55),
        (
            measurement(2, "P1", "30"),
            judgement(3, "P2", "30", 3, "worldskills", "1"),
            judgement(4, "P3", "40", 4, "median"),
        ),
    )
    oral = ComponentRule("oral", D(20), (judgement(5, "O1", "100", 3, "mean", "1"),))
    score = score_entry(
        [theory, practical, oral],
        {
            1: {"t": D(90)},
            2: {"m": D(27)},
            3: marks("2", "3", "3"),
            4: marks("30", "32", "35", "36"),
            5: marks("80", "85", "85"),
        },
    )
    # P2 = (8/3)/3 x 30 = 240/9 = 26.666... -> 26.67; P3 = (32 + 35) / 2 = 33.5
    # practical = 27 + 26.67 + 33.5 = 87.17; oral = 250 / 3 = 83.333... -> 83.33
    # total = 0.25 x 90 + 0.55 x 87.17 + 0.20 x 83.33 = 22.5 + 47.9435 + 16.666 = 87.1095 -> 87.11
    assert score.criteria[3].value == D("26.67")
    assert score.components == {"theory": D("90.00"), "practical": D("87.17"), "oral": D("83.33")}
    assert score.total == D("87.11")
    assert score.complete and score.missing == 0


def test_an_incomplete_entry() -> None:
    theory = ComponentRule("theory", D(30), (measurement(1, "T1", "100"),))
    practical = ComponentRule(
        "practical",
        D(70),
        (judgement(2, "P1", "50", 5, "trimmed_mean"), judgement(3, "P2", "50", 3, "worldskills", "1")),
    )
    score = score_entry([theory, practical], {1: {"t": D(60)}, 2: marks("40", "41"), 3: marks("0", "2")})
    # P1 expects 5 and has 2 (3 missing); P2 expects 3 and has 2 (1 missing)
    assert score.missing == 4
    assert not score.complete
    assert score.total is None
    assert score.components == {"theory": D("60.00"), "practical": None}
    assert score.criteria[2].value is None and score.criteria[3].value is None
    assert score.flags == ("P2",)  # 0 and 2 already differ by 2


def test_an_entry_without_any_marks() -> None:
    theory = ComponentRule("theory", D(20), (measurement(1, "T1", "100"),))
    practical = ComponentRule("practical", D(80), (measurement(2, "P1", "60"), judgement(3, "P2", "40", 5, "mean")))
    score = score_entry([theory, practical], {})
    assert score.missing == 1 + 1 + 5
    assert score.components == {"theory": None, "practical": None}
    assert score.total is None and not score.complete
    assert set(score.criteria) == {1, 2, 3}


def test_complete_with_a_spread_flag_reports_the_code() -> None:
    theory = ComponentRule("theory", D(20), (measurement(1, "T1", "100"),))
    practical = ComponentRule("practical", D(80), (judgement(2, "A1", "50", 3, "worldskills"), judgement(3, "A2", "50", 3, "worldskills")))
    score = score_entry([theory, practical], {1: {"t": D(50)}, 2: marks("0", "1", "2"), 3: marks("1", "2", "2")})
    assert score.complete
    assert score.flags == ("A1",)
    # A1 = (3/3)/3 x 50 = 16.666... -> 16.67; A2 = (5/3)/3 x 50 = 250/9 = 27.777... -> 27.78
    # practical = 44.45; total = 0.2 x 50 + 0.8 x 44.45 = 10 + 35.56 = 45.56
    assert score.components["practical"] == D("44.45")
    assert score.total == D("45.56")


def test_scheme_errors() -> None:
    theory = ComponentRule("theory", D(30), (measurement(1, "T1", "100"),))
    practical = ComponentRule("practical", D(60), (measurement(2, "P1", "100"),))
    with pytest.raises(ValueError, match="权重之和"):
        score_entry([theory, practical], {})
    full = ComponentRule("practical", D(70), (measurement(2, "P1", "100"),))
    with pytest.raises(ValueError, match="不在评分方案"):
        score_entry([theory, full], {99: {"x": D(1)}})
    with pytest.raises(ValueError, match="重复"):
        score_entry([ComponentRule("theory", D(50), theory.criteria), ComponentRule("theory", D(50), full.criteria)], {})
    with pytest.raises(ValueError, match="重复"):
        score_entry([theory, ComponentRule("practical", D(70), theory.criteria)], {})


# --- properties -------------------------------------------------------------------------------

STEPS = [D("0.5"), D(1), D("0.25"), D("0.1"), D("0.01")]


@st.composite
def rule_and_marks(draw: st.DrawFn) -> tuple[CriterionRule, dict[str, D]]:
    step = draw(st.sampled_from(STEPS))
    max_mark = step * draw(st.integers(1, 400))
    how = draw(st.sampled_from(["single", "mean", "median", "trimmed_mean", "worldskills"]))
    if how == "single":
        rule = CriterionRule(1, "X", max_mark, step, "measurement", 1, "single")
    else:
        panel = 3 if how == "worldskills" else draw(st.integers(5 if how == "trimmed_mean" else 2, 9))
        rule = CriterionRule(1, "X", max_mark, step, "judgement", panel, how)
    count = 1 if how == "single" else rule.panel_size
    if how == "worldskills":
        values = draw(st.lists(st.integers(0, 3), min_size=count, max_size=count))
        raw = [D(v) for v in values]
    else:
        top = int(max_mark / step)
        raw = [step * v for v in draw(st.lists(st.integers(0, top), min_size=count, max_size=count))]
    return rule, {f"judge{i:02d}": v for i, v in enumerate(raw)}


@given(rule_and_marks())
def test_aggregated_values_stay_within_the_criterion_scale(case: tuple[CriterionRule, dict[str, D]]) -> None:
    rule, given_marks = case
    for value in given_marks.values():
        assert check_mark(rule, value) is None
    result = aggregate(rule, given_marks)
    assert result.complete and result.value is not None
    assert D(0) <= result.value <= rule.max_mark
    assert result.value == result.value.quantize(D("0.01"))
    if rule.aggregation != "worldskills":
        # every average lies between the lowest and highest raw mark (up to the 0.005 rounding)
        assert min(given_marks.values()) - D("0.005") <= result.value <= max(given_marks.values()) + D("0.005")
    expected_dropped = 2 if rule.aggregation == "trimmed_mean" else 0
    assert len(result.dropped) == expected_dropped
    assert set(result.dropped) <= set(given_marks)


@given(rule_and_marks(), st.randoms(use_true_random=False))
def test_aggregation_does_not_depend_on_the_order_marks_arrive(case: tuple[CriterionRule, dict[str, D]], rnd: random.Random) -> None:
    rule, given_marks = case
    items = list(given_marks.items())
    rnd.shuffle(items)
    assert aggregate(rule, dict(items)) == aggregate(rule, given_marks)


@st.composite
def split_100(draw: st.DrawFn, parts: int, unit: D) -> list[D]:
    """`parts` positive multiples of `unit` that add up to 100."""
    units = int(D(100) / unit)
    cuts = sorted(draw(st.lists(st.integers(1, units - 1), min_size=parts - 1, max_size=parts - 1, unique=True)))
    bounds = [0, *cuts, units]
    return [unit * (b - a) for a, b in itertools.pairwise(bounds)]


@st.composite
def scheme_and_marks(draw: st.DrawFn) -> tuple[list[ComponentRule], dict[int, dict[str, D]]]:
    kinds = draw(st.sampled_from([["practical"], ["theory", "practical"], ["theory", "practical", "oral"]]))
    weights = draw(split_100(len(kinds), D(5)))
    components: list[ComponentRule] = []
    all_marks: dict[int, dict[str, D]] = {}
    next_id = 1
    for kind, weight in zip(kinds, weights, strict=False):
        maxima = draw(split_100(draw(st.integers(1, 4)), D(1)))
        rules = []
        for max_mark in maxima:
            how = draw(st.sampled_from(["single", "mean", "median", "trimmed_mean", "worldskills"]))
            if how == "single":
                rule = CriterionRule(next_id, f"C{next_id}", max_mark, D("0.5"), "measurement", 1, "single")
            else:
                panel = {"worldskills": 3, "trimmed_mean": 5}.get(how, 3)
                rule = CriterionRule(next_id, f"C{next_id}", max_mark, D("0.5"), "judgement", panel, how)
            count = 1 if how == "single" else rule.panel_size
            top = 3 if how == "worldskills" else int(max_mark * 2)
            values = draw(st.lists(st.integers(0, top), min_size=count, max_size=count))
            scale = D(1) if how == "worldskills" else D("0.5")
            all_marks[next_id] = {f"j{i}": scale * v for i, v in enumerate(values)}
            rules.append(rule)
            next_id += 1
        components.append(ComponentRule(kind, weight, tuple(rules)))
    return components, all_marks


@given(scheme_and_marks())
def test_totals_stay_within_0_and_100(case: tuple[list[ComponentRule], dict[int, dict[str, D]]]) -> None:
    components, all_marks = case
    score = score_entry(components, all_marks)
    assert score.complete and score.missing == 0
    assert score.total is not None and D(0) <= score.total <= D(100)
    for value in score.components.values():
        assert value is not None and D(0) <= value <= D(100)


@given(scheme_and_marks(), st.sampled_from(["max", "zero"]))
def test_full_marks_give_100_and_no_marks_give_0(case: tuple[list[ComponentRule], dict[int, dict[str, D]]], which: str) -> None:
    components, all_marks = case
    rules = {rule.id: rule for component in components for rule in component.criteria}
    for cid, judge_marks in all_marks.items():
        top = D(3) if rules[cid].aggregation == "worldskills" else rules[cid].max_mark
        for judge in judge_marks:
            judge_marks[judge] = top if which == "max" else D(0)
    score = score_entry(components, all_marks)
    assert score.total == (D("100.00") if which == "max" else D("0.00"))


@given(scheme_and_marks(), st.data())
def test_missing_counts_the_marks_still_expected(case: tuple[list[ComponentRule], dict[int, dict[str, D]]], data: st.DataObject) -> None:
    components, all_marks = case
    removed = 0
    for judge_marks in all_marks.values():
        drop = data.draw(st.integers(0, len(judge_marks)))
        for judge in sorted(judge_marks)[:drop]:
            del judge_marks[judge]
        removed += drop
    score = score_entry(components, all_marks)
    assert score.missing == removed
    assert score.complete == (removed == 0)
    assert (score.total is None) == (removed > 0)


def test_a_refused_value_is_quoted_as_sent_never_rounded() -> None:
    rule = CriterionRule(1, "P1", D(60), D("0.5"), "measurement", 1, "single")
    for sent in ("5.00000000000000000000000000000000000001", "60.0000000000000000000000000000001", "1E-29"):
        problem = check_mark(rule, D(sent))
        assert problem is not None and format(D(sent), "f") in problem[1], (sent, problem)
    assert check_mark(rule, D("10.250"))[1].endswith("分值 10.25 不是步长 0.5 的整数倍")  # type: ignore[index]
    huge = check_mark(rule, D("0." + "0" * 27 + "1" * 60))
    assert huge is not None and "0." + "0" * 27 + "1" * 30 + "…" in huge[1]
