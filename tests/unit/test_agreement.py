"""Judge agreement (domain/agreement.py): worked examples, then the invariants as properties."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contest.domain.agreement import Cell, deviations, panel_agreement, spread_outliers


def ws(**marks: int) -> Cell:
    return Cell(D(3), True, {judge: D(value) for judge, value in marks.items()})


def scored(top: str, **marks: str) -> Cell:
    return Cell(D(top), False, {judge: D(value) for judge, value in marks.items()})


# --- worked examples -------------------------------------------------------------------------


def test_a_judge_who_scores_one_point_above_two_others_every_time_drifts() -> None:
    # a: 3 vs the others' mean 2 -> +1 in each of 3 cells; b and c: 2 vs mean(3, 2) = 2.5 -> -0.5 each
    cells = [ws(a=3, b=2, c=2), ws(a=3, b=2, c=2), ws(a=2, b=1, c=1)]
    result = panel_agreement(cells, D("0.5"), 3)
    assert (result["a"].mean_deviation, result["a"].cells, result["a"].drifting) == (D("1.00"), 3, True)
    assert (result["b"].mean_deviation, result["b"].drifting) == (D("-0.50"), False)  # exactly at the threshold: not beyond
    assert result["c"].mean_abs_deviation == D("0.50")
    assert all(r.spread_flags == 0 for r in result.values())  # 1 apart is allowed


def test_other_scales_are_put_on_the_0_to_3_scale() -> None:
    # out of 40: a gives 30 against the others' 20 -> 10/40 of the scale = 0.75 on 0-3
    result = panel_agreement([scored("40", a="30", b="20", c="20")], D("0.5"), 1)
    assert result["a"].mean_deviation == D("0.75") and result["a"].drifting
    assert result["b"].mean_deviation == D("-0.38")  # -5/40 x 3 = -0.375, half up away from zero


def test_spread_flags_count_the_judge_farthest_from_the_median() -> None:
    assert spread_outliers(ws(a=1, b=1, c=3)) == {"c"}
    assert spread_outliers(ws(a=0, b=1, c=2)) == {"a", "c"}
    assert spread_outliers(ws(a=1, b=2, c=2)) == set()  # 1 apart: no flag
    assert spread_outliers(scored("3", a="0", b="3")) == set()  # not a WorldSkills criterion: no spread rule
    result = panel_agreement([ws(a=1, b=1, c=3), ws(a=1, b=1, c=3), ws(a=0, b=2, c=2)], D("0.5"), 3)
    assert {j: r.spread_flags for j, r in result.items()} == {"a": 1, "b": 0, "c": 2}


def test_too_few_shared_cells_never_drift_and_lone_marks_do_not_count() -> None:
    result = panel_agreement([ws(a=3, b=0), ws(a=2)], D("0.5"), 3)
    assert result["a"].cells == 1 and result["a"].mean_deviation == D("3.00") and not result["a"].drifting
    assert panel_agreement([ws(a=2)], D("0.5"), 1)["a"].mean_deviation is None


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="阈值"):
        panel_agreement([], D("-0.1"), 3)
    with pytest.raises(ValueError, match="最少"):
        panel_agreement([], D("0.5"), 0)


# --- properties ------------------------------------------------------------------------------

JUDGES = ["s1", "s2", "s3", "s4", "s5"]


@st.composite
def cells(draw: st.DrawFn) -> list[Cell]:
    result = []
    for _ in range(draw(st.integers(0, 8))):
        worldskills = draw(st.booleans())
        top = D(3) if worldskills else D(draw(st.sampled_from(["10", "20", "40", "100"])))
        judges = draw(st.lists(st.sampled_from(JUDGES), min_size=1, max_size=5, unique=True))
        if worldskills:
            values = [D(draw(st.integers(0, 3))) for _ in judges]
        else:
            values = [D(draw(st.integers(0, int(top) * 2))) / 2 for _ in judges]
        result.append(Cell(top, worldskills, dict(zip(judges, values, strict=True))))
    return result


@given(cells())
def test_deviations_add_up_to_zero_in_every_cell_and_over_the_panel(panel: list[Cell]) -> None:
    for cell in panel:
        assert sum(sum(v) for v in deviations([cell]).values()) == 0
    assert sum(sum(v) for v in deviations(panel).values()) == 0


@given(cells(), st.integers(-5, 5))
def test_adding_the_same_amount_to_a_cell_changes_no_deviation(panel: list[Cell], shift: int) -> None:
    shifted = [Cell(c.top, c.worldskills, {j: m + shift for j, m in c.marks.items()}) for c in panel]
    assert deviations(shifted) == deviations(panel)


@given(cells(), st.integers(0, 3))
def test_a_unanimous_panel_has_no_deviation_flag_or_drift(panel: list[Cell], value: int) -> None:
    unanimous = [Cell(c.top, c.worldskills, {j: D(value) for j in c.marks}) for c in panel]
    for result in panel_agreement(unanimous, D(0), 1).values():
        assert result.mean_deviation in (None, D("0.00")) and result.spread_flags == 0 and not result.drifting


@given(cells(), st.permutations(JUDGES))
def test_renaming_judges_renames_the_results(panel: list[Cell], order: list[str]) -> None:
    rename = dict(zip(JUDGES, order, strict=True))
    renamed = [Cell(c.top, c.worldskills, {rename[j]: m for j, m in c.marks.items()}) for c in panel]
    before, after = panel_agreement(panel), panel_agreement(renamed)
    assert {rename[j]: (r.cells, r.mean_deviation, r.spread_flags, r.drifting) for j, r in before.items()} == {
        j: (r.cells, r.mean_deviation, r.spread_flags, r.drifting) for j, r in after.items()
    }


@given(cells(), st.integers(1, 4))
def test_raising_one_judge_by_k_raises_that_judges_deviation_by_k_on_the_scale(panel: list[Cell], k: int) -> None:
    raised = [Cell(c.top, c.worldskills, {j: m + k if j == "s1" else m for j, m in c.marks.items()}) for c in panel]
    before, after = deviations(panel).get("s1", []), deviations(raised).get("s1", [])
    shared = [c for c in panel if "s1" in c.marks and len(c.marks) > 1]
    assert [a - b for a, b in zip(after, before, strict=True)] == [Fraction(k) * 3 / Fraction(c.top) for c in shared]


@given(cells(), st.decimals(min_value=0, max_value=3, places=2), st.integers(1, 5))
def test_drift_is_exactly_beyond_the_threshold_with_enough_cells(panel: list[Cell], threshold: D, min_cells: int) -> None:
    exact = deviations(panel)
    for judge, result in panel_agreement(panel, threshold, min_cells).items():
        values = exact.get(judge, [])
        expected = len(values) >= min_cells and abs(sum(values, Fraction(0)) / len(values)) > Fraction(threshold)
        assert result.drifting == expected


@given(cells())
def test_every_flagged_cell_names_someone_at_an_extreme(panel: list[Cell]) -> None:
    for cell in panel:
        outliers = spread_outliers(cell)
        values = [int(m) for m in cell.marks.values()]
        flagged = cell.worldskills and len(values) > 1 and max(values) - min(values) > 1
        assert bool(outliers) == flagged
        assert all(cell.marks[j] in (min(cell.marks.values()), max(cell.marks.values())) for j in outliers)
