"""The import's cell readers (contest.rosters.parse.Row) word each problem in Chinese as before and
hand it on as a catalog message: in English no Chinese is left but the value typed in the cell and
the words the cell must hold."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from contest.i18n import translate
from contest.rosters.drafts import ALL_WEIGHTS, GENDERS, WEIGHT_COLUMNS
from contest.rosters.parse import Problems, Row
from contest.rosters.sheets import COMPETITORS, ID_NUMBER

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef「」]")


def _problem(cells: dict[str, Any], read: Callable[[Row], object]) -> str:
    problems = Problems({COMPETITORS.name: 0})
    row = Row(COMPETITORS.name, 7, cells, problems)
    read(row)
    assert row.failed
    (problem,) = problems.sorted()
    return problem.message


@pytest.mark.parametrize(
    ("cells", "read", "chinese", "english", "kept"),
    [
        ({}, lambda r: r.required("姓名"), "「姓名」不能为空", "“Name” must not be empty", ""),
        (
            {},
            lambda r: r.choice("性别", GENDERS, required=True),
            "「性别」不能为空,应为 男/女",
            "“Gender” must not be empty: it should be 男/女",
            "男/女",
        ),
        (
            {"性别": "M"},
            lambda r: r.choice("性别", GENDERS),
            "「M」无效,性别应为 男/女",
            "“M” is not valid: Gender should be 男/女",
            "男/女",
        ),
        (
            {"是否职工": "对"},
            lambda r: r.flag("是否职工"),
            "「对」无效,是否职工应为 是 或 否",
            "“对” is not valid: Employee should be 是 (yes) or 否 (no)",
            "对是否",
        ),
        ({"份额": "六"}, lambda r: r.integer("份额", 1), "「六」不是整数", "“六” is not a whole number", "六"),
        (
            {"团队人数": 4},
            lambda r: r.integer("团队人数", 1, 3),
            "团队人数 4 超出范围,应为 1 到 3",
            "Team size 4 is out of range: it should be 1 to 3",
            "",
        ),
        (
            {"份额": 0},
            lambda r: r.integer("份额", 1),
            "份额 0 超出范围,应为 不小于 1",
            "Share 0 is out of range: it should be at least 1",
            "",
        ),
        ({"满分": "8,5"}, lambda r: r.decimal("满分"), None, None, ""),
        ({}, lambda r: r.id_number(), "证件号码不能为空", "The ID number must not be empty", ""),
        ({ID_NUMBER: 371002199001010011.0}, lambda r: r.id_number(), None, None, ""),
    ],
)
def test_each_reader_problem_in_chinese_and_english(
    cells: dict[str, Any], read: Callable[[Row], object], chinese: str | None, english: str | None, kept: str
) -> None:
    message = _problem(cells, read)
    if chinese is not None:
        assert message == chinese
    if english is not None:
        assert translate(message, "en") == english
    shown = translate(message, "en")
    assert not CJK.search(re.sub(f"[{kept}]", "", shown) if kept else shown), shown
    assert translate(message, "zh") == message


def test_the_weights_column_names_every_weight() -> None:
    assert "、".join(WEIGHT_COLUMNS.values()) == ALL_WEIGHTS
    assert not CJK.search(translate(ALL_WEIGHTS, "en"))
    for column in WEIGHT_COLUMNS.values():
        assert not CJK.search(translate(column, "en"))
