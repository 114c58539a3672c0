"""Roles and what each may do. Access is declared per route; this is the vocabulary."""

from __future__ import annotations

from enum import StrEnum

from contest.domain.text import N_


class Role(StrEnum):
    """An account's role (stored as its value: "organizer", ...)."""

    ORGANIZER = "organizer"
    CHIEF_JUDGE = "chief_judge"
    JUDGE = "judge"
    FINANCE = "finance"


ORGANIZER = Role.ORGANIZER
CHIEF_JUDGE = Role.CHIEF_JUDGE
JUDGE = Role.JUDGE
FINANCE = Role.FINANCE

ROLES: dict[str, str] = {
    ORGANIZER: N_("组织方"),
    CHIEF_JUDGE: "裁判长",
    JUDGE: "裁判",
    FINANCE: "财务",
}

# A judge's place on an item's panel (JudgeAssignment.role): a panel member or its chief.
PANEL_ROLES: tuple[Role, Role] = (JUDGE, CHIEF_JUDGE)

# Who may see full 证件号码: everyone else sees them masked.
SEES_PERSONAL_DATA = frozenset({ORGANIZER, FINANCE})
