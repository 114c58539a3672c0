"""Exact money in integer fen (分), and 大写金额 (Chinese capital numerals) for finance forms.

Money never takes a float: 0.1 + 0.2 is not 0.3 in binary, and a payout list must add up to
the fen. Amounts come in as int (whole yuan), str ("100000", "2000.50", "100,000.00") or
Decimal with at most two decimal places; anything finer is an error, never a silent rounding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from contest.domain.text import Text

__all__ = ["Money", "MoneyError", "split", "to_chinese_capital"]


class MoneyError(ValueError):
    """An amount that cannot be represented exactly; the message is Chinese."""


_AMOUNT_TEXT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")


class Money:
    """An amount of RMB held as an integer number of fen. Immutable, hashable, ordered."""

    __slots__ = ("fen",)
    fen: int

    def __init__(self, value: int | str | Decimal | Money = 0) -> None:
        object.__setattr__(self, "fen", _parse_fen(value))

    @classmethod
    def from_fen(cls, fen: int) -> Money:
        if type(fen) is not int:
            raise MoneyError(Text("分必须是整数,收到 {kind}", kind=type(fen).__name__))
        money = object.__new__(cls)
        object.__setattr__(money, "fen", fen)
        return money

    @classmethod
    def zero(cls) -> Money:
        return _ZERO

    @classmethod
    def total(cls, amounts: Iterable[Money]) -> Money:
        return cls.from_fen(sum(a.fen for a in amounts))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Money is immutable")

    # --- views -------------------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        """Decimal yuan with exactly two places, e.g. Decimal('2000.50')."""
        return Decimal(self.fen).scaleb(-2)

    def plain(self) -> str:
        """'2000.50': the form used in JSON and files (no thousands separators)."""
        sign = "-" if self.fen < 0 else ""
        yuan, fen = divmod(abs(self.fen), 100)
        return f"{sign}{yuan}.{fen:02d}"

    def format(self) -> str:
        """'100,000.00': the form shown to people."""
        sign = "-" if self.fen < 0 else ""
        yuan, fen = divmod(abs(self.fen), 100)
        return f"{sign}{yuan:,}.{fen:02d}"

    def capital(self) -> str:
        return to_chinese_capital(self)

    def __str__(self) -> str:
        return self.plain()

    def __repr__(self) -> str:
        return f"Money('{self.plain()}')"

    # --- arithmetic: only with Money (and * / // by an int) ----------------------------
    def __add__(self, other: object) -> Money:
        if isinstance(other, Money):
            return Money.from_fen(self.fen + other.fen)
        return NotImplemented

    def __radd__(self, other: object) -> Money:
        if other == 0 and type(other) is int:  # lets sum([...]) start from 0
            return self
        return NotImplemented

    def __sub__(self, other: object) -> Money:
        if isinstance(other, Money):
            return Money.from_fen(self.fen - other.fen)
        return NotImplemented

    def __neg__(self) -> Money:
        return Money.from_fen(-self.fen)

    def __abs__(self) -> Money:
        return Money.from_fen(abs(self.fen))

    def __mul__(self, other: object) -> Money:
        if type(other) is int:
            return Money.from_fen(self.fen * other)
        return NotImplemented

    __rmul__ = __mul__

    def __bool__(self) -> bool:
        return self.fen != 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Money):
            return self.fen == other.fen
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Money", self.fen))

    def __lt__(self, other: Money) -> bool:
        if isinstance(other, Money):
            return self.fen < other.fen
        return NotImplemented

    def __le__(self, other: Money) -> bool:
        if isinstance(other, Money):
            return self.fen <= other.fen
        return NotImplemented

    def __gt__(self, other: Money) -> bool:
        if isinstance(other, Money):
            return self.fen > other.fen
        return NotImplemented

    def __ge__(self, other: Money) -> bool:
        if isinstance(other, Money):
            return self.fen >= other.fen
        return NotImplemented

    def __reduce__(self) -> tuple[Any, ...]:
        return (Money.from_fen, (self.fen,))


def _parse_fen(value: object) -> int:
    if isinstance(value, Money):
        return value.fen
    if isinstance(value, bool):
        raise MoneyError("金额不能是布尔值")
    if isinstance(value, int):
        return value * 100
    if isinstance(value, float):
        raise MoneyError(Text('金额不能用浮点数({value}),请写成字符串,如 "2000.50"', value=repr(value)))
    if isinstance(value, Decimal):
        return _decimal_to_fen(value, repr(value))
    if isinstance(value, str):
        text = value.strip().replace("¥", "").replace("￥", "").replace(" ", "")
        text = text.removesuffix("元")
        if not _AMOUNT_TEXT.match(text):
            raise MoneyError(Text("金额格式不正确:{value}(应为如 100000 或 2000.50,最多两位小数)", value=repr(value)))
        return _decimal_to_fen(Decimal(text.replace(",", "")), repr(value))
    raise MoneyError(Text("无法把 {kind} 当作金额", kind=type(value).__name__))


def _decimal_to_fen(amount: Decimal, shown: str) -> int:
    if not amount.is_finite():
        raise MoneyError(Text("金额不是有限数:{value}", value=shown))
    try:
        fen = amount.scaleb(2)
        if fen != fen.to_integral_value():
            raise MoneyError(Text("金额最多两位小数(精确到分):{value}", value=shown))
        return int(fen)
    except InvalidOperation as exc:  # pragma: no cover - defensive
        raise MoneyError(Text("金额格式不正确:{value}", value=shown)) from exc


_ZERO = Money.from_fen(0)


def split(total: Money, shares: Sequence[int | Decimal | str] | int) -> list[Money]:
    """Split ``total`` by ``shares`` (weights; an int n means n equal shares) to the fen.

    Each part is rounded down; the fen left over go to the first share (the lead coach or the
    team captain), so the parts always add up to ``total`` exactly.
    """
    if isinstance(shares, int):
        if shares < 1:
            raise MoneyError("份数必须至少为 1")
        weights = [Decimal(1)] * shares
    else:
        weights = [_weight(s) for s in shares]
        if not weights:
            raise MoneyError("份额不能为空")
    whole = sum(weights, Decimal(0))
    if whole <= 0:
        raise MoneyError("份额之和必须大于 0")
    if total.fen < 0:
        raise MoneyError("不能拆分负数金额")
    parts = [int((total.fen * w) // whole) for w in weights]
    parts[0] += total.fen - sum(parts)
    return [Money.from_fen(p) for p in parts]


def _weight(share: int | Decimal | str) -> Decimal:
    if isinstance(share, (bool, float)):
        raise MoneyError(Text("份额不能是 {kind}:{value}", kind=type(share).__name__, value=repr(share)))
    try:
        weight = Decimal(str(share)) if not isinstance(share, Decimal) else share
    except InvalidOperation as exc:
        raise MoneyError(Text("份额格式不正确:{value}", value=repr(share))) from exc
    if not weight.is_finite() or weight < 0:
        raise MoneyError(Text("份额不能为负数:{value}", value=repr(share)))
    return weight


# --- 大写金额 ---------------------------------------------------------------------------
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_SECTION_UNITS = ("", "万", "亿")
_MAX_FEN = 10**12 * 100  # below 1 万亿 yuan; finance forms never go near it


def _section(number: int) -> str:
    """0 < number < 10000 as 壹仟零伍拾: inner runs of zeros read as one 零, trailing zeros silent."""
    out: list[str] = []
    pending_zero = False
    for position in (3, 2, 1, 0):
        digit = number // 10**position % 10
        if digit == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(_DIGITS[digit] + _SMALL_UNITS[position])
    return "".join(out)


def _yuan_capital(yuan: int) -> str:
    sections = [yuan // 10 ** (4 * i) % 10**4 for i in range(3)]  # low to high: 个, 万, 亿
    out: list[str] = []
    zero_pending = False
    for index in (2, 1, 0):
        value = sections[index]
        if value == 0:
            zero_pending = bool(out)
            continue
        # a gap (a whole empty section, or a section under 1000 after a higher one) reads 零
        if out and (zero_pending or value < 1000):
            out.append("零")
        out.append(_section(value) + _SECTION_UNITS[index])
        zero_pending = False
    return "".join(out)


def to_chinese_capital(money: Money) -> str:
    """大写金额 as written on Chinese finance forms.

    Conventions (《支付结算办法》附件一 "正确填写票据和结算凭证的基本规定"):
    - 10-19 yuan are written 壹拾..., never 拾...;
    - inner zeros read as one 零: 100,500 -> 壹拾万零伍佰元整;
    - an amount that stops at 元 ends with 整: 0 -> 零元整, 100 -> 壹佰元整;
    - an amount with 分 never has 整; one that stops at 角 has no 整 either
      (the rules allow either; we pick the shorter form): 10.50 -> 壹拾元伍角;
    - 角 zero between 元 and 分 reads 零: 1.05 -> 壹元零伍分;
    - under one yuan the 元 is left out: 0.50 -> 伍角, 0.05 -> 伍分;
    - negative amounts are prefixed 负.
    """
    fen = money.fen
    if abs(fen) >= _MAX_FEN:
        raise MoneyError("金额超出大写转换范围(须小于 1 万亿元)")
    sign = "负" if fen < 0 else ""
    yuan, rest = divmod(abs(fen), 100)
    jiao, fen_digit = divmod(rest, 10)
    if yuan == 0 and rest == 0:
        return "零元整"
    parts: list[str] = []
    if yuan:
        parts.append(_yuan_capital(yuan) + "元")
    if rest == 0:
        return sign + "".join(parts) + "整"
    if jiao:
        parts.append(_DIGITS[jiao] + "角")
    elif yuan:
        parts.append("零")
    if fen_digit:
        parts.append(_DIGITS[fen_digit] + "分")
    return sign + "".join(parts)
