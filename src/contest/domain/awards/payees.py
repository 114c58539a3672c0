"""Payment details (收款信息) of the people and units a payout line pays: pure checks, no I/O.

A person is named by 证件号码 and a unit by its name, as payout lines name their recipients.
Bank account numbers are personal data: messages mask them (``idcard.mask``), like ID numbers.
"""

from __future__ import annotations

import re
from typing import Any

from contest.domain import idcard
from contest.domain.awards.inputs import InputError
from contest.domain.text import N_, Text

KINDS = {"个人": "person", "person": "person", "单位": "unit", "unit": "unit"}
KIND_LABELS = {"person": N_("个人"), "unit": N_("单位")}
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SEPARATORS = re.compile(r"[\s\-]+")
_PHONE = re.compile(r"^[0-9+\-() ]{5,30}$")
_FULL_WIDTH_DIGITS = re.compile("[\uff10-\uff19]")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_kind(value: Any) -> str:
    text = _text(value)
    if text not in KINDS:
        raise InputError(Text("类型 {value} 无效;填 个人 或 单位", value=repr(text)))
    return KINDS[text]


def parse_account_number(value: Any) -> str:
    """银行账号: digits only (spaces and hyphens as typed are dropped), 8 to 32 of them."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise InputError("银行账号须以文本格式填写(数字格式会丢失末位或变成科学计数法)")
    text = _SEPARATORS.sub("", _text(value))
    if not text:
        return ""
    if _FULL_WIDTH_DIGITS.search(text):
        raise InputError("银行账号含全角数字:请切换到半角(英文)输入法重新输入")
    if not text.isdigit() or not 8 <= len(text) <= 32:
        raise InputError(Text("银行账号 {number} 格式不正确:应为 8 到 32 位数字", number=idcard.mask(text)))
    return text


def credit_check_char(first17: str) -> str:
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def parse_credit_code(value: Any) -> str:
    """统一社会信用代码 (GB 32100-2015): 18 characters with a check character."""
    text = _SEPARATORS.sub("", _text(value)).upper()
    if not text:
        return ""
    if len(text) != 18 or any(c not in _CREDIT_CHARS for c in text):
        raise InputError(Text("统一社会信用代码 {value} 格式不正确:应为 18 位数字和大写字母(不含 I、O、S、V、Z)", value=repr(text)))
    expected = credit_check_char(text[:17])
    if text[17] != expected:
        raise InputError(Text("统一社会信用代码 {value} 校验位错误(应为 {expected})", value=text, expected=expected))
    return text


def parse_phone(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _text(value)
    if text and not _PHONE.match(text):
        raise InputError(Text("联系电话 {value} 格式不正确:只能有数字、空格、+、- 和括号", value=repr(text)))
    return text
