"""收款信息 (payees): finance's own record of where each recipient is paid, imported from the
finance-only payee workbook or edited on the finance pages (never from the organizers' rosters).

The workbook: sheet 收款信息, one row per person (by 证件号码) or unit (by 单位名称). A bad row
stops the whole import, every problem listed by sheet, row and column; nothing half-written.
Blank cells keep what is stored, so a file with only phone numbers adds phone numbers.
Account numbers are personal data: masked everywhere but for finance, never in logs or in the
audit detail (which records counts and the names of the fields changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.audit.service import Actor, record
from contest.awards.finance_workbook import PayeeDetails
from contest.db.models import Payee, Person
from contest.domain import idcard, limits
from contest.domain.awards.inputs import InputError, InputErrors, parse_id_number
from contest.domain.awards.payees import (
    KIND_LABELS,
    parse_account_number,
    parse_credit_code,
    parse_kind,
    parse_phone,
)
from contest.domain.text import N_, Text, looked_up
from contest.errors import FormInvalid, Invalid
from contest.xlsx.cells import cell_text, place, set_text
from contest.xlsx.upload import open_xlsx, sheet_rows

SHEET = "收款信息"
HELP_SHEET = "填写说明"
TEMPLATE_ROWS = 2000
FIELDS = ("account_name", "bank_name", "account_number", "credit_code", "phone", "note")
FIELD_LABELS = {
    "account_name": N_("户名"),
    "bank_name": N_("开户行"),
    "account_number": N_("银行账号"),
    "credit_code": N_("统一社会信用代码"),
    "phone": N_("联系电话"),
    "note": N_("备注"),
}


def _limited(field_: limits.TextField, parse: Callable[[Any], str] | None = None) -> Callable[[Any], str]:
    def run(value: Any) -> str:
        text = parse(value) if parse else cell_text(value)
        problem = field_.problem(text)
        if problem:
            raise InputError(problem)
        return text

    return run


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    parse: Callable[[Any], Any]
    required: bool  # the column must exist
    width: int
    help: str
    text: bool = False  # text format in the template (digits that must keep every digit)


COLUMNS: tuple[Column, ...] = (
    Column("kind", "类型", parse_kind, True, 8, "个人 / 单位"),
    Column("name", "姓名或单位名称", _limited(limits.PAYEE_KEY), True, 28, "个人填姓名;单位填单位全称,须与发放表中的选送单位名称一致"),
    Column("id_number", "证件号码", lambda v: v, True, 21, "个人必填:18 位身份证号(文本格式);单位留空", True),
    Column("credit_code", "统一社会信用代码", parse_credit_code, False, 21, "单位必填:18 位", True),
    Column("account_name", "户名", _limited(limits.ACCOUNT_NAME), True, 20, "银行账户的户名;留空则为姓名或单位名称"),
    Column("bank_name", "开户行", _limited(limits.BANK_NAME), True, 28, "开户银行全称,如 中国工商银行威海分行营业部"),
    Column(
        "account_number",
        "银行账号",
        _limited(limits.ACCOUNT_NUMBER, parse_account_number),
        True,
        24,
        "8 到 32 位数字,文本格式;空格和短横线会去掉",
        True,
    ),
    Column("phone", "联系电话", _limited(limits.PHONE, parse_phone), False, 16, "可选", True),
    Column("note", N_("备注"), _limited(limits.PAYEE_NOTE), False, 20, "可选"),
)
_BY_HEADER = {c.header: c for c in COLUMNS}


@dataclass
class PayeeRow:
    kind: str
    key: str  # 证件号码 or the unit's name
    name: str
    values: dict[str, str] = field(default_factory=dict)  # only what the row fills in


def _where(sheet: str, row: int, column: Column | None = None, index: int = 0) -> str:
    return place(sheet, row, column.header if column else None, index)


def _person_id(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise InputError("证件号码须以文本格式填写(数字格式会丢失末位或变成科学计数法)")
    return parse_id_number(value)


def parse_payee_workbook(book: Any) -> list[PayeeRow]:
    """Rows of an opened (read-only) payee workbook; InputErrors lists every problem."""
    sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
    name = sheet.title
    rows = sheet_rows(sheet)
    first = next(rows, None)
    header = first[1] if first else ()
    positions: dict[str, tuple[Column, int]] = {}
    for index, value in enumerate(header, 1):
        text = cell_text(value).lstrip("*").strip()
        if text in _BY_HEADER:
            positions[_BY_HEADER[text].key] = (_BY_HEADER[text], index)
    errors = [
        InputError(Text("缺少“{header}”列(表头须在第 1 行)", header=c.header), _where(name, 1))
        for c in COLUMNS
        if c.required and c.key not in positions
    ]
    if errors:
        raise InputErrors(errors)
    found: list[PayeeRow] = []
    seen: dict[tuple[str, str], int] = {}
    for number, row in rows:
        if row is None or all(cell_text(v) == "" for v in row):
            continue
        values: dict[str, Any] = {}
        before = len(errors)
        for key, (column, index) in positions.items():
            raw = row[index - 1] if index - 1 < len(row) else None
            if key == "id_number":
                values[key] = raw
                continue
            try:
                values[key] = column.parse(raw)
            except InputError as exc:
                errors.append(InputError(exc.message, _where(name, number, column, index)))
        if len(errors) > before:
            continue
        kind, label = values["kind"], values["name"]
        id_column, id_index = positions["id_number"]
        if not label:
            column, index = positions["name"]
            errors.append(InputError("姓名或单位名称不能为空", _where(name, number, column, index)))
            continue
        if kind == "person":
            try:
                key = _person_id(values["id_number"])
            except InputError as exc:
                errors.append(InputError(exc.message, _where(name, number, id_column, id_index)))
                continue
        else:
            if cell_text(values["id_number"]):
                errors.append(InputError("单位不填证件号码,请填在“统一社会信用代码”列", _where(name, number, id_column, id_index)))
                continue
            key = label
        if (kind, key) in seen:
            errors.append(
                InputError(
                    Text("与第 {row} 行是同一{kind},请合并为一行", row=seen[(kind, key)], kind=Text(KIND_LABELS[kind])),
                    _where(name, number),
                )
            )
            continue
        seen[(kind, key)] = number
        filled = {k: v for k, v in values.items() if k in FIELDS and v}
        if kind == "person" and filled.get("credit_code"):
            column, index = positions["credit_code"]
            errors.append(InputError("个人不填统一社会信用代码", _where(name, number, column, index)))
            continue
        found.append(PayeeRow(kind, key, label, filled))
    if errors:
        raise InputErrors(errors)
    return found


def read_payee_upload(content: bytes) -> list[PayeeRow]:
    """The payee workbook through the guarded reader (contest.xlsx.upload). Blocking: call it
    through ``parse_off_loop``."""
    book = open_xlsx(content)  # refuses .xls, non-workbooks and oversized files by their content
    try:
        return parse_payee_workbook(book)
    except InputErrors as exc:
        raise Invalid(
            Text("收款信息文件有 {count} 处错误,未导入任何收款信息", count=len(exc.errors)),
            details=[e.shown() for e in exc.errors],
        ) from None
    finally:
        book.close()


# ---------------------------------------------------------------- service


async def _existing(db: AsyncSession, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Payee]:
    keys = list(keys)
    found: dict[tuple[str, str], Payee] = {}
    for kind in ("person", "unit"):
        wanted = [key for k, key in keys if k == kind]
        for start in range(0, len(wanted), 500):
            statement = select(Payee).where(Payee.kind == kind, Payee.key.in_(wanted[start : start + 500]))
            for payee in (await db.execute(statement)).scalars():
                found[(payee.kind, payee.key)] = payee
    return found


def _apply(payee: Payee, values: dict[str, str]) -> list[str]:
    changed = []
    for name in FIELDS:
        if name in values and getattr(payee, name) != values[name]:
            setattr(payee, name, values[name])
            changed.append(name)
    if not payee.account_name:
        payee.account_name = payee.name[: limits.ACCOUNT_NAME.max]
    return changed


async def import_payees(db: AsyncSession, actor: Actor, filename: str, rows: list[PayeeRow]) -> tuple[int, int]:
    """Create or update every row's payee in one transaction; (created, updated)."""
    if not rows:
        raise Invalid("收款信息文件中没有数据行")
    existing = await _existing(db, ((r.kind, r.key) for r in rows))
    created = updated = 0
    for row in rows:
        payee = existing.get((row.kind, row.key))
        if payee is None:
            payee = Payee(
                kind=row.kind,
                key=row.key,
                name=row.name,
                account_name="",
                bank_name="",
                account_number="",
                credit_code="",
                phone="",
                note="",
            )
            db.add(payee)
            created += 1
        else:
            updated += 1
        payee.name = row.name
        _apply(payee, row.values)
        payee.updated_by = actor.username
    await record(
        db, actor, "payee.import", "payees", "", {"filename": filename[: limits.FILENAME.max], "created": created, "updated": updated}
    )
    await db.commit()
    return created, updated


@dataclass
class PayeeForm:
    kind: str
    key: str
    name: str
    values: dict[str, str]

    def parsed(self) -> tuple[PayeeRow, dict[str, str]]:
        """The row, or Invalid with a message per field (keyed by the form field's name)."""
        problems: dict[str, str] = {}
        kind = self.kind if self.kind in KIND_LABELS else ""
        if not kind:
            problems["kind"] = "请选择类型:个人 或 单位"
        name = self.name.strip()
        if not name:
            problems["name"] = "请填写姓名或单位名称"
        elif problem := limits.PAYEE_KEY.problem(name):
            problems["name"] = problem
        key = name
        if kind == "person":
            try:
                key = parse_id_number(self.key)
            except InputError as exc:
                problems["key"] = exc.message
        values: dict[str, str] = {}
        parsers = {c.key: c.parse for c in COLUMNS}
        for name_ in FIELDS:
            raw = self.values.get(name_, "").strip()
            try:
                values[name_] = parsers[name_](raw) if raw else ""
            except InputError as exc:
                label = FIELD_LABELS[name_]
                problems[name_] = (
                    exc.message if label in exc.message else Text("{label}:{problem}", label=Text(label), problem=looked_up(exc.message))
                )
        return PayeeRow(kind or "person", key, name, values), problems


class PayeeInvalid(FormInvalid):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("收款信息有误,未保存", fields)


async def save_payee(db: AsyncSession, actor: Actor, form: PayeeForm) -> Payee:
    """Create or replace one payee's details from the finance page (blank fields clear)."""
    row, problems = form.parsed()
    if problems:
        raise PayeeInvalid(problems)
    payee = (await _existing(db, [(row.kind, row.key)])).get((row.kind, row.key))
    if payee is None:
        payee = Payee(
            kind=row.kind, key=row.key, name=row.name, account_name="", bank_name="", account_number="", credit_code="", phone="", note=""
        )
        db.add(payee)
    payee.name = row.name
    changed = _apply(payee, row.values)
    payee.updated_by = actor.username
    await db.flush()
    shown = idcard.mask(row.key) if row.kind == "person" else row.key
    await record(
        db, actor, "payee.save", "payee", payee.id, {"kind": row.kind, "recipient": shown, "fields": [FIELD_LABELS[f] for f in changed]}
    )
    await db.commit()
    return payee


async def list_payees(db: AsyncSession, query: str = "", limit: int = 200) -> list[Payee]:
    statement = select(Payee).order_by(Payee.kind, Payee.name, Payee.id).limit(limit)
    text = query.strip()
    if text:
        like = f"%{text}%"
        statement = statement.where(Payee.name.like(like) | Payee.key.like(like))
    return list((await db.execute(statement)).scalars())


def details(payee: Payee) -> PayeeDetails:
    return PayeeDetails(
        account_name=payee.account_name,
        bank_name=payee.bank_name,
        account_number=payee.account_number,
        phone=payee.phone,
        credit_code=payee.credit_code,
    )


async def details_for(db: AsyncSession, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], PayeeDetails]:
    return {key: details(payee) for key, payee in (await _existing(db, set(keys))).items()}


async def roster_phones(db: AsyncSession, id_numbers: Iterable[str]) -> dict[str, str]:
    """联系电话 from the people in our rosters (Person.phone), for people without one on file."""
    wanted = sorted(set(id_numbers))
    phones: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        statement = select(Person.id_number, Person.phone).where(Person.id_number.in_(wanted[start : start + 500]))
        phones.update({number: phone for number, phone in (await db.execute(statement)).all() if phone})
    return phones


# ---------------------------------------------------------------- the template


def write_template(target: Any, recipients: Iterable[tuple[str, str, str]] = ()) -> None:
    """The blank payee workbook, or one listing ``recipients`` ((kind, key, name)) to fill in."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    bold = Font(bold=True)
    required = PatternFill("solid", fgColor="FFF2CC")
    last = TEMPLATE_ROWS + 1
    for index, column in enumerate(COLUMNS, 1):
        cell = sheet.cell(row=1, column=index)
        set_text(cell, column.header)
        cell.font = bold
        if column.required:
            cell.fill = required
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            for row in range(2, last + 1):
                sheet.cell(row=row, column=index).number_format = "@"
    kinds = DataValidation(
        type="list",
        formula1='"个人,单位"',
        allow_blank=False,
        showErrorMessage=True,
        errorTitle="“类型”填写有误",
        error="请从下拉列表中选择:个人 或 单位",
    )
    kinds.add(f"A2:A{last}")
    sheet.add_data_validation(kinds)
    account = DataValidation(
        type="textLength",
        operator="between",
        formula1="8",
        formula2="40",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="“银行账号”填写有误",
        error="银行账号应为 8 到 32 位数字,须为文本格式(半角数字)",
    )
    account.add(f"G2:G{last}")
    sheet.add_data_validation(account)
    sheet.freeze_panes = "C2"
    for offset, (kind, key, name) in enumerate(recipients, 2):
        set_text(sheet.cell(row=offset, column=1), KIND_LABELS[kind])
        set_text(sheet.cell(row=offset, column=2), name)
        if kind == "person":
            set_text(sheet.cell(row=offset, column=3), key)
    help_sheet = book.create_sheet(HELP_SHEET)
    for index, (a, b, c) in enumerate(
        [("列", "是否必填", "说明")] + [(col.header, "必填" if col.required else "可选", col.help) for col in COLUMNS], 1
    ):
        for position, text in enumerate((a, b, c), 1):
            set_text(help_sheet.cell(row=index, column=position), text)
    for position in (1, 2, 3):
        help_sheet.cell(row=1, column=position).font = bold
    help_sheet.column_dimensions["A"].width = 16
    help_sheet.column_dimensions["C"].width = 80
    notes = [
        "一行一个收款人:个人按证件号码、单位按单位名称对应发放表中的领取人。",
        "留空的单元格保留系统中已有的信息;文件中任何一行有错,整个文件都不会导入。",
        "银行账号、证件号码是个人信息:本文件仅供财务人员使用,请妥善保管。",
    ]
    start = len(COLUMNS) + 3
    for offset, note in enumerate(notes):
        set_text(help_sheet.cell(row=start + offset, column=1), note)
    example = ("个人", "张伟", "370102199603140014", "", "张伟", "中国工商银行威海分行营业部", "6222020200112233445", "13800000000", "")
    set_text(help_sheet.cell(row=start + len(notes) + 1, column=1), "示例:")
    for index, (column, value) in enumerate(zip(COLUMNS, example, strict=True), 1):
        set_text(help_sheet.cell(row=start + len(notes) + 2, column=index), column.header)
        set_text(help_sheet.cell(row=start + len(notes) + 3, column=index), value)
    book.save(target)
