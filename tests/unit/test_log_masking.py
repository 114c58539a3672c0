"""Log lines never carry a full ID number: the filter masks them in messages, arguments (as
uvicorn's access log passes the request line) and tracebacks."""

from __future__ import annotations

import io
import logging
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from uvicorn.logging import AccessFormatter

from contest.domain.idcard import check_digit, mask
from contest.web.log_masking import IdNumberFilter, mask_id_numbers

RESIDENT = "37100219900101001" + check_digit("37100219900101001")
FULL_WIDTH = RESIDENT.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})


@pytest.mark.parametrize(
    "text",
    [
        f"GET /people/?q={RESIDENT} HTTP/1.1",
        f"/people?q={quote(RESIDENT, safe='')}",
        "/people?q=" + "".join(f"%{ord(c):02X}" for c in RESIDENT),  # every character encoded
        f"/people?q={quote(FULL_WIDTH)}",  # typed full-width
        f"/people?q={RESIDENT.lower()}",
        f"q={RESIDENT[:6]}+{RESIDENT[6:14]}+{RESIDENT[14:]}",  # typed with spaces
        "passport E12345678 and account 6222021234567890123",
    ],
)
def test_id_numbers_are_masked_however_they_are_written(text: str) -> None:
    masked = mask_id_numbers(text)
    for number in (RESIDENT, "E12345678", "6222021234567890123"):
        assert number not in masked and number not in masked.replace(" ", "").upper()
    assert "**" in masked


@pytest.mark.parametrize("text", ["GET /items/12/results HTTP/1.1", "127.0.0.1:54321", "2026-05-01 08:00:00", "x=%E5%BC%A0%E4%B8%89"])
def test_ordinary_lines_are_left_alone(text: str) -> None:
    assert mask_id_numbers(text) == text


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.text(max_size=20), st.text(max_size=20))
def test_no_resident_id_survives_in_any_surrounding(body: str, before: str, after: str) -> None:
    number = body + check_digit(body)
    masked = mask_id_numbers(f"{before} {number} {after}")
    assert number not in masked


def _logger(name: str, formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger = logging.getLogger(name)
    logger.handlers, logger.propagate, logger.filters = [handler], False, []
    logger.addFilter(IdNumberFilter())
    logger.setLevel(logging.INFO)
    return logger, out


def test_uvicorn_access_lines_keep_their_shape_and_lose_the_number() -> None:
    logger, out = _logger("test.access", AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
    logger.info('%s - "%s %s HTTP/%s" %d', "10.0.0.7:5000", "GET", f"/people/?q={RESIDENT}", "1.1", 302)
    line = out.getvalue()
    assert line.strip() == f'10.0.0.7:5000 - "GET /people/?q={mask(RESIDENT)} HTTP/1.1" 302 Found'


def test_tracebacks_are_masked_too() -> None:
    logger, out = _logger("test.errors", logging.Formatter("%(message)s"))
    try:
        raise ValueError(f"no person {RESIDENT}")
    except ValueError:
        logger.exception("lookup of %s failed", {"q": RESIDENT})
    assert RESIDENT not in out.getvalue() and mask(RESIDENT) in out.getvalue()
