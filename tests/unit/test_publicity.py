"""The public page's 公示期 and a revision's changes per entry (domain/results.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contest.domain.results import changes_by_entry, diff_rows, publicity

T0 = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def test_the_publicity_window_runs_from_publication_to_the_appeal_deadline() -> None:
    window = publicity(T0, 2, T0 + timedelta(minutes=30))
    assert (window.start, window.deadline, window.hours, window.open) == (T0, T0 + timedelta(hours=2), 2, True)
    assert publicity(T0, 2, T0 + timedelta(hours=2)).open  # the deadline itself is still inside
    assert not publicity(T0, 2, T0 + timedelta(hours=2, seconds=1)).open
    assert not publicity(T0, 2, T0 - timedelta(seconds=1)).open
    assert not publicity(T0, 0, T0 + timedelta(seconds=1)).open  # no appeal window at all


def row(station, names, place, total, award=""):
    return {"station": station, "names": names, "place": place, "total": total, "award": award}


def test_changes_are_grouped_per_entry_in_station_order_place_total_award() -> None:
    old = [row(1, "甲", 3, "80.80", "三等奖"), row(3, "乙", 4, "62.80"), row(5, "丙", 1, "90.00", "一等奖"), row(7, "丁", 2, "85.00")]
    new = [row(1, "甲", 4, "64.80"), row(3, "乙", 3, "68.80", "三等奖"), row(5, "丙", 1, "90.00", "一等奖"), row(9, "戊", 2, "85.00")]
    grouped = changes_by_entry(diff_rows(old, new), new)
    assert [(g["station"], g["names"]) for g in grouped] == [(1, "甲"), (3, "乙"), (7, "丁"), (9, "戊")]
    assert grouped[0]["fields"] == [
        {"field": "place", "old": 3, "new": 4},
        {"field": "total", "old": "80.80", "new": "64.80"},
        {"field": "award", "old": "三等奖", "new": ""},
    ]
    assert grouped[1]["fields"][0] == {"field": "place", "old": 4, "new": 3}
    # an entry that went keeps its old name; one that came has its new one
    assert grouped[2]["fields"] == [{"field": "entry", "old": "丁", "new": None}]
    assert grouped[3]["fields"] == [{"field": "entry", "old": None, "new": "戊"}]


def test_no_changes_and_odd_stored_changes() -> None:
    assert changes_by_entry([], []) == []
    # rows stored by an older version without a station, and an unknown field, are still listed
    odd = changes_by_entry([{"station": None, "field": "note", "old": "a", "new": "b"}, {"station": 2, "field": "total"}], [])
    assert [(g["station"], g["names"], [f["field"] for f in g["fields"]]) for g in odd] == [(2, None, ["total"]), (None, None, ["note"])]
