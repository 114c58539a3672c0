"""Money: exact fen, parsing, formatting, splitting, and 大写金额 on known cases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contest.domain.money import Money, MoneyError, split, to_chinese_capital


@pytest.mark.parametrize(
    ("raw", "fen"),
    [
        (100000, 10_000_000),
        ("100000", 10_000_000),
        ("2000.50", 200_050),
        ("2000.5", 200_050),
        ("100,000.00", 10_000_000),
        (Decimal("0.01"), 1),
        (Decimal("12.30"), 1230),
        ("-5", -500),
        (" ¥1,234.5 ", 123_450),
        ("3000元", 300_000),
        (0, 0),
    ],
)
def test_parse(raw: object, fen: int) -> None:
    assert Money(raw).fen == fen  # type: ignore[arg-type]  # also what the signature refuses


@pytest.mark.parametrize("raw", [0.1, 100.0, "1.005", Decimal("1.005"), "abc", "", "1,00", True, Decimal("NaN"), "1e5", None])
def test_parse_rejects(raw: object) -> None:
    with pytest.raises(MoneyError):
        Money(raw)  # type: ignore[arg-type]  # the wrong type on purpose


def test_float_never_accepted_and_says_why() -> None:
    with pytest.raises(MoneyError, match="浮点"):
        Money(0.3)  # type: ignore[arg-type]  # a float is refused at run time too


def test_format_and_plain() -> None:
    assert Money("100000").format() == "100,000.00"
    assert Money("1234567.8").format() == "1,234,567.80"
    assert Money("-0.05").format() == "-0.05"
    assert Money("2000.5").plain() == "2000.50"
    assert Money("7").to_decimal() == Decimal("7.00")
    assert str(Money("7").to_decimal()) == "7.00"


def test_arithmetic_is_exact() -> None:
    assert Money("0.10") + Money("0.20") == Money("0.30")
    assert Money("100") - Money("0.01") == Money("99.99")
    assert Money("33.33") * 3 == Money("99.99")
    assert sum([Money("1.10"), Money("2.20")]) == Money("3.30")
    assert Money.total([Money("1"), Money("2")]) == Money("3")
    assert Money("1") < Money("1.01") <= Money("1.01")
    assert not Money(0) and Money("0.01")
    with pytest.raises(TypeError):
        Money("1") + 1
    with pytest.raises(TypeError):
        Money("1") * 1.5


def test_money_is_immutable_and_hashable() -> None:
    amount = Money("5")
    with pytest.raises(AttributeError):
        amount.fen = 1
    assert {Money("5"), Money("5.00")} == {amount}


def test_split_remainder_goes_to_first_share() -> None:
    assert split(Money("100"), 3) == [Money("33.34"), Money("33.33"), Money("33.33")]
    assert split(Money("0.05"), 3) == [Money("0.03"), Money("0.01"), Money("0.01")]
    assert split(Money("100000"), ["60", "40"]) == [Money("60000"), Money("40000")]
    assert split(Money("10"), [Decimal(1), Decimal(2)]) == [Money("3.34"), Money("6.66")]
    assert split(Money("10"), [0, 1]) == [Money("0"), Money("10")]


@pytest.mark.parametrize("shares", [[], [0, 0], ["-1", "2"], [0.5, 0.5], 0])
def test_split_rejects_bad_shares(shares: object) -> None:
    with pytest.raises(MoneyError):
        split(Money("10"), shares)  # type: ignore[arg-type]  # the wrong type on purpose


@given(
    fen=st.integers(min_value=0, max_value=10**12),
    shares=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=8).filter(lambda s: sum(s) > 0),
)
def test_split_adds_up_to_the_fen(fen: int, shares: list[int]) -> None:
    total = Money.from_fen(fen)
    parts = split(total, shares)
    assert sum(p.fen for p in parts) == fen
    assert len(parts) == len(shares)
    whole = sum(shares)
    for index, (part, share) in enumerate(zip(parts, shares, strict=True)):
        exact = fen * share / whole
        # every share is within one fen of exact; only the first takes the leftover fen
        if index:
            assert exact - 1 < part.fen <= exact
        else:
            assert part.fen >= exact - 1 and part.fen - exact < len(shares)


@given(st.integers(min_value=-(10**14) + 1, max_value=10**14 - 1))
def test_plain_roundtrip(fen: int) -> None:
    amount = Money.from_fen(fen)
    assert Money(amount.plain()) == amount
    assert Money(amount.format()) == amount
    assert Money(amount.to_decimal()) == amount


# Known cases, written from the rules in 《支付结算办法》附件一 (see money.py's docstring).
CAPITALS = [
    ("0", "零元整"),
    ("0.50", "伍角"),
    ("0.05", "伍分"),
    ("0.55", "伍角伍分"),
    ("1", "壹元整"),
    ("1.05", "壹元零伍分"),
    ("10", "壹拾元整"),
    ("10.50", "壹拾元伍角"),
    ("15", "壹拾伍元整"),
    ("101", "壹佰零壹元整"),
    ("110", "壹佰壹拾元整"),
    ("1001", "壹仟零壹元整"),
    ("1010", "壹仟零壹拾元整"),
    ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
    ("2000", "贰仟元整"),
    ("5000", "伍仟元整"),
    ("10000", "壹万元整"),
    ("10010", "壹万零壹拾元整"),
    ("20000", "贰万元整"),
    ("100000", "壹拾万元整"),
    ("100500", "壹拾万零伍佰元整"),
    ("100001", "壹拾万零壹元整"),
    ("110000", "壹拾壹万元整"),
    ("200000", "贰拾万元整"),
    ("500000", "伍拾万元整"),
    ("235000", "贰拾叁万伍仟元整"),
    ("1010000", "壹佰零壹万元整"),
    ("10001000", "壹仟万壹仟元整"),
    ("107000.53", "壹拾万柒仟元伍角叁分"),
    ("100000000", "壹亿元整"),
    ("100010000", "壹亿零壹万元整"),
    ("200000010", "贰亿零壹拾元整"),
    ("1000000001", "壹拾亿零壹元整"),
    ("325000.07", "叁拾贰万伍仟元零柒分"),
    ("-3.20", "负叁元贰角"),
]


@pytest.mark.parametrize(("amount", "capital"), CAPITALS)
def test_chinese_capital(amount: str, capital: str) -> None:
    assert to_chinese_capital(Money(amount)) == capital
    assert Money(amount).capital() == capital


def test_chinese_capital_limit() -> None:
    assert to_chinese_capital(Money("999999999999.99")).startswith("玖仟玖佰玖拾玖亿")
    with pytest.raises(MoneyError):
        to_chinese_capital(Money("1000000000000"))


@given(st.integers(min_value=1, max_value=10**12 * 100 - 1))
def test_chinese_capital_shape(fen: int) -> None:
    text = to_chinese_capital(Money.from_fen(fen))
    assert text.endswith(("整", "角", "分"))
    assert text.endswith("整") == (fen % 100 == 0)
    assert "零零" not in text and not text.startswith("零")
    assert ("元" in text) == (fen >= 100)
