"""Roles and what each may do. Access is declared per route; this is the vocabulary."""

from __future__ import annotations

ORGANIZER = "organizer"
CHIEF_JUDGE = "chief_judge"
JUDGE = "judge"
FINANCE = "finance"

ROLES: dict[str, str] = {
    ORGANIZER: "组织方",
    CHIEF_JUDGE: "裁判长",
    JUDGE: "裁判",
    FINANCE: "财务",
}

# Who may see full 证件号码: everyone else sees them masked.
SEES_PERSONAL_DATA = frozenset({ORGANIZER, FINANCE})
