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
def test_malformed_numbers_are_refused_in_chinese(raw) -> None:
    with pytest.raises(IdNumberError) as error:
        validate(raw)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(error.value))


def test_other_documents_are_accepted_as_given() -> None:
    assert validate(" e12345678 ") == "E12345678"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_any_body_with_its_check_digit_validates(body: str) -> None:
    assert validate(body + check_digit(body)) == body + check_digit(body)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("37100219900101001X", "3710**********001X"),  # 居民身份证: first 4, last 4
        ("6222021234567890123", "6222***********0123"),  # a bank account the same way
        ("E12345678", "E1*****78"),  # passport: 4 of 9 show, not 8
        ("H1234567", "H1****67"),
        ("1234", "1**4"),
        ("123", "1**"),
        ("12", "1*"),
        ("1", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_hides_most_of_any_number(number, masked) -> None:
    assert mask(number) == masked


@given(st.text(min_size=1, max_size=60))
def test_mask_never_shows_more_than_half_and_always_hides_something(number: str) -> None:
    masked = mask(number)
    assert len(masked) == len(number)
    shown = [i for i, ch in enumerate(masked) if ch != "*"]
    assert len(shown) <= len(number) // 2 and len(shown) <= 8
    assert "*" in masked
    assert all(masked[i] == number[i] for i in shown)  # what shows is the number's own characters
    assert all(i < 4 or i >= len(number) - 4 for i in shown)  # only from the two ends


@given(st.text(max_size=60))
def test_mask_of_a_mask_is_the_mask(number: str) -> None:
    assert mask(mask(number)) == mask(number)


@pytest.mark.parametrize("typed", ["１１０１０５１９４９１００１０００２", "11010519491001000\uff38", "110105 19491001\u30000002"])
def test_full_width_characters_are_refused_with_what_to_do(typed: str) -> None:
    # Typed with a Chinese input method, the number looks right but would never match the real one.
    with pytest.raises(IdNumberError, match="全角"):
        validate(typed)


def test_only_ascii_digits_make_a_resident_id() -> None:
    arabic_indic = "١١٠١٠٥١٩٤٩١٠٠١٠٠٠٢"  # digits to str.isdigit(), not to anyone typing an ID number
    with pytest.raises(IdNumberError):
        validate(arabic_indic)
