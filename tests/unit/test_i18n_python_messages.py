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
    "Invalid",
    "NotFound",
    "PermissionDeniedException",
    "Text",
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
