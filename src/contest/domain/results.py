"""Published results: what changed between two versions, the appeal window (公示期)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

COMPARED = ("total", "place", "award")


class AppealStatus(StrEnum):
    """An appeal's status (Appeal.status holds the value): pending until the 仲裁组 decides it."""

    PENDING = "pending"
    UPHELD = "upheld"
    REJECTED = "rejected"


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


@dataclass(frozen=True)
class Publicity:
    """The 公示期 of a publication: from ``start`` until the appeal ``deadline``; appeals are
    received while ``open``. After it, with no appeal pending, the results can be confirmed final."""

    start: datetime
    deadline: datetime
    hours: int
    open: bool


@dataclass(frozen=True)
class Settled:
    """Whether published results can be paid from (the one rule approval and the payout lines
    use): confirmed final (最终成绩); or published, with the appeal window closed and no appeal
    undecided (treated as final). Otherwise why not: the window still open (until ``deadline``),
    or appeals still pending."""

    confirmed: bool  # 最终成绩
    deadline: datetime | None  # the appeal window's end (published results)
    window_open: bool
    pending_appeals: int

    @property
    def final(self) -> bool:
        return self.confirmed or (not self.window_open and not self.pending_appeals)


def settled(confirmed: bool, published_at: datetime | None, hours: int, pending_appeals: int, now: datetime) -> Settled:
    """Published (or final) results as they stand at ``now``; see Settled."""
    if confirmed:
        return Settled(True, None, False, 0)
    deadline = appeal_deadline(published_at, hours) if published_at is not None else None
    return Settled(False, deadline, appeal_window_open(now, published_at, hours), pending_appeals)


def publicity(published_at: datetime, hours: int, now: datetime) -> Publicity:
    return Publicity(published_at, appeal_deadline(published_at, hours), hours, appeal_window_open(now, published_at, hours))


def changes_by_entry(changes: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A revision's changes (``diff_rows``) per entry, for the public page, in station order.

    Each: {"station", "names" (as now published, or as before for an entry that went), "fields":
    [{"field", "old", "new"}] in the order place, total, award ("entry" for one that came or went)}.
    """
    names = {row.get("station"): row.get("names") for row in rows}
    order = {field: n for n, field in enumerate(("entry", "place", "total", "award"))}
    grouped: dict[Any, dict[str, Any]] = {}
    for change in changes:
        station = change.get("station")
        entry = grouped.setdefault(station, {"station": station, "names": names.get(station), "fields": []})
        if change.get("field") == "entry" and entry["names"] is None:
            entry["names"] = change.get("old") or change.get("new")
        entry["fields"].append({"field": change.get("field"), "old": change.get("old"), "new": change.get("new")})
    for entry in grouped.values():
        entry["fields"].sort(key=lambda f: order.get(f["field"], len(order)))
    return [grouped[s] for s in sorted(grouped, key=lambda s: (s is None, s))]
