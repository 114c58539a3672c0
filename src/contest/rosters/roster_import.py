"""Roster import (参赛单元): units, people, items and their schemes, competitors and coaches from one
workbook; checked whole against the database, then written in one transaction, or nothing.

Upsert keys: units by name, people by 证件号码, items by 职业(工种)代码 (only while in setup),
entries by (item, 参赛号), judge assignments by (item, person). An empty optional cell keeps the
stored value. Nothing is written (and no audit record is made) when the file matches the database,
so importing the same file twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contest.audit.service import Actor, record
from contest.db.models import (
    Entry,
    EntryCoach,
    EntryMember,
    Item,
)
from contest.domain.competition import ITEM_STATUSES, excellence_fraction_problem, validate_item
from contest.domain.lifecycle import SETUP
from contest.domain.scheme import (
    COMPONENT_KINDS,
    ComponentSpec,
    CriterionSpec,
    default_aggregation,
    validate_scheme,
)
from contest.domain.text import N_, Text
from contest.errors import Conflict
from contest.events.service import apply_scheme, get_competition, scheme_of
from contest.rosters.drafts import (
    AGGREGATION_BY_LABEL,
    AGGREGATION_SHOWN,
    ALL_WEIGHTS,
    COMPONENT_BY_LABEL,
    CONCURRENT,
    CRITERION_BY_LABEL,
    GENDERS,
    ITEM_TYPES,
    WEIGHT_COLUMNS,
    Context,
    Count,
    ImportResult,
    digest,
    load_entries,
    planned_person_changes,
    planned_unit_changes,
    read_units,
    safe_filename,
    sheet_order,
    write_people,
    write_units,
)
from contest.rosters.parse import Problems, Row, Sheet, label_of, read_sheets
from contest.rosters.sheets import (
    COACHES,
    COMPETITORS,
    CRITERIA,
    ENTRY_NO,
    GENDER,
    ID_NUMBER,
    ITEMS,
    NAME,
    PHONE,
    ROSTER_SHEETS,
    SKILL_CODE,
    UNITS,
)
from contest.xlsx.upload import parse_off_loop

# ---------------------------------------------------------------- roster: items and schemes


@dataclass
class ItemDraft:
    code: str
    skill_name: str
    name: str
    is_team: bool
    team_size: int
    weights: dict[str, Decimal]
    no_ties: bool | None
    fraction: Decimal | None
    row: Row
    group: str | None = None  # 组别; None (blank): keep the stored one


@dataclass
class CriterionRow:
    code: str
    kind: str
    spec: CriterionSpec
    row: Row


def _item_column(message: str) -> str:
    for column in ("团队人数", "赛项名称", "职业(工种)名称", SKILL_CODE):
        if column in message:
            return column
    return ""


def _read_items(sheet: Sheet, ctx: Context) -> dict[str, ItemDraft]:
    drafts: dict[str, ItemDraft] = {}
    for row in sheet:
        code = row.required(SKILL_CODE)
        ctx.listed_codes.add(code)
        skill_name = row.required("职业(工种)名称")
        name = row.text("赛项名称") or skill_name
        is_team = row.choice("类型", ITEM_TYPES, required=True)
        size = row.integer("团队人数", 1, 3)
        weights: dict[str, Decimal] = {}
        for kind, column in WEIGHT_COLUMNS.items():
            weight = row.decimal(column)
            if weight is not None:
                weights[kind] = weight
        no_ties = row.flag("排名不并列")
        fraction = row.decimal("优胜奖比例", percent=True)
        if fraction is not None and (problem := excellence_fraction_problem(fraction)):
            row.error("优胜奖比例", problem)
        if is_team is False and size not in (None, 1):
            row.error("团队人数", N_("个人赛项的团队人数应留空"))
        if is_team is not None:
            for message in validate_item(name, code, skill_name, is_team, size if is_team else 1):
                if "不能为空" not in message:  # blanks were reported by required()
                    row.error(_item_column(message), message)
        if code in drafts:
            row.error(SKILL_CODE, Text("职业(工种)代码「{code}」在第 {row} 行已列出", code=code, row=drafts[code].row.number))
            continue
        if code and is_team is not None:
            group = row.text("组别") or None
            drafts[code] = ItemDraft(code, skill_name, name, is_team, (size or 1) if is_team else 1, weights, no_ties, fraction, row, group)
    return drafts


def _read_criteria(sheet: Sheet, ctx: Context) -> dict[str, list[CriterionRow]]:
    by_code: dict[str, list[CriterionRow]] = {}
    for row in sheet:
        code = row.required(SKILL_CODE)
        kind = row.choice("组成部分", COMPONENT_BY_LABEL, required=True)
        crit_code = row.required("评分项编号")
        crit_name = row.required("评分项名称")
        max_mark = row.decimal("满分")
        if max_mark is None and not row.text("满分"):
            row.error("满分", Text("「{column}」不能为空", column=Text("满分")))
        step = row.decimal("步长")
        crit_kind = row.choice("类型", CRITERION_BY_LABEL, required=True)
        panel = row.integer("裁判人数", 1, 50)
        aggregation: str | None = None
        raw_aggregation = row.text("汇总方式")
        if raw_aggregation:
            aggregation = AGGREGATION_BY_LABEL.get(raw_aggregation)
            if aggregation is None:
                row.error(
                    "汇总方式",
                    Text(
                        "「{value}」无效,{column}应为 {options}",
                        value=raw_aggregation,
                        column=Text("汇总方式"),
                        options="/".join(AGGREGATION_SHOWN),
                    ),
                )
        if panel is None:
            if crit_kind == "judgement" and not row.text("裁判人数"):
                row.error("裁判人数", N_("评价分须填写裁判人数(至少 2)"))
            panel = 1
        if code and not ctx.item_known(code):
            row.error(SKILL_CODE, Text("未知的职业(工种)代码「{code}」:本赛事没有该赛项,请在赛项表中添加", code=code))
        if row.failed or kind is None or crit_kind is None or max_mark is None:
            by_code.setdefault(code, [])
            ctx.failed_scheme_codes.add(code)  # the item's scheme is not checked further
            continue
        spec = CriterionSpec(
            code=crit_code,
            name=crit_name,
            max_mark=max_mark,
            step=step if step is not None else Decimal("0.5"),
            kind=crit_kind,
            panel_size=panel,
            aggregation=aggregation or default_aggregation(crit_kind, panel),
        )
        by_code.setdefault(code, []).append(CriterionRow(code, kind, spec, row))
    return by_code


def _criterion_column(message: str) -> str:
    if "编号重复" in message:
        return "评分项编号"
    for word, column in (("满分", "满分"), ("步长", "步长"), ("类型", "类型"), ("汇总方式不能", "汇总方式"), ("裁判", "裁判人数")):
        if word in message:
            return column
    return ""


def _attribute_scheme_messages(messages: list[str], draft: ItemDraft | None, rows: list[CriterionRow]) -> None:
    for message in messages:
        target: tuple[Row, str] | None = None
        for crit in rows:
            label = COMPONENT_KINDS[crit.kind]
            if f"「{label}」评分项「{crit.spec.code} {crit.spec.name}」" in message:
                target = (crit.row, _criterion_column(message))
                break
        if target is None:
            named = next((lb for lb in COMPONENT_KINDS.values() if f"「{lb}」" in message), None)
            kind = COMPONENT_BY_LABEL.get(named or "")
            of_kind = [c for c in rows if c.kind == kind]
            if "满分之和" in message and of_kind:
                target = (of_kind[0].row, "满分")
            elif draft is not None and "权重" in message:
                target = (draft.row, WEIGHT_COLUMNS[kind] if kind else ALL_WEIGHTS)
            elif draft is not None and "没有评分项" in message and kind:
                target = (draft.row, WEIGHT_COLUMNS[kind])
            elif draft is not None:
                target = (draft.row, "")
            elif rows:
                target = (rows[0].row, "")
        if target is not None:
            target[0].error(target[1], message)


def _scheme_key(components: list[ComponentSpec]) -> tuple:
    return tuple(
        (
            c.kind,
            c.weight,
            tuple((k.code, k.name, k.max_mark, k.step, k.kind, k.panel_size, k.aggregation) for k in c.criteria),
        )
        for c in components
    )


def _plan_schemes(items: dict[str, ItemDraft], criteria: dict[str, list[CriterionRow]], ctx: Context) -> dict[str, list[ComponentSpec]]:
    """The new scheme per skill code, for every item whose scheme the file sets (validated)."""
    schemes: dict[str, list[ComponentSpec]] = {}
    codes = [c for c in items if items[c].weights] + [c for c in criteria if c not in items or not items[c].weights]
    for code in codes:
        draft = items.get(code)
        rows = criteria.get(code, [])
        stored = ctx.items.get(code)
        if (draft is not None and draft.row.failed) or code in ctx.failed_scheme_codes or code not in set(items) | set(ctx.items):
            continue
        if draft is not None and draft.weights:
            weights = dict(draft.weights)
        else:
            weights = {c.kind: c.weight for c in stored.components} if stored else {}
        if code in criteria:
            by_kind: dict[str, list[CriterionSpec]] = {}
            for crit in rows:
                by_kind.setdefault(crit.kind, []).append(crit.spec)
        else:
            by_kind = {c.kind: c.criteria for c in scheme_of(stored)} if stored else {}
        specs: list[ComponentSpec] = []
        missing = False
        for kind, label in COMPONENT_KINDS.items():
            if kind not in weights and kind not in by_kind:
                continue
            if kind not in weights:
                missing = True
                first = next(r for r in rows if r.kind == kind)
                first.row.error("组成部分", Text("赛项表中没有填写该赛项的{label}权重", label=Text(label)))
                continue
            specs.append(ComponentSpec(kind=kind, weight=weights[kind], criteria=list(by_kind.get(kind, []))))
        if missing:
            continue
        messages = validate_scheme(specs)
        if messages:
            _attribute_scheme_messages(messages, draft, rows)
            continue
        schemes[code] = specs
    return schemes


def _item_changes(item: Item, draft: ItemDraft) -> dict[str, object]:
    wanted: dict[str, object] = {
        "name": draft.name,
        "skill_name": draft.skill_name,
        "is_team": draft.is_team,
        "team_size": draft.team_size,
    }
    if draft.no_ties is not None:
        wanted["no_ties"] = draft.no_ties
    if draft.fraction is not None:
        wanted["excellence_fraction"] = draft.fraction
    if draft.group is not None:
        wanted["group_name"] = draft.group
    return {k: v for k, v in wanted.items() if getattr(item, k) != v}


# ---------------------------------------------------------------- roster: entries and coaches


@dataclass
class EntryDraft:
    code: str
    entry_no: str
    rows: list[Row] = field(default_factory=list)
    unit_name: str = ""
    team_name: str = ""
    members: list[str] = field(default_factory=list)  # 证件号码, in file order
    member_rows: list[Row] = field(default_factory=list)  # the row of each member
    coaches: list[tuple[str, int | None, bool]] = field(default_factory=list)  # (证件号码, share, is_lead)
    coach_rows: list[Row] = field(default_factory=list)


def _read_competitors(sheet: Sheet, ctx: Context) -> dict[tuple[str, str], EntryDraft]:
    entries: dict[tuple[str, str], EntryDraft] = {}
    seen_in_item: dict[tuple[str, str], Row] = {}
    for row in sheet:
        code = row.required(SKILL_CODE)
        entry_no = row.required(ENTRY_NO)
        name = row.required(NAME)
        number = row.id_number()
        gender = row.choice(GENDER, GENDERS)
        unit_name = row.required("选送单位")
        is_employee = row.flag("是否职工")
        ctx.check_unit(row, "选送单位", unit_name)
        if code and not ctx.item_known(code):
            row.error(SKILL_CODE, Text("未知的职业(工种)代码「{code}」:本赛事没有该赛项,请在赛项表中添加", code=code))
        if number and code:
            first = seen_in_item.get((code, number))
            if first is not None:
                row.error(ID_NUMBER, Text("同一选手在本赛项中重复出现(第 {row} 行已有该证件号码)", row=first.number))
            else:
                seen_in_item[(code, number)] = row
        ctx.person(
            row, name, number, gender,
            phone=row.text(PHONE), region=row.text("就业地区"), is_employee=is_employee, unit_name=unit_name or None,
        )  # fmt: skip
        if not (code and entry_no):
            continue
        entry = entries.setdefault((code, entry_no), EntryDraft(code, entry_no))
        entry.rows.append(row)
        if number:
            entry.members.append(number)
            entry.member_rows.append(row)
    return entries


def _check_entries(entries: dict[tuple[str, str], EntryDraft], ctx: Context, items: dict[str, ItemDraft]) -> None:
    for (code, entry_no), entry in entries.items():
        first = entry.rows[0]
        entry.unit_name = first.text("选送单位")
        team_names = [r.text("团队名称") for r in entry.rows if r.text("团队名称")]
        entry.team_name = team_names[0] if team_names else ""
        for row in entry.rows[1:]:
            if row.text("选送单位") and row.text("选送单位") != entry.unit_name:
                row.error("选送单位", Text("同一团队的成员选送单位应相同(第 {row} 行为「{unit}」)", row=first.number, unit=entry.unit_name))
            if row.text("团队名称") and entry.team_name and row.text("团队名称") != entry.team_name:
                row.error("团队名称", Text("同一团队的团队名称应相同(第 {row} 行为「{team}」)", row=first.number, team=entry.team_name))
        draft, stored = items.get(code), ctx.items.get(code)
        known: ItemDraft | Item | None = draft or stored
        if known is None:
            continue
        is_team, size, item_name = known.is_team, known.team_size, known.name
        if not is_team:
            for row in entry.rows[1:]:
                row.error(
                    ENTRY_NO,
                    Text(
                        "个人赛项「{item}」的参赛号「{entry_no}」只能有一名选手(第 {row} 行已使用)",
                        item=item_name,
                        entry_no=entry_no,
                        row=first.number,
                    ),
                )
        elif len(entry.rows) != size:
            first.error(
                ENTRY_NO,
                Text(
                    "团队赛项「{item}」每队应为 {size} 人,参赛号「{entry_no}」有 {count} 人",
                    item=item_name,
                    size=size,
                    entry_no=entry_no,
                    count=len(entry.rows),
                ),
            )


def _read_coaches(sheet: Sheet, ctx: Context, entries: dict[tuple[str, str], EntryDraft]) -> None:
    for row in sheet:
        code = row.required(SKILL_CODE)
        entry_no = row.required(ENTRY_NO)
        name = row.required(NAME)
        number = row.id_number()
        unit_name = row.text("所在单位")
        share = row.integer("份额", 1, 1_000_000)
        lead = row.flag("是否主教练")
        ctx.check_unit(row, "所在单位", unit_name)
        ctx.person(row, name, number, None, unit_name=unit_name or None)
        if not (code and entry_no):
            continue
        if not ctx.item_known(code):
            row.error(SKILL_CODE, Text("未知的职业(工种)代码「{code}」:本赛事没有该赛项", code=code))
            continue
        entry = entries.get((code, entry_no))
        if entry is None:
            row.error(ENTRY_NO, Text("参赛号「{entry_no}」在选手表中不存在(职业(工种)代码 {code})", entry_no=entry_no, code=code))
            continue
        if number is None:
            continue
        if any(c[0] == number for c in entry.coaches):
            row.error(ID_NUMBER, Text("该教练在参赛号「{entry_no}」中重复出现", entry_no=entry_no))
            continue
        if number in entry.members:
            row.error(ID_NUMBER, Text("该教练同时是参赛号「{entry_no}」的选手", entry_no=entry_no))
            continue
        if lead and any(c[2] for c in entry.coaches):
            row.error("是否主教练", Text("参赛号「{entry_no}」已有一名主教练,每个参赛单元至多一名", entry_no=entry_no))
        entry.coaches.append((number, share, bool(lead)))
        entry.coach_rows.append(row)
    for entry in entries.values():
        with_share = [s is not None for _, s, _ in entry.coaches]
        if any(with_share) and not all(with_share):
            for row, has in zip(entry.coach_rows, with_share, strict=True):
                if not has:
                    row.error("份额", Text("参赛号「{entry_no}」的教练份额要么都填写,要么都不填写(平均分配)", entry_no=entry.entry_no))


def _entry_changed(stored: Entry, draft: EntryDraft, coaches_given: bool) -> bool:
    if stored.unit.name != draft.unit_name:
        return True
    if draft.team_name and stored.team_name != draft.team_name:
        return True
    if [m.person.id_number for m in stored.members] != draft.members:
        return True
    return bool(coaches_given and [(c.person.id_number, c.share, c.is_lead) for c in stored.coaches] != draft.coaches)


def _check_stored_entries(entries: dict[tuple[str, str], EntryDraft], stored: dict[tuple[str, str], Entry]) -> None:
    """A person in the file must not stay registered on another entry of the same item."""
    elsewhere: dict[tuple[str, str], str] = {}
    for (code, entry_no), entry in stored.items():
        if (code, entry_no) in entries:
            continue  # replaced by the file's list
        for member in entry.members:
            elsewhere[(code, member.person.id_number)] = entry_no
    for (code, _), draft in entries.items():
        for number, row in zip(draft.members, draft.member_rows, strict=True):
            other = elsewhere.get((code, number))
            if other is not None:
                row.error(ID_NUMBER, Text("该选手已在本赛项参赛号「{entry_no}」中登记(系统中已有),同一赛项不能重复报名", entry_no=other))


# ---------------------------------------------------------------- roster import


async def import_roster(db: AsyncSession, actor: Actor, competition_id: int, filename: str, content: bytes) -> ImportResult:
    """Check the roster workbook; when it is clean, write it in one transaction. Never half-writes."""
    await get_competition(db, competition_id)
    problems = Problems(sheet_order(ROSTER_SHEETS))
    sheets = await parse_off_loop(read_sheets, content, ROSTER_SHEETS, problems)
    result = ImportResult("roster", filename)
    ctx = Context(db, competition_id, problems)
    await ctx.load_items()
    unit_names = [r.text("单位名称") for r in sheets[UNITS.name]]
    unit_names += [r.text("选送单位") for r in sheets[COMPETITORS.name]]
    unit_names += [r.text("所在单位") for r in sheets[COACHES.name]]
    await ctx.load_units(unit_names)

    read_units(sheets[UNITS.name], ctx)
    items = _read_items(sheets[ITEMS.name], ctx)
    criteria = _read_criteria(sheets[CRITERIA.name], ctx)
    schemes = _plan_schemes(items, criteria, ctx)
    entries = _read_competitors(sheets[COMPETITORS.name], ctx)
    _check_entries(entries, ctx, items)
    coaches_given = sheets[COACHES.name].present
    _read_coaches(sheets[COACHES.name], ctx, entries)
    await ctx.load_people()
    ctx.check_people_against_db()
    stored_entries = await load_entries(ctx)
    _check_stored_entries(entries, stored_entries)

    # Items that have left setup may not change, nor may their entries.
    item_changes = {code: _item_changes(ctx.items[code], d) for code, d in items.items() if code in ctx.items}
    scheme_changes = {
        code: specs
        for code, specs in schemes.items()
        if code not in ctx.items or _scheme_key(specs) != _scheme_key(scheme_of(ctx.items[code]))
    }
    for code, stored in ctx.items.items():
        if stored.status == SETUP:
            continue
        status = label_of(ITEM_STATUSES.get(stored.status, stored.status))
        if item_changes.get(code) or code in scheme_changes:
            row = items[code].row if code in items else criteria[code][0].row
            row.error("", Text("赛项「{item}」已开始评分(状态:{status}),不能再修改赛项信息或评分方案", item=stored.name, status=status))
        for key, entry in entries.items():
            if key[0] == code and (key not in stored_entries or _entry_changed(stored_entries[key], entry, coaches_given)):
                entry.rows[0].error(
                    ENTRY_NO, Text("赛项「{item}」已开始评分(状态:{status}),不能再增加或修改参赛单元", item=stored.name, status=status)
                )

    if not any(s.rows for s in sheets.values()) and not problems:
        problems.add(COMPETITORS.name, 0, "", N_("文件中没有可导入的数据(以“示例”开头的行不会导入)"))
    if problems:
        result.problems = problems.sorted()
        return result

    counts = result.counts
    for label in ("单位", "赛项", "评分方案", "人员", "参赛单元"):
        counts[label] = Count()
    result.kept_entries = sum(1 for key in stored_entries if key not in entries)

    nothing_to_do = (
        not planned_unit_changes(ctx)
        and all(code in ctx.items for code in items)
        and not any(item_changes.values())
        and not scheme_changes
        and not planned_person_changes(ctx)
        and all(key in stored_entries and not _entry_changed(stored_entries[key], e, coaches_given) for key, e in entries.items())
    )
    if nothing_to_do:
        counts["单位"].unchanged = len(ctx.unit_drafts)
        counts["赛项"].unchanged = len(items)
        counts["评分方案"].unchanged = len(schemes)
        counts["人员"].unchanged = len(ctx.person_drafts)
        counts["参赛单元"].unchanged = len(entries)
        return result

    try:
        await write_units(ctx, counts["单位"])
        await _write_items(ctx, items, item_changes, schemes, scheme_changes, counts)
        await write_people(ctx, counts["人员"])
        await _write_entries(ctx, entries, stored_entries, coaches_given, counts["参赛单元"])
    except IntegrityError:
        await db.rollback()
        raise Conflict(CONCURRENT) from None
    detail = {"file": safe_filename(filename), "sha256": digest(content), "counts": result.summary(), "kept_entries": result.kept_entries}
    await record(db, actor, "roster.import", "competition", competition_id, detail)
    await db.commit()
    return result


async def _write_items(
    ctx: Context,
    items: dict[str, ItemDraft],
    item_changes: dict[str, dict[str, object]],
    schemes: dict[str, list[ComponentSpec]],
    scheme_changes: dict[str, list[ComponentSpec]],
    counts: dict[str, Count],
) -> None:
    for code, draft in items.items():
        item = ctx.items.get(code)
        if item is None:
            item = Item(
                competition_id=ctx.competition_id,
                skill_code=code,
                skill_name=draft.skill_name,
                name=draft.name,
                is_team=draft.is_team,
                team_size=draft.team_size,
                no_ties=bool(draft.no_ties),
                excellence_fraction=draft.fraction if draft.fraction is not None else Decimal("0.5"),
                group_name=draft.group or "",
                components=[],
            )
            ctx.db.add(item)
            ctx.items[code] = item
            counts["赛项"].added += 1
            continue
        for key, value in item_changes.get(code, {}).items():
            setattr(item, key, value)
        counts["赛项"].tally(True, bool(item_changes.get(code)))
    await ctx.db.flush()
    for code in schemes:
        if code not in scheme_changes:
            counts["评分方案"].unchanged += 1
            continue
        item = ctx.items[code]
        had_scheme = bool(item.components)
        if had_scheme:
            # Clear and flush first, so the (item, kind) unique constraint never sees old and new rows at once.
            item.components.clear()
            await ctx.db.flush()
        apply_scheme(item, scheme_changes[code])
        counts["评分方案"].tally(had_scheme, True)
    await ctx.db.flush()


async def _write_entries(
    ctx: Context,
    entries: dict[tuple[str, str], EntryDraft],
    stored_entries: dict[tuple[str, str], Entry],
    coaches_given: bool,
    count: Count,
) -> None:
    for key, draft in entries.items():
        item = ctx.items[draft.code]
        unit = ctx.units[draft.unit_name]
        members = [EntryMember(person_id=ctx.people[n].id, position=i) for i, n in enumerate(draft.members)]
        coaches = [
            EntryCoach(person_id=ctx.people[n].id, share=share, is_lead=lead, position=i)
            for i, (n, share, lead) in enumerate(draft.coaches)
        ]
        entry = stored_entries.get(key)
        if entry is None:
            entry = Entry(
                item_id=item.id, entry_no=draft.entry_no, unit_id=unit.id, team_name=draft.team_name, members=members, coaches=coaches
            )
            ctx.db.add(entry)
            count.added += 1
            continue
        if not _entry_changed(entry, draft, coaches_given):
            count.unchanged += 1
            continue
        if entry.unit_id != unit.id:
            entry.unit_id = unit.id
        if draft.team_name and entry.team_name != draft.team_name:
            entry.team_name = draft.team_name
        if [m.person.id_number for m in entry.members] != draft.members:
            entry.members.clear()
            await ctx.db.flush()
            entry.members.extend(members)
        if coaches_given and [(c.person.id_number, c.share, c.is_lead) for c in entry.coaches] != draft.coaches:
            entry.coaches.clear()
            await ctx.db.flush()
            entry.coaches.extend(coaches)
        count.updated += 1
    await ctx.db.flush()
