"""Plain data in and out of the award engine, with a deterministic JSON form.

Inputs: achievements (who achieved what, where), batch settings, and the ledger of earlier
payouts. Outputs: payout lines, excluded lines (ineligible, superseded, already paid, out of
scope: every one with its reason, never a silent drop), and non-cash honours.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar, cast

from contest.domain.money import Money, to_chinese_capital
from contest.domain.text import N_

_Entry = TypeVar("_Entry", "Member", "Coach")  # a pooled team member or coach
MEDAL_PLACES = {"gold": 1, "silver": 2, "bronze": 3}
MEDAL_LABELS = {"gold": "金牌", "silver": "银牌", "bronze": "铜牌"}
SQUAD_LABELS = {"national": "入选国家集训队", "provincial": "入选省集训队"}


@dataclass(frozen=True, slots=True)
class Person:
    id_number: str  # 证件号码: the key for a person across competitions and years
    name: str
    unit: str = ""  # 选送单位
    employment_region: str = ""  # 就业地区, e.g. "黑龙江省哈尔滨市"
    employee_status: str = ""  # 职工身份, e.g. "职工", "学生"
    birth_date: date | None = None

    def __post_init__(self) -> None:
        # A batch has 100,000s of people but few distinct names, units, regions and statuses:
        # one shared string each (interned strings are freed with their last user).
        for field_name in _SHARED_TEXT:
            value = getattr(self, field_name)
            if type(value) is str:
                object.__setattr__(self, field_name, sys.intern(value))


_SHARED_TEXT = ("name", "unit", "employment_region", "employee_status")
_SHARES: dict[tuple[type, str], Decimal] = {}


def _shared_share(share: Decimal) -> Decimal:
    """One Decimal per distinct share as written (1 and 1.0 stay apart: notes quote them)."""
    key = (type(share), str(share))
    found = _SHARES.get(key)
    if found is None:
        if len(_SHARES) >= 1024:  # declared shares are a handful of small numbers
            return share
        found = _SHARES[key] = share
    return found


@dataclass(frozen=True, slots=True)
class Member:
    person: Person
    share: Decimal | None = None  # declared share of a per-entry team amount

    def __post_init__(self) -> None:
        if self.share is not None:
            object.__setattr__(self, "share", _shared_share(self.share))


@dataclass(frozen=True, slots=True)
class Coach:
    person: Person
    share: Decimal | None = None
    lead: bool = False

    def __post_init__(self) -> None:
        if self.share is not None:
            object.__setattr__(self, "share", _shared_share(self.share))


class InputPool:
    """One object for equal people, members, coaches and member lists while a batch's
    achievements are built: a big batch names the same people again and again (a person
    competes at several levels, a coach trains many). They are frozen values, so sharing
    changes nothing but memory (a member or coach is also told apart by how its share is
    written: 1 and 1.0 stay two, as notes quote them). Keyed by person within each kind of
    entry, so the pool itself needs no key object per entry."""

    def __init__(self) -> None:
        self._people: dict[Person, Person] = {}
        self._entries: dict[tuple[Any, ...], dict[Person, Any]] = {}
        self._singles: dict[int, tuple[Member, ...]] = {}

    def person(self, person: Person) -> Person:
        return self._people.setdefault(person, person)

    def member(self, member: Member) -> Member:
        return self._entry((type(member), _share_key(member.share)), member)

    def coach(self, coach: Coach) -> Coach:
        return self._entry((type(coach), _share_key(coach.share), coach.lead), coach)

    def _entry(self, kind: tuple[Any, ...], entry: _Entry) -> _Entry:
        person = self.person(entry.person)
        by_person = self._entries.get(kind)
        if by_person is None:
            by_person = self._entries[kind] = {}
        found = by_person.get(person)
        if found is None:
            found = by_person[person] = entry if person is entry.person else replace(entry, person=person)
        return cast("_Entry", found)  # kind starts with the entry's type: what is found is one too

    def members(self, members: tuple[Member, ...]) -> tuple[Member, ...]:
        """The tuple of pooled members (from ``member``)."""
        if len(members) != 1:  # teams rarely recur
            return members
        key = id(members[0])  # stable: the pool keeps its members alive
        found = self._singles.get(key)
        if found is None:
            found = self._singles[key] = members
        return found


def _share_key(share: Decimal | None) -> tuple[type, str] | None:
    return None if share is None else (type(share), str(share))


@dataclass(frozen=True, slots=True)
class Competition:
    name: str
    level: str  # world / national / provincial / municipal
    year: int
    competition_class: int | None = None  # 1 一类, 2 二类
    kinds: frozenset[str] = frozenset()  # worldskills, national_class1, ...
    organizer: str = ""  # 主办单位: pays some tiers (技能兴威 市级一类)
    date: date | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """A place (1..N; a medal is stored with its place), 优胜奖, or a squad selection. A place
    may also carry 优胜奖 (our items rank every entry: 5th of 20 is 第5名 and 优胜奖)."""

    place: int | None = None
    medal: str | None = None
    excellence: bool = False
    squad: str | None = None

    @property
    def key(self) -> str:
        if self.place is not None:
            return f"place:{self.place}" + (":excellence" if self.excellence else "")
        if self.excellence:
            return "excellence"
        return f"squad:{self.squad}"

    @property
    def label(self) -> str:
        if self.medal:
            return f"{MEDAL_LABELS[self.medal]}(第{self.place}名)"
        if self.place is not None:
            return f"第{self.place}名" + ("(优胜奖)" if self.excellence else "")
        if self.excellence:
            return N_("优胜奖")
        return SQUAD_LABELS[self.squad or ""]


@dataclass(frozen=True, slots=True)
class Achievement:
    id: str
    competition: Competition
    item: str  # 赛项 as named by the competition
    skill_code: str  # canonical skill (职业/工种 or WorldSkills skill): the no-double-award key
    result: Result
    members: tuple[Member, ...]  # one for an individual item; the first is the team captain
    coaches: tuple[Coach, ...] = ()
    group: str = ""  # 组别 of the result: 职工组, 学生组, 院校组, 非院校组 ...
    entry_size: int | None = None  # the entry's members when not all are listed; else len(members)
    field_size: int | None = None  # 参赛规模: entries ranked in the item (for share:1/2 places)
    occupation: str = ""  # 职业(工种) name, for honour titles that name it; default the item

    @property
    def size(self) -> int:
        """How many members the entry has (参赛单元人数): the declared size, or those listed."""
        return self.entry_size if self.entry_size is not None else len(self.members)

    @property
    def is_team(self) -> bool:
        return self.size > 1


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """Choices made for one payout batch.

    ``amounts`` maps "tier-id" (the competitor amount), "tier-id.coach_team" or "tier-id.unit"
    to the amount chosen within the tier's cap/floor; ``achievement_amounts`` sets the
    competitor amount of one achievement (by its id). Unset amounts take the tier default.
    """

    batch_id: str = ""
    batch_date: date | None = None
    amounts: dict[str, Money] = field(default_factory=dict)
    achievement_amounts: dict[str, Money] = field(default_factory=dict)
    unit_subsidy_mode: str | None = None  # None: the policy's rule
    ledger_mode: str | None = None  # None: the policy's rule


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One amount paid by a policy in an earlier batch."""

    policy_id: str
    batch_id: str
    paid_on: date | None
    recipient_id: str
    role: str  # competitor / coach / unit
    skill_code: str
    subject_id: str  # whose achievement it was for (the competitor's id, or members joined by +)
    amount: Money
    tier_id: str = ""
    achievement_id: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.recipient_id, self.role, self.skill_code, self.subject_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "policy_id": self.policy_id,
            "batch_id": self.batch_id,
            "paid_on": self.paid_on.isoformat() if self.paid_on else None,
            "recipient_id": self.recipient_id,
            "role": self.role,
            "skill_code": self.skill_code,
            "subject_id": self.subject_id,
            "amount": self.amount.plain(),
            "tier_id": self.tier_id,
            "achievement_id": self.achievement_id,
        }


@dataclass(slots=True)
class PayoutLine:
    payer: str
    role: str  # competitor / coach / unit
    recipient_id: str  # 证件号码, or the unit's name
    recipient_name: str
    recipient_unit: str
    amount: Money  # paid in this batch
    entitled: Money  # the award before deducting earlier payouts
    tier_id: str
    basis: str  # the tier, quoting the policy clause
    achievement_id: str
    competition: str
    item: str
    skill_code: str
    result: str
    subject_id: str
    notes: tuple[str, ...] = ()
    withheld: Money = field(default_factory=Money.zero)  # 代扣个税 (ROUND_HALF_UP to the fen)
    withholding: str = ""  # the rule, in words, when something is withheld

    @property
    def net(self) -> Money:
        """实发: what the recipient receives (应发 less 代扣个税)."""
        return self.amount - self.withheld

    def sort_key(self) -> tuple[Any, ...]:
        return (self.payer, self.achievement_id, _ROLE_ORDER[self.role], self.recipient_id)

    def to_json(self) -> dict[str, Any]:
        out = {
            "payer": self.payer,
            "role": self.role,
            "recipient_id": self.recipient_id,
            "recipient_name": self.recipient_name,
            "recipient_unit": self.recipient_unit,
            "amount": self.amount.plain(),
            "entitled": self.entitled.plain(),
            "tier_id": self.tier_id,
            "basis": self.basis,
            "achievement_id": self.achievement_id,
            "competition": self.competition,
            "item": self.item,
            "skill_code": self.skill_code,
            "result": self.result,
            "subject_id": self.subject_id,
            "notes": list(self.notes),
        }
        if self.withheld:  # only when the policy withholds: other outputs stay as they were
            out.update(withheld=self.withheld.plain(), net=self.net.plain(), withholding=self.withholding)
        return out


class ExcludedLine:
    """A would-be recipient who is not paid, and why.

    Holds references to the person and the achievement rather than copies of their fields:
    a big batch has hundreds of thousands of these, so they stay small and quick to make.
    For a sending unit, ``person`` is the unit (id and name are the unit's name).

    status, reason, role and tier_id are kept as one tuple, which the engine shares between
    all lines with the same four (every line of an uncovered competition shares two):
    four slots instead of seven, 64 bytes a line instead of 96.
    """

    __slots__ = ("_why", "achievement", "amount", "person")
    _why: tuple[str, str, str, str]
    person: Person
    achievement: Achievement
    amount: Money | None  # what it would have been, when a tier applied

    def __init__(
        self, status: str, reason: str, role: str, person: Person, achievement: Achievement, tier_id: str = "", amount: Money | None = None
    ) -> None:
        # status: ineligible / superseded / already_paid / not_covered / out_of_force / ...
        self._why = (status, reason, role, tier_id)
        self.person = person
        self.achievement = achievement
        self.amount = amount

    @classmethod
    def shared(cls, why: tuple[str, str, str, str], person: Person, achievement: Achievement, amount: Money | None = None) -> ExcludedLine:
        """A line whose (status, reason, role, tier_id) is the given, shared, tuple."""
        line = cls.__new__(cls)
        line._why = why
        line.person = person
        line.achievement = achievement
        line.amount = amount
        return line

    @property
    def status(self) -> str:
        return self._why[0]

    @status.setter
    def status(self, value: str) -> None:
        self._why = (value, *self._why[1:])

    @property
    def reason(self) -> str:
        return self._why[1]

    @reason.setter
    def reason(self, value: str) -> None:
        status, _, role, tier_id = self._why
        self._why = (status, value, role, tier_id)

    @property
    def role(self) -> str:
        return self._why[2]

    @role.setter
    def role(self, value: str) -> None:
        status, reason, _, tier_id = self._why
        self._why = (status, reason, value, tier_id)

    @property
    def tier_id(self) -> str:
        return self._why[3]

    @tier_id.setter
    def tier_id(self, value: str) -> None:
        self._why = (*self._why[:3], value)

    def _fields(self) -> tuple[Any, ...]:
        status, reason, role, tier_id = self._why
        return (status, reason, role, self.person, self.achievement, tier_id, self.amount)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it was

    def __repr__(self) -> str:
        names = ("status", "reason", "role", "person", "achievement", "tier_id", "amount")
        return f"ExcludedLine({', '.join(f'{n}={v!r}' for n, v in zip(names, self._fields(), strict=True))})"

    @property
    def recipient_id(self) -> str:
        return self.person.id_number

    @property
    def recipient_name(self) -> str:
        return self.person.name

    @property
    def recipient_unit(self) -> str:
        return self.person.unit

    @property
    def achievement_id(self) -> str:
        return self.achievement.id

    @property
    def competition(self) -> str:
        return self.achievement.competition.name

    @property
    def item(self) -> str:
        return self.achievement.item

    @property
    def skill_code(self) -> str:
        return self.achievement.skill_code

    @property
    def result(self) -> str:
        return self.achievement.result.label

    def sort_key(self) -> tuple[Any, ...]:
        status, _, role, _ = self._why
        return (self.achievement.id, _ROLE_ORDER[role], self.person.id_number, status)

    def to_json(self) -> dict[str, Any]:
        status, reason, role, tier_id = self._why
        return {
            "status": status,
            "reason": reason,
            "role": role,
            "recipient_id": self.recipient_id,
            "recipient_name": self.recipient_name,
            "recipient_unit": self.recipient_unit,
            "achievement_id": self.achievement_id,
            "competition": self.competition,
            "item": self.item,
            "skill_code": self.skill_code,
            "result": self.result,
            "tier_id": tier_id,
            "amount": self.amount.plain() if self.amount is not None else None,
        }


@dataclass(slots=True)
class HonourLine:
    honour_id: str
    title: str
    source: str
    recipient_id: str
    recipient_name: str
    recipient_unit: str
    achievement_id: str
    competition: str
    item: str
    result: str
    tier_id: str
    role: str = "competitor"  # competitor, or coach (优秀指导教师 for the winner's main instructor)

    def sort_key(self) -> tuple[Any, ...]:
        return (self.achievement_id, _ROLE_ORDER[self.role], self.recipient_id, self.honour_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "honour_id": self.honour_id,
            "title": self.title,
            "source": self.source,
            "recipient_id": self.recipient_id,
            "recipient_name": self.recipient_name,
            "recipient_unit": self.recipient_unit,
            "achievement_id": self.achievement_id,
            "competition": self.competition,
            "item": self.item,
            "result": self.result,
            "tier_id": self.tier_id,
            "role": self.role,
        }


_ROLE_ORDER = {"competitor": 0, "coach": 1, "unit": 2}
EXCLUDED_LABELS = {
    "ineligible": N_("不符合条件"),
    "superseded": N_("已被更高成绩取代"),
    "already_paid": N_("此前已发放"),
    "not_covered": N_("不在奖励范围"),
    "out_of_force": N_("不在有效期"),
    "zero_amount": N_("金额为零"),
    "follows_competitor": N_("随选手不发放"),
}
BATCH_SUBJECT = "batch:"  # subject of a once-per-unit-per-batch subsidy: not tied to a skill


def ledger_skill(subject_id: str, skill_code: str) -> str:
    """The skill part of a ledger key: empty for once-per-batch unit subsidies."""
    return "" if subject_id.startswith(BATCH_SUBJECT) else skill_code


@dataclass(frozen=True, slots=True)
class PayerTotal:
    payer: str
    lines: int
    total: Money

    def to_json(self) -> dict[str, Any]:
        return {"payer": self.payer, "lines": self.lines, "total": self.total.plain(), "total_capital": to_chinese_capital(self.total)}


@dataclass(slots=True)
class AwardResult:
    policy_id: str
    policy_name: str
    batch_id: str
    batch_date: date | None
    ledger_mode: str
    unit_subsidy_mode: str
    lines: list[PayoutLine]
    excluded: list[ExcludedLine]
    honours: list[HonourLine]

    @property
    def withholds(self) -> bool:
        return any(line.withheld for line in self.lines)

    def payer_totals(self) -> list[PayerTotal]:
        totals: dict[str, list[int]] = {}
        for line in self.lines:
            entry = totals.setdefault(line.payer, [0, 0])
            entry[0] += 1
            entry[1] += line.amount.fen
        return [PayerTotal(payer, count, Money.from_fen(fen)) for payer, (count, fen) in sorted(totals.items())]

    @property
    def total(self) -> Money:
        return Money.from_fen(sum(line.amount.fen for line in self.lines))

    def ledger_entries(self) -> list[LedgerEntry]:
        """What this batch pays, in the form the next batch reads as its ledger."""
        return [
            LedgerEntry(
                policy_id=self.policy_id,
                batch_id=self.batch_id,
                paid_on=self.batch_date,
                recipient_id=line.recipient_id,
                role=line.role,
                skill_code=ledger_skill(line.subject_id, line.skill_code),
                subject_id=line.subject_id,
                amount=line.amount,
                tier_id=line.tier_id,
                achievement_id=line.achievement_id,
            )
            for line in self.lines
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy_id": self.policy_id,
            "policy_name": self.policy_name,
            "batch_id": self.batch_id,
            "batch_date": self.batch_date.isoformat() if self.batch_date else None,
            "ledger_mode": self.ledger_mode,
            "unit_subsidy_mode": self.unit_subsidy_mode,
            "total": self.total.plain(),
            "total_capital": to_chinese_capital(self.total),
            "payers": [t.to_json() for t in self.payer_totals()],
            "lines": [line.to_json() for line in self.lines],
            "excluded": [line.to_json() for line in self.excluded],
            "honours": [line.to_json() for line in self.honours],
            "ledger_entries": [entry.to_json() for entry in self.ledger_entries()],
        }

    def to_json(self) -> str:
        """Deterministic: the same input gives byte-identical output (sorted keys, stable order)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, indent=1) + "\n"
