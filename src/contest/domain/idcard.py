"""证件号码 (ID numbers): validation of the 18-digit 居民身份证 and masking for display.

Other documents (passport, 港澳台 permits) are accepted as given, normalised to upper case;
only numbers that look like a mainland resident ID (17 digits + digit/X) get the check-digit test.
"""

from __future__ import annotations

import re

from contest.domain.text import N_, Text

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_RESIDENT_ID = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_ANY_ID = re.compile(r"^[0-9A-Z()（）-]{5,30}$")
_FULL_WIDTH = re.compile("[\uff10-\uff19\uff38\uff58\u3000]")  # ０-９ Ｘ ｘ and the ideographic space


class IdNumberError(ValueError):
    """An ID number that cannot be right; the message is Chinese and names the problem."""


def normalise(raw: object) -> str:
    text = "" if raw is None else str(raw)
    return text.strip().replace(" ", "").upper()


def check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def validate(raw: object) -> str:
    """Return the normalised number or raise IdNumberError with a Chinese message."""
    wide = _FULL_WIDTH.search("" if raw is None else str(raw))
    if wide:  # typed with a Chinese input method: looks right, but is not the digits it shows
        shown = Text(N_("全角空格")) if wide.group() == "\u3000" else f"“{wide.group()}”"
        raise IdNumberError(Text("证件号码含全角字符({shown}):请切换到半角(英文)输入法重新输入数字和 X", shown=shown))
    number = normalise(raw)
    if not number:
        raise IdNumberError("证件号码不能为空")
    if len(number) == 18 and number[:17].isascii() and number[:17].isdigit():
        if not _RESIDENT_ID.match(number):
            raise IdNumberError(Text("证件号码 {number} 格式不正确", number=mask(number)))
        expected = check_digit(number[:17])
        if number[17] != expected:
            raise IdNumberError(Text("证件号码 {number} 校验位错误(应为 {expected})", number=mask(number), expected=expected))
        return number
    looks_resident = number.rstrip("X").isdigit() and len(number.rstrip("X")) >= 15
    if looks_resident:  # digits (and X) of the wrong length: a mistyped 居民身份证 number
        raise IdNumberError(Text("证件号码 {number} 位数不正确(居民身份证应为 18 位)", number=mask(number)))
    if not _ANY_ID.match(number):
        raise IdNumberError("证件号码格式不正确")
    return number


def mask(number: str | None) -> str:
    """Hide most of a number whatever its length and document type (ID numbers, passports, permits,
    bank accounts): 3710**********1234. At most the first 4 and the last 4 characters show, and
    never more than half of them, so a 9-character passport number shows 4 (E1*****78) and a short
    one fewer. Which positions show depends on the length only, so masking a mask changes nothing."""
    if not number:
        return ""
    shown = min(8, len(number) // 2)  # characters that may show, at most half
    head = (shown + 1) // 2
    tail = shown - head
    return number[:head] + "*" * (len(number) - shown) + (number[len(number) - tail :] if tail else "")
