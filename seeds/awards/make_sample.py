"""Generate seeds/awards/sample-results.{json,xlsx}: a realistic, fictional results file.

It mixes levels (world, national, provincial, municipal), a team item, coaches with shares,
an out-of-province winner, a person who won the same skill at two levels, tied places and
results outside the policies. The xlsx is written through the `awards template` code path
and then filled in, so it always matches the documented template.

    .venv/bin/python seeds/awards/make_sample.py
"""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook

from contest.awards.results_io import COLUMNS, SHEET, write_template
from contest.domain.idcard import check_digit
from contest.xlsx.cells import set_text

HERE = Path(__file__).resolve().parent


def fake_id(region: str, birth: str, serial: int) -> str:
    """A fictional but well-formed 18-digit ID (valid check digit)."""
    first17 = f"{region}{birth.replace('-', '')}{serial:03d}"
    return first17 + check_digit(first17)


def person(name, region_code, birth, serial, unit, region, status="职工", share=None, lead=None):
    data = {"name": name, "id_number": fake_id(region_code, birth, serial), "unit": unit,
            "employment_region": region, "employee_status": status}
    if share is not None:
        data["share"] = share
    if lead is not None:
        data["lead"] = lead
    return data


HRB, WH, SY = "230103", "371002", "210102"  # 哈尔滨市南岗区, 威海市环翠区, 沈阳市和平区
NATIONAL = {"name": "中华人民共和国第二届职业技能大赛", "level": "national", "class": 1,
            "kinds": ["national_vocational_skills_competition", "national_class1"], "year": 2023,
            "organizer": "人力资源社会保障部", "date": "2023-09-16"}
HLJ_PROV = {"name": "2023年黑龙江省职业技能大赛", "level": "provincial", "class": 1, "kinds": [],
            "year": 2023, "organizer": "黑龙江省人力资源和社会保障厅", "date": "2023-07-20"}
SD_PROV = {"name": "2023年山东省技能兴鲁职业技能大赛", "level": "provincial", "class": 1, "kinds": [],
           "year": 2023, "organizer": "山东省人力资源和社会保障厅", "date": "2023-06-10"}
WORLD = {"name": "第47届世界技能大赛", "level": "world", "class": None, "kinds": ["worldskills"],
         "year": 2024, "organizer": "世界技能组织", "date": "2024-09-12"}
SELECTION = {"name": "第47届世界技能大赛全国选拔赛", "level": "national", "class": 1,
             "kinds": ["worldskills_china_selection"], "year": 2023, "organizer": "人力资源社会保障部",
             "date": "2023-12-10"}
WEIHAI_CITY = {"name": "2023年“技能兴威”职业技能竞赛", "level": "municipal", "class": 1, "kinds": [],
               "year": 2023, "organizer": "威海市总工会", "date": "2023-10-20"}
HLJ_INDUSTRY = {"name": "2023年黑龙江省电力行业职业技能竞赛", "level": "provincial", "class": 2,
                "kinds": [], "year": 2023, "organizer": "黑龙江省电力行业协会", "date": "2023-08-05"}

ZHANG_WEI = person("张伟", HRB, "1996-03-14", 11, "哈尔滨电气集团有限公司", "黑龙江省哈尔滨市")
COACH_LIU = person("刘建国", HRB, "1975-11-02", 31, "哈尔滨电气集团有限公司", "黑龙江省哈尔滨市", share="60", lead="是")
COACH_ZHAO = person("赵敏", HRB, "1982-05-23", 42, "哈尔滨技师学院", "黑龙江省哈尔滨市", share="40")

ACHIEVEMENTS = [
    {"id": "R001", "competition": NATIONAL, "item": "焊接", "skill_code": "6-18-02-04",
     "result": "第1名", "members": [ZHANG_WEI], "coaches": [COACH_LIU, COACH_ZHAO]},
    # the same person and skill at provincial level: only the national result is paid
    {"id": "R002", "competition": HLJ_PROV, "item": "焊工", "skill_code": "6-18-02-04",
     "result": "第1名", "members": [ZHANG_WEI],
     "coaches": [person("孙立", HRB, "1979-08-30", 53, "哈尔滨技师学院", "黑龙江省哈尔滨市")]},
    # team item: three members, three coaches sharing equally (remainder to the lead)
    {"id": "R003", "competition": HLJ_PROV, "item": "机电一体化(团体)", "skill_code": "6-31-01-10",
     "result": "第2名",
     "members": [person("王磊", HRB, "2001-01-09", 15, "黑龙江技师学院", "黑龙江省哈尔滨市", status="学生"),
                 person("陈静", HRB, "2002-06-18", 26, "黑龙江技师学院", "黑龙江省哈尔滨市", status="学生"),
                 person("杨帆", HRB, "2001-12-01", 37, "黑龙江技师学院", "黑龙江省哈尔滨市", status="学生")],
     "coaches": [person("周宏", HRB, "1980-02-11", 64, "黑龙江技师学院", "黑龙江省哈尔滨市"),
                 person("吴倩", HRB, "1985-09-09", 70, "黑龙江技师学院", "黑龙江省哈尔滨市"),
                 person("郑凯", HRB, "1987-04-04", 81, "黑龙江技师学院", "黑龙江省哈尔滨市")]},
    # out-of-province winner: sent by a Heilongjiang unit but employed in Liaoning
    {"id": "R004", "competition": HLJ_PROV, "item": "电工", "skill_code": "6-31-01-03",
     "result": "第1名",
     "members": [person("李娜", SY, "1994-07-07", 28, "大庆油田有限责任公司", "辽宁省沈阳市")],
     "coaches": [person("马骏", HRB, "1978-03-03", 91, "大庆油田有限责任公司", "黑龙江省大庆市")]},
    # tied 2nd places in one item (and so no 3rd)
    {"id": "R005", "competition": HLJ_PROV, "item": "车工", "skill_code": "6-18-01-01",
     "result": "第2名",
     "members": [person("黄海", HRB, "1990-10-10", 19, "齐重数控装备股份有限公司", "黑龙江省齐齐哈尔市")]},
    {"id": "R006", "competition": HLJ_PROV, "item": "车工", "skill_code": "6-18-01-01",
     "result": "第2名",
     "members": [person("林涛", HRB, "1992-12-12", 33, "哈尔滨工业大学", "黑龙江省哈尔滨市")]},
    # WorldSkills gold, and a Medallion for Excellence
    {"id": "R007", "competition": WORLD, "item": "云计算", "skill_code": "WS-39",
     "result": "金牌",
     "members": [person("徐明", WH, "2002-02-20", 13, "威海职业学院", "山东省威海市", status="学生")],
     "coaches": [person("高峰", WH, "1983-01-15", 24, "威海职业学院", "山东省威海市")]},
    {"id": "R008", "competition": WORLD, "item": "数控车", "skill_code": "WS-06",
     "result": "优胜奖",
     "members": [person("韩雪", WH, "2001-05-05", 46, "威海市技师学院", "山东省威海市", status="学生")]},
    # 世赛全国选拔赛 2nd, and a national squad selection in another skill
    {"id": "R009", "competition": SELECTION, "item": "工业控制", "skill_code": "WS-19",
     "result": "第2名",
     "members": [person("曹阳", WH, "2000-08-08", 57, "威海市技师学院", "山东省威海市")]},
    {"id": "R010", "competition": {**SELECTION, "name": "第47届世界技能大赛中国集训队选拔"},
     "item": "移动机器人", "skill_code": "WS-23", "result": "国家集训队",
     "members": [person("冯博", WH, "2003-03-03", 68, "威海职业学院", "山东省威海市", status="学生")]},
    # 山东省 provincial 3rd and a 技能兴威 municipal 1st (paid by the organizer)
    {"id": "R011", "competition": SD_PROV, "item": "汽车维修", "skill_code": "4-12-01-01",
     "result": "第3名",
     "members": [person("邓超", WH, "1993-11-11", 79, "威海广泰空港设备股份有限公司", "山东省威海市")]},
    {"id": "R012", "competition": WEIHAI_CITY, "item": "汽车维修", "skill_code": "4-12-01-01",
     "result": "第1名",
     "members": [person("许可", WH, "1995-04-14", 85, "威海市公共交通集团有限公司", "山东省威海市")]},
    {"id": "R013", "competition": WEIHAI_CITY, "item": "电工", "skill_code": "6-31-01-03",
     "result": "第3名",
     "members": [person("=HYPERLINK(\"http://x\",\"y\")", WH, "1991-09-19", 96, "威海市供电公司", "山东省威海市")]},
    # a 二类 (single-industry) provincial result: outside both policies, listed with the reason
    {"id": "R014", "competition": HLJ_INDUSTRY, "item": "变电运维", "skill_code": "6-28-01-02",
     "result": "第1名",
     "members": [person("谢军", HRB, "1989-06-16", 17, "国网黑龙江省电力有限公司", "黑龙江省哈尔滨市")]},
]


def _row(achievement: dict, role: str, data: dict) -> dict[str, object]:
    comp = achievement["competition"]
    row = {"id": achievement["id"], "competition": comp["name"],
           "level": {"world": "世界", "national": "国家", "provincial": "省级", "municipal": "市级"}[comp["level"]],
           "class": {1: "一类", 2: "二类", None: ""}[comp["class"]],
           "kinds": ",".join(comp["kinds"]), "year": comp["year"], "date": comp["date"],
           "organizer": comp["organizer"], "item": achievement["item"],
           "skill_code": achievement["skill_code"], "result": achievement["result"],
           "role": role}
    row.update({k: v for k, v in data.items()})
    return row


def main() -> None:
    (HERE / "sample-results.json").write_text(
        json.dumps({"achievements": ACHIEVEMENTS}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    xlsx = HERE / "sample-results.xlsx"
    write_template(xlsx)
    book = load_workbook(xlsx)
    sheet = book[SHEET]
    keys = [column.key for column in COLUMNS]
    row_number = 2
    for achievement in ACHIEVEMENTS:
        rows = [_row(achievement, "选手", m) for m in achievement["members"]]
        rows += [_row(achievement, "教练", c) for c in achievement.get("coaches", [])]
        for row in rows:
            for index, key in enumerate(keys, 1):
                value = row.get(key)
                if value is None or value == "":
                    continue
                cell = sheet.cell(row=row_number, column=index)
                if key == "year":
                    cell.value = int(value)
                else:
                    set_text(cell, value)
            row_number += 1
    book.save(xlsx)
    print(f"wrote {HERE / 'sample-results.json'} and {xlsx}")


if __name__ == "__main__":
    main()
