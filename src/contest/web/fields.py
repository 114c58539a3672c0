"""Read fields of a submitted form strictly, with a Chinese message naming the field.

One rule for every page: integers are ASCII digits within the column's range (no "²", "٣", "３",
"1_000" or "1e3" that Python's int() would take or choke on), dates are YYYY-MM-DD, text is
trimmed and within its declared maximum. A problem is appended to ``errors`` so a form can report
every field at once; callers raise ``Invalid`` when ``errors`` is not empty. ``errors`` may be a
dict instead of a list: the message is then kept under the field's name, for the page to show
beside that field (``FormInvalid``, contest/web/forms.py).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from contest.domain.limits import ID_MAX, TextField
from contest.domain.text import Text, message_of

INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
# Ids and counts are stored in 32-bit INTEGER columns on PostgreSQL (one bound: limits.ID_MAX).
MAX_INT = ID_MAX


Errors = list[str] | dict[str, str]


def _add(errors: Errors, key: str, message: str) -> None:
    if isinstance(errors, dict):
        errors.setdefault(key, message)
    else:
        errors.append(message)


def raw(form: Any, key: str) -> str:
    value = form.get(key, "") if form is not None else ""
    return "" if value is None or not isinstance(value, str) else value.strip()


def text(form: Any, key: str, field: TextField, errors: Errors) -> str:
    """The trimmed text, or "" with a message if it is over the field's maximum."""
    value = raw(form, key)
    if problem := field.problem(value):
        _add(errors, key, problem)
        return ""
    return value


def parse_int(value: str, label: str, minimum: int = -MAX_INT, maximum: int = MAX_INT) -> int:
    """A strict integer, or ValueError with a Chinese message naming ``label``."""
    value = value.strip()
    if not INTEGER.fullmatch(value):
        raise ValueError(Text("{label}「{value}」不是整数", label=_label(label), value=_quoted(value)))
    number = int(value)
    if not minimum <= number <= maximum:
        raise ValueError(
            Text(
                "{label} {number} 超出范围,应在 {minimum} 到 {maximum} 之间",
                label=_label(label),
                number=number,
                minimum=minimum,
                maximum=maximum,
            )
        )
    return number


def integer(
    form: Any, key: str, label: str, errors: Errors, default: int | None = None, minimum: int = -MAX_INT, maximum: int = MAX_INT
) -> int | None:
    value = raw(form, key)
    if not value:
        return default
    try:
        return parse_int(value, label, minimum, maximum)
    except ValueError as exc:
        _add(errors, key, message_of(exc))
        return default


def day(form: Any, key: str, label: str, errors: Errors) -> date | None:
    value = raw(form, key)
    if not value:
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        _add(errors, key, Text("{label}「{value}」不是有效日期(格式 YYYY-MM-DD)", label=_label(label), value=_quoted(value)))
        return None


def flag(form: Any, key: str) -> bool:
    return raw(form, key) in ("1", "on", "true", "yes")


def _label(label: str) -> str:
    """A field's name put into a message: translated with it when it is a catalog label (``N_``)
    or a ``Text`` (a name built with values, e.g. a row's)."""
    return label if isinstance(label, Text) else Text(label)


def _quoted(value: str) -> str:
    return value if len(value) <= 20 else value[:19] + "…"
