"""Award policy schema: plain dataclasses, and the validator that builds them from parsed TOML.

A policy file says, as data, everything DOMAIN.md §4 lists: which results at which levels,
classes and kinds of competition are paid (tiers), how much (fixed, a cap 最高 or a floor
不低于), to whom (competitor, coaching team, sending unit) and how team and coach amounts are
split, who is eligible, who pays each tier, the no-double-award rule and the ledger mode,
non-cash honours and the dates in force. It also says what real award notices say (see
docs/policies.md): a tier may require the entry's size (个人 / 双人 / 团体, or min/max members)
and the result's group (职工组, 院校组 ...); a place may be a range (place:4-10) or a share of
the field (share:1/2: within the top half of the entries); a tier may give honours only (no
money); an honour may go to the coach and name the item or occupation in its title; tied
places may be refused (排名不并列); a tier or the policy may withhold tax at a rate.
The validator turns the parsed TOML dict into these dataclasses, or raises PolicyError naming
the file, the key path and the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from contest.domain.money import Money, MoneyError
from contest.domain.text import N_, Text

if TYPE_CHECKING:
    from contest.domain.awards.model import Achievement, Result

SCHEMA_VERSION = 1

LEVELS = ("world", "national", "provincial", "municipal")
LEVEL_LABELS = {"world": "世界级", "national": "国家级", "provincial": "省级", "municipal": "市级"}
LEVEL_RANK = {level: rank for rank, level in enumerate(reversed(LEVELS))}  # world highest
SQUADS = ("national", "provincial")
SPLITS = ("per_person", "equal", "by_shares")
LEDGER_MODES = ("top_up", "skip")
DEDUP_RULES = ("highest_per_person_skill", "none")
UNIT_MODES = ("per_winner", "once_per_unit")
AGE_ON = ("competition_date", "batch_date")
ROLES = ("competitor", "coach", "unit")
ROLE_LABELS = {"competitor": N_("选手"), "coach": "教练", "unit": "单位"}
LEDGER_MODE_LABELS = {"top_up": N_("补差"), "skip": N_("不重复发放")}
UNIT_MODE_LABELS = {"per_winner": N_("每名获奖选手一次"), "once_per_unit": N_("每单位每批次一次")}
# entry sizes a tier may require: (min members, max members; None = no maximum)
ENTRY_SIZES = {"individual": (1, 1), "pair": (2, 2), "team": (3, None)}
ENTRY_LABELS = {"individual": "个人项目", "pair": "双人项目", "team": "团体项目"}
HONOUR_TO = ("competitor", "lead_coach", "coaches")
HONOUR_TO_LABELS = {"competitor": N_("选手"), "lead_coach": "主要指导教师(牵头教练)", "coaches": "教练"}
TITLE_FIELDS = ("item", "occupation", "competition")  # {item} {occupation} {competition} in honour titles

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_RESULT = re.compile(
    r"^(?:place:([1-9][0-9]*)(?:-([1-9][0-9]*))?|excellence|squad:(national|provincial)"
    r"|share:([0-9./%]+))$"
)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class PolicyError(ValueError):
    """A policy file that cannot be used. ``problems`` is a list of (key path, problem)."""

    def __init__(self, file: str, problems: list[tuple[str, str]]) -> None:
        self.file = file
        self.problems = problems
        lines = [f"{file}: {key or '(根)'}: {problem}" for key, problem in problems]
        super().__init__("政策文件有误:\n" + "\n".join(lines))


@dataclass(frozen=True, slots=True)
class AmountRule:
    """How much one recipient gets for a tier: fixed, or chosen in the batch within bounds."""

    fixed: Money | None = None
    floor: Money | None = None  # 不低于
    cap: Money | None = None  # 最高
    default: Money | None = None  # used when the batch does not choose

    @property
    def is_fixed(self) -> bool:
        return self.fixed is not None

    def default_amount(self) -> Money:
        if self.fixed is not None:
            return self.fixed
        if self.default is not None:
            return self.default
        if self.cap is not None:  # 最高X元: default X (DOMAIN §4)
            return self.cap
        assert self.floor is not None
        return self.floor  # 不低于X元: default X

    def check(self, amount: Money) -> str | None:
        """None when ``amount`` is allowed, else the problem in Chinese."""
        if self.fixed is not None and amount != self.fixed:
            return Text("该档为固定金额 {fixed} 元,不能设为 {amount} 元", fixed=self.fixed.format(), amount=amount.format())
        if amount.fen < 0:
            return Text("金额不能为负数:{amount}", amount=amount.format())
        if self.floor is not None and amount < self.floor:
            return Text("金额 {amount} 元低于下限(不低于 {floor} 元)", amount=amount.format(), floor=self.floor.format())
        if self.cap is not None and amount > self.cap:
            return Text("金额 {amount} 元超过上限(最高 {cap} 元)", amount=amount.format(), cap=self.cap.format())
        return None

    def describe(self) -> str:
        if self.fixed is not None:
            return f"{self.fixed.format()} 元"
        parts = []
        if self.floor is not None:
            parts.append(f"不低于 {self.floor.format()} 元")
        if self.cap is not None:
            parts.append(f"最高 {self.cap.format()} 元")
        return "、".join(parts)

    def to_json(self) -> dict[str, str]:
        out = {}
        for key in ("fixed", "floor", "cap", "default"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value.plain()
        return out


@dataclass(frozen=True, slots=True)
class Withholding:
    """代扣个人所得税: a rate on each individual's line (never on a unit's), rounded to the fen
    half up (ROUND_HALF_UP on the line's amount). The rate is the finance office's decision."""

    rate: Decimal  # 0 <= rate < 1; 0 means nothing is withheld
    basis: str = ""

    def of(self, amount: Money) -> Money:
        """The amount withheld from ``amount`` (symmetric for a negative reversal line)."""
        fen = (Decimal(amount.fen) * self.rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return Money.from_fen(int(fen))

    def describe(self) -> str:
        percent = (self.rate * 100).normalize()
        text = f"按 {percent:f}% 代扣个人所得税"
        return f"{text}({self.basis})" if self.basis else text


NO_WITHHOLDING = Withholding(Decimal(0))


@dataclass(frozen=True, slots=True)
class ResultRule:
    """One entry of a tier's ``results``: place:N, place:N-M, excellence, squad:X or share:F."""

    text: str
    place_from: int = 0
    place_to: int = 0
    excellence: bool = False
    squad: str | None = None
    share: Fraction | None = None  # share:1/2 -> a place within the top half of the field

    def accepts(self, result: Result, field_size: int | None) -> bool:
        if self.squad is not None:
            return result.squad == self.squad
        if self.excellence:
            return result.excellence
        if result.place is None:
            return False
        if self.share is not None:  # "排名在参赛人数1/2(含)以上": rounded down
            return field_size is not None and result.place * self.share.denominator <= field_size * self.share.numerator
        return self.place_from <= result.place <= self.place_to

    def describe(self) -> str:
        if self.squad is not None:
            return {"national": "入选国家集训队", "provincial": "入选省集训队"}[self.squad]
        if self.excellence:
            return N_("优胜奖")
        if self.share is not None:
            return f"排名在参赛单元数 {self.share.numerator}/{self.share.denominator}(含)以内"
        if self.place_from == self.place_to:
            return f"第{self.place_from}名"
        return f"第{self.place_from}至{self.place_to}名"


def parse_result_rule(text: str) -> ResultRule | str:
    """The rule, or the problem in Chinese."""
    match = _RESULT.match(text)
    if not match:
        return (
            f"{text!r} 无效;可用 place:N(第 N 名)、place:N-M(第 N 至 M 名)、excellence(优胜奖)、"
            "squad:national(国家集训队)、squad:provincial(省集训队)、share:1/2(排名在参赛单元数的 1/2 以内)"
        )
    low, high, squad, share = match.groups()
    if squad:
        return ResultRule(text, squad=squad)
    if text == "excellence":
        return ResultRule(text, excellence=True)
    if share is not None:
        try:
            value = (
                Fraction(Decimal(share[:-1])) / 100
                if share.endswith("%")
                else Fraction(share)
                if "/" in share
                else Fraction(Decimal(share))
            )
        except (ValueError, ZeroDivisionError, InvalidOperation):
            return f"{text!r} 无效:份额应写成 1/2、50% 或 0.5"
        if not 0 < value <= 1:
            return f"{text!r} 无效:份额应大于 0 且不超过 1"
        return ResultRule(text, share=value)
    first = int(low)
    last = int(high) if high else first
    if last < first:
        return f"{text!r} 无效:名次范围应从小到大,如 place:4-10"
    return ResultRule(text, place_from=first, place_to=last)


@dataclass(frozen=True, slots=True)
class Eligibility:
    employment_regions: tuple[str, ...] = ()  # prefixes of the person's 就业地区; empty: any
    employee_statuses: tuple[str, ...] = ()  # e.g. ("职工",); empty: any
    min_age: int | None = None
    max_age: int | None = None
    age_on: str = "competition_date"
    source: str = ""

    @property
    def is_open(self) -> bool:
        return not (self.employment_regions or self.employee_statuses or self.min_age is not None or self.max_age is not None)


@dataclass(frozen=True, slots=True)
class Payer:
    key: str
    name: str
    from_competition: str | None = None  # "organizer": the competition's 主办单位 pays
    source: str = ""


@dataclass(frozen=True, slots=True)
class Tier:
    id: str
    title: str
    source: str
    payer: str
    results: tuple[str, ...]
    competitor: AmountRule | None  # None: an honour-only tier (a title, no money)
    levels: tuple[str, ...] = ()
    classes: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    coach_team: AmountRule | None = None
    coach_same_as_competitor: bool = False
    unit: AmountRule | None = None
    eligibility: Eligibility | None = None  # overrides the policy's, when given
    order: int = 0  # position in the file: earlier tiers are higher results
    rules: tuple[ResultRule, ...] = ()  # ``results`` parsed
    groups: tuple[str, ...] = ()  # the result's 组别 must be one of these (empty: any)
    min_members: int | None = None  # the entry's size (参赛单元人数)
    max_members: int | None = None
    withholding: Withholding | None = None  # overrides the policy's, when given
    title_en: str = ""

    @property
    def honour_only(self) -> bool:
        return self.competitor is None

    def matches(self, achievement: Achievement) -> bool:
        comp = achievement.competition
        if self.levels and comp.level not in self.levels:
            return False
        if self.classes and comp.competition_class not in self.classes:
            return False
        if self.kinds and not comp.kinds.intersection(self.kinds):
            return False
        if self.groups and achievement.group not in self.groups:
            return False
        size = achievement.size
        if self.min_members is not None and size < self.min_members:
            return False
        if self.max_members is not None and size > self.max_members:
            return False
        return any(rule.accepts(achievement.result, achievement.field_size) for rule in self.rules)

    def needs_field_size(self) -> bool:
        return any(rule.share is not None for rule in self.rules)

    def describe_entry(self) -> str:
        """The entry-size condition in words ("" when there is none)."""
        low, high = self.min_members, self.max_members
        for key, bounds in ENTRY_SIZES.items():
            if (low, high) == bounds:
                return ENTRY_LABELS[key]
        if low is None and high is None:
            return ""
        if low == high:
            return f"{low}人参赛单元"
        if high is None:
            return f"{low}人及以上参赛单元"
        return f"{low or 1}至{high}人参赛单元"

    def rule_for(self, role: str) -> AmountRule | None:
        if role == "competitor":
            return self.competitor
        if role == "coach_team":
            return self.competitor if self.coach_same_as_competitor else self.coach_team
        if role == "unit":
            return self.unit
        raise KeyError(role)


@dataclass(frozen=True, slots=True)
class Honour:
    id: str
    title: str  # may name the item or occupation: "{occupation}技术标兵"
    source: str
    tiers: tuple[str, ...] = ()  # empty: every tier
    to: str = "competitor"  # competitor / lead_coach (主要指导教师) / coaches
    eligibility: Eligibility | None = None  # a condition of the honour's own (e.g. 职工身份)

    def title_for(self, achievement: Achievement) -> str:
        values = {
            "item": achievement.item,
            "occupation": achievement.occupation or achievement.item,
            "competition": achievement.competition.name,
        }
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.title)


@dataclass(frozen=True, slots=True)
class Rules:
    dedup: str = "highest_per_person_skill"
    ledger_mode: str = "top_up"
    team_split: str = "per_person"
    coach_split: str = "by_shares"
    unit_subsidy_mode: str = "per_winner"
    no_ties: bool = False  # 排名不并列: tied places in the results are refused
    source: str = ""


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    name: str
    document: str
    tiers: tuple[Tier, ...]
    payers: dict[str, Payer]
    rules: Rules = field(default_factory=Rules)
    eligibility: Eligibility = field(default_factory=Eligibility)
    honours: tuple[Honour, ...] = ()
    in_force_from: date | None = None
    in_force_until: date | None = None
    issuer: str = ""
    region: str = ""
    file: str = ""
    withholding: Withholding = NO_WITHHOLDING
    name_en: str = ""

    def tier(self, tier_id: str) -> Tier:
        for tier in self.tiers:
            if tier.id == tier_id:
                return tier
        raise KeyError(tier_id)

    def tier_title(self, tier_id: str) -> str:
        """The tier's title, or its id when the policy no longer has it (an old ledger entry)."""
        try:
            return self.tier(tier_id).title
        except KeyError:
            return tier_id

    def eligibility_for(self, tier: Tier) -> Eligibility:
        return tier.eligibility if tier.eligibility is not None else self.eligibility

    def withholding_for(self, tier: Tier) -> Withholding:
        return tier.withholding if tier.withholding is not None else self.withholding

    def find_tier(self, achievement: Achievement) -> Tier | None:
        """The first tier in the file that matches (earlier tiers are the higher results)."""
        for tier in self.tiers:
            if tier.matches(achievement):
                return tier
        return None

    @property
    def withholds(self) -> bool:
        return self.withholding.rate > 0 or any(t.withholding is not None and t.withholding.rate > 0 for t in self.tiers)


DEDUP_LABELS = {"highest_per_person_skill": "同一人同一技能按最高成绩奖励", "none": "不限"}
SPLIT_LABELS = {"per_person": "每人全额", "equal": "平均分配", "by_shares": "按份额分配"}
KIND_LABELS = {
    "worldskills": "世界技能大赛",
    "worldskills_china_selection": "世赛中国选拔赛",
    "national_class1": "国家级一类",
    "national_vocational_skills_competition": "全国职业技能大赛",
}


def tier_scope(tier: Tier) -> str:
    """Which results a tier pays, in words: 省级/一类·院校组·双人项目·第1至3名."""
    parts = [
        "/".join(
            [LEVEL_LABELS[level] for level in tier.levels]
            + [{1: N_("一类"), 2: N_("二类")}[c] for c in tier.classes]
            + [KIND_LABELS.get(k, k) for k in tier.kinds]
        )
        or "任意赛事"
    ]
    if tier.groups:
        parts.append("/".join(tier.groups))
    if entry := tier.describe_entry():
        parts.append(entry)
    parts.append("、".join(rule.describe() for rule in tier.rules))
    return "·".join(parts)


# --- validation ------------------------------------------------------------------------


class _Checker:
    """Collects problems with their key paths so one run reports every mistake in a file."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, key: str, problem: str) -> None:
        self.problems.append((key, problem))

    def table(self, data: Any, key: str) -> dict[str, Any] | None:
        if not isinstance(data, dict):
            self.add(key, f"应为表(table),实际是 {_kind(data)}")
            return None
        return data

    def known(self, data: dict[str, Any], key: str, allowed: set[str]) -> None:
        for name in sorted(set(data) - allowed):
            hint = f";可用的键:{', '.join(sorted(allowed))}"
            self.add(_join(key, name), f"未知的键{hint}")

    def text(self, data: dict[str, Any], key: str, name: str, required: bool = True, default: str = "") -> str:
        if name not in data:
            if required:
                self.add(_join(key, name), "缺少必填项")
            return default
        value = data[name]
        if not isinstance(value, str) or (required and not value.strip()):
            self.add(_join(key, name), f"应为非空字符串,实际是 {_kind(value)}")
            return default
        return value.strip()

    def choice(self, data: dict[str, Any], key: str, name: str, options: tuple[str, ...], default: str) -> str:
        if name not in data:
            return default
        value = data[name]
        if value not in options:
            self.add(_join(key, name), f"取值 {value!r} 无效;可选:{', '.join(options)}")
            return default
        return str(value)

    def text_list(self, data: dict[str, Any], key: str, name: str, options: tuple[str, ...] | None = None) -> tuple[str, ...]:
        if name not in data:
            return ()
        value = data[name]
        path = _join(key, name)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add(path, f"应为字符串列表,实际是 {_kind(value)}")
            return ()
        if options is not None:
            for index, item in enumerate(value):
                if item not in options:
                    self.add(f"{path}[{index}]", f"取值 {item!r} 无效;可选:{', '.join(options)}")
        return tuple(v.strip() for v in value)

    def integer(self, data: dict[str, Any], key: str, name: str, low: int, high: int) -> int | None:
        if name not in data:
            return None
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(_join(key, name), f"应为 {low} 到 {high} 之间的整数,实际是 {value!r}")
            return None
        return value

    def date_value(self, data: dict[str, Any], key: str, name: str) -> date | None:
        if name not in data:
            return None
        value = data[name]
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.add(_join(key, name), f"应为日期,如 2021-08-19,实际是 {value!r}")
        return None

    def money(self, value: Any, key: str) -> Money | None:
        if isinstance(value, float):
            self.add(key, f'金额不能写成浮点数 {value!r},请写成字符串,如 "2000.50" 或整数 2000')
            return None
        if not isinstance(value, (int, str, Decimal)) or isinstance(value, bool):
            self.add(key, f"金额应为整数或字符串,实际是 {_kind(value)}")
            return None
        try:
            amount = Money(value)
        except MoneyError as exc:
            self.add(key, str(exc))
            return None
        if amount.fen < 0:
            self.add(key, "金额不能为负数")
            return None
        return amount


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _kind(value: Any) -> str:
    return {dict: "表", list: "列表", str: "字符串", int: "整数", float: "浮点数", bool: "布尔值"}.get(type(value), type(value).__name__)


def _amount_rule(check: _Checker, data: Any, key: str) -> AmountRule | None:
    table = check.table(data, key)
    if table is None:
        return None
    check.known(table, key, {"fixed", "floor", "cap", "default"})
    values = {name: check.money(table[name], _join(key, name)) for name in ("fixed", "floor", "cap", "default") if name in table}
    if "fixed" in table:
        if len(table) > 1 and set(table) & {"floor", "cap", "default"}:
            check.add(key, "fixed(固定金额)不能与 floor/cap/default 同时使用")
            return None
        return AmountRule(fixed=values.get("fixed"))
    if "floor" not in table and "cap" not in table:
        check.add(key, "金额须写 fixed(固定)、cap(最高)或 floor(不低于)之一")
        return None
    if any(v is None for v in values.values()):
        return None
    rule = AmountRule(floor=values.get("floor"), cap=values.get("cap"), default=values.get("default"))
    if rule.floor is not None and rule.cap is not None:
        if rule.floor > rule.cap:
            check.add(key, f"floor {rule.floor.format()} 大于 cap {rule.cap.format()}")
            return None
        if rule.default is None:  # 最高 defaults to the cap, 不低于 to the floor; a range must say
            check.add(_join(key, "default"), "同时写了 floor 和 cap 时须写 default(批次未设定时的金额)")
            return None
    if rule.default is not None and (problem := rule.check(rule.default)):
        check.add(_join(key, "default"), problem)
        return None
    return rule


def _withholding(check: _Checker, data: Any, key: str) -> Withholding | None:
    """{ rate = "20%" (or "0.2"), basis = "..." }; rate "0" says explicitly: nothing withheld."""
    table = check.table(data, key)
    if table is None:
        return None
    check.known(table, key, {"rate", "basis"})
    raw = table.get("rate")
    path = _join(key, "rate")
    if not isinstance(raw, (str, int)) or isinstance(raw, bool):
        check.add(path, f'应为字符串,如 "20%" 或 "0.2",实际是 {_kind(raw) if raw is not None else "未填写"}')
        return None
    text = str(raw).strip()
    try:
        rate = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        check.add(path, f'税率 {raw!r} 无效;应写成 "20%" 或 "0.2"')
        return None
    if not rate.is_finite() or not 0 <= rate < 1:
        check.add(path, f"税率 {raw!r} 应不小于 0 且小于 100%")
        return None
    return Withholding(rate=rate, basis=check.text(table, key, "basis", required=False))


def _eligibility(check: _Checker, data: Any, key: str) -> Eligibility:
    table = check.table(data, key)
    if table is None:
        return Eligibility()
    check.known(table, key, {"employment_regions", "employee_statuses", "min_age", "max_age", "age_on", "source"})
    min_age = check.integer(table, key, "min_age", 0, 120)
    max_age = check.integer(table, key, "max_age", 0, 120)
    if min_age is not None and max_age is not None and min_age > max_age:
        check.add(_join(key, "min_age"), f"min_age {min_age} 大于 max_age {max_age}")
    return Eligibility(
        employment_regions=check.text_list(table, key, "employment_regions"),
        employee_statuses=check.text_list(table, key, "employee_statuses"),
        min_age=min_age,
        max_age=max_age,
        age_on=check.choice(table, key, "age_on", AGE_ON, "competition_date"),
        source=check.text(table, key, "source", required=False),
    )


_TIER_KEYS = {
    "id",
    "title",
    "title_en",
    "source",
    "payer",
    "results",
    "levels",
    "classes",
    "kinds",
    "competitor",
    "coach_team",
    "unit",
    "eligibility",
    "groups",
    "entry",
    "min_members",
    "max_members",
    "honour_only",
    "withholding",
}


def _tier(check: _Checker, data: Any, key: str, order: int, payers: dict[str, Payer]) -> Tier | None:
    table = check.table(data, key)
    if table is None:
        return None
    check.known(table, key, _TIER_KEYS)
    before = len(check.problems)
    tier_id = check.text(table, key, "id")
    if tier_id and not _ID.match(tier_id):
        check.add(_join(key, "id"), f"{tier_id!r} 只能用小写字母、数字、- 和 _")
    title = check.text(table, key, "title")
    source = check.text(table, key, "source")
    payer = check.text(table, key, "payer")
    if payer and payer not in payers:
        check.add(_join(key, "payer"), f"未定义的支付方 {payer!r};已定义:{', '.join(sorted(payers)) or '无'}")
    results = check.text_list(table, key, "results")
    if "results" not in table:
        check.add(_join(key, "results"), '缺少必填项(如 ["place:1"]、"place:4-10"、"excellence"、"share:1/2")')
    rules: list[ResultRule] = []
    for index, result in enumerate(results):
        rule = parse_result_rule(result)
        if isinstance(rule, str):
            check.add(f"{key}.results[{index}]", rule)
        else:
            rules.append(rule)
    levels = check.text_list(table, key, "levels", LEVELS)
    classes: tuple[int, ...] = ()
    if "classes" in table:
        raw = table["classes"]
        if not isinstance(raw, list) or not all(v in (1, 2) and not isinstance(v, bool) for v in raw):
            check.add(_join(key, "classes"), f"应为 1(一类)和/或 2(二类)组成的列表,实际是 {raw!r}")
        else:
            classes = tuple(raw)
    kinds = check.text_list(table, key, "kinds")
    groups = check.text_list(table, key, "groups")
    min_members, max_members = _entry_size(check, table, key)
    honour_only = table.get("honour_only", False)
    if not isinstance(honour_only, bool):
        check.add(_join(key, "honour_only"), f"应为 true 或 false,实际是 {honour_only!r}")
        honour_only = False
    competitor = None
    if honour_only:
        for money_key in ("competitor", "coach_team", "unit"):
            if money_key in table:
                check.add(_join(key, money_key), "仅授予荣誉的档次(honour_only = true)不发奖金,不能写金额")
    elif "competitor" not in table:
        check.add(_join(key, "competitor"), "缺少必填项(选手奖励金额;只授予称号、不发奖金的档次请写 honour_only = true)")
    else:
        competitor = _amount_rule(check, table["competitor"], _join(key, "competitor"))
    coach_team = None
    same = False
    if "coach_team" in table and not honour_only:
        raw = table["coach_team"]
        path = _join(key, "coach_team")
        if raw == "same_as_competitor":
            same = True
        elif isinstance(raw, dict):
            coach_team = _amount_rule(check, raw, path)
        else:
            check.add(path, '应为 "same_as_competitor" 或金额表,如 { fixed = "5000" }')
    unit = _amount_rule(check, table["unit"], _join(key, "unit")) if "unit" in table and not honour_only else None
    eligibility = _eligibility(check, table["eligibility"], _join(key, "eligibility")) if "eligibility" in table else None
    withholding = _withholding(check, table["withholding"], _join(key, "withholding")) if "withholding" in table else None
    if len(check.problems) > before or (competitor is None and not honour_only):
        return None
    return Tier(
        id=tier_id,
        title=title,
        source=source,
        payer=payer,
        results=results,
        competitor=competitor,
        levels=levels,
        classes=classes,
        kinds=kinds,
        coach_team=coach_team,
        coach_same_as_competitor=same,
        unit=unit,
        eligibility=eligibility,
        order=order,
        rules=tuple(rules),
        groups=groups,
        min_members=min_members,
        max_members=max_members,
        withholding=withholding,
        title_en=check.text(table, key, "title_en", required=False),
    )


def _entry_size(check: _Checker, table: dict[str, Any], key: str) -> tuple[int | None, int | None]:
    """``entry = "individual" | "pair" | "team"`` or ``min_members`` / ``max_members``."""
    if "entry" in table:
        if "min_members" in table or "max_members" in table:
            check.add(_join(key, "entry"), "entry 与 min_members/max_members 只能写一种")
            return None, None
        entry = check.choice(table, key, "entry", tuple(ENTRY_SIZES), "")
        return ENTRY_SIZES.get(entry, (None, None))
    low = check.integer(table, key, "min_members", 1, 100)
    high = check.integer(table, key, "max_members", 1, 100)
    if low is not None and high is not None and low > high:
        check.add(_join(key, "min_members"), f"min_members {low} 大于 max_members {high}")
    return low, high


def _honour(check: _Checker, entry: dict[str, Any], path: str, tier_ids: set[str]) -> Honour:
    check.known(entry, path, {"id", "title", "source", "tiers", "to", "eligibility"})
    honour_tiers = check.text_list(entry, path, "tiers")
    for position, tier_id in enumerate(honour_tiers):
        if tier_id not in tier_ids:
            check.add(f"{path}.tiers[{position}]", f"未定义的档次 {tier_id!r}")
    title = check.text(entry, path, "title")
    for name in _PLACEHOLDER.findall(title):
        if name not in TITLE_FIELDS:
            check.add(
                _join(path, "title"), f"称号中的 {{{name}}} 无效;可用 {{item}}(赛项)、{{occupation}}(职业/工种)、{{competition}}(赛事)"
            )
    return Honour(
        id=check.text(entry, path, "id"),
        title=title,
        source=check.text(entry, path, "source"),
        tiers=honour_tiers,
        to=check.choice(entry, path, "to", HONOUR_TO, "competitor"),
        eligibility=(_eligibility(check, entry["eligibility"], _join(path, "eligibility")) if "eligibility" in entry else None),
    )


_TOP_KEYS = {
    "schema",
    "id",
    "name",
    "name_en",
    "document",
    "issuer",
    "region",
    "in_force",
    "rules",
    "eligibility",
    "payers",
    "tiers",
    "honours",
    "withholding",
}


def validate_policy(data: Any, file: str) -> Policy:
    """Build a Policy from a parsed TOML dict, or raise PolicyError naming file, key and problem."""
    check = _Checker()
    top = check.table(data, "")
    if top is None:
        raise PolicyError(file, check.problems)
    check.known(top, "", _TOP_KEYS)
    if top.get("schema") != SCHEMA_VERSION:
        check.add("schema", f"应为 {SCHEMA_VERSION}(本程序支持的政策文件格式版本),实际是 {top.get('schema')!r}")
    policy_id = check.text(top, "", "id")
    if policy_id and not _ID.match(policy_id):
        check.add("id", f"{policy_id!r} 只能用小写字母、数字、- 和 _")
    name = check.text(top, "", "name")
    document = check.text(top, "", "document")

    in_force_from = in_force_until = None
    if "in_force" in top and (table := check.table(top["in_force"], "in_force")) is not None:
        check.known(table, "in_force", {"from", "until"})
        in_force_from = check.date_value(table, "in_force", "from")
        in_force_until = check.date_value(table, "in_force", "until")
        if in_force_from and in_force_until and in_force_from > in_force_until:
            check.add("in_force.until", "结束日期早于开始日期")

    rules = Rules()
    if "rules" in top and (table := check.table(top["rules"], "rules")) is not None:
        check.known(table, "rules", {"dedup", "ledger_mode", "team_split", "coach_split", "unit_subsidy_mode", "no_ties", "source"})
        no_ties = table.get("no_ties", False)
        if not isinstance(no_ties, bool):
            check.add("rules.no_ties", f"应为 true 或 false,实际是 {no_ties!r}")
            no_ties = False
        rules = Rules(
            dedup=check.choice(table, "rules", "dedup", DEDUP_RULES, "highest_per_person_skill"),
            ledger_mode=check.choice(table, "rules", "ledger_mode", LEDGER_MODES, "top_up"),
            team_split=check.choice(table, "rules", "team_split", SPLITS, "per_person"),
            coach_split=check.choice(table, "rules", "coach_split", SPLITS, "by_shares"),
            unit_subsidy_mode=check.choice(table, "rules", "unit_subsidy_mode", UNIT_MODES, "per_winner"),
            no_ties=no_ties,
            source=check.text(table, "rules", "source", required=False),
        )

    eligibility = _eligibility(check, top["eligibility"], "eligibility") if "eligibility" in top else Eligibility()
    withholding = _withholding(check, top["withholding"], "withholding") if "withholding" in top else None

    payers: dict[str, Payer] = {}
    if "payers" not in top:
        check.add("payers", "缺少必填项(至少一个支付方,如 [payers.city])")
    elif (table := check.table(top["payers"], "payers")) is not None:
        for payer_key in sorted(table):
            path = f"payers.{payer_key}"
            entry = check.table(table[payer_key], path)
            if entry is None:
                continue
            check.known(entry, path, {"name", "from_competition", "source"})
            if not _ID.match(payer_key):
                check.add(path, "支付方的键只能用小写字母、数字、- 和 _")
            from_competition = None
            if "from_competition" in entry:
                from_competition = check.choice(entry, path, "from_competition", ("organizer",), "organizer")
            payers[payer_key] = Payer(
                key=payer_key,
                name=check.text(entry, path, "name"),
                from_competition=from_competition,
                source=check.text(entry, path, "source", required=False),
            )

    tiers: list[Tier] = []
    raw_tiers = top.get("tiers")
    if not isinstance(raw_tiers, list) or not raw_tiers:
        check.add("tiers", "缺少必填项:至少一个 [[tiers]]")
    else:
        seen: set[str] = set()
        for index, raw in enumerate(raw_tiers):
            tier = _tier(check, raw, f"tiers[{index}]", index, payers)
            if tier is None:
                continue
            if tier.id in seen:
                check.add(f"tiers[{index}].id", f"档次 id {tier.id!r} 重复")
            seen.add(tier.id)
            tiers.append(tier)

    honours: list[Honour] = []
    raw_honours = top.get("honours", [])
    if not isinstance(raw_honours, list):
        check.add("honours", "应为 [[honours]] 列表")
    else:
        tier_ids = {t.id for t in tiers}
        for index, raw in enumerate(raw_honours):
            path = f"honours[{index}]"
            entry = check.table(raw, path)
            if entry is not None:
                honours.append(_honour(check, entry, path, tier_ids))
    for tier in tiers:
        if tier.honour_only and not any(not h.tiers or tier.id in h.tiers for h in honours):
            check.add(
                f"tiers[{tier.order}].honour_only",
                f"档次 {tier.id} 只授予荣誉,但没有任何 [[honours]] 指向它(在荣誉的 tiers 中写上 {tier.id!r})",
            )

    if check.problems:
        raise PolicyError(file, check.problems)
    return Policy(
        id=policy_id,
        name=name,
        document=document,
        tiers=tuple(tiers),
        payers=payers,
        rules=rules,
        eligibility=eligibility,
        honours=tuple(honours),
        in_force_from=in_force_from,
        in_force_until=in_force_until,
        issuer=check.text(top, "", "issuer", required=False),
        region=check.text(top, "", "region", required=False),
        file=file,
        withholding=withholding or NO_WITHHOLDING,
        name_en=check.text(top, "", "name_en", required=False),
    )
