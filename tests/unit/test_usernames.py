"""Usernames: one normalised spelling, a safe character set, look-alikes folded together."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contest.domain.usernames import UsernameError, latinised, normalise, skeleton, validate


@pytest.mark.parametrize(
    ("raw", "name"),
    [("org", "org"), ("ORG", "org"), (" Org ", "org"), ("ｏｒｇ", "org"), ("ＪＵＤＧＥ１", "judge1"), ("a.b_c-d", "a.b_c-d")],
)
def test_case_and_full_width_spellings_are_one_name(raw: str, name: str) -> None:
    assert normalise(raw) == name and validate(raw) == name


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "不能为空"),
        ("   ", "不能为空"),
        ("оrg", "「о」是西里尔字母,与英文字母「o」形似"),  # Cyrillic о
        ("οrg", "「ο」是希腊字母,与英文字母「o」形似"),  # Greek omicron
        ("<b>x", "不能包含「<」"),
        ('a"b', '不能包含「"」'),
        ("a b", "不能包含「空格」"),
        ("ab\u200bc", "不能包含「U+200B」"),  # zero-width space
        ("张三", "不能包含「张」"),
        ("x", "应为 2-32 个字符"),
        ("a" * 33, "应为 2-32 个字符"),
        ("-ab", "须以英文字母或数字开头和结尾"),
        ("ab.", "须以英文字母或数字开头和结尾"),
    ],
)
def test_unsafe_usernames_are_refused_in_chinese(raw: str, message: str) -> None:
    with pytest.raises(UsernameError, match=re.escape(message)):
        validate(raw)


def test_look_alikes_share_a_skeleton_and_different_names_do_not() -> None:
    assert skeleton("org") == skeleton("0rg") == skeleton("ORG")
    assert skeleton("judge1") == skeleton("judgel") == skeleton("judgei")
    assert skeleton("modern") == skeleton("rnodern")
    assert skeleton("li_wei") == skeleton("li-wei") == skeleton("li.wei")
    assert len({skeleton(n) for n in ["org", "fin", "fin2", "chief1", "chief2", "judge1", "judge2", "judge3"]}) == 8


def test_other_script_look_alikes_read_as_their_latin_twin() -> None:
    assert latinised("оrg") == "org" and latinised("ОRG") == "org"
    assert latinised("org") is None and latinised("张三") is None


SAFE = st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=2, max_size=32)


@given(st.text(max_size=40))
def test_normalising_twice_changes_nothing(raw: str) -> None:
    assert normalise(normalise(raw)) == normalise(raw)


@given(st.text(max_size=40))
def test_what_validate_accepts_is_normalised_and_safe(raw: str) -> None:
    try:
        name = validate(raw)
    except UsernameError as exc:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(exc))  # the reason, in Chinese
        return
    assert name == normalise(raw) and 2 <= len(name) <= 32
    assert set(name) <= set(string.ascii_lowercase + string.digits + "._-")
    assert validate(name.upper()) == name


@given(SAFE)
def test_skeleton_is_stable_and_ignores_case(name: str) -> None:
    assert skeleton(skeleton(name)) == skeleton(name)
    assert skeleton(name.upper()) == skeleton(name.lower())
