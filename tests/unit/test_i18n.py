"""The message catalogs: every Chinese msgid in the code and the templates has its English, the
compiled catalog is the one the .po says, and pages pick the reader's language."""

from __future__ import annotations

import gettext
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from contest.domain.text import N_, Text
from contest.i18n import DOMAIN, LOCALE_DIR, catalog, pick_language, translate
from contest.settings import REPO_ROOT

PO = LOCALE_DIR / "en" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")


def _keywords() -> list[str]:
    """The extraction keywords, from the Makefile's `make messages` (one list for both)."""
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^KEYWORDS\s*:=\s*(.+)$", makefile, re.M)
    assert found is not None, "the Makefile defines KEYWORDS for `make messages`"
    return shlex.split(found.group(1))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every msgid in the code and the templates, extracted as `make messages` does."""
    pot = tmp_path_factory.mktemp("catalog") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    command = [str(pybabel), "extract", "-F", "babel.cfg", *_keywords(), "--no-location", "--omit-header", "-o", str(pot), "."]
    subprocess.run(command, cwd=REPO_ROOT, check=True, capture_output=True)
    with pot.open("rb") as file:
        return {message.id for message in read_po(file) if message.id and isinstance(message.id, str)}


def _po() -> dict[str, str]:
    with PO.open("rb") as file:
        return {m.id: m.string for m in read_po(file) if m.id and isinstance(m.id, str) and isinstance(m.string, str)}


def test_every_message_has_english(extracted: set[str]) -> None:
    english = _po()
    assert sorted(m for m in extracted if not english.get(m)) == [], "run `make messages` and write the English in " + str(PO)


def test_the_compiled_catalog_is_the_po(extracted: set[str]) -> None:
    with MO.open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    english = _po()
    stale = sorted(m for m, text in english.items() if compiled.gettext(m) != text)
    assert stale == [], "the .mo is older than the .po: run `make messages`"
    assert extracted <= set(english)


def test_language_choice() -> None:
    assert pick_language(None, None) == "zh"
    assert pick_language(None, "en-US,en;q=0.9") == "en"
    assert pick_language("zh", "en-US") == "zh"
    assert pick_language("fr", None) == "zh"
    assert translate("赛事", "en") == "Competitions"
    assert translate("赛事", "zh") == "赛事"
    assert translate("一句目录里没有的话", "en") == "一句目录里没有的话"  # falls back to the Chinese


def test_a_message_with_values_is_translated_from_its_template() -> None:
    message = Text("申诉期至 {deadline} 结束,之后才能确认最终成绩", deadline="2026-06-01 12:00")
    assert message == "申诉期至 2026-06-01 12:00 结束,之后才能确认最终成绩"  # the Chinese, for logs and the API
    assert catalog("en").gettext(message.template) != message.template, "the template is in the catalog"
    assert translate(message, "en") == catalog("en").gettext(message.template).format(deadline="2026-06-01 12:00")
    assert "2026-06-01 12:00" in translate(message, "en")


def test_every_vocabulary_label_has_english() -> None:
    from contest.domain.competition import CATEGORIES, ITEM_STATUSES, LEVELS
    from contest.domain.roles import ROLES
    from contest.domain.scheme import AGGREGATIONS, COMPONENT_KINDS, CRITERION_KINDS
    from contest.events.service import JUDGE_ROLES

    labels = [*LEVELS.values(), *CATEGORIES.values(), *ITEM_STATUSES.values(), *ROLES.values(), *JUDGE_ROLES.values()]
    labels += [*COMPONENT_KINDS.values(), *CRITERION_KINDS.values(), *AGGREGATIONS.values()]
    english = _po()
    assert [label for label in labels if not english.get(label)] == []
    assert N_("赛事") == "赛事"
