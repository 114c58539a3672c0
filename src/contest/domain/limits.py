"""One declared maximum length per text field.

The model column (``String(FIELD.max)``), the HTML forms (``maxlength``), the Excel imports and the
JSON/websocket API all read the same declaration here, so a value that passes one check fits every
other place: too long is a Chinese error naming the field, never a database error (PostgreSQL
refuses an over-long VARCHAR; SQLite would silently store megabytes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contest.domain.text import N_, Text

# Ids (and stations, counts) are 32-bit INTEGER columns on PostgreSQL: a form field, a path or
# query parameter and a websocket message all refuse a larger number before it reaches a query.
ID_MAX = 2**31 - 1

# Control characters no text keeps: NUL (PostgreSQL refuses it in text: a database error) and the
# other C0 controls and DEL (invisible, and Excel refuses them). Tab, line feed and carriage
# return are allowed only in multi-line text (a reason, an appeal), as a <textarea> sends them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_problem(value: str | None, label: str, multiline: bool = False) -> Text | None:
    """A Chinese message naming ``label`` if ``value`` holds a control character it may not, else None."""
    if not value:
        return None
    found = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    if found is None:
        return None
    return Text(
        "{label}含有不允许的控制字符 U+{code}(第 {position} 个字符),请删除后重试",
        label=Text(label),
        code=f"{ord(found.group()):04X}",
        position=found.start() + 1,
    )


@dataclass(frozen=True)
class TextField:
    label: str  # the field's Chinese name, as errors say it
    max: int  # characters (not bytes)
    multiline: bool = False  # tab and line breaks allowed (a <textarea>); other controls never

    def problem(self, value: str | None, label: str | None = None) -> str | None:
        """A Chinese message naming the field (or ``label``) if ``value`` is too long or holds a
        control character the field does not allow, else None."""
        if value is not None and len(value) > self.max:
            return Text("{label}过长:最多 {max} 个字符,实际 {length} 个", label=Text(label or self.label), max=self.max, length=len(value))
        return control_problem(value, label or self.label, self.multiline)

    def fit(self, text: str, keep: str = "") -> str:
        """``text`` followed by ``keep``, within the maximum: a value built from other bounded
        values (a name with a suffix, a policy's name with a date) never overflows its column.
        ``keep`` (what tells it apart: "(更正)", the date) stays whole; ``text`` is cut, and the
        cut is marked with an ellipsis."""
        room = self.max - len(keep)
        if room < 1:
            raise ValueError("the part kept whole leaves no room in the field")
        if len(text) > room:
            text = text[: room - 1] + "…"
        return text + keep


class TextTooLong(ValueError):
    def __init__(self, field: TextField, value: str) -> None:
        super().__init__(field.problem(value))
        self.field = field


def shown(value: str, at_most: int = 40) -> str:
    """``value`` as an error message may quote it: an over-long value is cut with an ellipsis."""
    return value if len(value) <= at_most else value[: at_most - 1] + "…"


def too_long(*fields: tuple[TextField, str | None]) -> list[str]:
    """The Chinese messages for every (field, value) pair whose value is too long."""
    return [message for field, value in fields if (message := field.problem(value))]


def check(field: TextField, value: str) -> str:
    """``value`` unchanged, or TextTooLong with the Chinese message."""
    if field.problem(value):
        raise TextTooLong(field, value)
    return value


# An Excel cell that is not stored as text of its own (a choice, a number, a list of codes).
CELL = TextField(N_("单元格内容"), 200)

# accounts
USERNAME = TextField(N_("用户名"), 64)
DISPLAY_NAME = TextField(N_("姓名"), 100)
PASSWORD = TextField(N_("密码"), 200)  # argon2 hashes whatever is typed; the cap only bounds the work
CLIENT_ADDRESS = TextField(N_("地址"), 64)
NEXT_URL = TextField(N_("跳转地址"), 500)
SEARCH = TextField(N_("搜索"), 100)

# rosters
UNIT_NAME = TextField(N_("单位名称"), 200)
UNIT_CODE = TextField(N_("单位代码"), 50)
REGION = TextField(N_("地区"), 100)
CONTACT = TextField(N_("联系人"), 100)
ID_NUMBER = TextField(N_("证件号码"), 30)
PERSON_NAME = TextField(N_("姓名"), 100)
GENDER = TextField(N_("性别"), 4)
PHONE = TextField(N_("联系电话"), 30)
ENTRY_NO = TextField(N_("参赛号"), 30)
CODE_LIST = TextField(N_("职业(工种)代码列表"), 1000)
TEAM_NAME = TextField(N_("团队名称"), 200)

# competitions and items
COMPETITION_NAME = TextField(N_("赛事名称"), 200)
ORGANIZER = TextField(N_("主办单位"), 200)
APPEAL_CONTACT = TextField(N_("申诉受理"), 200)  # who takes appeals, and how: printed on the 成绩公示表
POLICY_ID = TextField(N_("奖励政策"), 100)
ITEM_NAME = TextField(N_("赛项名称"), 200)
SKILL_CODE = TextField(N_("职业(工种)代码"), 50)
SKILL_NAME = TextField(N_("职业(工种)名称"), 200)
ITEM_GROUP = TextField(N_("组别"), 50)  # 院校组, 职工组 ...: policy tiers with groups match it
COMPONENT_NAME = TextField(N_("组成部分名称"), 50)
CRITERION_CODE = TextField(N_("评分项编号"), 20)
CRITERION_NAME = TextField(N_("评分项名称"), 200)
DRAW_SEED = TextField(N_("抽签种子"), 64)

# live scoring and results
SIGNATURE = TextField(N_("签字"), 100)
DURATION = TextField(N_("用时"), 20)
REASON = TextField(N_("理由"), 500, multiline=True)
CONFLICT_REASON = TextField(N_("回避原因"), 200, multiline=True)
CLIENT_ID = TextField(N_("client_id"), 64)
AUDIT_DEVICE = TextField(N_("设备"), 200)  # the device name and the browser, as the audit log keeps them
DEVICE = TextField(N_("设备名称"), 60)
APP_VERSION = TextField(N_("应用版本"), 40)
MARK_VALUE = TextField(N_("分值"), 40)  # a mark as text ("55.5"); a long string is no number a criterion takes
USER_AGENT = TextField(N_("浏览器标识"), 120)
APPELLANT = TextField(N_("申诉人"), 100)
APPEAL_TEXT = TextField(N_("申诉内容"), 2000, multiline=True)
DECISION_TEXT = TextField(N_("仲裁结论"), 2000, multiline=True)

# payouts
BATCH_NAME = TextField(N_("批次名称"), 200)
# external results (finance's import, awards/results_io.py): each fits its payout line's column
ACHIEVEMENT_ID = TextField(N_("成绩编号"), 100)
RESULT = TextField(N_("成绩"), 50)
GROUP = TextField(N_("组别"), 50)
OCCUPATION = TextField(N_("职业(工种)名称"), 100)
# whose achievement a payout line is for: the members' 证件号码 joined by "+" (a team's, sorted)
SUBJECT_ID = TextField(N_("参赛单元"), 400)
FILENAME = TextField(N_("文件名"), 200)

# payees (finance only: where a payout line's money goes; docs/payouts.md)
ACCOUNT_NAME = TextField(N_("户名"), 200)
BANK_NAME = TextField(N_("开户行"), 200)
ACCOUNT_NUMBER = TextField(N_("银行账号"), 40)
CREDIT_CODE = TextField(N_("统一社会信用代码"), 18)
PAYEE_KEY = TextField(N_("收款人"), 200)  # the 证件号码 of a person, or the name of a unit
PAYEE_NOTE = TextField(N_("备注"), 200)
WITHHOLDING = TextField(N_("代扣依据"), 300)

# competitors (issue 17): their own results, certificates, verification
CERT_TITLE = TextField(N_("证书标题"), 20)
CERT_BODY = TextField(N_("证书正文"), 500, multiline=True)
ISSUER = TextField(N_("颁发单位"), 200)
HONOUR_TITLE = TextField(N_("荣誉称号"), 50)
LOOKUP_SECRET = TextField(N_("证件号码后四位或查询码"), 20)
SERIAL = TextField(N_("证书编号"), 40)
REVOKE_REASON = TextField(N_("撤销原因"), 200, multiline=True)
