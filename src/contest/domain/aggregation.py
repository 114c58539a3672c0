"""Aggregation of judges' marks (DOMAIN.md §3): criterion values, component scores, the total.

Pure and exact: no I/O, no framework, Decimal in and Decimal out (never float). Every published
number keeps its raw marks and the list of dropped marks, so it can be explained.

How a criterion's value is derived (``aggregate``):

- measurement (测量分): one mark from the assigned judge; the value is that mark. Such a
  criterion always expects exactly one mark, whatever its ``panel_size`` says.
- ``mean``: the arithmetic mean of the panel's marks.
- ``median``: the middle mark; with an even number of marks, the mean of the two middle ones.
- ``trimmed_mean`` (去掉一个最高分和一个最低分): with 5 or more marks, exactly one highest and
  exactly one lowest mark are dropped and the rest averaged. Which judge's mark is dropped
  when several share an extreme: the marks are ordered by (mark, judge key) and the first
  and the last of that order are dropped, i.e. among equal lowest marks the smallest judge
  key, among equal highest marks the largest judge key. The value does not depend on this
  choice; only the ``dropped`` record does. With fewer than 5 marks (a scheme
  ``validate_scheme`` refuses, since trimmed mean needs a panel of 5) nothing is dropped and
  the value is the plain mean.
- ``worldskills`` (世赛评价分): each judge gives a whole number 0, 1, 2 or 3; the value is
  (mean of the marks / 3) x max_mark. ``spread_flag`` is set when the highest and lowest mark
  differ by more than 1: the panel must re-score under the chief judge before the lock.
  The flag is computed over the marks present, also while the panel is incomplete: more
  marks can only widen the spread, so a flag shown early is never withdrawn by a later mark.

Judge keys are ordered "naturally" everywhere (``judge_order``): runs of digits compare as
numbers, so seats "1", "2", "10" come in that order; ``marks`` and ``dropped`` use that order.

Rounding: every value is computed exactly (as a fraction) and rounded once, to 0.01 with
ROUND_HALF_UP. A component's score is the sum of its criteria's (rounded) values, so it is
exactly what a reader adding up the published criterion values gets. The total is
sum(weight x component score) / 100, computed exactly and rounded once to 0.01 ROUND_HALF_UP.

Completeness: a criterion is complete when it has as many marks as its panel (measurement: 1);
until then its value is ``None`` and nothing is dropped. A component score is ``None`` while
any of its criteria is incomplete; the total is ``None`` until every component is complete.
``complete`` is about marks only: a spread flag does not make an entry incomplete, it is
reported in ``flags`` (the criterion codes, in scheme order) and blocks the lock elsewhere.

Errors (ValueError, Chinese message): more marks than the panel, a raw mark that
``check_mark`` refuses (a stored mark must have passed it), marks for a criterion id that is
not in the scheme, a rule that cannot be aggregated (unknown kind or aggregation, a judgement
criterion with ``single``), duplicate component kinds or criterion ids, and component
weights that do not add up to 100.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from fractions import Fraction

from contest.domain.text import N_, Text

__all__ = [
    "AGGREGATION_NAMES",
    "TRIMMED_MEAN_MIN_MARKS",
    "WORLDSKILLS_MAX",
    "ComponentRule",
    "CriterionResult",
    "CriterionRule",
    "EntryScore",
    "aggregate",
    "check_mark",
    "expected_marks",
    "judge_order",
    "score_entry",
]

AGGREGATION_NAMES = ("single", "mean", "trimmed_mean", "median", "worldskills")
CRITERION_KINDS = ("measurement", "judgement")
TRIMMED_MEAN_MIN_MARKS = 5
WORLDSKILLS_MAX = 3
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class CriterionRule:
    id: int  # the criterion's database id: the key in marks mappings
    code: str
    max_mark: Decimal
    step: Decimal
    kind: str  # "measurement" | "judgement"
    panel_size: int
    aggregation: str  # "single" | "mean" | "trimmed_mean" | "median" | "worldskills"


@dataclass(frozen=True)
class ComponentRule:
    kind: str  # "theory" | "practical" | "oral"
    weight: Decimal  # percent; weights of a scheme add up to 100
    criteria: tuple[CriterionRule, ...]


@dataclass(frozen=True)
class CriterionResult:
    criterion_id: int
    value: Decimal | None  # on the criterion's own scale, 0.01 ROUND_HALF_UP; None while incomplete
    marks: tuple[tuple[str, Decimal], ...]  # (judge key, raw mark), sorted by judge key
    dropped: tuple[str, ...]  # judge keys whose marks were dropped, sorted by judge key
    complete: bool
    spread_flag: bool  # worldskills only: max - min > 1


@dataclass(frozen=True)
class EntryScore:
    total: Decimal | None
    components: dict[str, Decimal | None]
    criteria: dict[int, CriterionResult]
    complete: bool
    missing: int
    flags: tuple[str, ...]


# --- raw marks -------------------------------------------------------------------------------


def check_mark(rule: CriterionRule, value: Decimal) -> tuple[str, str] | None:
    """None if the raw mark is acceptable, else (error code, Chinese message: a Text, so the judge's
    tablet can be answered in its own language).

    Codes: ``not_a_number`` (NaN, Infinity), ``out_of_range`` (outside [0, max_mark]; for
    worldskills outside 0..3), ``off_step`` (not a whole multiple of the step; worldskills
    marks are whole numbers). Ints are accepted as exact numbers; floats are refused (TypeError).
    """
    value = _as_decimal(value)
    code = rule.code
    if not value.is_finite():
        return "not_a_number", Text("评分项「{code}」的分值不是有效数字", code=code)
    shown = _show(value)
    if rule.aggregation == "worldskills":
        if value < 0 or value > WORLDSKILLS_MAX:
            return "out_of_range", Text("评分项「{code}」是世赛评价分,分值 {value} 超出范围,应为 0、1、2、3 之一", code=code, value=shown)
        if value != value.to_integral_value():
            return "off_step", Text("评分项「{code}」是世赛评价分,分值应为整数 0、1、2、3,不能是 {value}", code=code, value=shown)
        return None
    if value < 0 or value > rule.max_mark:
        top = _show(rule.max_mark)
        return "out_of_range", Text("评分项「{code}」的分值 {value} 超出范围,应在 0 到 {max} 之间", code=code, value=shown, max=top)
    if not _on_step(value, rule.step):
        return "off_step", Text("评分项「{code}」的分值 {value} 不是步长 {step} 的整数倍", code=code, value=shown, step=_show(rule.step))
    return None


# --- one criterion ---------------------------------------------------------------------------


def aggregate(rule: CriterionRule, marks: Mapping[str, Decimal]) -> CriterionResult:
    """The criterion's value from its judges' raw marks (judge key -> mark); see the module doc."""
    _check_rule(rule)
    expected = expected_marks(rule)
    if len(marks) > expected:
        raise ValueError(
            Text("评分项「{code}」收到 {count} 个分数,多于应有的 {expected} 个", code=rule.code, count=len(marks), expected=expected)
        )
    ordered: list[tuple[str, Decimal]] = []
    for judge, raw in sorted(marks.items(), key=lambda item: judge_order(item[0])):
        problem = check_mark(rule, raw)
        if problem is not None:
            raise ValueError(problem[1])
        ordered.append((judge, _as_decimal(raw)))
    values = [Fraction(mark) for _, mark in ordered]
    spread_flag = rule.aggregation == "worldskills" and bool(values) and max(values) - min(values) > 1
    complete = len(ordered) == expected
    if not complete:
        return CriterionResult(rule.id, None, tuple(ordered), (), False, spread_flag)

    dropped: tuple[str, ...] = ()
    if rule.kind == "measurement":
        exact = values[0]
    elif rule.aggregation == "mean":
        exact = _mean(values)
    elif rule.aggregation == "median":
        exact = _median(values)
    elif rule.aggregation == "trimmed_mean":
        exact, dropped = _trimmed_mean(ordered)
    else:  # worldskills
        exact = _mean(values) / WORLDSKILLS_MAX * Fraction(rule.max_mark)
    return CriterionResult(rule.id, _round_half_up(exact), tuple(ordered), dropped, True, spread_flag)


def expected_marks(rule: CriterionRule) -> int:
    """How many marks make the criterion complete: 1 for a measurement, else the panel size."""
    return 1 if rule.kind == "measurement" else rule.panel_size


def _check_rule(rule: CriterionRule) -> None:
    where = Text("评分项「{code}」", code=rule.code)
    if rule.kind not in CRITERION_KINDS:
        raise ValueError(Text("{where}的类型「{kind}」无效", where=where, kind=rule.kind))
    if rule.aggregation not in AGGREGATION_NAMES:
        raise ValueError(Text("{where}的汇总方式「{aggregation}」无效", where=where, aggregation=rule.aggregation))
    if rule.kind == "judgement" and rule.aggregation == "single":
        raise ValueError(Text("{where}是评价分,汇总方式不能是单人评分", where=where))
    if rule.kind == "judgement" and rule.panel_size < 1:
        raise ValueError(Text("{where}的裁判人数应至少为 1", where=where))
    if not (rule.max_mark.is_finite() and rule.max_mark > 0):
        raise ValueError(Text("{where}的满分应大于 0", where=where))
    if not (rule.step.is_finite() and rule.step > 0):
        raise ValueError(Text("{where}的步长应大于 0", where=where))


def _mean(values: Sequence[Fraction]) -> Fraction:
    return sum(values, Fraction(0)) / len(values)


def _median(values: Sequence[Fraction]) -> Fraction:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _trimmed_mean(ordered_by_judge: Sequence[tuple[str, Decimal]]) -> tuple[Fraction, tuple[str, ...]]:
    if len(ordered_by_judge) < TRIMMED_MEAN_MIN_MARKS:
        return _mean([Fraction(mark) for _, mark in ordered_by_judge]), ()
    by_mark = sorted(ordered_by_judge, key=lambda item: (item[1], judge_order(item[0])))
    lowest, highest = by_mark[0], by_mark[-1]
    kept = [Fraction(mark) for _, mark in by_mark[1:-1]]
    return _mean(kept), tuple(sorted((lowest[0], highest[0]), key=judge_order))


_DIGITS = re.compile(r"(\d+)", re.ASCII)


def judge_order(key: str) -> tuple[tuple[tuple[int, int | str], ...], str]:
    """Sort key for judge keys: runs of digits compare as numbers ("2" < "10", "j2" < "j10");
    the key itself breaks what is left ("01" vs "1")."""
    parts = tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(key) if part)
    return parts, key


# --- a whole entry ---------------------------------------------------------------------------


def score_entry(components: Sequence[ComponentRule], marks: Mapping[int, Mapping[str, Decimal]]) -> EntryScore:
    """Criterion values, component scores (0..100) and the weighted total of one entry.

    ``marks`` maps criterion id -> (judge key -> raw mark); criteria without an entry have no
    marks yet.
    """
    kinds = [component.kind for component in components]
    if len(set(kinds)) != len(kinds):
        raise ValueError(N_("评分方案中组成部分重复"))
    total_weight = sum((component.weight for component in components), Decimal(0))
    if total_weight != HUNDRED:
        raise ValueError(Text("各组成部分权重之和为 {total},应为 100", total=_show(total_weight)))
    known = [criterion.id for component in components for criterion in component.criteria]
    if len(set(known)) != len(known):
        raise ValueError(N_("评分方案中评分项重复"))
    unknown = sorted(set(marks) - set(known))
    if unknown:
        raise ValueError(Text("分数对应的评分项 {unknown} 不在评分方案中", unknown=unknown))

    criteria: dict[int, CriterionResult] = {}
    scores: dict[str, Decimal | None] = {}
    missing = 0
    flags: list[str] = []
    for component in components:
        component_score: Decimal | None = Decimal("0.00")
        for rule in component.criteria:
            result = aggregate(rule, marks.get(rule.id, {}))
            criteria[rule.id] = result
            missing += max(expected_marks(rule) - len(result.marks), 0)
            if result.spread_flag:
                flags.append(rule.code)
            if result.value is None:
                component_score = None
            elif component_score is not None:
                component_score += result.value
        scores[component.kind] = component_score

    complete = missing == 0
    total: Decimal | None = None
    if all(score is not None for score in scores.values()):
        weighted = sum(
            (Fraction(component.weight) * Fraction(scores[component.kind] or 0) for component in components),
            Fraction(0),
        )
        total = _round_half_up(weighted / 100)
    return EntryScore(total, scores, criteria, complete, missing, tuple(flags))


# --- exact numbers ---------------------------------------------------------------------------


def _as_decimal(value: Decimal | int) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"分值应为 Decimal,不能是 {type(value).__name__}")


def _on_step(value: Decimal, step: Decimal) -> bool:
    """Whether value is a whole multiple of step, exactly (Decimal remainder, no float)."""
    if not (step.is_finite() and step > 0):
        return True  # a scheme without a usable step: only the range applies
    if not value:
        return True
    if _exponent(value) < _exponent(step):
        # More decimal places than any multiple of the step has (a multiple of m x 10^e is a whole
        # number of 10^e). Checked first: the remainder below underflows to 0 for a value like
        # 1E-999999999 (beyond the context's Emin), which would pass it as on the step.
        return False
    with localcontext() as ctx:
        # enough digits for the integer quotient; the remainder itself is only compared to 0,
        # and a non-zero remainder never rounds to zero
        ctx.prec = min(max(28, value.adjusted() - step.adjusted() + 4), 1000)
        ctx.traps[InvalidOperation] = True
        try:
            return value % step == 0
        except InvalidOperation:
            return Fraction(value) % Fraction(step) == 0


def _exponent(value: Decimal) -> int:
    """The exponent of value written without trailing zeros (2.50 -> -1, 300 -> 2)."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    zeros = 0
    for digit in reversed(digits[1:]):
        if digit:
            break
        zeros += 1
    return exponent + zeros


def _round_half_up(value: Fraction) -> Decimal:
    """Round an exact value to 0.01, halves away from zero (Decimal's ROUND_HALF_UP)."""
    scaled = abs(value) * 100
    hundredths = math.floor(scaled + Fraction(1, 2))
    sign = 1 if value < 0 and hundredths else 0
    return Decimal((sign, tuple(int(d) for d in str(hundredths)), -2))


SHOW_MAX = 60  # characters of a number quoted in a message; longer ones are cut, with "…"


def _show(value: Decimal) -> str:
    """A number for a message, as it is (never rounded: 5.00000000000000000000000000000000000001 is
    not "5"), trailing zeros dropped; in plain notation unless that would be absurdly long; cut with
    an ellipsis past SHOW_MAX characters."""
    shown = _plain(value) if value.is_finite() and -30 < value.adjusted() < 30 else str(value)
    return shown if len(shown) <= SHOW_MAX else shown[: SHOW_MAX - 1] + "…"


def _plain(value: Decimal) -> str:
    """Plain notation from the digits themselves (Decimal arithmetic would round to 28 digits)."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).lstrip("0") or "0"
    if text == "0":
        return "0"
    if exponent >= 0:
        text += "0" * exponent
    else:
        text = text.rjust(-exponent + 1, "0")
        text = (text[:exponent] + "." + text[exponent:]).rstrip("0").rstrip(".")
    return ("-" if sign else "") + text
