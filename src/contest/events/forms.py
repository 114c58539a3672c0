"""Turn submitted HTML forms into service inputs; parse problems become Chinese messages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contest.domain.competition import BOARD_INTERVAL_DEFAULT
from contest.domain.scheme import ComponentSpec, CriterionSpec, default_aggregation, parse_decimal, plain
from contest.domain.text import N_, Text, message_of
from contest.errors import FormInvalid, Invalid
from contest.events.service import CompetitionForm, ItemForm, PersonForm
from contest.web import fields


def _text(form: Any, key: str) -> str:
    return fields.raw(form, key)


def competition_form(form: Any) -> CompetitionForm:
    errors: dict[str, str] = {}
    parsed = CompetitionForm(
        name=_text(form, "name"),
        year=fields.integer(form, "year", N_("年度"), errors),
        level=_text(form, "level"),
        category=fields.integer(form, "category", N_("类别"), errors),
        policy_id=_text(form, "policy_id"),
        organizer=_text(form, "organizer"),
        start_date=fields.day(form, "start_date", N_("开始日期"), errors),
        end_date=fields.day(form, "end_date", N_("结束日期"), errors),
        show_provisional=fields.flag(form, "show_provisional"),
        appeal_hours=fields.integer(form, "appeal_hours", N_("申诉时限"), errors, default=2) or 0,  # None only with an error recorded
        appeal_contact=_text(form, "appeal_contact"),
        board_interval=fields.integer(form, "board_interval", "大屏翻页间隔", errors, default=BOARD_INTERVAL_DEFAULT) or 0,
    )
    if errors:  # what could not be read, and what else is wrong with the rest
        raise FormInvalid("赛事信息有误", {**parsed.field_errors(), **errors})
    return parsed


def item_form(form: Any) -> ItemForm:
    errors: dict[str, str] = {}
    is_team = _text(form, "is_team") == "1"
    fraction = Decimal("0.5")
    raw_fraction = _text(form, "excellence_fraction")
    if raw_fraction:
        try:
            fraction = parse_decimal(raw_fraction, N_("优胜奖比例"))
        except ValueError as exc:
            errors["excellence_fraction"] = message_of(exc)
    parsed = ItemForm(
        name=_text(form, "name"),
        skill_code=_text(form, "skill_code"),
        skill_name=_text(form, "skill_name"),
        group_name=_text(form, "group_name"),
        is_team=is_team,
        team_size=fields.integer(form, "team_size", N_("团队人数"), errors, default=2 if is_team else 1),
        no_ties=fields.flag(form, "no_ties"),
        excellence_fraction=fraction,
    )
    if errors:
        raise FormInvalid("赛项信息有误", {**parsed.field_errors(), **errors})
    return parsed


def person_form(form: Any) -> PersonForm:
    errors: dict[str, str] = {}
    parsed = PersonForm(
        id_number=_text(form, "id_number"),
        name=_text(form, "name"),
        unit_id=fields.integer(form, "unit_id", N_("单位"), errors),
        gender=_text(form, "gender"),
        phone=_text(form, "phone"),
        employment_region=_text(form, "employment_region"),
        is_employee=fields.flag(form, "is_employee"),
    )
    if errors:
        raise FormInvalid("人员信息有误", errors)
    return parsed


CRITERION_FIELDS = ("crit_component", "crit_code", "crit_name", "crit_max", "crit_step", "crit_kind", "crit_panel", "crit_agg")


def _columns(form: Any) -> dict[str, list[str]]:
    return {name: [str(v) for v in (form.getall(name, []) if hasattr(form, "getall") else form.get(name, []))] for name in CRITERION_FIELDS}


def scheme_rows(form: Any) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The scheme table as the organizer typed it: weights per kind and the non-blank rows."""
    weights = {kind: _text(form, f"weight_{kind}") for kind in ("theory", "practical", "oral")}
    columns = _columns(form)
    rows = [
        {"index": str(i), **{name.removeprefix("crit_"): values[i] if i < len(values) else "" for name, values in columns.items()}}
        for i in range(len(columns["crit_code"]))
    ]
    return weights, [row for row in rows if row["code"].strip() or row["name"].strip()]


def scheme_rows_of(item: Any) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The stored scheme in the same shape as scheme_rows()."""
    weights = {c.kind: plain(c.weight) for c in item.components}
    rows = [
        {
            "component": c.kind,
            "code": k.code,
            "name": k.name,
            "max": plain(k.max_mark),
            "step": plain(k.step),
            "kind": k.kind,
            "panel": str(k.panel_size),
            "agg": k.aggregation,
        }
        for c in item.components
        for k in c.criteria
    ]
    return weights, rows


def scheme_form(form: Any) -> list[ComponentSpec]:
    """Weights per component kind plus one row per criterion; blank rows are ignored. A problem is
    kept under ``weight_<kind>`` or ``row-<n>`` (the row as posted, from 0) for the page to mark."""
    errors: dict[str, str] = {}
    components: dict[str, ComponentSpec] = {}
    for kind in ("theory", "practical", "oral"):
        raw = _text(form, f"weight_{kind}")
        if raw:
            try:
                components[kind] = ComponentSpec(kind=kind, weight=parse_decimal(raw, N_("权重")))
            except ValueError as exc:
                errors[f"weight_{kind}"] = message_of(exc)
    columns = _columns(form)
    rows = len(columns["crit_code"])
    if any(len(values) != rows for values in columns.values()):
        raise Invalid("评分项表格不完整,请刷新页面后重试")
    for i in range(rows):
        code = str(columns["crit_code"][i]).strip()
        name = str(columns["crit_name"][i]).strip()
        if not code and not name:
            continue
        row = Text("第 {number} 行评分项", number=i + 1)
        kind = str(columns["crit_component"][i])
        if kind not in components:
            errors[f"row-{i}"] = Text("{row}「{code}」所属组成部分没有填写权重", row=row, code=code)
            continue
        try:
            max_mark = parse_decimal(columns["crit_max"][i], Text("{row}满分", row=row))
            step = parse_decimal(columns["crit_step"][i] or "0.5", Text("{row}步长", row=row))
            panel = fields.parse_int(str(columns["crit_panel"][i] or "1"), Text("{row}裁判人数", row=row), 1, 99)
        except ValueError as exc:
            errors[f"row-{i}"] = message_of(exc)
            continue
        criterion_kind = str(columns["crit_kind"][i]) or "measurement"
        aggregation = str(columns["crit_agg"][i]) or default_aggregation(criterion_kind, panel)
        components[kind].criteria.append(CriterionSpec(code, name, max_mark, step, criterion_kind, panel, aggregation))
    if errors:
        raise FormInvalid("评分方案无效", errors)
    return list(components.values())
