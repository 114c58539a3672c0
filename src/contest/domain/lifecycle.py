"""The item lifecycle: setup -> scoring -> (submitted) -> locked -> revealed -> published -> final.

"final" comes when the appeal window has closed with no appeal pending (DOMAIN.md §3).

"submitted" (all marks in, no open disagreement) is derived from the marks, not stored: the
chief judge may lock exactly when it holds. Any change after the lock is a reopen with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

ACCEPTS_MARKS = frozenset({"scoring"})
NAMES_VISIBLE = frozenset({"revealed", "published", "final"})
PUBLIC_RESULTS = frozenset({"published", "final"})

# transition -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "open": (frozenset({"setup"}), "scoring"),
    "lock": (frozenset({"scoring"}), "locked"),
    "reveal": (frozenset({"locked"}), "revealed"),
    "publish": (frozenset({"revealed"}), "published"),
    "reopen": (frozenset({"locked", "revealed", "published"}), "scoring"),
    "finalize": (frozenset({"published"}), "final"),
}

_REFUSALS = {
    "open": "只有筹备中的赛项可以开始评分",
    "lock": "只有评分中的赛项可以锁定",
    "reveal": "赛项锁定后才能解密",
    "publish": "赛项解密后才能公示",
    "reopen": "只有已锁定、已解密或已公示的赛项可以重新开放评分",
    "finalize": "只有已公示的赛项可以确认最终成绩",
}


@dataclass(frozen=True)
class LifecycleError(Exception):
    code: str
    message: str


def next_status(transition: str, status: str) -> str:
    """The status after ``transition`` from ``status``, or LifecycleError in Chinese."""
    sources, target = TRANSITIONS[transition]
    if status not in sources:
        raise LifecycleError("bad_state", _REFUSALS[transition])
    return target
