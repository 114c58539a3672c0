"""The finance workbook, opened as a finance office would: it prints (A4 landscape, one page wide,
header repeated, footer with page numbers, borders, wrapped text, page breaks that keep the total
and the sign-off with the names), it can be signed, paid from (payee columns, 代发 sheet with a
control total), it withholds when the policy says so, text stays text and amounts are numbers."""

from __future__ import annotations

import io
import itertools
from dataclasses import replace
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from contest.awards.finance_workbook import (
    BANK_COLUMNS,
    BASES_COLUMNS,
    FOOTER,
    PAYER_COLUMNS,
    PROTECTION_NOTE,
    WITHHOLDING_NOTE,
    PayeeDetails,
    WorkbookInfo,
    text_pixels,
    write_finance_workbook,
)
from contest.domain.awards import compute_awards
from contest.domain.awards.policy import Withholding
from contest.domain.idcard import mask

from .builders import (
    MUNICIPAL_1,
    PROVINCIAL_1,
    SELECTION,
    achievement,
    longjiang,
    person,
    weihai,
)

FORMULA = '=HYPERLINK("http://x","y")'
CITY = "威海市人力资源和社会保障局、威海市财政局"
ACCOUNT = "6222020200112233445"


def build(result, info=None, fast: bool = True):
    stream = io.BytesIO()
    write_finance_workbook(result, stream, info=info, fast=fast)
    stream.seek(0)
    return load_workbook(stream)


def rows_of(sheet) -> list[tuple]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def header_index(rows: list[tuple], first: str = "序号") -> int:
    return next(i for i, row in enumerate(rows) if row and row[0] == first and row[1] not in (None, ""))


def weihai_batch(**info_changes):
    """A selection winner (paid by the city, with the 100,000 unit subsidy) and a municipal winner."""
    policy = weihai()
    winner = person("甲", unit="威海职业学院")
    result = compute_awards(
        policy,
        [
            achievement(SELECTION, "第2名", members=[winner]),
            achievement(MUNICIPAL_1, "第1名", members=[person("乙")]),
            achievement(PROVINCIAL_1, "第4名", members=[person("丙")]),
        ],
    )
    info = WorkbookInfo.for_result(result, policy)
    info.batch_name, info.batch_number, info.status = "2026年度第1批", "#7", "已审批"
    info.prepared_by, info.approved_by, info.final = "王会计", "李处长", True
    info.payees = {
        ("person", winner.id_number): PayeeDetails(winner.name, "中国工商银行威海分行", ACCOUNT, "13800000001"),
        ("unit", "威海职业学院"): PayeeDetails("威海职业学院", "中国银行威海分行", "237012345678", "", "91350100M000100Y43"),
    }
    for key, value in info_changes.items():
        setattr(info, key, value)
    return result, info, winner


def test_payer_sheet_prints_on_a4_landscape_one_page_wide_with_header_and_footer() -> None:
    result, info, _ = weihai_batch()
    book = build(result, info)
    assert book.sheetnames == [
        "汇总",
        "发放依据",
        CITY,
        "威海市总工会",
        f"代发-{CITY}",
        "代发-威海市总工会",
        "未发放",
    ]  # no empty 非现金奖励
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert (setup.orientation, setup.paperSize) == ("landscape", 9), sheet.title  # A4
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0) and sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.oddFooter.center.text == FOOTER == "第 &P 页 共 &N 页"
        assert sheet.protection.sheet  # approved: protected against accidental edits, no password
        assert not sheet.protection.password
    sheet = book[CITY]
    rows = rows_of(sheet)
    header = header_index(rows) + 1  # 1-based row of the column header
    assert sheet.print_title_rows == f"${header}:${header}"  # repeated on every printed page
    assert sheet.freeze_panes == f"C{header + 1}"
    title_block = [row[0] for row in rows[: header - 1]]
    assert title_block[0] == "技能兴威行动:重要赛事奖励奖金发放表"
    assert any("威人社字〔2021〕16号" in text for text in title_block)  # the document number
    assert any("2026年度第1批" in text and "#7" in text and "制表日期" in text for text in title_block)
    assert "单位:元" in rows[header - 2]
    first = sheet.cell(row=header + 1, column=PAYER_COLUMNS.index("说明") + 1)
    assert first.alignment.wrap_text and first.border.left.style == "thin"
    assert sheet.row_dimensions[header + 1].height >= 30  # room to sign


def test_sign_off_block_names_the_creator_and_the_approver() -> None:
    result, info, _ = weihai_batch()
    book = build(result, info)
    for name in ("汇总", CITY, "威海市总工会"):
        texts = [cell for row in rows_of(book[name]) for cell in row if isinstance(cell, str)]
        assert "制表人:王会计" in texts and "批准人:李处长" in texts and "审核人:" in texts, name
        assert any(text.startswith("日期:") for text in texts) and any("盖章" in text for text in texts)


def test_payer_columns_carry_payment_details_and_the_unit_its_credit_code() -> None:
    result, info, winner = weihai_batch()
    rows = rows_of(build(result, info)[CITY])
    header = header_index(rows)
    assert rows[header] == PAYER_COLUMNS
    at = {name: index for index, name in enumerate(PAYER_COLUMNS)}
    lines = {row[at["奖励对象"]]: row for row in rows[header + 1 :] if row[0] not in (None, "合计")}
    competitor, unit = lines["选手"], lines["单位"]
    assert (competitor[at["姓名"]], competitor[at["证件号码"]]) == ("甲", winner.id_number)  # full ID for finance
    assert (competitor[at["开户行"]], competitor[at["银行账号"]], competitor[at["联系电话"]]) == (
        "中国工商银行威海分行",
        ACCOUNT,
        "13800000001",
    )
    assert unit[at["证件号码"]] == "91350100M000100Y43"  # a unit's document is its 统一社会信用代码
    assert competitor[at["金额"]] == 100000 and unit[at["金额"]] == 100000
    assert all(row[at["签字"]] is None for row in lines.values())
    total = next(row for row in rows if row[0] == "合计")
    assert total[at["金额"]] == 200000 and "贰拾万元整" in total[2] and "共 2 笔" in total[2]
    # 说明: the tier and its rule; the document is in the title block, the clause on the summary
    assert competitor[at["说明"]].startswith("世赛中国选拔赛前3名,选手最高 100,000.00 元")
    assert "原文" not in competitor[at["说明"]]
    bases = rows_of(build(result, info)["发放依据"])
    assert any(row[1] == "世赛中国选拔赛前3名" and row[3] for row in bases[header_index(bases) + 1 :])


def test_a_line_without_payment_details_is_flagged() -> None:
    result, info, _ = weihai_batch()
    rows = rows_of(build(result, info)["威海市总工会"])  # nobody there has details
    at = {name: index for index, name in enumerate(PAYER_COLUMNS)}
    line = rows[header_index(rows) + 1]
    assert line[at["开户行"]] == "(缺收款信息)" and line[at["银行账号"]] is None
    summary = " ".join(cell for row in rows_of(build(result, info)["汇总"]) for cell in row if isinstance(cell, str))
    assert "1 笔缺少收款信息" in summary


def test_bank_sheet_lists_payees_with_two_decimal_amounts_and_a_control_total() -> None:
    result, info, _ = weihai_batch()
    book = build(result, info)
    sheet = book[f"代发-{CITY}"]
    rows = rows_of(sheet)
    header = header_index(rows)
    assert rows[header] == BANK_COLUMNS
    details = rows[header + 1 :]
    assert [(r[1], r[2], r[3], r[4]) for r in details] == [
        ("甲", ACCOUNT, "中国工商银行威海分行", 100000),
        ("威海职业学院", "237012345678", "中国银行威海分行", 100000),
    ]
    assert {r[5] for r in details} == {"职业技能竞赛奖金", "技能人才培养补助"}
    amount = sheet.cell(row=header + 2, column=5)
    assert amount.data_type == "n" and amount.number_format == "0.00"
    assert sheet.cell(row=header + 2, column=3).data_type == "s"  # the account stays text, every digit
    control = next(row for row in rows if row[0] == "总笔数")
    assert control[1] == 2 and control[3] == 200000 and control[5] == "贰拾万元整"
    # a payer whose payees have no details: nothing to transfer, and it says who is missing
    other = rows_of(book["代发-威海市总工会"])
    assert next(row for row in other if row[0] == "总笔数")[1] == 0
    assert any(isinstance(row[0], str) and row[0].startswith("缺少收款信息、未列入代发:乙 2,000.00 元") for row in other)


def test_organizers_get_masked_accounts_and_no_bank_sheet() -> None:
    result, info, _ = weihai_batch(mask_accounts=True)
    book = build(result, info)
    assert not [name for name in book.sheetnames if name.startswith("代发")]
    rows = rows_of(book[CITY])
    at = PAYER_COLUMNS.index("银行账号")
    accounts = {row[at] for row in rows[header_index(rows) + 1 :] if row[at]}
    assert accounts == {mask(ACCOUNT), mask("237012345678")} and ACCOUNT not in str(rows)


def test_withholding_columns_when_the_policy_withholds() -> None:
    policy = replace(weihai(), withholding=Withholding(Decimal("0.2"), "偶然所得"))
    result = compute_awards(
        policy,
        [
            achievement(SELECTION, "第2名", members=[person("甲", unit="威海职业学院")]),
            achievement(MUNICIPAL_1, "第1名", members=[person("乙")]),
        ],
    )
    info = WorkbookInfo.for_result(result, policy)
    book = build(result, info)
    rows = rows_of(book[CITY])
    header = rows[header_index(rows)]
    assert header[8:11] == ("应发金额", "代扣个税", "实发金额")
    line = {row[7]: row for row in rows[header_index(rows) + 1 :] if row[0] not in (None, "合计")}
    assert line["选手"][8:11] == (100000, 20000, 80000)
    assert line["单位"][8:11] == (100000, 0, 100000)  # never withheld from a unit
    total = next(row for row in rows if row[0] == "合计")
    assert total[8:11] == (200000, 20000, 180000) and "实发(大写):壹拾捌万元整" in total[2]
    summary = rows_of(book["汇总"])
    assert summary[header_index(summary)][3:6] == ("应发合计", "代扣个税", "实发合计")
    assert any(WITHHOLDING_NOTE in row for row in summary) and "ROUND_HALF_UP" in WITHHOLDING_NOTE
    bank = rows_of(book[f"代发-{CITY}"])
    assert next(row for row in bank if row[0] == "总笔数")[3] == 0  # no details given: nothing to transfer
    plain = rows_of(build(*weihai_batch()[:2])[CITY])
    assert "代扣个税" not in plain[header_index(plain)]  # no withholding: no such columns


def test_unapproved_batches_say_so_and_are_not_protected() -> None:
    result, info, _ = weihai_batch(final=False, status="待审批")
    book = build(result, info)
    assert not book[CITY].protection.sheet
    summary = " ".join(c for row in rows_of(book["汇总"]) for c in row if isinstance(c, str))
    assert "本表为待审批状态的批次,未经审批,不能据此付款" in summary and PROTECTION_NOTE not in summary
    approved = " ".join(c for row in rows_of(build(*weihai_batch()[:2])["汇总"]) for c in row if isinstance(c, str))
    assert PROTECTION_NOTE in approved


def test_an_early_approval_shows_its_reason() -> None:
    result, info, _ = weihai_batch(override="组织方 赵主任 于 2026-11-23 准许:申诉不涉及获奖名次")
    summary = " ".join(c for row in rows_of(build(result, info)["汇总"]) for c in row if isinstance(c, str))
    assert "成绩未最终确认即审批:组织方 赵主任 于 2026-11-23 准许:申诉不涉及获奖名次" in summary


def test_totals_and_sign_off_share_the_page_with_names() -> None:
    """Many lines: page breaks are placed, and the last break leaves lines on the total's page."""
    policy = weihai()
    many = [achievement(MUNICIPAL_1, f"第{1 + i % 3}名", members=[person(f"选手{i}")], skill=f"S{i}") for i in range(47)]
    result = compute_awards(policy, many)
    sheet = build(result, WorkbookInfo.for_result(result, policy))["威海市总工会"]
    rows = rows_of(sheet)
    header = header_index(rows) + 1
    total_row = next(i for i, row in enumerate(rows, 1) if row[0] == "合计")
    breaks = [b.id for b in sheet.row_breaks.brk]
    assert len(breaks) >= 2 and breaks == sorted(breaks) and all(b >= header for b in breaks)
    assert breaks[-1] < total_row - 1  # at least one line is printed on the total's page
    pages = [header, *breaks, total_row]
    assert all(later > earlier for earlier, later in itertools.pairwise(pages))


def test_summary_totals_and_capital() -> None:
    result, info, _ = weihai_batch()
    rows = rows_of(build(result, info)["汇总"])
    table = {row[1]: row for row in rows[header_index(rows) + 1 :] if row[0] not in (None,)}
    assert table[CITY][2:5] == (2, 200000, "贰拾万元整")
    assert table["威海市总工会"][2:5] == (1, 2000, "贰仟元整")
    total = next(row for row in rows if row[0] == "合计")
    assert total[2:5] == (3, 202000, "贰拾万贰仟元整")
    assert not any("(未命名" in str(c) for row in rows for c in row)


def test_user_text_stays_text_and_amounts_are_numbers() -> None:
    tricky = person(FORMULA, unit="=1+1")
    odd = person("#N/A", unit="@SUM(A1)")
    result = compute_awards(longjiang(), [achievement(PROVINCIAL_1, "第1名", members=[tricky], coaches=[odd], item="+cmd|' /C calc'!A0")])
    book = build(result)
    sheet = book["黑龙江省人力资源和社会保障厅"]
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row if cell.value is not None}
    for text in (FORMULA, "=1+1", "#N/A", "@SUM(A1)", "+cmd|' /C calc'!A0"):
        assert cells[text].data_type == "s", text
    at = PAYER_COLUMNS.index("金额")
    amount = next(row[at] for row in sheet.iter_rows() if row[1].value == FORMULA)
    assert amount.data_type == "n" and amount.value == 20000  # 省级一类第1名
    assert amount.number_format == "#,##0.00"


def test_amounts_keep_the_fen() -> None:
    team = [person("甲"), person("乙"), person("丙")]
    book = build(compute_awards(longjiang(), [achievement(PROVINCIAL_1, "第2名", members=team)]))
    at = PAYER_COLUMNS.index("金额")
    values = sorted(row[at] for row in book["黑龙江省人力资源和社会保障厅"].iter_rows(values_only=True) if row[7] == "选手")
    assert [Decimal(str(v)) for v in values] == [Decimal("3333.33"), Decimal("3333.33"), Decimal("3333.34")]


def test_honours_sheet_with_coach_role_and_control_characters() -> None:
    winner = person("李\x01四")
    book = build(compute_awards(longjiang(), [achievement(PROVINCIAL_1, "第1名", members=[winner])]))
    honours = rows_of(book["非现金奖励"])
    body = honours[header_index(honours) + 1 :]
    assert len(body) == 3 and body[0][1] == "李四" and body[0][7] == "选手"
    assert any("晋升" in row[8] for row in body)


@pytest.mark.parametrize("withholds", [False, True])
def test_fast_and_ordinary_openpyxl_paths_write_the_same_workbook(withholds: bool) -> None:
    policy = longjiang() if not withholds else replace(longjiang(), withholding=Withholding(Decimal("0.2")))
    team = [person(FORMULA, unit=" 前后有空格 "), person("乙")]
    result = compute_awards(
        policy,
        [
            achievement(PROVINCIAL_1, "第1名", members=team, coaches=[person("#REF!")]),
            achievement(PROVINCIAL_1, "第9名", members=[person("丙")]),
        ],
    )
    info = WorkbookInfo.for_result(result, policy)
    info.payees = {("person", team[0].id_number): PayeeDetails("户名", "银行", "6222000011112222")}
    fast_book, slow_book = build(result, info, True), build(result, info, False)
    assert fast_book.sheetnames == slow_book.sheetnames
    for name in fast_book.sheetnames:

        def cells(book, name=name):
            return [
                (c.coordinate, c.value, c.data_type, c.number_format, bool(c.font.b), c.border.left.style, bool(c.alignment.wrap_text))
                for row in book[name].iter_rows()
                for c in row
                if c.value is not None or c.border.left.style
            ]

        assert cells(fast_book) == cells(slow_book), name
        heights = [(i, d.height) for i, d in fast_book[name].row_dimensions.items() if d.height]
        assert heights == [(i, d.height) for i, d in slow_book[name].row_dimensions.items() if d.height], name
        assert str(fast_book[name].merged_cells) == str(slow_book[name].merged_cells)
    assert any(c.value == " 前后有空格 " for row in fast_book.worksheets[2].iter_rows() for c in row)  # after 汇总, 发放依据


# ---------------------------------------------------------------- what prints fits (audit of the printed pages)

DEFAULT_NAME = "技能兴威行动:重要赛事奖励 2026年度第1批(2026-11-28)"  # payouts.service.default_batch_name's form
LONG_NAME = (DEFAULT_NAME + "(补发,含跨年度外部成绩与更正)" * 10)[:200]  # limits.BATCH_NAME.max


def merged_width(sheet, cell) -> tuple[float, tuple[int, int]]:
    """The width (column units) of the merged range a cell starts, and its columns (1-based)."""
    for merged in sheet.merged_cells.ranges:
        if (merged.min_row, merged.min_col) == (cell.row, cell.column):
            columns = range(merged.min_col, merged.max_col + 1)
            return sum(sheet.column_dimensions[get_column_letter(c)].width for c in columns), (merged.min_col, merged.max_col)
    return sheet.column_dimensions[cell.column_letter].width, (cell.column, cell.column)


def lines_needed(text: str, width: float) -> int:
    """Lines the text wraps to in a ``width``-unit cell (about 7 pixels a unit, less padding)."""
    return max(-int(-text_pixels(part) // (width * 7 - 6)) for part in text.split("\n"))


def find(sheet, prefix: str):
    return next(c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith(prefix))


@pytest.mark.parametrize("name", [DEFAULT_NAME, LONG_NAME], ids=["default-name", "200-characters"])
def test_the_batch_line_spans_the_sheet_and_is_as_tall_as_its_text(name: str) -> None:
    result, info, _ = weihai_batch(batch_name=name, batch_number="#12", status="已审批")
    book = build(result, info)
    for title in ("汇总", CITY):
        sheet = book[title]
        cell = find(sheet, "批次:")
        assert name in cell.value and "(#12)" in cell.value and "状态:已审批" in cell.value and "制表日期:" in cell.value
        width, (first, last) = merged_width(sheet, cell)
        assert (first, last) == (1, sheet.max_column - 1), title  # every column but 单位:元's
        assert sheet.cell(row=cell.row, column=sheet.max_column).value == "单位:元"
        assert cell.alignment.wrap_text
        needed = lines_needed(cell.value, width)
        assert sheet.row_dimensions[cell.row].height >= 13 * needed, (title, needed)
        if title == "汇总":
            assert width >= 60  # not the three narrow columns (A:C, 54) the line used to be squeezed into
        document = find(sheet, "依据:")
        document_width, _ = merged_width(sheet, document)
        assert document.row < cell.row
        assert sheet.row_dimensions[document.row].height >= 13 * lines_needed(document.value, document_width)
    long_summary = find(book["汇总"], "批次:")
    if name == LONG_NAME:
        assert book["汇总"].row_dimensions[long_summary.row].height >= 13 * 3  # 200 characters: several lines, all shown
    assert len(book["汇总"].oddHeader.left.text) <= 61  # the page header is one line, the name shortened


@pytest.mark.parametrize("withholds", [False, True])
def test_each_signer_has_room_to_sign_and_a_long_name_stays_in_its_own_cell(withholds: bool) -> None:
    approver = "财务处副处长兼预算科科长李某某(代行审批权限至2026年12月31日)"
    result, info, _ = weihai_batch(approved_by=approver)
    if withholds:
        policy = replace(weihai(), withholding=Withholding(Decimal("0.2"), "偶然所得"))
        result = compute_awards(policy, [achievement(MUNICIPAL_1, "第1名", members=[person("乙")])])
        assert result.withholds
    book = build(result, info)
    for sheet in book.worksheets:
        if sheet.title.startswith("代发") or sheet.title in ("发放依据", "未发放"):
            continue
        spans: dict[int, list[tuple[int, int]]] = {}
        for label in ("制表人:", "审核人:", "批准人:", "日期:", "支付单位(盖章)", "财务部门(盖章)"):
            cell = find(sheet, label)
            width, columns = merged_width(sheet, cell)
            assert width >= 20, (sheet.title, label, width)  # a name and room to sign by hand
            spans.setdefault(cell.row, []).append(columns)
            height = sheet.row_dimensions[cell.row].height
            assert height >= 13 * lines_needed(cell.value, width) + 20, (sheet.title, label)  # the text, then the signature
        for row, runs in spans.items():  # signers on one row never share or overlap columns
            ordered = sorted(runs)
            assert all(a[1] < b[0] for a, b in itertools.pairwise(ordered)), (sheet.title, row, ordered)
        assert find(sheet, "批准人:").value == f"批准人:{approver}"


def test_the_clauses_print_on_their_own_sheet_not_under_the_summarys_repeated_header() -> None:
    result, info, _ = weihai_batch()
    book = build(result, info)
    summary = rows_of(book["汇总"])
    assert not any("原文" in str(c) or "附:" in str(c) for row in summary for c in row)
    bases = book["发放依据"]
    rows = rows_of(bases)
    header = header_index(rows)
    assert rows[header][:4] == BASES_COLUMNS
    assert bases.print_title_rows == f"${header + 1}:${header + 1}"  # its own header repeats, nothing else's
    quoted = {row[1]: row[3] for row in rows[header + 1 :]}
    assert quoted and all(quote for quote in quoted.values())
    titles = {tier.id: tier.title for tier in weihai().tiers}
    assert set(quoted) == {titles[line.tier_id] for line in result.lines}  # every tier the lines rest on, once
