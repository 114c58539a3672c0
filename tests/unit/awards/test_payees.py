"""Payment details: bank account numbers, 统一社会信用代码, the payee workbook's rows."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from contest.domain.awards.inputs import InputError, InputErrors
from contest.domain.awards.payees import credit_check_char, parse_account_number, parse_credit_code, parse_phone
from contest.payouts.payees import SHEET, parse_payee_workbook, write_template

from .builders import new_id


def test_account_numbers_are_digits_kept_as_typed_and_masked_in_errors() -> None:
    assert parse_account_number(" 6222 0202-0011 2233 445 ") == "6222020200112233445"
    assert parse_account_number("") == ""
    with pytest.raises(InputError, match="文本格式"):
        parse_account_number(6222020200112233445)
    with pytest.raises(InputError) as caught:
        parse_account_number("6222O20200112233445")  # a letter O typed for a zero
    assert "6222***********3445" in caught.value.message and "6222O2" not in caught.value.message
    with pytest.raises(InputError, match="全角"):
        parse_account_number("６２２２０２０２００１１")
    with pytest.raises(InputError, match="8 到 32 位"):
        parse_account_number("1234567")


def test_credit_codes_carry_their_check_character() -> None:
    assert parse_credit_code("91350100m000100y43") == "91350100M000100Y43"
    assert credit_check_char("91350100M000100Y4") == "3"
    with pytest.raises(InputError, match=r"校验位错误\(应为 3\)"):
        parse_credit_code("91350100M000100Y44")
    with pytest.raises(InputError, match="不含 I、O、S、V、Z"):
        parse_credit_code("91350100MOOO100Y43")
    assert parse_phone(13806310000.0) == "13806310000"
    with pytest.raises(InputError):
        parse_phone("call me")


def workbook(rows: list[dict[str, object]]):
    stream = io.BytesIO()
    write_template(stream)
    book = load_workbook(io.BytesIO(stream.getvalue()))
    headers = {cell.value: cell.column for cell in book[SHEET][1]}
    for offset, values in enumerate(rows, 2):
        for header, value in values.items():
            book[SHEET].cell(row=offset, column=headers[header]).value = value
    out = io.BytesIO()
    book.save(out)
    return load_workbook(io.BytesIO(out.getvalue()), read_only=True)


def test_payee_rows_only_what_they_fill_in_and_every_problem_by_row_and_column() -> None:
    person = new_id()
    rows = parse_payee_workbook(
        workbook(
            [
                {"类型": "个人", "姓名或单位名称": "张伟", "证件号码": person, "开户行": "工行", "银行账号": "6222020200112233445"},
                {"类型": "单位", "姓名或单位名称": "威海技师学院", "统一社会信用代码": "91350100M000100Y43", "联系电话": "0631-5200000"},
            ]
        )
    )
    assert [(r.kind, r.key, r.values) for r in rows] == [
        ("person", person, {"bank_name": "工行", "account_number": "6222020200112233445"}),
        ("unit", "威海技师学院", {"credit_code": "91350100M000100Y43", "phone": "0631-5200000"}),
    ]
    with pytest.raises(InputErrors) as caught:
        parse_payee_workbook(
            workbook(
                [
                    {"类型": "其他", "姓名或单位名称": "甲"},
                    {"类型": "个人", "姓名或单位名称": "乙", "证件号码": "123"},
                    {"类型": "单位", "姓名或单位名称": "丙单位", "证件号码": person},
                    {"类型": "个人", "姓名或单位名称": "张伟", "证件号码": person},
                    {"类型": "个人", "姓名或单位名称": "张伟", "证件号码": person},
                ]
            )
        )
    found = [str(e) for e in caught.value.errors]
    assert any("第 2 行“类型”列(A)" in e and "个人 或 单位" in e for e in found)
    assert any("第 3 行“证件号码”列(C)" in e for e in found)
    assert any("第 4 行“证件号码”列(C)" in e and "统一社会信用代码" in e for e in found)
    assert any("第 6 行" in e and "与第 5 行是同一个人" in e for e in found)
