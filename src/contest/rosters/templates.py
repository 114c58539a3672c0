"""The downloadable import templates: Chinese headers, a 说明 sheet and one example row per sheet.

Example rows start with 示例 in their first cell; the importer skips such rows, so a template
filled in below its example imports cleanly. Code, number and phone columns are formatted as
text so Excel keeps leading zeros and all 18 digits of a 证件号码.
"""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from contest.domain.scheme import AGGREGATIONS
from contest.domain.text import N_
from contest.rosters.sheets import (
    COACHES,
    COMPETITORS,
    CRITERIA,
    EXAMPLE_PREFIX,
    INSTRUCTIONS_SHEET,
    ITEMS,
    JUDGE_SHEETS,
    JUDGES,
    ROSTER_SHEETS,
    UNITS,
    SheetSpec,
)
from contest.xlsx.cells import set_text
from contest.xlsx.upload import MAX_FILE_BYTES

TEXT_COLUMNS = {"职业(工种)代码", "参赛号", "证件号码", "手机", "评分项编号", "单位代码", N_("登录账号"), "执裁赛项"}
PREPARED_ROWS = 500
HEADER_FILL = PatternFill("solid", fgColor="DDE6F4")
EXAMPLE_FONT = Font(italic=True, color="808080")
BOLD = Font(bold=True)

_AGGREGATION_CHOICES = ",".join(label.split("(")[0].split("(")[0] for label in AGGREGATIONS.values())
CHOICES: dict[str, dict[str, str]] = {
    ITEMS.name: {"类型": "个人,团队", "排名不并列": "是,否"},
    CRITERIA.name: {"组成部分": "理论,实操,答辩", "类型": "测量分,评价分", "汇总方式": _AGGREGATION_CHOICES},
    COMPETITORS.name: {"性别": "男,女", "是否职工": "是,否"},
    COACHES.name: {"是否主教练": "是,否"},
    JUDGES.name: {"性别": "男,女", "角色": "裁判,裁判长"},
}

# One example per sheet (评分细则 shows a theory criterion and a practical one of each kind).
EXAMPLES: dict[str, list[list[object]]] = {
    UNITS.name: [["示例:威海市某某技师学院", "WH001", "威海市环翠区", "王老师 0631-0000000"]],
    ITEMS.name: [["示例:6-18-02-04", "焊工", "焊工", "个人", None, 30, 70, None, "否", 0.5, "职工组"]],
    CRITERIA.name: [
        ["示例:6-18-02-04", N_("理论"), "T1", "理论知识考试", 100, 0.5, N_("测量分"), 1, N_("单人评分")],
        ["示例:6-18-02-04", "实操", "A1", "焊缝外观尺寸", 60, 0.5, N_("测量分"), 1, N_("单人评分")],
        ["示例:6-18-02-04", "实操", "B1", "工艺规范与安全文明生产", 40, 0.5, N_("评价分"), 5, N_("去掉最高最低分后平均")],
    ],
    COMPETITORS.name: [
        ["示例:6-18-02-04", "001", None, "张三", "371002199001010015", "男", "威海市某某技师学院", "山东省威海市", "是", "13800000000"]
    ],
    COACHES.name: [["示例:6-18-02-04", "001", "李四", "371002198503150021", "威海市某某技师学院", 1, "是"]],
    JUDGES.name: [["王五", "371002197806200036", "女", "威海市某某技师学院", "13900000000", "裁判长", "6-18-02-04、6-31-01-03", "wangwu"]],
}
# The judge example starts with a name, not a code: mark it in the first cell as the others are.
EXAMPLES[JUDGES.name][0][0] = f"{EXAMPLE_PREFIX}:王五"

GENERAL_NOTES = [
    "填写说明",
    "1. 每个工作表的第一行是列名,请不要修改列名;不需要的可选列可以删除。列名带有说明中标注“必填”的列,每行都要填写。",
    f"2. 以“{EXAMPLE_PREFIX}”开头的行是填写示例,导入时会跳过,可以删除也可以保留。",
    "3. 证件号码、参赛号、代码、手机等列已设为文本格式;请不要改成数字格式,否则 18 位证件号码的末几位会丢失。",
    "4. 导入前系统会检查整个文件:只要有一处错误,就不会导入任何数据,并列出每处错误所在的工作表、行和列。",
    "5. 同一文件可以重复导入:已导入的内容保持不变,只更新有变化的内容;系统中有、文件中没有的数据保持不变。",
    "6. 人员以证件号码识别;单元格留空表示不修改系统中已有的值。",
    f"7. 文件须为 .xlsx 格式,不超过 {MAX_FILE_BYTES // 1024 // 1024} MB。",
]


def roster_template() -> bytes:
    return _workbook(
        ROSTER_SHEETS, "参赛名单导入模板", "只有“选手”表必须有;单位、赛项、评分细则、教练表在系统中已有相应数据时可以删除或留空。"
    )


def judges_template() -> bytes:
    return _workbook(
        JUDGE_SHEETS,
        "裁判名单导入模板",
        "“裁判”表必须有;“单位”表可选,用于添加系统中还没有的裁判所在单位。执裁赛项填写本赛事赛项的职业(工种)代码。",
    )


def _workbook(specs: tuple[SheetSpec, ...], title: str, scope_note: str) -> bytes:
    workbook = Workbook()
    notes = workbook.active
    notes.title = INSTRUCTIONS_SHEET
    _instructions(notes, specs, title, scope_note)
    for spec in specs:
        _data_sheet(workbook.create_sheet(spec.name), spec)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _instructions(sheet: Worksheet, specs: tuple[SheetSpec, ...], title: str, scope_note: str) -> None:
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 8
    sheet.column_dimensions["C"].width = 90
    rows: list[tuple[object, ...]] = [(title,), (scope_note,), ()]
    rows += [(line,) for line in GENERAL_NOTES] + [()]
    for spec in specs:
        rows.append((f"工作表「{spec.name}」" + ("(必须有)" if spec.required else "(可选)"),))
        rows.append((spec.note,))
        rows.append(("列名", "必填", "说明"))
        rows += [(c.header, "必填" if c.required else "", c.note) for c in spec.columns]
        rows.append(())
    for number, values in enumerate(rows, start=1):
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=number, column=column)
            set_text(cell, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        if len(values) == 1 and values[0] and (number == 1 or str(values[0]).startswith("工作表")):
            sheet.cell(row=number, column=1).font = BOLD
        if values == ("列名", "必填", "说明"):
            for column in range(1, 4):
                sheet.cell(row=number, column=column).font = BOLD


def _data_sheet(sheet: Worksheet, spec: SheetSpec) -> None:
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        set_text(cell, column.header)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        sheet.column_dimensions[letter].width = max(10, len(column.header) * 2 + 4, 22 if column.header in TEXT_COLUMNS else 0)
        if column.header in TEXT_COLUMNS:
            for row in range(2, PREPARED_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = "@"
    for offset, values in enumerate(EXAMPLES.get(spec.name, []), start=2):
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(row=offset, column=index)
            if value is None:
                continue
            if isinstance(value, str):
                set_text(cell, value)
            else:
                cell.value = value
            cell.font = EXAMPLE_FONT
    headers = spec.headers
    for header, options in CHOICES.get(spec.name, {}).items():
        letter = get_column_letter(headers.index(header) + 1)
        validation = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True, showErrorMessage=True)
        validation.error = f"请从下拉列表中选择:{options.replace(',', '、')}"
        validation.add(f"{letter}2:{letter}{PREPARED_ROWS + 1}")
        sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
