from __future__ import annotations

from decimal import Decimal as D

import pytest

from contest.domain.scheme import ComponentSpec, CriterionSpec, parse_decimal, validate_scheme


def practical(*criteria: CriterionSpec, weight: str = "80") -> ComponentSpec:
    return ComponentSpec("practical", D(weight), criteria=list(criteria))


THEORY = ComponentSpec("theory", D(20), criteria=[CriterionSpec("T1", "理论", D(100), D("0.5"))])


def test_valid_common_splits() -> None:
    for theory, prac, oral in (("20", "80", None), ("30", "70", None), ("25", "55", "20")):
        components = [
            ComponentSpec("theory", D(theory), criteria=[CriterionSpec("T1", "t", D(100))]),
            practical(CriterionSpec("P1", "p", D(60)), CriterionSpec("P2", "q", D(40), D(1), "judgement", 5, "trimmed_mean"), weight=prac),
        ]
        if oral:
            components.append(
                ComponentSpec("oral", D(oral), criteria=[CriterionSpec("D1", "d", D(100), D(1), "judgement", 3, "worldskills")])
            )
        assert validate_scheme(components) == []


def test_weights_must_add_up_to_100() -> None:
    errors = validate_scheme([THEORY, practical(CriterionSpec("P1", "p", D(100)), weight="70")])
    assert errors == ["各组成部分权重之和为 90,应为 100"]


def test_criteria_max_marks_must_add_up_to_100() -> None:
    errors = validate_scheme([THEORY, practical(CriterionSpec("P1", "p", D(50)), CriterionSpec("P2", "q", D("40.5")))])
    assert errors == ["组成部分「实操」各评分项满分之和为 90.5,应为 100"]


def test_max_mark_on_the_step() -> None:
    errors = validate_scheme([THEORY, practical(CriterionSpec("P1", "p", D("99.5"), D(1)), CriterionSpec("P2", "q", D("0.5")))])
    assert any("不是步长 1 的整数倍" in e for e in errors)


@pytest.mark.parametrize(
    ("criterion", "message"),
    [
        (CriterionSpec("P1", "p", D(100), D(1), "judgement", 3, "trimmed_mean"), "至少 5 名裁判"),
        (CriterionSpec("P1", "p", D(100), D(1), "judgement", 4, "worldskills"), "裁判人数应为 3"),
        (CriterionSpec("P1", "p", D(100), D(1), "judgement", 1, "mean"), "至少为 2"),
        (CriterionSpec("P1", "p", D(100), D(1), "judgement", 3, "single"), "不能是单人评分"),
        (CriterionSpec("P1", "p", D(100), D(1), "measurement", 3, "mean"), "应由一名裁判评分"),
        (CriterionSpec("P1", "p", D(100), D(1), "guess", 1, "single"), "类型「guess」无效"),
        (CriterionSpec("P1", "p", D(100), D(0), "measurement", 1, "single"), "步长应大于 0"),
    ],
)
def test_panel_and_kind_rules(criterion: CriterionSpec, message: str) -> None:
    errors = validate_scheme([THEORY, practical(criterion)])
    assert any(message in e for e in errors), errors


def test_duplicates_and_empties() -> None:
    assert validate_scheme([]) == ["评分方案至少需要一个组成部分(理论、实操或答辩)"]
    errors = validate_scheme([THEORY, ComponentSpec("theory", D(80), criteria=[])])
    assert "组成部分「理论」重复" in errors and "组成部分「理论」没有评分项" in errors
    errors = validate_scheme([THEORY, practical(CriterionSpec("P1", "p", D(50)), CriterionSpec("P1", "q", D(50)))])
    assert any("编号重复" in e for e in errors)


def test_parse_decimal() -> None:
    assert parse_decimal(0.1, "满分") == D("0.1")
    assert parse_decimal(" 12.5 ", "满分") == D("12.5")
    for bad in ("abc", "NaN", "Infinity", ""):
        with pytest.raises(ValueError, match="不是有效数字"):
            parse_decimal(bad, "满分")
