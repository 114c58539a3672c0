"""Scoring schemes (评分方案): components with weights, criteria with max marks, steps and kinds.

Validation lives here so the setup form, the Excel import and later the scoring service agree.
All numbers are Decimal; every message is Chinese and names the component or criterion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from contest.domain.limits import CRITERION_CODE, CRITERION_NAME, shown, too_long
from contest.domain.text import N_, Text

COMPONENT_KINDS: dict[str, str] = {"theory": N_("理论"), "practical": N_("实操"), "oral": N_("答辩")}
CRITERION_KINDS: dict[str, str] = {"measurement": N_("测量分"), "judgement": N_("评价分")}
AGGREGATIONS: dict[str, str] = {
    "single": N_("单人评分"),
    "mean": N_("平均分"),
    "trimmed_mean": N_("去掉最高最低分后平均"),
    "median": N_("中位数"),
    "worldskills": N_("世赛评价分(0-3分)"),
}
HUNDRED = Decimal(100)


@dataclass
class CriterionSpec:
    code: str
    name: str
    max_mark: Decimal
    step: Decimal = Decimal("0.5")
    kind: str = "measurement"
    panel_size: int = 1
    aggregation: str = "single"


@dataclass
class ComponentSpec:
    kind: str
    weight: Decimal
    name: str = ""
    criteria: list[CriterionSpec] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.name or COMPONENT_KINDS.get(self.kind, self.kind)


# Plain decimal notation in ASCII digits: no exponents ("1e999999" would make every later
# computation huge), no "NaN", no digits of other scripts that Decimal() would also accept.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,12}(?:\.[0-9]{0,6})?|\.[0-9]{1,6})")


def parse_decimal(raw: object, what: str) -> Decimal:
    """Decimal from a form or cell value, with a Chinese error naming the field."""
    if isinstance(raw, bool):
        raise ValueError(Text("{what}「{raw}」不是有效数字", what=_named(what), raw=raw))
    if isinstance(raw, float):
        raw = repr(raw)  # Excel numbers arrive as floats; repr keeps 0.1 as "0.1"
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ValueError(Text("{what}「{raw}」不是有效数字", what=_named(what), raw=raw)) from None
        if not value.is_finite() or abs(value) >= Decimal(10) ** 12:
            raise ValueError(Text("{what}「{raw}」不是有效数字", what=_named(what), raw=raw))
        return value
    text = str(raw).strip()
    if not _DECIMAL.fullmatch(text):
        shown_text = text if len(text) <= 20 else text[:19] + "…"
        raise ValueError(Text("{what}「{raw}」不是有效数字(请用阿拉伯数字书写,如 8.5)", what=_named(what), raw=shown_text))
    return Decimal(text)


def _named(what: str) -> str:
    """A field's name put into a message, translated with it (a catalog label or a Text)."""
    return what if isinstance(what, Text) else Text(what)


def decimals(value: Decimal) -> int:
    """How many digits a decimal has after the point (8.50 -> 1)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def validate_scheme(components: list[ComponentSpec]) -> list[str]:
    """All problems with a scheme, each a Chinese sentence; an empty list means it is valid."""
    errors: list[str] = []
    if not components:
        return [N_("评分方案至少需要一个组成部分(理论、实操或答辩)")]
    seen_kinds: set[str] = set()
    for component in components:
        label = Text(component.label)
        if component.kind not in COMPONENT_KINDS:
            errors.append(Text("组成部分类型「{kind}」无效,应为 理论/实操/答辩", kind=component.kind))
        if component.kind in seen_kinds:
            errors.append(Text("组成部分「{label}」重复", label=label))
        seen_kinds.add(component.kind)
        if component.weight <= 0 or component.weight > HUNDRED or decimals(component.weight) > 2:
            errors.append(
                Text("组成部分「{label}」的权重 {weight} 应在 0 到 100 之间,最多两位小数", label=label, weight=plain(component.weight))
            )
        errors.extend(_criteria_errors(component))
    total_weight = sum((c.weight for c in components), Decimal(0))
    if total_weight != HUNDRED:
        errors.append(Text("各组成部分权重之和为 {total},应为 100", total=plain(total_weight)))
    return errors


def _criteria_errors(component: ComponentSpec) -> list[str]:
    label = Text(component.label)
    if not component.criteria:
        return [Text("组成部分「{label}」没有评分项", label=label)]
    errors: list[str] = []
    codes: set[str] = set()
    for criterion in component.criteria:
        where = Text("「{label}」评分项「{code} {name}」", label=label, code=shown(criterion.code), name=shown(criterion.name))
        if not criterion.code:
            errors.append(Text("「{label}」有评分项缺少编号", label=label))
        errors += [
            Text("「{label}」{problem}", label=label, problem=problem)
            for problem in too_long((CRITERION_CODE, criterion.code), (CRITERION_NAME, criterion.name))
        ]
        if criterion.code in codes:
            errors.append(Text("{where}编号重复", where=where))
        codes.add(criterion.code)
        if criterion.max_mark <= 0 or criterion.max_mark > HUNDRED:
            errors.append(Text("{where}的满分应大于 0、不超过 100", where=where))
            continue
        if decimals(criterion.max_mark) > 2 or decimals(criterion.step) > 2:
            errors.append(Text("{where}的满分和步长最多两位小数", where=where))
            continue
        if criterion.step <= 0:
            errors.append(Text("{where}的步长应大于 0", where=where))
        elif criterion.max_mark > 0 and criterion.max_mark % criterion.step != 0:
            errors.append(
                Text(
                    "{where}的满分 {max_mark} 不是步长 {step} 的整数倍",
                    where=where,
                    max_mark=plain(criterion.max_mark),
                    step=plain(criterion.step),
                )
            )
        if criterion.kind not in CRITERION_KINDS:
            errors.append(Text("{where}的类型「{kind}」无效,应为 测量分/评价分", where=where, kind=criterion.kind))
            continue
        if criterion.aggregation not in AGGREGATIONS:
            errors.append(Text("{where}的汇总方式「{aggregation}」无效", where=where, aggregation=criterion.aggregation))
            continue
        errors.extend(_panel_errors(criterion, where))
    total = sum((c.max_mark for c in component.criteria), Decimal(0))
    if total != HUNDRED:
        errors.append(Text("组成部分「{label}」各评分项满分之和为 {total},应为 100", label=label, total=plain(total)))
    return errors


def _panel_errors(criterion: CriterionSpec, where: str) -> list[str]:
    if criterion.kind == "measurement":
        if criterion.panel_size != 1 or criterion.aggregation != "single":
            return [Text("{where}是测量分,应由一名裁判评分(裁判人数 1,汇总方式 单人评分)", where=where)]
        return []
    if criterion.aggregation == "single":
        return [Text("{where}是评价分,汇总方式不能是单人评分", where=where)]
    if criterion.panel_size < 2:
        return [Text("{where}是评价分,裁判人数至少为 2", where=where)]
    if criterion.aggregation == "worldskills" and criterion.panel_size != 3:
        return [Text("{where}采用世赛评价分,裁判人数应为 3", where=where)]
    if criterion.aggregation == "trimmed_mean" and criterion.panel_size < 5:
        return [Text("{where}去掉最高最低分需要至少 5 名裁判", where=where)]
    return []


def plain(value: Decimal) -> str:
    """A decimal as people write it: 8.50 -> "8.5", 1E+1 -> "10"."""
    return format(value.normalize(), "f")


def default_aggregation(kind: str, panel_size: int) -> str:
    if kind == "measurement":
        return "single"
    return "trimmed_mean" if panel_size >= 5 else "mean"
