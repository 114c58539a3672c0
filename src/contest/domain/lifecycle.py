"""The item lifecycle: setup -> scoring -> (submitted) -> locked -> revealed -> published -> final.

"final" comes when the appeal window has closed with no appeal pending (DOMAIN.md §3).

"submitted" (all marks in, no open disagreement) is derived from the marks, not stored: the
chief judge may lock exactly when it holds. Any change after the lock is a reopen with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contest.domain.text import N_


class ItemStatus(StrEnum):
    """An item's stored status (Item.status holds the value)."""

    SETUP = "setup"
    SCORING = "scoring"
    LOCKED = "locked"
    REVEALED = "revealed"
    PUBLISHED = "published"
    FINAL = "final"


SETUP, SCORING, LOCKED, REVEALED, PUBLISHED, FINAL = ItemStatus

ACCEPTS_MARKS = frozenset({SCORING})
NAMES_VISIBLE = frozenset({REVEALED, PUBLISHED, FINAL})
PUBLIC_RESULTS = frozenset({PUBLISHED, FINAL})

# transition -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[ItemStatus], ItemStatus]] = {
    "open": (frozenset({SETUP}), SCORING),
    "lock": (frozenset({SCORING}), LOCKED),
    "reveal": (frozenset({LOCKED}), REVEALED),
    "publish": (frozenset({REVEALED}), PUBLISHED),
    "reopen": (frozenset({LOCKED, REVEALED, PUBLISHED}), SCORING),
    "finalize": (frozenset({PUBLISHED}), FINAL),
}

_REFUSALS = {
    "open": N_("只有筹备中的赛项可以开始评分"),
    "lock": N_("只有评分中的赛项可以锁定"),
    "reveal": N_("赛项锁定后才能解密"),
    "publish": N_("赛项解密后才能公示"),
    "reopen": N_("只有已锁定、已解密或已公示的赛项可以重新开放评分"),
    "finalize": N_("只有已公示的赛项可以确认最终成绩"),
}


@dataclass(frozen=True)
class LifecycleError(Exception):
    code: str
    message: str


def next_status(transition: str, status: str) -> ItemStatus:
    """The status after ``transition`` from ``status``, or LifecycleError in Chinese."""
    sources, target = TRANSITIONS[transition]
    if status not in sources:
        raise LifecycleError("bad_state", _REFUSALS[transition])
    return target
