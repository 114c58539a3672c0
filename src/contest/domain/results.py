"""Published results: what changed between two versions, and the appeal window."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

COMPARED = ("total", "place", "award")


def diff_rows(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Changes from ``old`` to ``new`` result rows (keyed by 工位号), in station order.

    Each change is {"station", "field", "old", "new"}; an entry that appears or disappears is
    reported with field "entry".
    """
    before = {row["station"]: row for row in old}
    after = {row["station"]: row for row in new}
    changes = []
    for station in sorted(set(before) | set(after), key=lambda s: (s is None, s)):
        if station not in before:
            changes.append({"station": station, "field": "entry", "old": None, "new": after[station].get("names")})
        elif station not in after:
            changes.append({"station": station, "field": "entry", "old": before[station].get("names"), "new": None})
        else:
            for field in COMPARED:
                if before[station].get(field) != after[station].get(field):
                    changes.append(
                        {"station": station, "field": field, "old": before[station].get(field), "new": after[station].get(field)}
                    )
    return changes


def appeal_deadline(published_at: datetime, hours: int) -> datetime:
    return published_at + timedelta(hours=hours)


def appeal_window_open(now: datetime, published_at: datetime | None, hours: int) -> bool:
    """Appeals are received from publication (公示) until ``hours`` later."""
    return published_at is not None and published_at <= now <= appeal_deadline(published_at, hours)
