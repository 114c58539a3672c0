"""Standings: scores and ranking of an item, from the stored marks, through the rules in domain/.

The chief judge's console, the live board and the published results all come from here, so
they can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.db.models import Entry, Item, JudgeAssignment, Mark, TieDecision
from contest.domain.aggregation import ComponentRule, CriterionRule, EntryScore, score_entry
from contest.domain.ranking import Ranked, RankInput, rank
from contest.domain.scheme import validate_scheme
from contest.domain.text import N_
from contest.errors import Invalid
from contest.events.service import get_item, item_entries, scheme_of

DEFAULT_TIE_BREAK = ("practical_score", "practical_time")
AWARD_LABELS = {"first": N_("一等奖"), "second": N_("二等奖"), "third": N_("三等奖"), "excellence": N_("优胜奖")}


@dataclass
class EntryResult:
    entry: Entry
    score: EntryScore
    ranked: Ranked


@dataclass
class ItemResults:
    item: Item
    rules: list[ComponentRule]
    rows: list[EntryResult]  # in ranking order
    judges: list[JudgeAssignment]

    @property
    def expected(self) -> int:
        return sum(r.score.missing for r in self.rows) + self.stored

    @property
    def stored(self) -> int:
        return sum(len(c.marks) for r in self.rows for c in r.score.criteria.values())

    @property
    def complete(self) -> bool:
        return bool(self.rows) and all(r.score.complete for r in self.rows)

    @property
    def flagged(self) -> list[tuple[EntryResult, str]]:
        return [(r, flag) for r in self.rows for flag in r.score.flags]

    @property
    def needs_decision(self) -> bool:
        return any(r.ranked.needs_decision for r in self.rows)

    @property
    def lockable(self) -> bool:
        return self.complete and not self.flagged and not self.needs_decision


def rules_of(item: Item) -> list[ComponentRule]:
    return [
        ComponentRule(
            kind=c.kind,
            weight=c.weight,
            criteria=tuple(CriterionRule(k.id, k.code, k.max_mark, k.step, k.kind, k.panel_size, k.aggregation) for k in c.criteria),
        )
        for c in item.components
    ]


async def item_results(db: AsyncSession, item_id: int) -> ItemResults:
    """Raises Invalid while the item's scheme is not valid (an item still being set up)."""
    item = await get_item(db, item_id)
    problems = validate_scheme(scheme_of(item))
    if problems:
        raise Invalid("评分方案无效,暂无成绩", details=problems)
    entries = await item_entries(db, item_id)
    judges = list(
        (await db.execute(select(JudgeAssignment).where(JudgeAssignment.item_id == item_id).order_by(JudgeAssignment.seat))).scalars()
    )
    seat_of = {j.person_id: str(j.seat) for j in judges}
    marks: dict[int, dict[int, dict[str, Decimal]]] = {e.id: {} for e in entries}
    for mark in (await db.execute(select(Mark).where(Mark.item_id == item_id))).scalars():
        # Judges are keyed by seat: what a published number is explained with never names them.
        seat = seat_of.get(mark.judge_person_id, f"p{mark.judge_person_id}")
        marks.setdefault(mark.entry_id, {}).setdefault(mark.criterion_id, {})[seat] = mark.value
    rules = rules_of(item)
    scores = {e.id: score_entry(rules, marks.get(e.id, {})) for e in entries}
    decisions = dict((await db.execute(select(TieDecision.entry_id, TieDecision.position).where(TieDecision.item_id == item_id))).all())
    ranking = rank(
        [RankInput(e.id, scores[e.id].total, scores[e.id].components.get("practical"), e.practical_seconds) for e in entries],
        no_ties=item.no_ties,
        decisions=decisions,
        excellence_fraction=item.excellence_fraction,
        tie_break=tuple(item.tie_break if item.tie_break is not None else DEFAULT_TIE_BREAK),
    )
    by_id = {e.id: e for e in entries}
    rows = [EntryResult(by_id[r.entry_id], scores[r.entry_id], r) for r in ranking]
    return ItemResults(item=item, rules=rules, rows=rows, judges=judges)
