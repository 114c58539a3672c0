from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contest.domain.idcard import IdNumberError, check_digit, mask, validate

# Published example numbers (GB 11643 worked examples) and their check digits.
KNOWN = [("11010519491231002", "X"), ("44052418800101001", "4"), ("34052419800101001", "X")]


@pytest.mark.parametrize(("body", "digit"), KNOWN)
def test_check_digit_of_known_numbers(body: str, digit: str) -> None:
    assert check_digit(body) == digit
    assert validate(body + digit.lower()) == body + digit


@pytest.mark.parametrize(("body", "digit"), KNOWN)
def test_every_wrong_check_digit_is_refused(body: str, digit: str) -> None:
    for wrong in "0123456789X":
        if wrong != digit:
            with pytest.raises(IdNumberError, match="校验位错误"):
                validate(body + wrong)


@pytest.mark.parametrize("raw", ["", "   ", None, "1101051949123100", "110105194912310021X", "11010519491231002Y", "abc!"])
def test_malformed_numbers_are_refused_in_chinese(raw) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IdNumberError) as error:
        validate(raw)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(error.value))


def test_other_documents_are_accepted_as_given() -> None:
    assert validate(" e12345678 ") == "E12345678"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_any_body_with_its_check_digit_validates(body: str) -> None:
    assert validate(body + check_digit(body)) == body + check_digit(body)


def test_mask_keeps_four_and_four() -> None:
    assert mask("37100219900101001X") == "3710**********001X"
    assert mask("E1234567") == "E*******"
    assert mask("") == ""
