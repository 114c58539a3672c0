"""Roster and judge import, for the pages and the demo: roster_import.py and judges_import.py do
the work, drafts.py holds what they share."""

from __future__ import annotations

from contest.rosters.drafts import ImportResult
from contest.rosters.judges_import import import_judges
from contest.rosters.roster_import import import_roster

__all__ = ["ImportResult", "import_judges", "import_roster"]
