"""Reading results from the Excel template and the JSON form; errors by sheet, row, column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from contest.awards.results_io import COLUMNS, SHEET, read_results, write_template
from contest.domain.awards import InputErrors

from .builders import REPO, new_id

HEADERS = [c.header for c in COLUMNS]


def row(**values: object) -> dict[str, object]:
    base = {
        "成绩编号": "R1",
        "赛事名称": "省职业技能大赛",
        "赛事级别": "省级",
        "赛事类别": "一类",
        "年份": 2023,
        "赛项": "焊工",
        "技能代码": "6-18-02-04",
        "成绩": "第1名",
        "角色": "选手",
        "姓名": "张三",
        "证件号码": new_id(),
        "选送单位": "某技师学院",
        "就业地区": "黑龙江省哈尔滨市",
    }
    base.update(values)
    return base


def write_rows(path: Path, rows: list[dict[str, object]]) -> Path:
    write_template(path)
    book = load_workbook(path)
    sheet = book[SHEET]
    for r, values in enumerate(rows, 2):
        for header, value in values.items():
            cell = sheet.cell(row=r, column=HEADERS.index(header) + 1, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
    book.save(path)
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(InputErrors) as caught:
        read_results(path)
    return [str(e) for e in caught.value.errors]


def test_template_has_the_documented_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    book = load_workbook(path)
    assert [c.value for c in book[SHEET][1]] == HEADERS
    assert "证件号码" in HEADERS and "成绩编号" in HEADERS
    assert book["填写说明"]["A2"].value == "成绩编号"
    assert read_results(path) == []  # the blank template reads as no achievements


def test_team_and_coaches_rows_group_by_id(tmp_path: Path) -> None:
    captain, member, coach = new_id(), new_id(), new_id()
    path = write_rows(
        tmp_path / "r.xlsx",
        [
            row(证件号码=captain, 姓名="队长"),
            row(证件号码=member, 姓名="队员", 赛事名称=None, 赛事级别=None, 成绩=None),  # blanks inherit
            row(证件号码=coach, 姓名="教练", 角色="教练", 份额="60", 牵头教练="是"),
            row(成绩编号="R2", 成绩="金牌", 赛事级别="世界", 赛事类别=None, 赛事标签="世界技能大赛"),
        ],
    )
    first, second = read_results(path)
    assert [m.person.name for m in first.members] == ["队长", "队员"]
    assert first.coaches[0].lead and str(first.coaches[0].share) == "60"
    assert first.competition.level == "provincial" and first.competition.competition_class == 1
    assert second.result.place == 1 and second.result.medal == "gold"
    assert second.competition.kinds == frozenset({"worldskills"})


def test_bad_cells_are_reported_by_sheet_row_and_column_and_nothing_is_imported(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "bad.xlsx",
        [
            row(),
            row(成绩编号="R2", 赛事级别="县级"),
            row(成绩编号="R3", 证件号码="230103199506150010"),  # wrong check digit
            row(成绩编号="R4", 成绩="冠军"),
            row(成绩编号="R5", 年份="二三年"),
        ],
    )
    found = errors_of(path)
    assert any("第 3 行“赛事级别”列(C)" in e and "县级" in e for e in found)
    assert any("第 4 行“证件号码”列(N)" in e and "校验位" in e for e in found)
    assert any("第 5 行“成绩”列(K)" in e for e in found)
    assert any("第 6 行“年份”列(F)" in e for e in found)
    assert all(e.startswith("工作表“成绩”") for e in found)
    assert not any("230103199506150010" in e for e in found)  # ID numbers are masked


def test_numeric_id_cell_is_refused(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "n.xlsx", [row(证件号码=230103199506150011)])
    assert any("文本格式" in e for e in errors_of(path))


def test_conflicting_competition_cells_within_one_achievement(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "c.xlsx", [row(), row(证件号码=new_id(), 成绩="第2名")])
    assert any("第 3 行“成绩”列" in e and "不一致" in e for e in errors_of(path))


def test_achievement_without_competitor_and_missing_header(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "x.xlsx", [row(角色="教练")])
    assert any("角色为“选手”" in e for e in errors_of(path))
    path = tmp_path / "h.xlsx"
    write_template(path)
    book = load_workbook(path)
    book[SHEET].cell(row=1, column=HEADERS.index("技能代码") + 1, value="代码")
    book.save(path)
    assert any("缺少“技能代码”列" in e for e in errors_of(path))


def test_shares_must_be_all_or_none(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "s.xlsx", [row(), row(证件号码=new_id(), 角色="教练", 份额="1"), row(证件号码=new_id(), 角色="教练")])
    assert any("份额要么全部填写" in e for e in errors_of(path))


def test_json_form_and_its_errors(tmp_path: Path) -> None:
    data = json.loads((REPO / "seeds" / "awards" / "sample-results.json").read_text(encoding="utf-8"))
    assert len(read_results(REPO / "seeds" / "awards" / "sample-results.json")) == len(data["achievements"])
    data["achievements"][1]["competition"]["level"] = "galactic"
    data["achievements"][2]["members"][0]["id_number"] = "123"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    found = errors_of(path)
    assert any(e.startswith("achievements[1].competition.level") for e in found)
    assert any(e.startswith("achievements[2].members[0].id_number") for e in found)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert any("JSON" in e for e in errors_of(broken))


def test_sample_xlsx_and_json_describe_the_same_achievements() -> None:
    seeds = REPO / "seeds" / "awards"
    assert read_results(seeds / "sample-results.xlsx") == read_results(seeds / "sample-results.json")


def test_template_checks_every_closed_column_over_the_formatted_rows(tmp_path: Path) -> None:
    from contest.awards.results_io import HELP_SHEET, TEMPLATE_ROWS

    path = tmp_path / "template.xlsx"
    write_template(path)
    book = load_workbook(path)
    sheet = book[SHEET]
    letter = {c.header: chr(ord("A") + i) for i, c in enumerate(COLUMNS)}
    checks = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    last = TEMPLATE_ROWS + 1
    for header in ("赛事级别", "赛事类别", "赛事标签", "成绩", "角色", "职工身份", "牵头教练"):
        check = checks[f"{letter[header]}2:{letter[header]}{last}"]
        assert check.type == "list" and check.showErrorMessage and check.error, header
    assert "第1名" in checks[f"{letter['成绩']}2:{letter['成绩']}{last}"].formula1
    assert checks[f"{letter['赛事级别']}2:{letter['赛事级别']}{last}"].errorStyle == "stop"
    for header in ("年份", "参赛人数", "参赛规模", "份额", "比赛日期"):
        assert checks[f"{letter[header]}2:{letter[header]}{last}"].showErrorMessage, header
    for header in ("证件号码", "技能代码", "成绩编号"):  # text format over exactly the checked rows
        column = letter[header]
        assert sheet[f"{column}2"].number_format == "@" and sheet[f"{column}{last}"].number_format == "@"
        assert sheet[f"{column}{last + 1}"].number_format != "@"
    help_rows = [[c.value for c in row] for row in book[HELP_SHEET].iter_rows()]
    example_header = next(i for i, row in enumerate(help_rows) if row[0] == "成绩编号" and row[1] == "赛事名称")
    example = dict(zip(help_rows[example_header], help_rows[example_header + 1], strict=False))
    assert example["成绩"] == "第1名" and example["证件号码"] and example["组别"] == "职工组"


def test_the_example_row_reads_back_and_full_width_digits_are_explained(tmp_path: Path) -> None:
    from contest.awards.results_io import _EXAMPLE

    values: dict[str, object] = {c.header: _EXAMPLE[c.key] for c in COLUMNS if _EXAMPLE.get(c.key)}
    path = write_rows(tmp_path / "example.xlsx", [values])
    [achievement] = read_results(path)
    assert (achievement.group, achievement.occupation, achievement.field_size, achievement.size) == ("职工组", "焊工", 32, 1)
    wide = write_rows(tmp_path / "wide.xlsx", [row(证件号码="２３０１０３１９９５０６１５００１１")])
    assert any("全角字符" in e and "半角" in e for e in errors_of(wide))


def test_new_columns_are_checked(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "n.xlsx", [row(参赛人数="0"), row(成绩编号="R2", 参赛规模="三十"), row(成绩编号="R3", 成绩="第9名", 参赛规模="8")]
    )
    found = errors_of(path)
    assert any("参赛人数" in e and "正整数" in e for e in found)
    assert any("第 3 行“参赛规模”列" in e for e in found)
    assert any("名次第9名大于参赛规模 8" in e for e in found)
