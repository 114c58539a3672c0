"""Payout batches: create, compute, review, approve, pay, correct. Each write is audited and
committed in one transaction; a refused write (a bad amount, a bad import row) writes nothing.

States: draft -> computed -> submitted -> approved -> paid (docs/payouts.md). A recompute that
changes anything sends a submitted batch back to computed, with the difference shown, so it is
approved only as it now stands. Approved and paid batches are frozen. A paid line never changes:
a correction batch reverses it (a negative line referencing it) and pays the right amount anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from contest.audit.service import Actor, record
from contest.awards.policies import load_policy
from contest.db.models import utcnow
from contest.db.payout_models import (
    PayoutBatch,
    PayoutExcludedRow,
    PayoutHonourRow,
    PayoutLedgerEntry,
    PayoutLineRow,
)
from contest.domain.awards.engine import AwardError, compute_awards
from contest.domain.awards.inputs import InputErrors
from contest.domain.awards.model import (
    AwardResult,
    BatchSettings,
    HonourLine,
    LedgerEntry,
    PayoutLine,
    ledger_skill,
)
from contest.domain.awards.policy import LEDGER_MODES, UNIT_MODES, Policy, PolicyError
from contest.domain.money import Money, MoneyError
from contest.errors import Conflict, Invalid, NotFound
from contest.xlsx.upload import parse_off_loop
from contest.payouts.sources import PROVISIONAL_NOTE, Collected, collect_ours, external_from_json, external_to_json

STATUS_LABELS = {"draft": "草稿", "computed": "已计算", "submitted": "待审批", "approved": "已审批", "paid": "已发放"}
KIND_LABELS = {"regular": "常规批次", "correction": "更正批次"}
FROZEN = frozenset({"approved", "paid"})
EDITABLE = frozenset({"draft", "computed", "submitted"})
LEDGER_MODE_LABELS = {"top_up": "补差(top_up)", "skip": "不重复发放(skip)"}
UNIT_MODE_LABELS = {"per_winner": "每名获奖选手一次", "once_per_unit": "每单位每批次一次"}
ROLE_NAMES = {"competitor": "选手", "coach_team": "教练团队", "unit": "选送单位"}


# ---------------------------------------------------------------- reading


async def list_batches(db: AsyncSession) -> list[PayoutBatch]:
    return list((await db.execute(select(PayoutBatch).order_by(PayoutBatch.id.desc()))).scalars())


async def get_batch(db: AsyncSession, batch_id: int) -> PayoutBatch:
    batch = (
        await db.execute(
            select(PayoutBatch)
            .where(PayoutBatch.id == batch_id)
            .options(selectinload(PayoutBatch.lines), selectinload(PayoutBatch.excluded), selectinload(PayoutBatch.honours))
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if batch is None:
        raise NotFound(f"发放批次 {batch_id} 不存在")
    return batch


async def corrections_of(db: AsyncSession, batch_id: int) -> list[PayoutBatch]:
    statement = select(PayoutBatch).where(PayoutBatch.corrects_batch_id == batch_id).order_by(PayoutBatch.id)
    return list((await db.execute(statement)).scalars())


async def ledger(db: AsyncSession, policy_id: str | None = None) -> list[PayoutLedgerEntry]:
    statement = select(PayoutLedgerEntry).order_by(PayoutLedgerEntry.id)
    if policy_id:
        statement = statement.where(PayoutLedgerEntry.policy_id == policy_id)
    return list((await db.execute(statement)).scalars())


def policy_of(policy_id: str) -> Policy:
    try:
        return load_policy(policy_id)
    except PolicyError as exc:
        raise Invalid(f"奖励政策 {policy_id} 无法使用", details=[f"{k or '(根)'}: {p}" for k, p in exc.problems]) from None


@dataclass(frozen=True)
class AmountField:
    """One amount finance may choose for the batch (a tier with a cap or floor)."""

    key: str  # "tier", "tier.unit" or "tier.coach_team": the engine's BatchSettings.amounts key
    tier_title: str
    role: str
    bounds: str
    default: Money
    value: Money

    @property
    def label(self) -> str:
        return f"{self.tier_title}·{ROLE_NAMES[self.role]}"


def amount_fields(policy: Policy, settings: dict[str, Any]) -> list[AmountField]:
    chosen = settings.get("amounts", {})
    fields = []
    for tier in policy.tiers:
        for role in ("competitor", "coach_team", "unit"):
            if role == "coach_team" and tier.coach_same_as_competitor:
                continue
            rule = tier.rule_for(role)
            if rule is None or rule.is_fixed:
                continue
            key = tier.id if role == "competitor" else f"{tier.id}.{role}"
            default = rule.default_amount()
            value = Money(chosen[key]) if key in chosen else default
            fields.append(AmountField(key, tier.title, role, rule.describe(), default, value))
    return fields


# ---------------------------------------------------------------- creating


@dataclass
class BatchForm:
    name: str
    policy_id: str
    period_from: date | None
    period_to: date | None

    def errors(self) -> list[str]:
        errors = []
        if not self.name.strip():
            errors.append("请填写批次名称")
        if len(self.name.strip()) > 200:
            errors.append("批次名称不能超过 200 字")
        if not self.policy_id:
            errors.append("请选择奖励政策")
        if self.period_from is None or self.period_to is None:
            errors.append("请填写期间的起止日期(YYYY-MM-DD)")
        elif self.period_to < self.period_from:
            errors.append("期间的结束日期不能早于开始日期")
        return errors


async def create_batch(db: AsyncSession, actor: Actor, form: BatchForm) -> PayoutBatch:
    errors = form.errors()
    if errors:
        raise Invalid("发放批次信息有误", details=errors)
    policy = policy_of(form.policy_id)
    assert form.period_from is not None and form.period_to is not None
    batch = PayoutBatch(name=form.name.strip(), policy_id=policy.id, period_from=form.period_from, period_to=form.period_to,
                        status="draft", kind="regular", settings={}, external={}, sources=[], diff={},
                        created_by_id=actor.user_id, created_by=actor.username)
    db.add(batch)
    await db.flush()
    await record(db, actor, "payout.batch_create", "payout_batch", batch.id,
                 {"name": batch.name, "policy_id": batch.policy_id, "period": [form.period_from.isoformat(), form.period_to.isoformat()]})
    await db.commit()
    return batch


# ---------------------------------------------------------------- computing


def _parse_settings(policy: Policy, raw_amounts: dict[str, str], unit_mode: str, ledger_mode: str) -> dict[str, Any]:
    """The settings to store: amounts as plain strings. Bad text is refused here (Chinese);
    out-of-bounds amounts are refused by the engine, naming the tier and the bound."""
    problems = []
    labels = {f.key: f.label for f in amount_fields(policy, {})}
    amounts: dict[str, str] = {}
    for key, text in raw_amounts.items():
        text = text.strip()
        if key not in labels:
            problems.append(f"金额项 {key} 不属于政策 {policy.id} 的可设定金额")
            continue
        if not text:
            problems.append(f"{labels[key]}:请填写金额")
            continue
        try:
            amounts[key] = Money(text).plain()
        except MoneyError as exc:
            problems.append(f"{labels[key]}:{exc}")
    if unit_mode and unit_mode not in UNIT_MODES:
        problems.append(f"单位补助方式 {unit_mode!r} 无效")
    if ledger_mode and ledger_mode not in LEDGER_MODES:
        problems.append(f"台账模式 {ledger_mode!r} 无效")
    if problems:
        raise Invalid("批次设置有误,未保存", details=problems)
    return {"amounts": amounts, "unit_subsidy_mode": unit_mode or None, "ledger_mode": ledger_mode or None}


def _engine_settings(batch: PayoutBatch, settings: dict[str, Any]) -> BatchSettings:
    return BatchSettings(
        batch_id=f"#{batch.id}",
        batch_date=date.today(),
        amounts={k: Money(v) for k, v in settings.get("amounts", {}).items()},
        unit_subsidy_mode=settings.get("unit_subsidy_mode"),
        ledger_mode=settings.get("ledger_mode"),
    )


def _to_ledger(entry: PayoutLedgerEntry) -> LedgerEntry:
    return LedgerEntry(policy_id=entry.policy_id, batch_id=f"#{entry.batch_id}", paid_on=entry.paid_on,
                       recipient_id=entry.recipient_id, role=entry.role, skill_code=entry.skill_code,
                       subject_id=entry.subject_id, amount=Money.from_fen(entry.amount_fen), tier_id=entry.tier_id,
                       achievement_id=entry.achievement_id)


async def _ledger_for(db: AsyncSession, batch: PayoutBatch) -> list[LedgerEntry]:
    """A regular batch reads everything its policy has paid. A correction batch reads the ledger
    as its original batch saw it: what was paid before the original was marked paid."""
    statement = select(PayoutLedgerEntry).where(PayoutLedgerEntry.policy_id == batch.policy_id)
    if batch.corrects_batch_id is not None:
        first = (
            await db.execute(select(func.min(PayoutLedgerEntry.id)).where(PayoutLedgerEntry.batch_id == batch.corrects_batch_id))
        ).scalar()
        statement = statement.where(PayoutLedgerEntry.id < (first or 0))
    return [_to_ledger(e) for e in (await db.execute(statement.order_by(PayoutLedgerEntry.id))).scalars()]


@dataclass
class _Computation:
    result: AwardResult
    collected: Collected
    external_count: int


async def _compute(db: AsyncSession, batch: PayoutBatch, settings: dict[str, Any], external: dict[str, Any]) -> _Computation:
    policy = policy_of(batch.policy_id)
    collected = await collect_ours(db, policy.id, batch.period_from, batch.period_to)
    try:
        outside = external_from_json(external)
    except InputErrors as exc:  # pragma: no cover - stored only after it parsed
        raise Invalid("外部成绩数据有误", details=[f"{e.where}: {e.message}" for e in exc.errors]) from None
    for achievement in outside:
        collected.source_of[achievement.id] = "external"
    try:
        result = compute_awards(policy, collected.achievements + outside, _engine_settings(batch, settings),
                                await _ledger_for(db, batch))
    except AwardError as exc:
        raise Invalid("无法计算:批次设置或成绩有误,未保存任何改动", details=exc.problems) from None
    for line in result.lines:
        if line.achievement_id in collected.provisional:
            line.notes = (*line.notes, PROVISIONAL_NOTE)
    return _Computation(result, collected, len(outside))


def _line_key(line: PayoutLineRow) -> tuple[str, str, str, str]:
    return (line.kind, line.achievement_id, line.role, line.recipient_id)


def _diff_entry(line: PayoutLineRow, old: int | None, new: int | None) -> dict[str, Any]:
    return {"kind": line.kind, "role": line.role, "recipient_id": line.recipient_id, "recipient_name": line.recipient_name,
            "competition": line.competition, "item": line.item, "result": line.result, "payer": line.payer,
            "old": None if old is None else Money.from_fen(old).plain(),
            "new": None if new is None else Money.from_fen(new).plain()}


def diff_lines(before: list[PayoutLineRow], after: list[PayoutLineRow]) -> dict[str, list[dict[str, Any]]]:
    """Lines added, removed, and changed (amount or payer) between two computations of a batch."""
    old = {_line_key(line): line for line in before}
    new = {_line_key(line): line for line in after}
    added = [_diff_entry(new[k], None, new[k].amount_fen) for k in sorted(new.keys() - old.keys())]
    removed = [_diff_entry(old[k], old[k].amount_fen, None) for k in sorted(old.keys() - new.keys())]
    changed = []
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        if (a.amount_fen, a.payer) != (b.amount_fen, b.payer):
            entry = _diff_entry(b, a.amount_fen, b.amount_fen)
            if a.payer != b.payer:
                entry["old_payer"] = a.payer
            changed.append(entry)
    return {"added": added, "removed": removed, "changed": changed}


def _line_row(line: PayoutLine, source: str, kind: str = "payment", amount_fen: int | None = None,
              notes: tuple[str, ...] | None = None, reverses: int | None = None) -> PayoutLineRow:
    return PayoutLineRow(
        kind=kind, reverses_line_id=reverses, payer=line.payer, role=line.role, recipient_id=line.recipient_id,
        recipient_name=line.recipient_name, recipient_unit=line.recipient_unit,
        amount_fen=line.amount.fen if amount_fen is None else amount_fen, entitled_fen=line.entitled.fen,
        tier_id=line.tier_id, basis=line.basis, notes=list(line.notes if notes is None else notes),
        achievement_id=line.achievement_id, competition=line.competition, item=line.item, skill_code=line.skill_code,
        result=line.result, subject_id=line.subject_id, source=source,
    )


async def _correction_lines(db: AsyncSession, batch: PayoutBatch, computation: _Computation) -> list[PayoutLineRow]:
    """What the original batch should have paid, against what it (and its paid corrections)
    did pay: a reversal of each wrong paid line, and a new line with the right amount."""
    original = await get_batch(db, batch.corrects_batch_id)  # type: ignore[arg-type]
    paid: list[PayoutLineRow] = list(original.lines)
    for other in await corrections_of(db, original.id):
        if other.id != batch.id and other.status == "paid":
            paid.extend((await get_batch(db, other.id)).lines)
    net: dict[tuple[str, str, str], int] = {}
    latest: dict[tuple[str, str, str], PayoutLineRow] = {}
    payer_of: dict[tuple[str, str, str], str] = {}
    for line in sorted(paid, key=lambda row: row.id):
        key = (line.achievement_id, line.role, line.recipient_id)
        net[key] = net.get(key, 0) + line.amount_fen
        if line.kind == "payment":
            latest[key] = line
            payer_of[key] = line.payer
    should = {(line.achievement_id, line.role, line.recipient_id): line for line in computation.result.lines}
    rows: list[PayoutLineRow] = []
    for key in sorted(net.keys() | should.keys()):
        was, right = net.get(key, 0), should.get(key)
        if right is not None and right.amount.fen == was and payer_of.get(key) == right.payer:
            continue
        if right is None and was == 0:
            continue
        if was != 0:
            ref = latest[key]
            why = (f"更正后应发 {right.amount.format()} 元" if right is not None else "更正后不再符合发放条件")
            note = f"冲销批次“{original.name}”(#{original.id})第 {ref.number} 行已发放的 {Money.from_fen(was).format()} 元:{why}"
            reversal = PayoutLineRow(
                kind="reversal", reverses_line_id=ref.id, payer=payer_of[key], role=ref.role, recipient_id=ref.recipient_id,
                recipient_name=ref.recipient_name, recipient_unit=ref.recipient_unit, amount_fen=-was, entitled_fen=0,
                tier_id=ref.tier_id, basis=ref.basis, notes=[note], achievement_id=ref.achievement_id,
                competition=ref.competition, item=ref.item, skill_code=ref.skill_code, result=ref.result,
                subject_id=ref.subject_id, source=ref.source,
            )
            rows.append(reversal)
        if right is not None and right.amount.fen != 0:
            extra = (f"更正批次“{original.name}”(#{original.id}):替代已冲销的原发放行" if was != 0
                     else f"更正批次“{original.name}”(#{original.id}):原批次未发放,补发")
            source = computation.collected.source_of.get(right.achievement_id, "")
            rows.append(_line_row(right, source, notes=(*right.notes, extra)))
    return rows


async def _store(db: AsyncSession, batch: PayoutBatch, computation: _Computation) -> dict[str, Any]:
    """Replace the batch's lines with this computation; returns the difference from the last one."""
    result = computation.result
    if batch.kind == "correction":
        new_lines = await _correction_lines(db, batch, computation)
    else:
        new_lines = [_line_row(line, computation.collected.source_of.get(line.achievement_id, "")) for line in result.lines]
    for number, row in enumerate(new_lines, 1):
        row.number = number
    before = list(batch.lines)
    diff = diff_lines(before, new_lines)
    diff["computation"] = batch.computations + 1
    diff["first"] = batch.computations == 0
    batch.lines.clear()
    batch.excluded.clear()
    batch.honours.clear()
    await db.flush()  # the old rows go before the new ones come (numbers restart at 1)
    batch.lines.extend(new_lines)
    batch.excluded.extend(
        PayoutExcludedRow(number=n, status=ex.status, reason=ex.reason, role=ex.role, recipient_id=ex.recipient_id,
                          recipient_name=ex.recipient_name, recipient_unit=ex.recipient_unit, achievement_id=ex.achievement_id,
                          competition=ex.competition, item=ex.item, skill_code=ex.skill_code, result=ex.result,
                          tier_id=ex.tier_id, amount_fen=None if ex.amount is None else ex.amount.fen)
        for n, ex in enumerate(result.excluded, 1)
    )
    batch.honours.extend(
        PayoutHonourRow(number=n, honour_id=h.honour_id, title=h.title, source=h.source, recipient_id=h.recipient_id,
                        recipient_name=h.recipient_name, recipient_unit=h.recipient_unit, achievement_id=h.achievement_id,
                        competition=h.competition, item=h.item, result=h.result, tier_id=h.tier_id)
        for n, h in enumerate(result.honours, 1)
    )
    batch.sources = [s.to_json() for s in computation.collected.items] + (
        [{"external": True, "filename": batch.external_filename, "achievements": computation.external_count}]
        if computation.external_count else []
    )
    batch.total_fen = sum(row.amount_fen for row in new_lines)
    batch.computations += 1
    batch.computed_at = utcnow()
    changed = bool(diff["added"] or diff["removed"] or diff["changed"])
    batch.diff = diff if not diff["first"] else {}
    if batch.status == "draft":
        batch.status = "computed"
    elif batch.status == "submitted" and changed:
        batch.status = "computed"  # approve only what was submitted: submit again after reviewing the difference
        batch.submitted_by_id, batch.submitted_by, batch.submitted_at = None, "", None
    return diff


def _check_editable(batch: PayoutBatch) -> None:
    if batch.status in FROZEN:
        raise Conflict(f"批次已{STATUS_LABELS[batch.status]},发放行已冻结,不能重新计算或修改金额;如需更正请建立更正批次",
                       code="frozen")


def _audit_summary(batch: PayoutBatch, diff: dict[str, Any]) -> dict[str, Any]:
    return {"computation": batch.computations, "lines": len(batch.lines), "excluded": len(batch.excluded),
            "honours": len(batch.honours), "total": Money.from_fen(batch.total_fen).plain(), "status": batch.status,
            "added": len(diff["added"]), "removed": len(diff["removed"]), "changed": len(diff["changed"])}


async def compute(db: AsyncSession, actor: Actor, batch_id: int) -> dict[str, Any]:
    """(Re)compute with the stored settings and the sources as they are now."""
    batch = await get_batch(db, batch_id)
    _check_editable(batch)
    computation = await _compute(db, batch, batch.settings or {}, batch.external or {})
    diff = await _store(db, batch, computation)
    await record(db, actor, "payout.batch_compute", "payout_batch", batch.id, _audit_summary(batch, diff))
    await db.commit()
    return diff


async def save_settings(db: AsyncSession, actor: Actor, batch_id: int, raw_amounts: dict[str, str],
                        unit_mode: str = "", ledger_mode: str = "") -> dict[str, Any]:
    """Set the batch's amounts (within each tier's cap/floor) and modes, and recompute. An
    amount out of bounds is refused with the tier and the bound; nothing is written."""
    batch = await get_batch(db, batch_id)
    _check_editable(batch)
    policy = policy_of(batch.policy_id)
    settings = _parse_settings(policy, raw_amounts, unit_mode, ledger_mode)
    computation = await _compute(db, batch, settings, batch.external or {})  # refuses bad amounts before any write
    before = batch.settings or {}
    batch.settings = settings
    diff = await _store(db, batch, computation)
    changes = {k: v for k, v in settings["amounts"].items() if before.get("amounts", {}).get(k) != v}
    await record(db, actor, "payout.amounts_set", "payout_batch", batch.id,
                 {"amounts": changes, "unit_subsidy_mode": settings["unit_subsidy_mode"],
                  "ledger_mode": settings["ledger_mode"], **_audit_summary(batch, diff)})
    await db.commit()
    return diff


async def import_external(db: AsyncSession, actor: Actor, batch_id: int, filename: str, content: bytes) -> int:
    """Replace the batch's external results with those of an award-engine template workbook,
    and recompute. Any bad row: every problem listed, nothing imported."""
    from contest.awards.results_io import read_results_upload

    batch = await get_batch(db, batch_id)
    _check_editable(batch)
    if batch.kind == "correction":
        raise Conflict("更正批次沿用原批次的外部成绩,不能另行导入")
    if not content:
        raise Invalid("请选择要导入的成绩文件(.xlsx)")
    if not filename.lower().endswith((".xlsx", ".xlsm")):
        raise Invalid("成绩文件须为 Excel 工作簿(.xlsx),使用“外部成绩模板”填写")
    try:
        achievements = await parse_off_loop(read_results_upload, content)
    except InputErrors as exc:
        raise Invalid(f"外部成绩文件有 {len(exc.errors)} 处错误,未导入任何成绩",
                      details=[f"{e.where}: {e.message}" if e.where else e.message for e in exc.errors]) from None
    if not achievements:
        raise Invalid("外部成绩文件中没有成绩行")
    external = external_to_json(achievements)
    computation = await _compute(db, batch, batch.settings or {}, external)
    batch.external, batch.external_filename = external, filename[:200]
    diff = await _store(db, batch, computation)
    await record(db, actor, "payout.external_import", "payout_batch", batch.id,
                 {"filename": filename[:200], "achievements": len(achievements), **_audit_summary(batch, diff)})
    await db.commit()
    return len(achievements)


# ---------------------------------------------------------------- review, approval, payment


async def submit(db: AsyncSession, actor: Actor, batch_id: int) -> None:
    batch = await get_batch(db, batch_id)
    if batch.status != "computed":
        raise Conflict("只有已计算的批次可以提交审批" if batch.status == "draft" or batch.status in FROZEN
                       else "该批次已提交审批")
    if not batch.lines:
        raise Conflict("批次没有发放行,无需审批")
    batch.status = "submitted"
    batch.submitted_by_id, batch.submitted_by, batch.submitted_at = actor.user_id, actor.username, utcnow()
    batch.returned_reason = ""
    await record(db, actor, "payout.batch_submit", "payout_batch", batch.id,
                 {"computation": batch.computations, "lines": len(batch.lines), "total": Money.from_fen(batch.total_fen).plain()})
    await db.commit()


async def approve(db: AsyncSession, actor: Actor, batch_id: int) -> None:
    batch = await get_batch(db, batch_id)
    if batch.status != "submitted":
        raise Conflict("只有待审批的批次可以审批")
    if actor.user_id is not None and actor.user_id in (batch.created_by_id, batch.submitted_by_id):
        who = "创建人" if actor.user_id == batch.created_by_id else "提交人"
        raise Conflict(f"审批人不能是本批次的{who}:须由另一名财务人员审批", code="same_person")
    batch.status = "approved"
    batch.approved_by_id, batch.approved_by, batch.approved_at = actor.user_id, actor.username, utcnow()
    await record(db, actor, "payout.batch_approve", "payout_batch", batch.id,
                 {"computation": batch.computations, "lines": len(batch.lines), "total": Money.from_fen(batch.total_fen).plain()})
    await db.commit()


async def return_batch(db: AsyncSession, actor: Actor, batch_id: int, reason: str) -> None:
    """The approver sends a submitted batch back (退回) with a reason."""
    batch = await get_batch(db, batch_id)
    if batch.status != "submitted":
        raise Conflict("只有待审批的批次可以退回")
    if not reason.strip():
        raise Invalid("退回须填写理由")
    batch.status = "computed"
    batch.submitted_by_id, batch.submitted_by, batch.submitted_at = None, "", None
    batch.returned_reason = reason.strip()[:500]
    await record(db, actor, "payout.batch_return", "payout_batch", batch.id, {"reason": reason.strip()[:500]})
    await db.commit()


async def mark_paid(db: AsyncSession, actor: Actor, batch_id: int, paid_on: date | None) -> None:
    """Record that the approved batch was paid: its lines go into the policy's ledger."""
    batch = await get_batch(db, batch_id)
    if batch.status != "approved":
        raise Conflict("只有已审批的批次可以登记为已发放")
    when = paid_on or date.today()
    batch.status = "paid"
    batch.paid_by, batch.paid_at, batch.paid_on = actor.username, utcnow(), when
    for line in batch.lines:
        db.add(PayoutLedgerEntry(policy_id=batch.policy_id, batch_id=batch.id, line_id=line.id, paid_on=when,
                                 recipient_id=line.recipient_id, role=line.role,
                                 skill_code=ledger_skill(line.subject_id, line.skill_code), subject_id=line.subject_id,
                                 amount_fen=line.amount_fen, tier_id=line.tier_id, achievement_id=line.achievement_id))
    await record(db, actor, "payout.batch_paid", "payout_batch", batch.id,
                 {"paid_on": when.isoformat(), "ledger_entries": len(batch.lines), "total": Money.from_fen(batch.total_fen).plain()})
    await db.commit()


async def create_correction(db: AsyncSession, actor: Actor, batch_id: int) -> PayoutBatch:
    """A correction batch for a paid batch: recomputed from the results as they are now, it holds
    a reversal for every paid line that is wrong and a new line with the right amount."""
    original = await get_batch(db, batch_id)
    if original.status != "paid":
        raise Conflict("只有已发放的批次需要更正;未审批的批次直接重新计算即可")
    if original.kind == "correction":
        raise Conflict("请对原批次建立更正批次,而不是对更正批次")
    pending = [b for b in await corrections_of(db, original.id) if b.status != "paid"]
    if pending:
        raise Conflict(f"该批次已有未完成的更正批次 #{pending[0].id},请先处理")
    batch = PayoutBatch(name=f"{original.name}(更正)", policy_id=original.policy_id, period_from=original.period_from,
                        period_to=original.period_to, status="draft", kind="correction", corrects_batch_id=original.id,
                        settings=dict(original.settings or {}), external=dict(original.external or {}),
                        external_filename=original.external_filename, sources=[], diff={},
                        created_by_id=actor.user_id, created_by=actor.username)
    db.add(batch)
    await db.flush()
    batch = await get_batch(db, batch.id)
    computation = await _compute(db, batch, batch.settings or {}, batch.external or {})
    diff = await _store(db, batch, computation)
    await record(db, actor, "payout.correction_create", "payout_batch", batch.id,
                 {"corrects": original.id, **_audit_summary(batch, diff)})
    await db.commit()
    return batch


# ---------------------------------------------------------------- views and the workbook


@dataclass
class PayerGroup:
    payer: str
    lines: list[PayoutLineRow]

    @property
    def total(self) -> Money:
        return Money.from_fen(sum(line.amount_fen for line in self.lines))


def payer_groups(batch: PayoutBatch) -> list[PayerGroup]:
    groups: dict[str, list[PayoutLineRow]] = {}
    for line in batch.lines:
        groups.setdefault(line.payer, []).append(line)
    return [PayerGroup(payer, lines) for payer, lines in sorted(groups.items())]


@dataclass
class _Excluded:
    """The fields of the engine's ExcludedLine that the workbook reads, from a stored row."""

    status: str
    reason: str
    role: str
    recipient_id: str
    recipient_name: str
    recipient_unit: str
    competition: str
    item: str
    result: str
    amount: Money | None


def batch_label(batch: PayoutBatch) -> str:
    return f"{batch.name}(#{batch.id},{STATUS_LABELS[batch.status]})"


def award_result(batch: PayoutBatch) -> AwardResult:
    """The stored batch in the engine's output form, for the finance workbook."""
    try:
        policy = load_policy(batch.policy_id)
        policy_name, rules = policy.name, policy.rules
    except PolicyError:
        policy_name, rules = batch.policy_id, None
    settings = batch.settings or {}
    lines = [
        PayoutLine(payer=r.payer, role=r.role, recipient_id=r.recipient_id, recipient_name=r.recipient_name,
                   recipient_unit=r.recipient_unit, amount=Money.from_fen(r.amount_fen), entitled=Money.from_fen(r.entitled_fen),
                   tier_id=r.tier_id, basis=r.basis, achievement_id=r.achievement_id, competition=r.competition, item=r.item,
                   skill_code=r.skill_code, result=r.result, subject_id=r.subject_id,
                   notes=tuple(r.notes or ()))
        for r in batch.lines
    ]
    lines.sort(key=lambda line: line.payer)  # grouped by payer, in the batch's order within each
    excluded = [
        _Excluded(e.status, e.reason, e.role, e.recipient_id, e.recipient_name, e.recipient_unit, e.competition, e.item,
                  e.result, None if e.amount_fen is None else Money.from_fen(e.amount_fen))
        for e in batch.excluded
    ]
    honours = [
        HonourLine(honour_id=h.honour_id, title=h.title, source=h.source, recipient_id=h.recipient_id,
                   recipient_name=h.recipient_name, recipient_unit=h.recipient_unit, achievement_id=h.achievement_id,
                   competition=h.competition, item=h.item, result=h.result, tier_id=h.tier_id)
        for h in batch.honours
    ]
    return AwardResult(
        policy_id=batch.policy_id, policy_name=policy_name, batch_id=batch_label(batch), batch_date=batch.paid_on,
        ledger_mode=settings.get("ledger_mode") or (rules.ledger_mode if rules else ""),
        unit_subsidy_mode=settings.get("unit_subsidy_mode") or (rules.unit_subsidy_mode if rules else ""),
        lines=lines, excluded=excluded, honours=honours,  # type: ignore[arg-type]
    )


def workbook_bytes(batch: PayoutBatch) -> bytes:
    import io

    from contest.xlsx.finance_workbook import write_finance_workbook

    stream = io.BytesIO()
    write_finance_workbook(award_result(batch), stream)
    return stream.getvalue()
