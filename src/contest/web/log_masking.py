"""No log line carries a full ID number (证件号码) or bank account.

The people search goes by POST, so the number is not in the request line; this filter is the
second guard, for any URL someone types or bookmarks and any message that quotes one. It masks
every run that looks like such a number (at least six digits, perhaps after one or two letters and
before an X, single spaces allowed between digits) with the one masking rule, idcard.mask. It looks
through percent-encoding and full-width digits, as a typed search arrives in a request line.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from urllib.parse import unquote_plus

from contest.domain import idcard

_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{0,2}\d(?: ?\d){5,}(?: ?[Xx])?(?![0-9A-Za-z])", re.ASCII)

# Where log records are made or written: uvicorn's access and error logs, Litestar's, and the
# handlers of the root logger (every other logger, ours included, propagates to those).
_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "litestar")


def _mask_run(match: re.Match[str]) -> str:
    return idcard.mask(match.group())


def mask_id_numbers(text: str) -> str:
    """`text` with every ID-number-like run masked (returned decoded if one was hidden by
    percent-encoding or full-width digits); unchanged if it has none."""
    masked = _ID_LIKE.sub(_mask_run, text)
    plain = unicodedata.normalize("NFKC", unquote_plus(masked))
    if plain != masked and _ID_LIKE.search(plain):
        return _ID_LIKE.sub(_mask_run, plain)
    return masked


def _masked(value: object) -> object:
    if isinstance(value, str):
        return mask_id_numbers(value)
    if isinstance(value, (int, float)) or value is None:
        return value  # formatted with %d and the like: left as it is
    text = str(value)
    masked = mask_id_numbers(text)
    return value if masked == text else masked


class IdNumberFilter(logging.Filter):
    """Masks ID-number-like runs in a record's message, arguments and traceback, in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_id_numbers(record.msg)
        if isinstance(record.args, tuple):
            # Argument by argument: uvicorn's access formatter unpacks them (client, method, path, ...).
            record.args = tuple(_masked(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _masked(value) for key, value in record.args.items()}
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text: fill it in, masked, before any of them formats the traceback.
            record.exc_text = mask_id_numbers(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = mask_id_numbers(record.stack_info)
        return True


def mask_id_numbers_in_logs() -> None:
    """Install the filter on the loggers and handlers that exist now (create_app calls this after
    logging is configured; uvicorn configures its own before it loads the app). Idempotent."""
    targets: list[logging.Filterer] = [logging.getLogger(name) for name in _LOGGERS]
    for name in ("", *_LOGGERS):
        targets.extend(logging.getLogger(name).handlers)
    for target in targets:
        if not any(isinstance(f, IdNumberFilter) for f in target.filters):
            target.addFilter(IdNumberFilter())
