"""Messages built in Python reach the catalog: shown in English they hold no Chinese.

An f-string (or a concatenation) handed to an error cannot be extracted by `make messages`, so the
English interface showed such messages in Chinese and the catalog test could not see them. Two
checks: each refusal below, put in English, has no CJK character left (its template and the labels
put into it are in the catalog); and no error or ``Text`` in src/contest is built from an f-string,
a concatenation or ``.format`` (the few that stay are listed with their reason).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from contest.domain import aggregation, limits, payouts, ranking, scheme, usernames
from contest.domain.text import Text, message_of
from contest.i18n import translate
from contest.web import fields

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef「」]")
SRC = Path(__file__).resolve().parents[2] / "src" / "contest"


def _raised(call: Callable[[], object]) -> str:
    with pytest.raises(ValueError) as caught:
        call()
    return message_of(caught.value)


def _assert_english(message: str | None) -> None:
    assert message, "a refusal was expected"
    english = translate(message, "en")
    assert not CJK.search(english), f"shown in Chinese in English mode: {message!r} -> {english!r}"
    assert translate(message, "zh") == str(message), "the Chinese stays as it was"


def _payout_refusals() -> list[str | None]:
    found = [payouts.refusal(name, status) for name in payouts.TRANSITIONS for status in payouts.BatchStatus]
    found += [payouts.frozen_refusal(status) for status in payouts.FROZEN]
    found += [payouts.four_eyes_refusal(1, 1, 2), payouts.four_eyes_refusal(2, 1, 2)]
    return [message for message in found if message is not None]


@pytest.mark.parametrize("message", _payout_refusals())
def test_payout_refusals_are_translated(message: str) -> None:
    _assert_english(message)


def test_the_frozen_refusal_says_the_status_once() -> None:
    assert str(payouts.frozen_refusal(payouts.PAID)).startswith("批次已发放,")
    assert str(payouts.frozen_refusal(payouts.APPROVED)).startswith("批次已审批,")
    assert payouts.frozen_refusal(payouts.COMPUTED) is None
    assert "已已" not in str(payouts.frozen_refusal(payouts.PAID))
    assert "Only a computed batch" in translate(payouts.refusal("submit", payouts.DRAFT) or "", "en")
    assert translate(payouts.refusal("submit", payouts.SUBMITTED) or "", "en") == "The batch has already been submitted for approval"
    assert "creator" in translate(payouts.four_eyes_refusal(1, 1, 2) or "", "en")
    assert "submitter" in translate(payouts.four_eyes_refusal(2, 1, 2) or "", "en")


def test_form_integer_and_date_errors_are_translated_with_their_label() -> None:
    errors: dict[str, str] = {}
    fields.integer({"year": "二〇二六"}, "year", "年度", errors)
    fields.integer({"team_size": "9"}, "team_size", "团队人数", errors, maximum=3)
    fields.day({"start_date": "2026-13-40"}, "start_date", "开始日期", errors)
    assert errors["year"] == "年度「二〇二六」不是整数"  # the Chinese as before
    assert errors["team_size"] == "团队人数 9 超出范围,应在 -2147483647 到 3 之间"
    for key in ("team_size", "start_date"):
        _assert_english(errors[key])
    assert translate(errors["team_size"], "en").startswith("Team size 9 is out of range")
    # The typed value is quoted as typed, even in English.
    assert "二〇二六" in translate(errors["year"], "en")
    assert not CJK.search(translate(errors["year"], "en").replace("二〇二六", ""))


@pytest.mark.parametrize(
    "call",
    [
        lambda: fields.parse_int("x", "工位号"),
        lambda: fields.parse_int("0", "席位号", 1),
        lambda: scheme.parse_decimal("abc", "权重"),
        lambda: scheme.parse_decimal(True, "优胜奖比例"),
        lambda: scheme.parse_decimal("8,5", Text("{row}满分", row=Text("第 {number} 行评分项", number=3))),
        lambda: fields.parse_int("z", Text("{row}裁判人数", row=Text("第 {number} 行评分项", number=3))),
        lambda: limits.check(limits.USERNAME, "a" * 100),
        lambda: usernames.validate(""),
        lambda: usernames.validate("оrg"),  # a Cyrillic о
        lambda: usernames.validate("a b"),
        lambda: usernames.validate("a"),
        lambda: usernames.validate("-ab"),
    ],
)
def test_value_errors_shown_on_pages_are_translated(call: Callable[[], object]) -> None:
    _assert_english(_raised(call))


def test_password_length_is_translated() -> None:
    from contest.accounts.security import hash_password

    message = _raised(lambda: hash_password("short"))
    assert message == "密码至少需要 8 个字符"
    assert translate(message, "en") == "The password needs at least 8 characters"


def _criterion(**changes: object) -> scheme.CriterionSpec:
    values: dict[str, object] = {"code": "A1", "name": "Caliper", "max_mark": Decimal(100)} | changes
    return scheme.CriterionSpec(**values)  # type: ignore[arg-type]  # the test's own keyword values


BAD_SCHEMES = [
    [],
    [scheme.ComponentSpec("written", Decimal(100), criteria=[_criterion()])],
    [scheme.ComponentSpec("practical", Decimal("100.001"), criteria=[_criterion()])],
    [scheme.ComponentSpec("practical", Decimal(60))],
    [scheme.ComponentSpec("practical", Decimal(100), criteria=[_criterion(), _criterion()])],
    [scheme.ComponentSpec("practical", Decimal(100), criteria=[_criterion(code="")])],
    [scheme.ComponentSpec("practical", Decimal(100), criteria=[_criterion(code="X" * 200)])],
    [scheme.ComponentSpec("practical", Decimal(100), criteria=[_criterion(max_mark=Decimal(0))])],
    [scheme.ComponentSpec("practical", Decimal(100), criteria=[_criterion(step=Decimal("0.001"))])],
    [scheme.ComponentSpec("practical", Decimal(100), criteria=[_criterion(step=Decimal(0))])],
    [scheme.ComponentSpec("practical", Decimal(100), criteria=[_criterion(step=Decimal(3))])],
    [scheme.ComponentSpec("practical", Decimal(100), criteria=[_criterion(kind="guess")])],
    [scheme.ComponentSpec("practical", Decimal(100), criteria=[_criterion(aggregation="guess")])],
    [scheme.ComponentSpec("practical", Decimal(100), criteria=[_criterion(panel_size=3)])],
    [scheme.ComponentSpec("oral", Decimal(100), criteria=[_criterion(kind="judgement")])],
    [scheme.ComponentSpec("oral", Decimal(100), criteria=[_criterion(kind="judgement", aggregation="mean")])],
    [scheme.ComponentSpec("oral", Decimal(100), criteria=[_criterion(kind="judgement", aggregation="worldskills", panel_size=2)])],
    [scheme.ComponentSpec("oral", Decimal(100), criteria=[_criterion(kind="judgement", aggregation="trimmed_mean", panel_size=3)])],
    [scheme.ComponentSpec("oral", Decimal(100), criteria=[_criterion(max_mark=Decimal(50))])],
]


@pytest.mark.parametrize("components", BAD_SCHEMES)
def test_scheme_problems_are_translated(components: list[scheme.ComponentSpec]) -> None:
    problems = scheme.validate_scheme(components)
    assert problems, "each of these schemes is refused"
    for problem in problems:
        _assert_english(problem)


def _rule(**changes: object) -> aggregation.CriterionRule:
    values: dict[str, object] = {
        "id": 1,
        "code": "A1",
        "max_mark": Decimal(10),
        "step": Decimal("0.5"),
        "kind": "judgement",
        "panel_size": 3,
        "aggregation": "mean",
    } | changes
    return aggregation.CriterionRule(**values)  # type: ignore[arg-type]  # the test's own keyword values


@pytest.mark.parametrize(
    ("rule", "mark"),
    [
        (_rule(), Decimal("NaN")),
        (_rule(), Decimal(11)),
        (_rule(), Decimal("0.3")),
        (_rule(aggregation="worldskills", max_mark=Decimal(3), step=Decimal(1)), Decimal(4)),
        (_rule(aggregation="worldskills", max_mark=Decimal(3), step=Decimal(1)), Decimal("1.5")),
    ],
)
def test_mark_refusals_are_translated(rule: aggregation.CriterionRule, mark: Decimal) -> None:
    problem = aggregation.check_mark(rule, mark)
    assert problem is not None
    _assert_english(problem[1])


@pytest.mark.parametrize(
    "call",
    [
        lambda: aggregation.aggregate(_rule(kind="guess"), {}),
        lambda: aggregation.aggregate(_rule(aggregation="guess"), {}),
        lambda: aggregation.aggregate(_rule(aggregation="single"), {}),
        lambda: aggregation.aggregate(_rule(panel_size=0), {}),
        lambda: aggregation.aggregate(_rule(max_mark=Decimal(0)), {}),
        lambda: aggregation.aggregate(_rule(step=Decimal(0)), {}),
        lambda: aggregation.aggregate(_rule(panel_size=1), {"j1": Decimal(1), "j2": Decimal(1)}),
        lambda: aggregation.aggregate(_rule(), {"j1": Decimal(11)}),
        lambda: aggregation.score_entry([aggregation.ComponentRule("theory", Decimal(50), ())], {}),
        lambda: aggregation.score_entry([aggregation.ComponentRule("theory", Decimal(100), ())], {9: {}}),
        lambda: ranking.rank([ranking.RankInput(1, None, None, None)] * 2),
        lambda: ranking.rank([], tie_break=("coin",)),
        lambda: ranking.rank([], excellence_fraction=Decimal(2)),
        lambda: ranking.rank([ranking.RankInput(1, Decimal("NaN"), None, None)]),
        lambda: ranking.rank([ranking.RankInput(1, Decimal(1), None, -1)]),
    ],
)
def test_domain_value_errors_are_translated(call: Callable[[], object]) -> None:
    _assert_english(_raised(call))


def test_access_refusals_are_in_the_catalog() -> None:
    for message in ("您的角色无权访问此页面", "您不是该赛项的裁判长", "只有组织方可以查看运行指标", "该页面未声明访问权限"):
        _assert_english(message)
    sources = "".join((SRC / path).read_text(encoding="utf-8") for path in ("web/guards.py", "web/health.py", "results/controllers.py"))
    assert 'PermissionDeniedException("' not in sources, "mark the message with N_() so it is extracted"


# Errors people read, and Text: their first argument must be a literal template.
ERROR_NAMES = {
    "AccountError",
    "Conflict",
    "ContestError",
    "FormConflict",
    "FormInvalid",
    "IdNumberError",
    "InputError",
    "Invalid",
    "LookupRefused",
    "MoneyError",
    "NotFound",
    "PermissionDeniedException",
    "SealRejected",
    "Text",
    "Throttled",
    "UploadRejected",
    "UsernameError",
    "ValueError",
}
# Built from values on purpose: read by an operator on the command line or in a log, not on a page.
ALLOWED = {
    ("demo.py", "ContestError"),  # `contest demo load` (command line)
    ("live/protocol.py", "ValueError"),  # the tablet's refusals: translated by the tablet's own table
    ("papers/pdf.py", "ValueError"),  # a programming error: a paper asked for a file it does not ship
    ("resources.py", "ValueError"),  # a programming error: an unknown resource folder
    ("settings.py", "ValueError"),  # CONTEST_* environment variables, read at start-up
}


def _built(node: ast.expr) -> bool:
    """An f-string with values, a concatenation or %, or a ``.format`` call."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"


def test_no_error_people_read_is_built_from_an_fstring() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name in ERROR_NAMES and _built(node.args[0]) and (where, name) not in ALLOWED:
                found.append(f"{where}:{node.lineno} {name}")
    assert found == [], "use Text('…{value}…', value=…) so `make messages` extracts it (docs/i18n.md)"


# The import's per-row problems (src/contest/rosters): the message is not the first argument there.
# ``row.error(column, message)``, ``problems.add(sheet, row, column, message)``, ``errors.append(message)``.
ROW_PROBLEM_CALLS = {"error": 1, "add": 3, "append": 0}
ROW_PROBLEM_FOLDER = "rosters"


def _built_message(node: ast.expr) -> bool:
    """``_built``, also through ``a if c else b`` (a message picked between two f-strings), and
    ``str(exc)``: it makes a ``Text`` a plain string the page cannot translate (``message_of``)."""
    if isinstance(node, ast.IfExp):
        return _built_message(node.body) or _built_message(node.orelse)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
        return True
    return _built(node)


def _row_problems_built(tree: ast.AST) -> list[int]:
    """The lines where a row's problem is given a message built from values."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        position = ROW_PROBLEM_CALLS.get(node.func.attr)
        if position is None:
            continue
        message = node.args[position] if len(node.args) > position else next((k.value for k in node.keywords if k.arg == "message"), None)
        if message is not None and _built_message(message):
            lines.append(node.lineno)
    return lines


def test_no_import_row_problem_is_built_from_an_fstring() -> None:
    found = []
    for path in sorted((SRC / ROW_PROBLEM_FOLDER).rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        found += [f"{where}:{line}" for line in _row_problems_built(ast.parse(path.read_text(encoding="utf-8")))]
    assert found == [], "use Text('…{value}…', value=…) so `make messages` extracts it and the result page translates it (docs/i18n.md)"


def test_the_row_problem_check_sees_the_message_where_it_is() -> None:
    source = "\n".join(
        [
            'row.error(ID_NUMBER, f"该裁判在第 {n} 行已列出")',
            'row.error(column, "a" + column)',
            'problems.add(sheet, 0, "", f"缺少工作表「{sheet}」")',
            'row.error(N_("登录账号"), f"在{where}已使用" if twin == name else f"与{where}形似")',
            'row.error(column=c, message=f"「{c}」不能为空")',
            'errors.append(f"{x} 重复")',
            "row.error(column, str(exc))",
            # Not built: a Text, a catalog string, a column name built from values, a message passed on.
            'row.error(ID_NUMBER, Text("该裁判在第 {row} 行已列出", row=n))',
            'problems.add(f"{sheet}", 0, f"{column}", N_("文件中没有可导入的裁判"))',
            "row.error(column, message_of(exc))",
            "problems.add(sheet, 0)",
        ]
    )
    assert _row_problems_built(ast.parse(source)) == [1, 2, 3, 4, 5, 6, 7]


def test_the_check_sees_an_fstring() -> None:
    tree = ast.parse('raise Invalid(f"赛项 {item_id} 不存在")\nraise Invalid(Text("赛项 {item_id} 不存在", item_id=1))')
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Invalid"]
    assert [_built(call.args[0]) for call in calls] == [True, False]


def test_a_label_put_into_a_message_is_translated_too() -> None:
    message = Text("{label}「{value}」不是整数", label=Text("年度"), value="x")
    assert message == "年度「x」不是整数"
    assert "x" in translate(message, "en")
    assert not CJK.search(translate(message, "en"))
    plain_value = Text("{label}「{value}」不是整数", label="年度", value="x")
    assert "年度" in translate(plain_value, "en"), "a plain value (typed by someone) is never looked up"


# ---------------------------------------------------------------- finance uploads, console, public


def test_no_form_problem_is_built_from_an_fstring() -> None:
    """``problems[name] = f"…"`` (a form's message per field, as payout settings build them) is
    shown on a page like an error: a Text, or a literal the catalog holds."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Assign) or len(node.targets) != 1:
                continue
            target = node.targets[0]
            named = isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id in ("problems", "errors")
            if named and _built(node.value):
                found.append(f"{path.relative_to(SRC).as_posix()}:{node.lineno}")
    assert found == [], "use Text('…{value}…', value=…) (docs/i18n.md)"


def test_the_form_problem_check_sees_an_fstring() -> None:
    tree = ast.parse('problems[name] = f"{label}:请填写金额"\nproblems[name] = Text("{label}:请填写金额", label=label)')
    assert [_built(node.value) for node in ast.walk(tree) if isinstance(node, ast.Assign)] == [True, False]


def _input_error(call: Callable[[], object]) -> str:
    from contest.domain.awards.inputs import InputError

    with pytest.raises(InputError) as caught:
        call()
    return caught.value.message


def _parsers() -> list[Callable[[], object]]:
    from contest.domain.awards import inputs
    from contest.domain.awards import payees as payee_fields
    from contest.domain.text import N_

    return [
        lambda: inputs.parse_level("galactic"),
        lambda: inputs.parse_class("3"),
        lambda: inputs.parse_kinds("bad tag!"),
        lambda: inputs.parse_year("23"),
        lambda: inputs.parse_date("2023-13-45", N_("比赛日期")),
        lambda: inputs.parse_result("last"),
        lambda: inputs.parse_result({"medal": "tin"}),
        lambda: inputs.parse_result({"medal": "gold", "place": 2}),
        lambda: inputs.parse_result({"place": 0}),
        lambda: inputs.parse_result({"other": 1}),
        lambda: inputs.parse_share("abc"),
        lambda: inputs.parse_share("-1"),
        lambda: inputs.parse_share(True),
        lambda: inputs.parse_flag("maybe"),
        lambda: inputs.parse_count("0", N_("参赛人数")),
        lambda: inputs.parse_id_number(""),
        lambda: inputs.parse_id_number("110101199003078888"),
        lambda: inputs.parse_id_number("110101199003078"),
        lambda: inputs.parse_id_number("12\u300034"),  # a full-width space
        lambda: inputs.parse_money("two thousand"),
        lambda: inputs.parse_money("2000.001"),
        lambda: payee_fields.parse_kind("company"),
        lambda: payee_fields.parse_account_number("1234"),
        lambda: payee_fields.parse_account_number(12345678),
        lambda: payee_fields.parse_credit_code("X1"),
        lambda: payee_fields.parse_credit_code("91370000MA3C5CLX1X"),
        lambda: payee_fields.parse_phone("call me"),
    ]


@pytest.mark.parametrize("call", _parsers())
def test_award_input_problems_are_translated(call: Callable[[], object]) -> None:
    """The external results and payee workbooks' cell problems (typed values here are ASCII)."""
    _assert_english(_input_error(call))


def test_a_typed_value_stays_as_typed_in_english() -> None:
    from contest.domain.awards import inputs

    message = _input_error(lambda: inputs.parse_level("省里"))
    assert message == "级别 '省里' 无效;可填 世界/国家/省级/市级(或 world/national/provincial/municipal)"  # as before
    english = translate(message, "en")
    assert english == "Level '省里' is not valid: use world/national/provincial/municipal"
    wide = _input_error(lambda: inputs.parse_id_number("\uff11\uff12\uff13"))  # full-width digits, as typed
    assert wide == "证件号码含全角字符(“\uff11”):请切换到半角(英文)输入法重新输入数字和 X"
    assert translate(wide, "en").startswith("The ID number contains a full-width character (“\uff11”): switch to a half-width")


def _results_workbook(rows: list[dict[str, object]], drop: str = "") -> bytes:
    import io

    from openpyxl import Workbook

    from contest.awards.results_io import COLUMNS

    book = Workbook()
    sheet = book.active
    sheet.title = "成绩"
    headers = [c.header for c in COLUMNS if c.header != drop]
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD_ROW: dict[str, object] = {
    "成绩编号": "R1",
    "赛事名称": "Provincial Skills",
    "赛事级别": "provincial",
    "赛事类别": "1",
    "年份": "2026",
    "赛项": "Welding",
    "技能代码": "6-18-02-04",
    "成绩": "1",
    "角色": "competitor",
    "姓名": "Li",
    "证件号码": "11010119900307803X",
    "选送单位": "Unit A",
}


def _english_without_file_words(message: str) -> str:
    """``message`` in English with the words the file itself holds (the sheet's name, the Chinese
    column headers the reader looks for) taken out: nothing else may be Chinese."""
    from contest.awards.results_io import COLUMNS

    english = translate(message, "en")
    for word in ["“成绩”", *(f"“{c.header}”" for c in COLUMNS)]:
        english = english.replace(word, "")
    return english


def test_an_external_results_workbook_lists_its_problems_in_english() -> None:
    from contest.awards.results_io import read_results_upload
    from contest.domain.awards.inputs import InputErrors

    rows = [
        GOOD_ROW | {"赛事级别": "galactic", "年份": "26", "份额": "-1"},
        GOOD_ROW | {"成绩编号": "R2", "角色": "boss", "证件号码": 110101199003078039},
        GOOD_ROW | {"成绩编号": "R3", "角色": "coach"},  # an achievement with no competitor
        GOOD_ROW | {"成绩编号": "R4", "参赛人数": "1"},
        GOOD_ROW | {"成绩编号": "R4", "赛项": "Turning", "证件号码": "110101199003077817", "参赛人数": ""},
        GOOD_ROW | {"成绩编号": "R5", "姓名": "x" * 101},
    ]
    with pytest.raises(InputErrors) as caught:
        read_results_upload(_results_workbook(rows))
    shown = [error.shown() for error in caught.value.errors]
    assert len(shown) >= 7
    assert shown[0].startswith("工作表“成绩”第 2 行“赛事级别”列(C): 级别 'galactic' 无效"), "the Chinese as before"
    for message in shown:
        english = _english_without_file_words(message)
        assert not CJK.search(english), f"shown in Chinese in English mode: {message!r} -> {english!r}"
        assert translate(message, "zh") == str(message)
    in_english = [translate(message, "en") for message in shown]
    assert (
        in_english[0]
        == "Sheet “成绩”, row 2, column “赛事级别” (C): Level 'galactic' is not valid: use world/national/provincial/municipal"
    )
    assert any("Does not match row 5 of achievement R4" in e for e in in_english)
    assert any("achievement R3 (rows 4)" in e and "competitor" in e for e in in_english)
    assert any("Enter the ID number as text" in e for e in in_english)

    with pytest.raises(InputErrors) as missing:
        read_results_upload(_results_workbook([GOOD_ROW], drop="成绩编号"))
    (only,) = missing.value.errors
    assert str(only.shown()) == "工作表“成绩”第 1 行: 缺少“成绩编号”列(表头须在第 1 行)"
    assert translate(only.shown(), "en") == "Sheet “成绩”, row 1: The column “成绩编号” is missing (the header must be in row 1)"


def test_a_payee_workbook_lists_its_problems_in_english() -> None:
    import io

    from openpyxl import Workbook, load_workbook

    from contest.errors import Invalid
    from contest.payouts.payees import COLUMNS, read_payee_upload

    book = Workbook()
    sheet = book.active
    sheet.title = "收款信息"
    headers = [c.header for c in COLUMNS]
    sheet.append(headers)
    person = {
        "类型": "person",
        "姓名或单位名称": "Li",
        "证件号码": "11010119900307803X",
        "户名": "Li",
        "开户行": "Bank",
        "银行账号": "6222000011112222",
    }
    for row in (
        person | {"类型": "company"},
        person | {"银行账号": "12"},
        person,
        person | {"姓名或单位名称": "Li Two"},  # the same 证件号码 again
        {
            "类型": "unit",
            "姓名或单位名称": "Unit A",
            "证件号码": "11010119900307803X",
            "户名": "A",
            "开户行": "B",
            "银行账号": "6222000011112222",
        },
        person | {"证件号码": "110101199003077817", "统一社会信用代码": "91370000MA3C5CLX1X", "联系电话": "call me"},
    ):
        sheet.append([row.get(h) for h in headers])
    out = io.BytesIO()
    book.save(out)
    assert load_workbook(io.BytesIO(out.getvalue())).sheetnames == ["收款信息"]
    with pytest.raises(Invalid) as caught:
        read_payee_upload(out.getvalue())
    assert len(caught.value.details) >= 6
    _assert_english(caught.value.message)
    for detail in caught.value.details:
        english = translate(detail, "en").replace("“收款信息”", "")
        for header in headers:
            english = english.replace(f"“{header}”", "")
        assert not CJK.search(english), f"shown in Chinese in English mode: {detail!r} -> {english!r}"
    assert any("The same payee as row 4" in translate(d, "en") for d in caught.value.details)


def _settings_problems(amounts: dict[str, str], unit_mode: str = "", ledger_mode: str = "") -> dict[str, str]:
    from contest.errors import FormInvalid
    from contest.payouts import service

    policy = service.policy_of("jinengxingwei-weihai-2021")
    with pytest.raises(FormInvalid) as caught:
        service._parse_settings(policy, amounts, unit_mode, ledger_mode)
    return caught.value.fields


def test_payout_settings_problems_are_translated() -> None:
    from contest.payouts import service

    problems = _settings_problems(
        {
            "nonsense": "1",
            "municipal-class1-1st": "",
            "municipal-class1-2nd": "two thousand",
            "municipal-class1-3rd": "999.99",
            "municipal-class2-1st": "2000.001",
        },
        unit_mode="guess",
        ledger_mode="guess",
    )
    assert len(problems) == 7
    policy = service.policy_of("jinengxingwei-weihai-2021")
    policy_name = "技能兴威行动:重要赛事奖励"  # the policy's own words (its name, its tiers' titles), as its file writes them
    for message in problems.values():
        english = translate(message, "en")
        for words in [policy_name, *(tier.title for tier in policy.tiers)]:
            english = english.replace(words, "")
        assert not CJK.search(english), f"shown in Chinese in English mode: {message!r} -> {english!r}"
        assert translate(message, "zh") == str(message)
    assert translate(problems["amount:nonsense"], "en") == f"Amount nonsense is not one of the amounts policy “{policy_name}” lets you set"
    below = problems["amount:municipal-class1-3rd"]
    assert "低于下限(不低于 1,000.00 元)" in below  # the Chinese as before
    assert "is below the floor (at least 1,000.00 yuan)" in translate(below, "en")
    assert translate(problems["amount:municipal-class1-1st"], "en").endswith(": enter an amount")


def test_why_results_are_not_final_is_translated() -> None:
    from datetime import UTC, datetime

    from contest.domain.results import Settled
    from contest.payouts.sources import not_final_why

    both = not_final_why(Settled(False, datetime(2026, 5, 1, 8, 0, tzinfo=UTC), True, 2))
    assert both.startswith("申诉期内(至 2026-05-0") and both.endswith(";有 2 件申诉尚未处理")
    _assert_english(both)
    assert "; 2 appeal(s) not yet decided" in translate(both, "en")
    _assert_english(not_final_why(Settled(False, None, False, 1)))


def _missing(**changes: object) -> object:
    from contest.live.readiness import Missing

    values: dict[str, object] = {
        "station": 3,
        "criterion": "P2",
        "needed": 2,
        "measurement": True,
        "waiting": (1, 2),
        "recused": (),
        "offline": (),
        "unsent": (),
    } | changes
    return Missing(**values)  # type: ignore[arg-type]  # the test's own keyword values


@pytest.mark.parametrize(
    ("missing", "chinese", "english"),
    [
        (
            _missing(needed=2, waiting=(2,), recused=(3, 4)),
            "工位 3 · P2:还差 2 个分数,可评分的裁判不足;席位 3、4 需回避;席位 2 尚未评分;请授予回避豁免,或由裁判长作为评委录入",
            "Station 3 · P2: 2 mark(s) missing, and not enough judges may score it; seat(s) 3, 4 must recuse; "
            "seat(s) 2 have not scored yet; grant a recusal override, or have the chief judge enter the mark as a judge",
        ),
        (
            _missing(needed=1, waiting=(1, 2, 3), offline=(2, 3), unsent=(1,)),
            "工位 3 · P2:还差 1 个分数,等待席位 1、2、3 之一录入(席位 2、3 的平板未连接;席位 1 的平板有未发送的分数)",
            "Station 3 · P2: 1 mark(s) missing, waiting for one of seats 1, 2, 3 to enter it "
            "(the tablet(s) of seat(s) 2, 3 not connected; the tablet(s) of seat(s) 1 hold unsent marks)",
        ),
        (
            _missing(needed=1, measurement=False, waiting=(4,)),
            "工位 3 · P2:还差 1 个分数,等待席位 4 评分",
            "Station 3 · P2: 1 mark(s) missing, waiting for seat(s) 4 to score",
        ),
    ],
)
def test_readiness_lines_are_translated(missing: object, chinese: str, english: str) -> None:
    text = missing.text()  # type: ignore[attr-defined]  # a Missing
    assert text == chinese
    assert translate(text, "en") == english
    _assert_english(text)


@pytest.mark.parametrize(
    "content",
    [b"", b"GIF89a" + b"0" * 20, b"\x89PNG\r\n\x1a\n" + b"broken", b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024)],
)
def test_seal_refusals_are_translated(content: bytes) -> None:
    from contest.competitors.seal import SealRejected, clean_seal

    with pytest.raises(SealRejected) as caught:
        clean_seal(content)
    _assert_english(caught.value.message)


@pytest.mark.parametrize("content", [b"", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 100, b"plain text", b"PK\x03\x04broken"])
def test_upload_refusals_are_translated(content: bytes) -> None:
    from contest.xlsx.upload import UploadRejected, open_xlsx

    with pytest.raises(UploadRejected) as caught:
        open_xlsx(content)
    _assert_english(caught.value.message)


def test_lookup_and_verify_refusals_are_in_the_catalog() -> None:
    """The public's refusals (competitors/service.py, controllers.py) are Texts with the factor as
    a label: built here as the service builds them, the templates are the catalog's."""
    from contest.domain.certificates import FACTORS

    sources = "".join((SRC / path).read_text(encoding="utf-8") for path in ("competitors/service.py", "competitors/controllers.py"))
    for template in ("请填写姓名和{factor}", "姓名或{factor}不正确(多次输错将暂停查询)"):
        assert f'Text("{template}", factor=Text(factor))' in sources
        for factor in FACTORS.values():
            _assert_english(Text(template, factor=Text(factor)))
    assert 'Text("查询失败次数过多,请 {minutes} 分钟后再试", minutes=' in sources
    assert 'Text("查验次数过多,请 {minutes} 分钟后再试", minutes=' in sources
    _assert_english(Text("查询失败次数过多,请 {minutes} 分钟后再试", minutes=5))
    _assert_english(Text("查验次数过多,请 {minutes} 分钟后再试", minutes=5))


def test_form_macros_are_imported_with_the_readers_language() -> None:
    """A macro imported without context cannot see the request, so its ``_()`` (a field's error,
    why a button is disabled) would always say it in Chinese."""
    templates = SRC.parents[1] / "templates"
    found = [
        f"{path.relative_to(templates).as_posix()}: {line}"
        for path in sorted(templates.rglob("*.html"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r'{%-? (from|import) "_form.html"', line) and "with context" not in line
    ]
    assert found == [], "import the form macros `with context`"


def test_spread_and_ties_lines_are_translated() -> None:
    from contest.live.readiness import spread_line, ties_line

    spread = spread_line(2, "J1", (("1", Decimal(3)), ("2", Decimal("1.5")), ("3", Decimal(1))))
    assert spread == "工位 2 · J1:评价分相差超过 1 分(席位 1:3,席位 2:1.5,席位 3:1),须在裁判长主持下重新评分"
    assert translate(spread, "en") == (
        "Station 2 · J1: judgement marks differ by more than 1 (seat 1: 3, seat 2: 1.5, seat 3: 1); re-score under the chief judge"
    )
    ties = ties_line(["3", "5"])
    assert ties == "排名不并列:工位 3、5 并列,须由组织方确定名次"
    assert translate(ties, "en") == "No shared places: stations 3, 5 are tied; the organizer must decide their places"
    for line in (spread, ties):
        _assert_english(line)


def test_the_http_refusals_are_translated() -> None:
    from contest.web.errors import HTTP_MESSAGES

    for _code, message in HTTP_MESSAGES.values():
        _assert_english(message)
    assert "at most 10 MB" in translate(HTTP_MESSAGES[413][1], "en")
