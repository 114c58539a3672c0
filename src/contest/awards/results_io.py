"""Read achievements from the Excel template (Chinese headers) or the JSON form; write the template.

Excel: one row per person. Rows with the same 成绩编号 are one achievement: its 选手 rows are
the team members (the first is the captain) and its 教练 rows the coaching team. Competition,
item and result columns may be left blank on the later rows of an achievement; when filled,
they must agree with the first row. Errors name the sheet, row and column. A file with any
bad row yields no achievements at all: a half-imported payout list is worse than none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from contest.domain import limits
from contest.domain.awards.inputs import (
    KIND_ALIASES,
    InputError,
    InputErrors,
    achievements_from_json,
    check_achievement,
    parse_class,
    parse_count,
    parse_date,
    parse_flag,
    parse_id_number,
    parse_kinds,
    parse_level,
    parse_result,
    parse_share,
    parse_year,
)
from contest.domain.awards.model import Achievement, Coach, Competition, InputPool, Member, Person
from contest.domain.limits import TextField
from contest.domain.text import N_, Text
from contest.xlsx.cells import cell_text, place, set_text
from contest.xlsx.upload import open_xlsx, sheet_rows

SHEET = "成绩"
HELP_SHEET = "填写说明"


def _required(what: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = cell_text(value)
        if not text:
            raise InputError(Text("{what}不能为空", what=Text(what)))
        return text

    return parse


def _optional(value: Any) -> str:
    return cell_text(value)


def _id_number(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise InputError("证件号码须以文本格式填写(数字格式会丢失末位或变成科学计数法)")
    return parse_id_number(value)


def _role(value: Any) -> str:
    text = cell_text(value)
    roles = {N_("选手"): "competitor", "competitor": "competitor", "教练": "coach", "coach": "coach"}
    if text not in roles:
        raise InputError(Text("角色 {value} 无效;填 选手 或 教练", value=repr(text)))
    return roles[text]


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    parse: Callable[[Any], Any]
    required: bool  # the column must exist in the header row
    group: bool  # describes the achievement (same on every row of one 成绩编号)
    width: int
    help: str
    may_be_blank: bool = False  # the column must exist, but a cell may be left empty
    limit: TextField = limits.CELL  # the declared maximum of the field the column fills (domain/limits.py)


COLUMNS: tuple[Column, ...] = (
    Column(
        "id",
        N_("成绩编号"),
        _required(N_("成绩编号")),
        True,
        False,
        12,
        "同一成绩(一个参赛单元)的选手和教练各占一行,用相同的成绩编号",
        limit=limits.ACHIEVEMENT_ID,
    ),
    Column(
        "competition", N_("赛事名称"), _required(N_("赛事名称")), True, True, 30, "如:第46届世界技能大赛", limit=limits.COMPETITION_NAME
    ),
    Column("level", N_("赛事级别"), parse_level, True, True, 10, "世界 / 国家 / 省级 / 市级"),
    Column("class", N_("赛事类别"), parse_class, True, True, 10, "一类 / 二类;世界技能大赛可留空", may_be_blank=True),
    Column(
        "kinds",
        N_("赛事标签"),
        parse_kinds,
        False,
        True,
        22,
        "可多个,用逗号分隔:世界技能大赛、世赛中国选拔赛、国家级一类、全国职业技能大赛",
    ),
    Column("year", N_("年份"), parse_year, True, True, 8, "比赛年份,如 2023"),
    Column("date", N_("比赛日期"), lambda v: parse_date(v, N_("比赛日期")), False, True, 12, "可选,如 2023-09-15"),
    Column("organizer", N_("主办单位"), _optional, False, True, 24, "市级竞赛由主办单位发放奖励时必填", limit=limits.ORGANIZER),
    Column("item", N_("赛项"), _required(N_("赛项")), True, True, 18, "赛项名称,如:焊接", limit=limits.ITEM_NAME),
    Column(
        "skill_code",
        N_("技能代码"),
        _required(N_("技能代码")),
        True,
        True,
        14,
        "职业(工种)或世赛项目的统一代码;不同级别的同一项目必须相同,据此不重复奖励",
        limit=limits.SKILL_CODE,
    ),
    Column(
        "result",
        N_("成绩"),
        parse_result,
        True,
        True,
        12,
        "第1名(或 1)、金牌/银牌/铜牌、优胜奖、国家集训队、省集训队;并列名次照填,如两个第2名",
        limit=limits.RESULT,
    ),
    Column("role", N_("角色"), _role, True, False, 8, "选手 / 教练;团体项目第一名选手为队长"),
    Column("name", N_("姓名"), _required(N_("姓名")), True, False, 10, "", limit=limits.PERSON_NAME),
    Column("id_number", N_("证件号码"), _id_number, True, False, 21, "18 位身份证号,单元格须为文本格式", limit=limits.ID_NUMBER),
    Column("unit", N_("选送单位"), _optional, True, False, 24, "选手的选送单位(单位补助发给它)", limit=limits.UNIT_NAME),
    Column(
        "employment_region",
        N_("就业地区"),
        _optional,
        False,
        False,
        18,
        "如:黑龙江省哈尔滨市;按就业地区限定的政策必填",
        limit=limits.REGION,
    ),
    Column("employee_status", N_("职工身份"), _optional, False, False, 10, "职工 / 学生 / 其他"),
    Column("birth_date", N_("出生日期"), lambda v: parse_date(v, N_("出生日期")), False, False, 12, "可选;留空则从身份证号推算"),
    Column("share", N_("份额"), parse_share, False, False, 8, "可选:团队或教练团队按份额分配时填写(如 60、40);留空即平均分配"),
    Column(
        "lead",
        N_("牵头教练"),
        parse_flag,
        False,
        False,
        10,
        "是 / 否;牵头教练即主要指导教师:余数(分)归他,“优秀指导教师”等授予他;未填则为第一名教练",
    ),
    # added later, so the earlier columns keep their letters in old files and in error messages
    Column(
        "group",
        N_("组别"),
        _optional,
        False,
        True,
        10,
        "可选:职工组 / 学生组 / 教师组 / 院校组 / 非院校组等;政策按组别奖励时必填",
        limit=limits.GROUP,
    ),
    Column(
        "occupation",
        N_("职业(工种)名称"),
        _optional,
        False,
        True,
        14,
        "可选:如 焊工;称号写明职业(工种)时使用(如“焊工技术标兵”),留空则用赛项名称",
        limit=limits.OCCUPATION,
    ),
    Column(
        "entry_size",
        N_("参赛人数"),
        lambda v: parse_count(v, N_("参赛人数")),
        False,
        True,
        8,
        "可选:本参赛单元(选手或团队)的人数;留空按“选手”行数计算。政策区分个人/双人/团体时须准确",
    ),
    Column(
        "field_size",
        N_("参赛规模"),
        lambda v: parse_count(v, N_("参赛规模")),
        False,
        True,
        8,
        "可选:该赛项(组别)参加排名的参赛单元总数;政策按“排名在参赛人数1/2以内”等比例奖励时必填",
    ),
)
_BY_HEADER = {c.header: c for c in COLUMNS}


def read_results(path: str | Path) -> list[Achievement]:
    """Achievements from ``.xlsx`` or ``.json``; raises InputErrors listing every problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputErrors(
                [
                    InputError(
                        Text("JSON 格式错误:{problem}(第 {line} 行第 {column} 列)", problem=exc.msg, line=exc.lineno, column=exc.colno),
                        str(path),
                    )
                ]
            ) from None
        return achievements_from_json(data)
    if suffix in (".xlsx", ".xlsm"):
        return read_results_xlsx(path)
    raise InputErrors([InputError("成绩文件须为 .xlsx 或 .json", str(path))])


def _where(sheet: str, row: int, column: Column | None, index: int | None = None) -> str:
    return place(sheet, row, column.header if column else None, index or 1)


def read_results_xlsx(path: str | Path) -> list[Achievement]:
    """A results workbook on disk, named by the operator on the command line."""
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise InputErrors([InputError(Text("无法打开 Excel 文件:{problem}", problem=str(exc)), str(path))]) from None
    try:
        sheet = _results_sheet(book)
        return _read_results(sheet.title, enumerate(sheet.iter_rows(values_only=True), 1))
    finally:
        book.close()


def read_results_upload(content: bytes) -> list[Achievement]:
    """An uploaded results workbook, through the guarded reader (size, zip bomb and row caps).
    Blocking: call it through ``contest.xlsx.upload.parse_off_loop``."""
    book = open_xlsx(content)
    try:
        sheet = _results_sheet(book)
        return _read_results(sheet.title, sheet_rows(sheet))
    finally:
        book.close()


def _results_sheet(book: Any) -> Any:
    return book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]


def _read_results(name: str, numbered_rows: Iterator[tuple[int, tuple[Any, ...]]]) -> list[Achievement]:
    """Achievements from (row number, values) pairs, the header in row 1; every problem listed."""
    first = next(numbered_rows, None)
    header = first[1] if first else None
    errors: list[InputError] = []
    positions: dict[str, tuple[Column, int]] = {}
    for index, value in enumerate(header or (), 1):
        text = cell_text(value).lstrip("*").strip()
        if text in _BY_HEADER:
            positions[_BY_HEADER[text].key] = (_BY_HEADER[text], index)
    for column in COLUMNS:
        if column.required and column.key not in positions:
            errors.append(InputError(Text("缺少“{header}”列(表头须在第 1 行)", header=column.header), _where(name, 1, None)))
    if errors:
        raise InputErrors(errors)
    parsed_rows: list[tuple[int, dict[str, Any]]] = []
    for row_number, row in numbered_rows:
        if row is None or all(cell_text(v) == "" for v in row):
            continue
        values: dict[str, Any] = {}
        for key, (column, index) in positions.items():
            raw = row[index - 1] if index - 1 < len(row) else None
            if column.group and column.key != "id" and cell_text(raw) == "":
                values[key] = None  # blank: inherits the achievement's first row
                continue
            # too long or a control character: named here, before the value reaches a payout line
            if problem := column.limit.problem(cell_text(raw), column.header):
                errors.append(InputError(problem, _where(name, row_number, column, index)))
                values[key] = _BAD
                continue
            try:
                values[key] = column.parse(raw)
            except InputError as exc:
                errors.append(InputError(exc.message, _where(name, row_number, column, index)))
                values[key] = _BAD
        parsed_rows.append((row_number, values))
    achievements = _group(name, parsed_rows, positions, errors)
    if errors:
        raise InputErrors(errors)
    return achievements


_BAD = object()


def _group(
    sheet: str, rows: list[tuple[int, dict[str, Any]]], positions: dict[str, tuple[Column, int]], errors: list[InputError]
) -> list[Achievement]:
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for row_number, values in rows:
        key = values.get("id")
        if key is _BAD or key is None:
            continue
        groups.setdefault(key, []).append((row_number, values))
    achievements = []
    pool = InputPool()  # a big batch names the same people many times: one object each
    for achievement_id, members in groups.items():
        first_row = members[0][0]
        shared: dict[str, Any] = {}
        for column in COLUMNS:
            if not column.group or column.key not in positions:
                continue
            value = None
            for _row_number, values in members:
                current = values.get(column.key)
                if current is None or current is _BAD:
                    continue
                if value is None:
                    value = current
                elif current != value:
                    errors.append(
                        InputError(
                            Text("与成绩编号 {id} 的第 {row} 行不一致", id=achievement_id, row=first_row),
                            _where(sheet, row_number, column, positions[column.key][1]),
                        )
                    )
            if (
                value is None
                and column.required
                and not column.may_be_blank
                and all(values.get(column.key) is not _BAD for _, values in members)
            ):
                errors.append(
                    InputError(Text("{what}不能为空", what=Text(column.header)), _where(sheet, first_row, column, positions[column.key][1]))
                )
            shared[column.key] = value
        people: list[Member] = []
        coaches: list[Coach] = []
        broken = False
        for _row_number, values in members:
            if any(v is _BAD for v in values.values()):
                broken = True
                continue
            person = Person(
                id_number=values["id_number"],
                name=values["name"],
                unit=values.get("unit") or "",
                employment_region=values.get("employment_region") or "",
                employee_status=values.get("employee_status") or "",
                birth_date=values.get("birth_date"),
            )
            if values["role"] == "competitor":
                people.append(pool.member(Member(person=person, share=values.get("share"))))
            else:
                coaches.append(pool.coach(Coach(person=person, share=values.get("share"), lead=bool(values.get("lead")))))
        rows_text = "、".join(str(r) for r, _ in members)
        where = Text("工作表“{sheet}”成绩编号 {id}(第 {rows} 行)", sheet=sheet, id=achievement_id, rows=rows_text)
        if not broken and not people:
            errors.append(InputError("至少要有一行角色为“选手”", where))
            continue
        subject = "+".join(sorted(m.person.id_number for m in people))  # what a payout line keeps of the team
        if len(subject) > limits.SUBJECT_ID.max:
            errors.append(
                InputError(
                    Text("选手过多:{count} 名选手的证件号码合计超过 {max} 个字符", count=len(people), max=limits.SUBJECT_ID.max), where
                )
            )
            continue
        if broken or any(shared.get(c.key) is None for c in COLUMNS if c.group and c.required and not c.may_be_blank):
            continue
        competition = Competition(
            name=shared["competition"],
            level=shared["level"],
            year=shared["year"],
            competition_class=shared.get("class"),
            kinds=shared.get("kinds") or frozenset(),
            organizer=shared.get("organizer") or "",
            date=shared.get("date"),
        )
        achievement = Achievement(
            id=achievement_id,
            competition=competition,
            item=shared["item"],
            skill_code=shared["skill_code"],
            result=shared["result"],
            members=pool.members(tuple(people)),
            coaches=tuple(coaches),
            group=shared.get("group") or "",
            entry_size=shared.get("entry_size"),
            field_size=shared.get("field_size"),
            occupation=shared.get("occupation") or "",
        )
        try:
            check_achievement(achievement, where)
        except InputErrors as exc:
            errors.extend(InputError(e.message, where) for e in exc.errors)
            continue
        achievements.append(achievement)
    return achievements


TEMPLATE_ROWS = 2000  # rows 2..2001: text format and every validation cover the same rows
TEXT_COLUMNS = ("id", "skill_code", "id_number")  # long digit strings: text, or Excel drops digits
RESULT_CHOICES = [f"第{n}名" for n in range(1, 31)] + ["金牌", "银牌", "铜牌", N_("优胜奖"), "国家集训队", "省集训队"]
_LISTS = {  # closed columns: a drop-down; (values, error style: stop refuses, warning allows after a prompt)
    "level": ([N_("世界"), N_("国家"), "省级", "市级"], "stop"),
    "class": ([N_("一类"), N_("二类")], "stop"),
    "kinds": (sorted(set(KIND_ALIASES) - {"世赛", "世赛选拔赛", "国家级一类竞赛"}), "warning"),
    "result": (RESULT_CHOICES, "warning"),
    "role": ([N_("选手"), "教练"], "stop"),
    "employee_status": (["职工", "学生", "其他"], "stop"),
    "lead": (["是", "否"], "stop"),
}
_EXAMPLE = {  # one complete row, shown on the instructions sheet
    "id": "2024-SD-001",
    "competition": "2024年山东省职业技能大赛",
    "level": "省级",
    "class": N_("一类"),
    "kinds": "",
    "year": "2024",
    "date": "2024-09-15",
    "organizer": "山东省人力资源和社会保障厅",
    "item": "焊接",
    "skill_code": "6-18-02-04",
    "result": "第1名",
    "role": N_("选手"),
    "name": "张伟",
    "id_number": "370102199603140014",
    "unit": "威海技师学院",
    "employment_region": "山东省威海市",
    "employee_status": "职工",
    "birth_date": "",
    "share": "",
    "lead": "",
    "group": "职工组",
    "occupation": "焊工",
    "entry_size": "1",
    "field_size": "32",
}


def _validation(column: Column, letter: str) -> DataValidation | None:
    """The drop-down or number check for a column, with its error alert on."""
    last = TEMPLATE_ROWS + 1
    if column.key in _LISTS:
        values, style = _LISTS[column.key]
        validation = DataValidation(type="list", formula1=f'"{",".join(values)}"', allow_blank=True, errorStyle=style)
        message = f"请从下拉列表中选择:{'、'.join(values[:8])}{'……' if len(values) > 8 else ''}"
        if column.key == "result":
            message = "请从下拉列表中选择;第30名以后可直接输入“第N名”(确认后保留)"
        if column.key == "kinds":
            message = "请从下拉列表中选择;多个标签用逗号分隔(确认后保留)"
    elif column.key in ("year",):
        validation = DataValidation(type="whole", operator="between", formula1="1990", formula2="2100", allow_blank=True)
        message = "年份应为四位数字,如 2024"
    elif column.key in ("entry_size", "field_size"):
        validation = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="1", allow_blank=True)
        message = f"{column.header}应为正整数"
    elif column.key == "share":
        validation = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        message = "份额应为不小于 0 的数字,如 60 或 0.5"
    elif column.key in ("date", "birth_date"):
        validation = DataValidation(
            type="date", operator="between", formula1="DATE(1900,1,1)", formula2="DATE(2100,12,31)", allow_blank=True
        )
        message = "请输入日期,如 2024-09-15"
    elif column.key == "id_number":
        validation = DataValidation(type="textLength", operator="between", formula1="5", formula2="30", allow_blank=True)
        message = "证件号码须为文本:18 位身份证号(半角数字和 X),或其他证件号码"
    else:
        return None
    validation.showErrorMessage = True
    validation.errorTitle = f"“{column.header}”填写有误"
    validation.error = message
    validation.showInputMessage = True
    validation.promptTitle = column.header
    validation.prompt = (column.help or message)[:255]
    validation.add(f"{letter}2:{letter}{last}")
    return validation


def write_template(path: str | Path | IO[bytes]) -> None:
    """The blank results template: Chinese headers; text format and validations (drop-downs with
    their error alerts on) over the same rows; a 填写说明 sheet describing every column, with one
    complete example row."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(COLUMNS, 1):
        cell = sheet.cell(row=1, column=index)
        set_text(cell, column.header)
        cell.font = bold
        if column.required:
            cell.fill = required_fill
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.key in TEXT_COLUMNS:  # text format, so 18-digit IDs keep every digit
            for row in range(2, TEMPLATE_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = "@"
        validation = _validation(column, letter)
        if validation is not None:
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"

    help_sheet = book.create_sheet(HELP_SHEET)
    for index, (a, b, c) in enumerate(
        [("列", "是否必填", "说明")] + [(col.header, "必填" if col.required else "可选", col.help) for col in COLUMNS], 1
    ):
        for position, text in enumerate((a, b, c), 1):
            set_text(help_sheet.cell(row=index, column=position), text)
        if index == 1:
            for position in (1, 2, 3):
                help_sheet.cell(row=1, column=position).font = bold
    help_sheet.column_dimensions["A"].width = 14
    help_sheet.column_dimensions["B"].width = 10
    help_sheet.column_dimensions["C"].width = 90
    notes = [
        "一行一人。同一成绩编号的多行构成一个参赛单元:“选手”行是团队成员(第一行为队长),“教练”行是教练团队。",
        "赛事名称至技能代码、成绩等列在同一成绩编号的后续行可留空;如填写,须与第一行一致。",
        "文件中任何一行有错,整个文件都不会导入;错误信息会写明工作表、行号和列名。",
        "证件号码、技能代码、成绩编号已设为文本格式;请用半角(英文)输入法输入数字和 X,全角数字(如“１”)会被拒绝。",
        f"下拉列表和格式检查覆盖第 2 至 {TEMPLATE_ROWS + 1} 行;更多行请另建文件分批导入。",
    ]
    start = len(COLUMNS) + 3
    for offset, note in enumerate(notes):
        set_text(help_sheet.cell(row=start + offset, column=1), note)
    example_at = start + len(notes) + 1
    set_text(help_sheet.cell(row=example_at, column=1), "示例(一行,复制到“成绩”表时请按列对应):")
    help_sheet.cell(row=example_at, column=1).font = bold
    for index, column in enumerate(COLUMNS, 1):
        head = help_sheet.cell(row=example_at + 1, column=index)
        set_text(head, column.header)
        head.font = bold
        set_text(help_sheet.cell(row=example_at + 2, column=index), _EXAMPLE.get(column.key, ""))
    book.save(path)
