"""Build engine inputs from plain values (the JSON form, or cells read from the Excel template).

Each field parser raises InputError with a Chinese message; callers add where it was (a JSON
key path, or a sheet/row/column). Chinese and English spellings are both accepted:
级别 世界/国家/省级/市级 or world/national/provincial/municipal, 成绩 第1名/金牌/优胜奖/国家集训队
or place:1/gold/excellence/squad:national, and so on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from contest.domain import idcard
from contest.domain.awards.model import (
    MEDAL_PLACES,
    Achievement,
    BatchSettings,
    Coach,
    Competition,
    InputPool,
    LedgerEntry,
    Member,
    Person,
    Result,
)
from contest.domain.awards.policy import LEDGER_MODES, LEVELS, ROLES, UNIT_MODES
from contest.domain.money import Money, MoneyError
from contest.domain.text import N_, Text, looked_up, message_of


class InputError(ValueError):
    """A value that cannot be used; ``where`` names the place (key path, or sheet/row/column)."""

    def __init__(self, message: str, where: str = "") -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)

    def shown(self) -> str:
        """The message with its place, as a page lists it: a ``Text``, so both are translated."""
        return Text("{where}: {message}", where=self.where, message=looked_up(self.message)) if self.where else self.message


ROOT = N_("(根)")  # the place of a problem with the whole JSON document


class InputErrors(ValueError):
    """Every problem found in one input; no achievement is used when there is any."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


_LEVEL_ALIASES = {
    "world": "world",
    N_("世界"): "world",
    "世界级": "world",
    "national": "national",
    N_("国家"): "national",
    "国家级": "national",
    "全国": "national",
    "provincial": "provincial",
    N_("省"): "provincial",
    "省级": "provincial",
    "municipal": "municipal",
    N_("市"): "municipal",
    "市级": "municipal",
}
_CLASS_ALIASES = {"1": 1, N_("一类"): 1, "一": 1, "2": 2, N_("二类"): 2, "二": 2}
KIND_ALIASES = {
    "世界技能大赛": "worldskills",
    "世赛": "worldskills",
    "世赛中国选拔赛": "worldskills_china_selection",
    "世赛选拔赛": "worldskills_china_selection",
    "国家级一类": "national_class1",
    "国家级一类竞赛": "national_class1",
    "全国职业技能大赛": "national_vocational_skills_competition",
}
_KIND_TAG = re.compile(r"^[a-z0-9_]+$")
_CN_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_MEDALS = {
    "gold": "gold",
    "金": "gold",
    "金牌": "gold",
    "金奖": "gold",
    "silver": "silver",
    "银": "silver",
    "银牌": "silver",
    "银奖": "silver",
    "bronze": "bronze",
    "铜": "bronze",
    "铜牌": "bronze",
    "铜奖": "bronze",
}
_EXCELLENCE = {"excellence", N_("优胜奖"), "优胜"}
_SQUADS = {
    "squad:national": "national",
    "国家集训队": "national",
    "世赛国家集训队": "national",
    "入选国家集训队": "national",
    "入选世赛国家集训队": "national",
    "squad:provincial": "provincial",
    "省集训队": "provincial",
    "入选省集训队": "provincial",
}
_PLACE = re.compile(r"^(?:place:|第)?\s*([0-9]+|[一二三四五六七八九十])\s*(?:名)?$")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_level(value: Any) -> str:
    text = _text(value).lower()
    if text not in _LEVEL_ALIASES:
        raise InputError(Text("级别 {value} 无效;可填 世界/国家/省级/市级(或 {levels})", value=repr(value), levels="/".join(LEVELS)))
    return _LEVEL_ALIASES[text]


def parse_class(value: Any) -> int | None:
    text = _text(value)
    if not text:
        return None
    if text not in _CLASS_ALIASES:
        raise InputError(Text("类别 {value} 无效;可填 一类/二类(或 1/2),或留空", value=repr(value)))
    return _CLASS_ALIASES[text]


def parse_kinds(value: Any) -> frozenset[str]:
    if value is None or value == "":
        return frozenset()
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,,、;;\s]+", _text(value))
    tags = set()
    for item in items:
        text = _text(item)
        if not text:
            continue
        tag = KIND_ALIASES.get(text, text)
        if not _KIND_TAG.match(tag):
            raise InputError(
                Text(
                    "赛事标签 {value} 无效;可填 {kinds}(或其中文名),多个用逗号分隔",
                    value=repr(text),
                    kinds=", ".join(sorted(set(KIND_ALIASES.values()))),
                )
            )
        tags.add(tag)
    return frozenset(tags)


def parse_year(value: Any) -> int:
    text = _text(value)
    if not re.fullmatch(r"(19|20|21)[0-9]{2}", text):
        raise InputError(Text("年份 {value} 无效;应为四位数字,如 2023", value=repr(value)))
    return int(text)


def parse_date(value: Any, what: str = N_("日期")) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        parts = text.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                return date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                pass
    raise InputError(Text("{what} {value} 无效;应为 YYYY-MM-DD,如 2023-09-15", what=Text(what), value=repr(value)))


def parse_result(value: Any) -> Result:
    """第1名 / 1 / place:1, 金牌 / gold (stored with place 1), 优胜奖 / excellence, 国家集训队."""
    if isinstance(value, Mapping):  # JSON form may also give {"place": 2} or {"medal": "gold"}
        return _result_from_mapping(value)
    text = _text(value)
    lowered = text.lower()
    if lowered in _MEDALS:
        medal = _MEDALS[lowered]
        return Result(place=MEDAL_PLACES[medal], medal=medal)
    if lowered in _EXCELLENCE:
        return Result(excellence=True)
    if lowered in _SQUADS:
        return Result(squad=_SQUADS[lowered])
    match = _PLACE.match(lowered)
    if match:
        number = match.group(1)
        place = int(number) if number.isdigit() else _CN_NUMBERS[number]
        if place >= 1:
            return Result(place=place)
    raise InputError(Text("成绩 {value} 无效;可填 第1名(或 1)、金牌/银牌/铜牌、优胜奖、国家集训队、省集训队", value=repr(value)))


def _result_from_mapping(value: Mapping[str, Any]) -> Result:
    place = value.get("place")
    medal = value.get("medal")
    if medal is not None:
        medal_key = _MEDALS.get(_text(medal).lower())
        if medal_key is None:
            raise InputError(Text("奖牌 {medal} 无效;可填 gold/silver/bronze", medal=repr(medal)))
        if place is not None and int(place) != MEDAL_PLACES[medal_key]:
            raise InputError(Text("奖牌 {medal} 与名次 {place} 不一致", medal=repr(medal), place=repr(place)))
        return Result(place=MEDAL_PLACES[medal_key], medal=medal_key)
    if place is not None:
        if isinstance(place, bool) or not isinstance(place, int) or place < 1:
            raise InputError(Text("名次 {place} 无效;应为正整数", place=repr(place)))
        return Result(place=place, excellence=bool(value.get("excellence")))
    if value.get("excellence"):
        return Result(excellence=True)
    if value.get("squad") in ("national", "provincial"):
        return Result(squad=value["squad"])
    raise InputError(Text("成绩 {value} 无效;应为 place、medal、excellence 或 squad 之一", value=repr(dict(value))))


def parse_share(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InputError(Text("份额 {value} 无效", value=repr(value)))
    text = _text(value).rstrip("%")
    try:
        share = Decimal(text)
    except InvalidOperation:
        raise InputError(Text("份额 {value} 无效;应为非负数字,如 1、0.5 或 60", value=repr(value))) from None
    if not share.is_finite() or share < 0:
        raise InputError(Text("份额 {value} 无效;应为非负数字", value=repr(value)))
    return share


def parse_flag(value: Any) -> bool:
    text = _text(value).lower()
    if text in ("", "否", "no", "false", "0", "n"):
        return False
    if text in ("是", "yes", "true", "1", "y", "√", "牵头"):
        return True
    raise InputError(Text("{value} 无效;填 是 或 否", value=repr(value)))


def parse_id_number(value: Any) -> str:
    """The award inputs' error type around the one ID number parser (domain/idcard.py)."""
    try:
        return idcard.validate(value)
    except idcard.IdNumberError as exc:
        raise InputError(message_of(exc)) from None


def parse_count(value: Any, what: str) -> int | None:
    """A whole number of people or entries (参赛人数, 参赛规模), or None when blank."""
    text = _text(value)
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise InputError(Text("{what} {value} 无效;应为正整数", what=Text(what), value=repr(value)))
    return int(text)


def parse_money(value: Any) -> Money:
    try:
        return Money(value) if not isinstance(value, Money) else value
    except MoneyError as exc:
        raise InputError(message_of(exc)) from None


def _required(value: Any, what: str) -> str:
    text = _text(value)
    if not text:
        raise InputError(Text("{what}不能为空", what=Text(what)))
    return text


def _at(where: str, key: str) -> str:
    """The place of a key inside ``where`` (a JSON key path). A function, not an f-string in the
    ``InputError(...)`` call: `make messages` warns about every f-string inside an extracted call."""
    return f"{where}.{key}"


class _Collector:
    def __init__(self) -> None:
        self.errors: list[InputError] = []

    def run(self, where: str, parse: Any, *args: Any) -> Any:
        try:
            return parse(*args)
        except InputError as exc:
            self.errors.append(InputError(exc.message, where))
            return None


def person_from_dict(data: Mapping[str, Any], where: str, errors: _Collector) -> Person | None:
    before = len(errors.errors)
    id_number = errors.run(f"{where}.id_number", parse_id_number, data.get("id_number"))
    name = errors.run(f"{where}.name", _required, data.get("name"), N_("姓名"))
    birth = errors.run(f"{where}.birth_date", parse_date, data.get("birth_date"), N_("出生日期"))
    if len(errors.errors) > before:
        return None
    return Person(
        id_number=id_number,
        name=name,
        unit=_text(data.get("unit")),
        employment_region=_text(data.get("employment_region")),
        employee_status=_text(data.get("employee_status")),
        birth_date=birth,
    )


def achievement_from_dict(data: Any, where: str, pool: InputPool | None = None) -> Achievement:
    """The JSON form of one achievement (see docs/awards.md); raises InputErrors. With a pool,
    people, members and coaches equal to earlier ones are the earlier objects."""
    errors = _Collector()
    if not isinstance(data, Mapping):
        raise InputErrors([InputError("应为对象(object)", where)])
    achievement_id = errors.run(f"{where}.id", _required, data.get("id"), N_("成绩编号"))
    comp = data.get("competition")
    competition = None
    if not isinstance(comp, Mapping):
        errors.errors.append(InputError("缺少赛事信息(competition 对象)", _at(where, "competition")))
    else:
        path = f"{where}.competition"
        name = errors.run(f"{path}.name", _required, comp.get("name"), N_("赛事名称"))
        level = errors.run(f"{path}.level", parse_level, comp.get("level"))
        year = errors.run(f"{path}.year", parse_year, comp.get("year"))
        klass = errors.run(f"{path}.class", parse_class, comp.get("class"))
        kinds = errors.run(f"{path}.kinds", parse_kinds, comp.get("kinds"))
        when = errors.run(f"{path}.date", parse_date, comp.get("date"), N_("比赛日期"))
        if name and level and year:
            competition = Competition(
                name=name,
                level=level,
                year=year,
                competition_class=klass,
                kinds=kinds or frozenset(),
                organizer=_text(comp.get("organizer")),
                date=when,
            )
    item = errors.run(f"{where}.item", _required, data.get("item"), N_("赛项"))
    skill = errors.run(f"{where}.skill_code", _required, data.get("skill_code"), N_("技能代码"))
    result = errors.run(f"{where}.result", parse_result, data.get("result"))
    entry_size = errors.run(f"{where}.entry_size", parse_count, data.get("entry_size"), N_("参赛人数"))
    field_size = errors.run(f"{where}.field_size", parse_count, data.get("field_size"), N_("参赛规模"))
    members: list[Member] = []
    raw_members = data.get("members")
    if not isinstance(raw_members, list) or not raw_members:
        errors.errors.append(InputError("至少要有一名选手(members 列表)", _at(where, "members")))
    else:
        for index, raw in enumerate(raw_members):
            path = f"{where}.members[{index}]"
            if not isinstance(raw, Mapping):
                errors.errors.append(InputError("应为对象(object)", path))
                continue
            person = person_from_dict(raw, path, errors)
            share = errors.run(f"{path}.share", parse_share, raw.get("share"))
            if person is not None:
                member = Member(person=person, share=share)
                members.append(pool.member(member) if pool else member)
    coaches: list[Coach] = []
    raw_coaches = data.get("coaches", [])
    if not isinstance(raw_coaches, list):
        errors.errors.append(InputError("应为列表", _at(where, "coaches")))
    else:
        for index, raw in enumerate(raw_coaches):
            path = f"{where}.coaches[{index}]"
            if not isinstance(raw, Mapping):
                errors.errors.append(InputError("应为对象(object)", path))
                continue
            person = person_from_dict(raw, path, errors)
            share = errors.run(f"{path}.share", parse_share, raw.get("share"))
            lead = errors.run(f"{path}.lead", parse_flag, raw.get("lead"))
            if person is not None:
                coach = Coach(person=person, share=share, lead=bool(lead))
                coaches.append(pool.coach(coach) if pool else coach)
    if errors.errors:
        raise InputErrors(errors.errors)
    assert competition is not None  # else an error was recorded
    achievement = Achievement(
        id=achievement_id,
        competition=competition,
        item=item,
        skill_code=skill,
        result=result,
        members=pool.members(tuple(members)) if pool else tuple(members),
        coaches=tuple(coaches),
        group=_text(data.get("group")),
        entry_size=entry_size,
        field_size=field_size,
        occupation=_text(data.get("occupation")),
    )
    check_achievement(achievement, where)
    return achievement


def check_achievement(achievement: Achievement, where: str) -> None:
    """Rules across fields: shares all given or none, one lead coach, no person twice."""
    problems: list[InputError] = []
    for label, people in (("members", achievement.members), ("coaches", achievement.coaches)):
        shares = [p.share for p in people]
        if any(s is not None for s in shares) and any(s is None for s in shares):
            problems.append(InputError("份额要么全部填写,要么全部留空(留空即平均分配)", _at(where, label)))
        elif shares and all(s is not None for s in shares) and sum(s for s in shares if s is not None) <= 0:
            problems.append(InputError("份额之和必须大于 0", _at(where, label)))
        ids = [p.person.id_number for p in people]
        if len(set(ids)) != len(ids):
            problems.append(InputError("同一人重复出现", _at(where, label)))
    if sum(1 for c in achievement.coaches if c.lead) > 1:
        problems.append(InputError("只能有一名牵头教练", _at(where, "coaches")))
    listed = len(achievement.members)
    if achievement.entry_size is not None:
        if achievement.entry_size < listed:
            problems.append(
                InputError(
                    Text("参赛人数 {size} 少于列出的选手({listed} 人)", size=achievement.entry_size, listed=listed),
                    _at(where, "entry_size"),
                )
            )
        elif achievement.entry_size > listed and achievement.members and achievement.members[0].share is not None:
            problems.append(InputError("填写了份额时,须列出参赛单元的全部成员(参赛人数与选手行数一致)", _at(where, "entry_size")))
    if achievement.field_size is not None and achievement.result.place is not None and achievement.result.place > achievement.field_size:
        problems.append(
            InputError(
                Text("名次第{place}名大于参赛规模 {size}", place=achievement.result.place, size=achievement.field_size),
                _at(where, "field_size"),
            )
        )
    if problems:
        raise InputErrors(problems)


def achievements_from_json(data: Any) -> list[Achievement]:
    """``{"achievements": [...]}`` or a bare list. Any bad entry: InputErrors, nothing returned."""
    items = data.get("achievements") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise InputErrors([InputError(N_('应为 {"achievements": [...]} 或成绩列表'), ROOT)])
    found: list[Achievement] = []
    errors: list[InputError] = []
    seen: set[str] = set()
    pool = InputPool()  # a big batch names the same people many times: one object each
    for index, raw in enumerate(items):
        where = f"achievements[{index}]"
        try:
            achievement = achievement_from_dict(raw, where, pool)
        except InputErrors as exc:
            errors.extend(exc.errors)
            continue
        if achievement.id in seen:
            errors.append(InputError(Text("成绩编号 {id} 重复", id=repr(achievement.id)), _at(where, "id")))
        seen.add(achievement.id)
        found.append(achievement)
    if errors:
        raise InputErrors(errors)
    return found


def settings_from_dict(data: Mapping[str, Any]) -> BatchSettings:
    errors = _Collector()
    allowed = {"batch_id", "batch_date", "amounts", "achievement_amounts", "unit_subsidy_mode", "ledger_mode"}
    for key in sorted(set(data) - allowed):
        errors.errors.append(InputError(Text("未知的键;可用:{keys}", keys=", ".join(sorted(allowed))), key))
    batch_date = errors.run("batch_date", parse_date, data.get("batch_date"), N_("批次日期"))
    amounts: dict[str, Money] = {}
    achievement_amounts: dict[str, Money] = {}
    for name, target in (("amounts", amounts), ("achievement_amounts", achievement_amounts)):
        table = data.get(name, {})
        if not isinstance(table, Mapping):
            errors.errors.append(InputError("应为表(键 -> 金额)", name))
            continue
        for key in sorted(table):
            amount = errors.run(f"{name}.{key}", parse_money, table[key])
            if amount is not None:
                target[str(key)] = amount
    modes = {}
    for name, options in (("unit_subsidy_mode", UNIT_MODES), ("ledger_mode", LEDGER_MODES)):
        value = data.get(name)
        if value is not None and value not in options:
            errors.errors.append(InputError(Text("取值 {value} 无效;可选:{options}", value=repr(value), options=", ".join(options)), name))
            value = None
        modes[name] = value
    if errors.errors:
        raise InputErrors(errors.errors)
    return BatchSettings(
        batch_id=_text(data.get("batch_id")), batch_date=batch_date, amounts=amounts, achievement_amounts=achievement_amounts, **modes
    )


def ledger_from_json(data: Any) -> list[LedgerEntry]:
    """A list of entries, ``{"entries": [...]}``, or an earlier payouts JSON (its ledger_entries)."""
    items = data.get("entries", data.get("ledger_entries")) if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise InputErrors([InputError(N_('台账应为条目列表、{"entries": [...]} 或以往的发放结果 JSON'), ROOT)])
    entries: list[LedgerEntry] = []
    errors = _Collector()
    for index, raw in enumerate(items):
        where = f"entries[{index}]"
        if not isinstance(raw, Mapping):
            errors.errors.append(InputError("应为对象(object)", where))
            continue
        before = len(errors.errors)
        role = _text(raw.get("role"))
        if role not in ROLES:
            errors.errors.append(
                InputError(Text("角色 {role} 无效;可选:{roles}", role=repr(role), roles=", ".join(ROLES)), _at(where, "role"))
            )
        policy_id = errors.run(f"{where}.policy_id", _required, raw.get("policy_id"), N_("政策 id"))
        recipient = errors.run(f"{where}.recipient_id", _required, raw.get("recipient_id"), N_("领取人"))
        amount = errors.run(f"{where}.amount", parse_money, raw.get("amount"))
        paid_on = errors.run(f"{where}.paid_on", parse_date, raw.get("paid_on"), N_("发放日期"))
        if len(errors.errors) > before:
            continue
        entries.append(
            LedgerEntry(
                policy_id=policy_id,
                batch_id=_text(raw.get("batch_id")),
                paid_on=paid_on,
                recipient_id=recipient,
                role=role,
                skill_code=_text(raw.get("skill_code")),
                subject_id=_text(raw.get("subject_id")),
                amount=amount,
                tier_id=_text(raw.get("tier_id")),
                achievement_id=_text(raw.get("achievement_id")),
            )
        )
    if errors.errors:
        raise InputErrors(errors.errors)
    return entries
