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
    base = {"成绩编号": "R1", "赛事名称": "省职业技能大赛", "赛事级别": "省级", "赛事类别": "一类",
            "年份": 2023, "赛项": "焊工", "技能代码": "6-18-02-04", "成绩": "第1名", "角色": "选手",
            "姓名": "张三", "证件号码": new_id(), "选送单位": "某技师学院", "就业地区": "黑龙江省哈尔滨市"}
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
    path = write_rows(tmp_path / "r.xlsx", [
        row(证件号码=captain, 姓名="队长"),
        row(证件号码=member, 姓名="队员", 赛事名称=None, 赛事级别=None, 成绩=None),  # blanks inherit
        row(证件号码=coach, 姓名="教练", 角色="教练", 份额="60", 牵头教练="是"),
        row(成绩编号="R2", 成绩="金牌", 赛事级别="世界", 赛事类别=None, 赛事标签="世界技能大赛"),
    ])
    first, second = read_results(path)
    assert [m.person.name for m in first.members] == ["队长", "队员"]
    assert first.coaches[0].lead and str(first.coaches[0].share) == "60"
    assert first.competition.level == "provincial" and first.competition.competition_class == 1
    assert second.result.place == 1 and second.result.medal == "gold"
    assert second.competition.kinds == frozenset({"worldskills"})


def test_bad_cells_are_reported_by_sheet_row_and_column_and_nothing_is_imported(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "bad.xlsx", [
        row(),
        row(成绩编号="R2", 赛事级别="县级"),
        row(成绩编号="R3", 证件号码="230103199506150010"),  # wrong check digit
        row(成绩编号="R4", 成绩="冠军"),
        row(成绩编号="R5", 年份="二三年"),
    ])
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
    path = write_rows(tmp_path / "s.xlsx", [
        row(), row(证件号码=new_id(), 角色="教练", 份额="1"), row(证件号码=new_id(), 角色="教练")])
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
