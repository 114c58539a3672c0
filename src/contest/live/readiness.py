"""Why an item cannot be locked yet, in words the chief judge can act on.

From the scored item (contest/standings.py), its panel's conflicts and overrides, and the panel's
tablets (live/devices.py): every missing mark with why it is missing (waiting for which seats,
whose tablet is offline or holds unsent marks; or no judge may score it because of 回避), every
judgement spread over 1, and every undecided tie. Plain data in, plain data out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from contest.db.models import JudgeAssignment
from contest.domain.aggregation import expected_marks
from contest.domain.roles import JUDGE
from contest.domain.scheme import plain
from contest.domain.text import COMMA, ENUMERATION, SEMICOLON, Text, joined
from contest.live.devices import JudgeDevices
from contest.standings import ItemResults

SHOWN = 30  # lines of missing marks listed; the rest are counted


@dataclass(frozen=True)
class Missing:
    station: int
    criterion: str
    needed: int  # marks still to come
    measurement: bool
    waiting: tuple[int, ...]  # seats that may still score it
    recused: tuple[int, ...]  # seats that may not (回避, no override)
    offline: tuple[int, ...]  # of waiting: seats whose tablet is not connected
    unsent: tuple[int, ...]  # of waiting: seats whose tablet holds marks not yet sent

    @property
    def short_of_judges(self) -> bool:
        return len(self.waiting) < self.needed

    def text(self) -> str:
        """The line the console shows: a ``Text``, put in the reader's language by the page."""
        head = Text("工位 {station} · {criterion}:还差 {needed} 个分数", station=self.station, criterion=self.criterion, needed=self.needed)
        if self.short_of_judges:
            parts: list[str] = [Text("{head},可评分的裁判不足", head=head)]
            if self.recused:
                parts.append(Text("席位 {seats} 需回避", seats=_seats(self.recused)))
            if self.waiting:
                parts.append(Text("席位 {seats} 尚未评分", seats=_seats(self.waiting)))
            parts.append(Text("请授予回避豁免,或由裁判长作为评委录入"))
            return joined(parts, SEMICOLON)
        if self.measurement and len(self.waiting) > 1:
            who = Text("等待席位 {seats} 之一录入", seats=_seats(self.waiting))
        else:
            who = Text("等待席位 {seats} 评分", seats=_seats(self.waiting))
        notes: list[str] = [Text("席位 {seats} 的平板未连接", seats=_seats(self.offline))] if self.offline else []
        if self.unsent:
            notes.append(Text("席位 {seats} 的平板有未发送的分数", seats=_seats(self.unsent)))
        line = Text("{head},{who}", head=head, who=who)
        return Text("{line}({notes})", line=line, notes=joined(notes, SEMICOLON)) if notes else line


@dataclass(frozen=True)
class Readiness:
    lockable: bool
    missing: list[Missing]
    missing_marks: int
    spread: list[str]  # one line per flagged cell
    ties: list[str]

    @property
    def shown_missing(self) -> list[Missing]:
        return self.missing[:SHOWN]

    @property
    def more_missing(self) -> int:
        return max(0, len(self.missing) - SHOWN)


def _seats(seats: tuple[int, ...]) -> str:
    return joined([str(s) for s in seats], ENUMERATION)


def readiness(
    results: ItemResults,
    conflicts: Mapping[int, Mapping[int, object]],
    overrides: set[tuple[int, int]],
    devices: list[JudgeDevices],
) -> Readiness:
    """``conflicts``: assignment id -> entry id -> reasons; ``overrides``: (judge person, entry) pairs
    the chief judge has let score anyway; ``devices``: the panel's tablets."""
    panel = [j for j in results.judges if j.role == JUDGE]
    online = {d.person_id for d in devices if d.state == "online"}
    unsent = {d.person_id for d in devices if d.pending}
    missing: list[Missing] = []
    spread: list[str] = []
    for row in sorted(results.rows, key=lambda r: r.entry.station_no or 0):
        entry = row.entry
        for component in results.rules:
            for rule in component.criteria:
                result = row.score.criteria[rule.id]
                have = {seat for seat, _ in result.marks}
                needed = expected_marks(rule) - len(result.marks)
                if needed > 0:
                    free = [j for j in panel if not _recused(j, entry.id, conflicts, overrides)]
                    waiting = [j for j in free if str(j.seat) not in have]
                    missing.append(
                        Missing(
                            station=entry.station_no or 0,
                            criterion=rule.code,
                            needed=needed,
                            measurement=rule.kind == "measurement",
                            waiting=tuple(j.seat for j in waiting),
                            recused=tuple(j.seat for j in panel if j not in free),
                            offline=tuple(j.seat for j in waiting if j.person_id not in online),
                            unsent=tuple(j.seat for j in waiting if j.person_id in unsent),
                        )
                    )
                if result.spread_flag:
                    spread.append(spread_line(entry.station_no, rule.code, result.marks))
    tied = sorted(str(r.entry.station_no) for r in results.rows if r.ranked.needs_decision)
    ties = [ties_line(tied)] if tied else []
    return Readiness(
        lockable=results.lockable,
        missing=missing,
        missing_marks=sum(m.needed for m in missing),
        spread=spread,
        ties=ties,
    )


def spread_line(station: int | None, criterion: str, marks: Sequence[tuple[str, Decimal]]) -> str:
    """The console's line for a judgement whose marks are more than 1 apart."""
    shown = joined([Text("席位 {seat}:{mark}", seat=seat, mark=plain(value)) for seat, value in marks], COMMA)
    return Text(
        "工位 {station} · {criterion}:评价分相差超过 1 分({marks}),须在裁判长主持下重新评分",
        station=station,
        criterion=criterion,
        marks=shown,
    )


def ties_line(stations: list[str]) -> str:
    """The console's line for tied stations an item without shared places must separate."""
    return Text("排名不并列:工位 {stations} 并列,须由组织方确定名次", stations=joined(stations, ENUMERATION))


def _recused(judge: JudgeAssignment, entry_id: int, conflicts: Mapping[int, Mapping[int, object]], overrides: set[tuple[int, int]]) -> bool:
    return entry_id in conflicts.get(judge.id, {}) and (judge.person_id, entry_id) not in overrides
