"""Judge agreement: how far each judge's marks sit from the rest of the panel on the same cells.

Pure and exact (Fractions inside, Decimal out), no I/O. A *cell* is one judgement criterion of one
entry with the marks the panel gave it (judge key -> raw mark). Measurement criteria have one
mark per cell and take no part.

- **Deviation** of judge j in a cell with at least one other mark: j's mark minus the mean of the
  other judges' marks in that cell, put on the WorldSkills judgement scale 0-3 (multiplied by
  3 / the criterion's top mark; a WorldSkills criterion's top mark is 3 itself), so a criterion
  marked out of 40 and one marked 0-3 count alike.
- **Mean deviation** of a judge: the mean of the judge's deviations over the cells shared with
  at least one other judge, signed: positive scores above the panel, negative below. The mean of
  the absolute deviations is reported too (erratic, but not one-sided).
- **Spread flags**: WorldSkills cells whose marks differ by more than 1 (the rule that makes the
  panel re-score before the lock, domain/aggregation.py) in which this judge's mark is the one
  farthest from the cell's median (all of them, on a tie): the judge who stood out.
- **Drifting**: the judge shares at least ``min_cells`` cells and the mean deviation is beyond
  ``threshold`` either way (strictly).

The rule follows WorldSkills judgement marking (three or more judges give 0-3 each, independently;
marks more than 1 apart are re-scored under the chief expert): a judge whose marks stand, on
average, half of that permitted gap (0.5, the default threshold) above or below the others on the
same work is scoring to another standard, and the chief judge should talk to the panel before
the spread flags pile up. The threshold and the minimum number of cells are settings
(``CONTEST_AGREEMENT_THRESHOLD``, ``CONTEST_AGREEMENT_MIN_CELLS``; docs/live.md).

Invariants (tests/unit/test_agreement.py): in every cell the deviations of its judges add up to
zero (so over the whole panel the summed deviations are zero); adding the
same amount to every mark of a cell changes no deviation; a unanimous panel has no deviation,
no flag and no drift; renaming judges renames the results; raising one judge's marks by k in
every cell raises that judge's deviation in each by k (on the 0-3 scale).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from contest.domain.aggregation import WORLDSKILLS_MAX, _round_half_up

__all__ = ["DEFAULT_MIN_CELLS", "DEFAULT_THRESHOLD", "Cell", "JudgeAgreement", "deviations", "panel_agreement", "spread_outliers"]

DEFAULT_THRESHOLD = Decimal("0.5")  # on the 0-3 scale: half the spread WorldSkills tolerates in one cell
DEFAULT_MIN_CELLS = 3
SCALE = Fraction(WORLDSKILLS_MAX)


@dataclass(frozen=True)
class Cell:
    """One judgement criterion of one entry: the top mark of its scale and the panel's marks."""

    top: Decimal  # 3 for a WorldSkills criterion, else the criterion's max mark
    worldskills: bool
    marks: Mapping[str, Decimal]  # judge key -> raw mark


@dataclass(frozen=True)
class JudgeAgreement:
    judge: str
    cells: int  # cells shared with at least one other judge
    mean_deviation: Decimal | None  # signed, 0-3 scale, 0.01 half-up; None without a shared cell
    mean_abs_deviation: Decimal | None
    spread_flags: int
    drifting: bool


def deviations(cells: Iterable[Cell]) -> dict[str, list[Fraction]]:
    """Every judge's deviations (exact, on the 0-3 scale), one per shared cell, in cell order."""
    result: dict[str, list[Fraction]] = {}
    for cell in cells:
        if len(cell.marks) < 2:
            continue
        if not cell.top > 0:
            raise ValueError("评分项的满分应大于 0")
        factor = SCALE / Fraction(cell.top)
        marks = {judge: Fraction(mark) for judge, mark in cell.marks.items()}
        total, others = sum(marks.values(), Fraction(0)), len(marks) - 1
        for judge, mark in marks.items():
            result.setdefault(judge, []).append((mark - (total - mark) / others) * factor)
    return result


def spread_outliers(cell: Cell) -> set[str]:
    """In a WorldSkills cell marked more than 1 apart: the judges farthest from the cell's median."""
    if not cell.worldskills or len(cell.marks) < 2:
        return set()
    values = sorted(Fraction(m) for m in cell.marks.values())
    if values[-1] - values[0] <= 1:
        return set()
    middle = len(values) // 2
    median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    distance = {judge: abs(Fraction(mark) - median) for judge, mark in cell.marks.items()}
    farthest = max(distance.values())
    return {judge for judge, d in distance.items() if d == farthest}


def panel_agreement(
    cells: Iterable[Cell], threshold: Decimal = DEFAULT_THRESHOLD, min_cells: int = DEFAULT_MIN_CELLS
) -> dict[str, JudgeAgreement]:
    """Per judge key (every judge with a mark in any cell): agreement with the rest of the panel."""
    cells = list(cells)
    if threshold < 0:
        raise ValueError("一致性阈值不能为负数")
    if min_cells < 1:
        raise ValueError("一致性统计的最少评分格数应至少为 1")
    by_judge = deviations(cells)
    flags: dict[str, int] = {}
    judges: set[str] = set(by_judge)
    for cell in cells:
        judges.update(cell.marks)
        for judge in spread_outliers(cell):
            flags[judge] = flags.get(judge, 0) + 1
    limit = Fraction(threshold)
    result = {}
    for judge in sorted(judges):
        values = by_judge.get(judge, [])
        mean = sum(values, Fraction(0)) / len(values) if values else None
        mean_abs = sum((abs(v) for v in values), Fraction(0)) / len(values) if values else None
        result[judge] = JudgeAgreement(
            judge=judge,
            cells=len(values),
            mean_deviation=None if mean is None else _round_half_up(mean),
            mean_abs_deviation=None if mean_abs is None else _round_half_up(mean_abs),
            spread_flags=flags.get(judge, 0),
            drifting=mean is not None and len(values) >= min_cells and abs(mean) > limit,
        )
    return result
