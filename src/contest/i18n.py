"""zh-CN first, English available: the message catalogs and the reader's language.

Templates write Chinese and wrap it in ``_()`` (Jinja's i18n extension); errors raised in Python
carry Chinese (``contest.domain.text.Text`` when values go in) and are translated where a page
shows them; page scripts get their strings from the page. Every one of them is a msgid in
``src/contest/locale/en/LC_MESSAGES/messages.po``; ``make messages`` extracts, updates and
compiles it, and tests/unit/test_i18n.py fails on a missing English entry or a stale .mo.
A message not in the catalog shows in Chinese.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from contest.domain.text import Text

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


@cache
def catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (the Chinese source needs none)."""
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def translate(text: str, language: str) -> str:
    """``text`` in ``language``: a Text's template is looked up and its values put back in (the
    values that are Text themselves translated)."""
    if language == DEFAULT_LANGUAGE or not text:
        return str(text)
    if isinstance(text, Text):
        found = catalog(language).gettext(text.template)
        if not text.params:
            return found
        return found.format(**{k: translate(v, language) if isinstance(v, Text) else v for k, v in text.params.items()})
    return catalog(language).gettext(text)


def pick_language(cookie_value: str | None, accept_language: str | None) -> str:
    if cookie_value is not None and cookie_value in LANGUAGES:
        return cookie_value
    if accept_language and accept_language.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE
