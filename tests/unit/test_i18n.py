"""Every string the templates wrap in _() has an English translation."""

from __future__ import annotations

import re

from contest.settings import REPO_ROOT
from contest.web.i18n import EN, pick_language, translate

CALL = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")


def test_every_template_string_has_english() -> None:
    missing: dict[str, str] = {}
    for path in (REPO_ROOT / "templates").rglob("*.html"):
        for _, text in CALL.findall(path.read_text(encoding="utf-8")):
            if text not in EN:
                missing.setdefault(text, path.name)
    assert missing == {}


def test_language_choice() -> None:
    assert pick_language(None, None) == "zh"
    assert pick_language(None, "en-US,en;q=0.9") == "en"
    assert pick_language("zh", "en-US") == "zh"
    assert pick_language("fr", None) == "zh"
    assert translate("赛事", "en") == "Competitions"
    assert translate("赛事", "zh") == "赛事"


def test_every_vocabulary_label_has_english() -> None:
    from contest.domain.competition import CATEGORIES, ITEM_STATUSES, LEVELS
    from contest.domain.roles import ROLES
    from contest.domain.scheme import AGGREGATIONS, COMPONENT_KINDS, CRITERION_KINDS
    from contest.events.service import JUDGE_ROLES

    labels = [*LEVELS.values(), *CATEGORIES.values(), *ITEM_STATUSES.values(), *ROLES.values(), *JUDGE_ROLES.values()]
    labels += [*COMPONENT_KINDS.values(), *CRITERION_KINDS.values(), *AGGREGATIONS.values()]
    assert [label for label in labels if label not in EN] == []
