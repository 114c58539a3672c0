"""Chinese text that can be shown in another language later.

The source strings are Chinese and stay so; the message catalogs (src/contest/locale, `make
messages`) hold their English. ``N_()`` marks a string for the catalogs where it is written (a
label in a table) and changes nothing; ``Text`` is a message with values in it: ``str()`` of it is
the Chinese, and the page that shows it looks its template up in the reader's language and puts
the same values in (contest/i18n.py). Errors raised with a plain string are looked up as they are.
"""

from __future__ import annotations

from typing import Any


def N_(text: str) -> str:
    return text


def message_of(exc: BaseException) -> str:
    """The message an exception was raised with, kept a ``Text`` if it was one (``str(exc)`` would
    make it a plain string the page could no longer translate)."""
    first = exc.args[0] if len(exc.args) == 1 else None
    return first if isinstance(first, str) else str(exc)


def looked_up(message: str) -> str:
    """A message from the catalog put into another ``Text``: a plain literal is marked so it is
    translated too (a value that is not a ``Text`` is put in as it is)."""
    return message if isinstance(message, Text) else Text(message)


class Text(str):
    """``Text("还有 {missing} 个分数未录入", missing=3)``: the Chinese, with its template kept.

    A value may itself be a ``Text`` (a label, a part of the sentence): it is translated too.
    ``Text("草稿")`` with no values marks a label to be looked up when it is put into another."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Text:
        text = super().__new__(cls, template.format(**params) if params else template)
        text.template = template
        text.params = params
        return text


# How a list is joined, as a template (English: ", " and "; "): each pair is a Text, so a list of
# any length reads right in either language.
ENUMERATION, COMMA, SEMICOLON = N_("{first}、{rest}"), N_("{first},{rest}"), N_("{first};{rest}")


def joined(parts: list[str], separator: str) -> str:
    """``parts`` joined by ``separator`` (one of the templates above): "a;b;c" in Chinese."""
    if not parts:
        return ""
    found = parts[-1]
    for part in reversed(parts[:-1]):
        found = Text(separator, first=part, rest=found)
    return found
