"""Regenerate roster.xlsx and judges.xlsx for the demo (deterministic: same output every run).

    .venv/bin/python seeds/demo/make_demo.py

The ID numbers are made up but well-formed (valid check digits); they belong to nobody.
"""

from __future__ import annotations

import random
from pathlib import Path

from openpyxl import Workbook

from contest.domain.idcard import check_digit

HERE = Path(__file__).resolve().parent
rng = random.Random(2026)

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "军", "杰", "涛", "明", "超", "霞", "平", "刚", "桂英", "建华", "志强", "海燕", "晓东", "文博", "子涵", "浩然", "雨轩", "思远", "嘉怡", "俊杰"]
AREAS = ["371002", "371003", "371082", "371083"]  # 环翠区, 文登区, 荣成市, 乳山市

UNITS = [
    ("威海职业学院", "U01", "山东省威海市"),
    ("威海技师学院", "U02", "山东省威海市"),
    ("山东威高集团有限公司", "U03", "山东省威海市"),
    ("威海华东数控股份有限公司", "U04", "山东省威海市"),
    ("威海市文登区职业中等专业学校", "U05", "山东省威海市"),
    ("荣成市高级技工学校", "U06", "山东省威海市"),
]

# Judges' own units: listed in the roster so the judges import finds them (and 回避 can use them).
JUDGE_UNITS = [
    ("威海市焊接学会", "J01", "山东省威海市"),
    ("威海市电工技术协会", "J02", "山东省威海市"),
    ("山东大学(威海)", "J03", "山东省威海市"),
    ("哈尔滨焊接研究院", "J04", "黑龙江省哈尔滨市"),
]

ITEMS = [
    # code, skill name, item name, kind, team size, weights (theory, practical, oral)
    ("6-18-02-04", "焊工", "焊工", "个人", 1, (20, 80, None)),
    ("6-31-01-03", "电工", "电工", "个人", 1, (30, 70, None)),
    ("6-31-07-01", "工业机器人系统运维员", "工业机器人系统运维(团队)", "团队", 2, (25, 55, 20)),
]

CRITERIA = [
    # code, component, criterion code, name, max, step, kind, panel, aggregation
    ("6-18-02-04", "理论", "T1", "理论知识考试", 100, 0.5, "测量分", 1, "单人评分"),
    ("6-18-02-04", "实操", "P1", "焊缝外观", 30, 0.5, "测量分", 1, "单人评分"),
    ("6-18-02-04", "实操", "P2", "尺寸与角变形", 30, 0.5, "测量分", 1, "单人评分"),
    ("6-18-02-04", "实操", "P3", "操作规范与安全文明", 40, 1, "评价分", 3, "平均分"),
    ("6-31-01-03", "理论", "T1", "理论知识考试", 100, 0.5, "测量分", 1, "单人评分"),
    ("6-31-01-03", "实操", "P1", "电气线路安装", 50, 0.5, "测量分", 1, "单人评分"),
    ("6-31-01-03", "实操", "P2", "故障排除", 30, 0.5, "测量分", 1, "单人评分"),
    ("6-31-01-03", "实操", "P3", "工艺与职业素养", 20, 1, "评价分", 3, "平均分"),
    ("6-31-07-01", "理论", "T1", "理论知识考试", 100, 0.5, "测量分", 1, "单人评分"),
    ("6-31-07-01", "实操", "P1", "机器人编程与调试", 60, 0.5, "测量分", 1, "单人评分"),
    ("6-31-07-01", "实操", "P2", "系统集成质量", 40, 1, "评价分", 3, "世赛评价分"),
    ("6-31-07-01", "答辩", "D1", "技术答辩", 100, 1, "评价分", 3, "平均分"),
]

used_numbers: set[str] = set()


def id_number(year_from: int, year_to: int) -> str:
    while True:
        birth = f"{rng.randint(year_from, year_to)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        body = f"{rng.choice(AREAS)}{birth}{rng.randint(100, 999)}"
        number = body + check_digit(body)
        if number not in used_numbers:
            used_numbers.add(number)
            return number


def name() -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def roster() -> Workbook:
    book = Workbook()
    book.remove(book.active)
    units = book.create_sheet("单位")
    units.append(["单位名称", "单位代码", "所在地区", "联系人"])
    for unit in UNITS + JUDGE_UNITS:
        units.append([*unit, ""])
    items = book.create_sheet("赛项")
    items.append(["职业(工种)代码", "职业(工种)名称", "赛项名称", "类型", "团队人数", "理论权重", "实操权重", "答辩权重", "排名不并列", "优胜奖比例"])
    for code, skill, item_name, kind, size, (theory, practical, oral) in ITEMS:
        items.append([code, skill, item_name, kind, size, theory, practical, oral, "否", 0.5])
    criteria = book.create_sheet("评分细则")
    criteria.append(["职业(工种)代码", "组成部分", "评分项编号", "评分项名称", "满分", "步长", "类型", "裁判人数", "汇总方式"])
    for row in CRITERIA:
        criteria.append(list(row))
    competitors = book.create_sheet("选手")
    competitors.append(["职业(工种)代码", "参赛号", "团队名称", "姓名", "证件号码", "性别", "选送单位", "就业地区", "是否职工", "手机"])
    coaches = book.create_sheet("教练")
    coaches.append(["职业(工种)代码", "参赛号", "姓名", "证件号码", "所在单位", "份额", "是否主教练"])
    plan = [("6-18-02-04", "HG", 12, 1), ("6-31-01-03", "DG", 10, 1), ("6-31-07-01", "JQR", 4, 2)]
    coach_pool = {unit[0]: [(name(), id_number(1970, 1990)) for _ in range(3)] for unit in UNITS}
    for code, prefix, entries, size in plan:
        for n in range(1, entries + 1):
            entry_no = f"{prefix}{n:03d}"
            unit = UNITS[(n - 1) % len(UNITS)][0]
            team = f"{unit[:4]}{n}队" if size > 1 else ""
            for _ in range(size):
                is_employee = "是" if "集团" in unit or "数控" in unit else "否"
                competitors.append(
                    [code, entry_no, team, name(), id_number(1996, 2006), rng.choice("男男男女"), unit, "山东省威海市", is_employee, f"139{rng.randint(10000000, 99999999)}"]
                )
            pool = coach_pool[unit]
            if n % 3 == 0:  # a coaching team of two with declared shares
                coaches.append([code, entry_no, pool[0][0], pool[0][1], unit, 60, "是"])
                coaches.append([code, entry_no, pool[1][0], pool[1][1], unit, 40, "否"])
            else:
                coach = pool[n % 3]
                coaches.append([code, entry_no, coach[0], coach[1], unit, "", "是"])
    return book


def judges() -> Workbook:
    book = Workbook()
    sheet = book.active
    sheet.title = "裁判"
    sheet.append(["姓名", "证件号码", "性别", "所在单位", "手机", "角色", "执裁赛项", "登录账号"])
    panel = [
        ("裁判长", "6-18-02-04", "chief1", "威海市焊接学会"),
        ("裁判长", "6-31-01-03", "chief2", "威海市电工技术协会"),
        ("裁判长", "6-31-07-01", "chief3", "山东大学(威海)"),
        ("裁判", "6-18-02-04、6-31-07-01", "judge1", "威海技师学院"),  # same unit as some competitors: 回避
        ("裁判", "6-18-02-04、6-31-01-03", "judge2", "威海市焊接学会"),
        ("裁判", "6-18-02-04、6-31-01-03", "judge3", "哈尔滨焊接研究院"),
        ("裁判", "6-31-01-03、6-31-07-01", "judge4", "威海市电工技术协会"),
        ("裁判", "6-31-07-01", "judge5", "山东大学(威海)"),
    ]
    for role, items, login, unit in panel:
        sheet.append([name(), id_number(1965, 1985), rng.choice("男女"), unit, f"138{rng.randint(10000000, 99999999)}", role, items, login])
    return book


if __name__ == "__main__":
    roster().save(HERE / "roster.xlsx")
    judges().save(HERE / "judges.xlsx")
    print("wrote", HERE / "roster.xlsx", "and", HERE / "judges.xlsx")
