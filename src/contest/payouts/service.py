"""Payout batches: create, compute, review, approve, pay, correct. Each write is audited and
committed in one transaction; a refused write (a bad amount, a bad import row) writes nothing.

States: draft -> computed -> submitted -> approved -> paid (docs/payouts.md). A recompute that
changes anything sends a submitted batch back to computed, with the difference shown, so it is
approved only as it now stands. Approved and paid batches are frozen. A paid line never changes:
a correction batch reverses it (a negative line referencing it) and pays the right amount anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from contest.audit.service import Actor, record
from contest.awards.finance_workbook import PayeeDetails, WorkbookInfo, payee_key, write_finance_workbook
from contest.awards.policies import load_policy
from contest.db.models import (
    PayoutBatch,
    PayoutExcludedRow,
    PayoutHonourRow,
    PayoutLedgerEntry,
    PayoutLineRow,
    User,
    utcnow,
)
from contest.domain import allowed, limits
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
from contest.domain.payouts import (
    APPROVED,
    COMPUTED,
    DRAFT,
    EDITABLE,
    FROZEN,
    PAID,
    STATUS_LABELS,
    SUBMITTED,
    TRANSITIONS,
    BatchKind,
    four_eyes_refusal,
    frozen_refusal,
    refusal,
    status_after_compute,
)
from contest.domain.text import N_, Text, looked_up, message_of
from contest.errors import Conflict, FormInvalid, Invalid, NotFound
from contest.payouts import payees
from contest.payouts.sources import (
    OVERRIDE_NOTE,
    PROVISIONAL_PREFIX,
    SETTLED_NOTE,
    Collected,
    SourceCheck,
    check_sources,
    collect_ours,
    external_from_json,
    external_to_json,
)
from contest.xlsx.upload import parse_off_loop

ROLE_NAMES = {"competitor": N_("选手"), "coach_team": N_("教练团队"), "unit": N_("选送单位")}
BUSY = "本批次刚被他人修改(可能是重复提交),请刷新页面查看最新状态后再操作"

REGULAR, CORRECTION = BatchKind


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
        raise NotFound(Text("发放批次 {batch_id} 不存在", batch_id=batch_id))
    return batch


async def corrections_of(db: AsyncSession, batch_id: int) -> list[PayoutBatch]:
    statement = select(PayoutBatch).where(PayoutBatch.corrects_batch_id == batch_id).order_by(PayoutBatch.id)
    return list((await db.execute(statement)).scalars())


async def ledger(db: AsyncSession, policy_id: str | None = None) -> list[tuple[PayoutLedgerEntry, PayoutLineRow]]:
    """Ledger entries with the line each one records (for the recipient's name, item and result)."""
    statement = (
        select(PayoutLedgerEntry, PayoutLineRow)
        .join(PayoutLineRow, PayoutLineRow.id == PayoutLedgerEntry.line_id)
        .order_by(PayoutLedgerEntry.id)
    )
    if policy_id:
        statement = statement.where(PayoutLedgerEntry.policy_id == policy_id)
    return [(entry, line) for entry, line in (await db.execute(statement)).all()]


async def user_names(db: AsyncSession, user_ids: list[int | None]) -> dict[int, str]:
    """Account id -> the person's name (display name; the username when none is set)."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    rows = await db.execute(select(User.id, User.display_name, User.username).where(User.id.in_(wanted)))
    return {uid: display or username for uid, display, username in rows.all()}


def policy_of(policy_id: str) -> Policy:
    try:
        return load_policy(policy_id)
    except PolicyError as exc:
        raise Invalid(
            Text("奖励政策 {policy_id} 无法使用", policy_id=policy_id), details=[f"{k or '(根)'}: {p}" for k, p in exc.problems]
        ) from None


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
    def role_label(self) -> str:
        return ROLE_NAMES[self.role]

    @property
    def label(self) -> str:
        """The tier's title (the policy's own words) and the recipient, in the reader's language."""
        return Text("{tier}·{role}", tier=self.tier_title, role=Text(ROLE_NAMES[self.role]))


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

    def field_errors(self) -> dict[str, str]:
        """A message per form field (named as the form names it)."""
        errors: dict[str, str] = {}
        if problem := limits.BATCH_NAME.problem(self.name.strip()):
            errors["name"] = problem
        if not self.policy_id:
            errors["policy_id"] = "请选择奖励政策"
        if self.period_from is None:
            errors["period_from"] = "请填写期间开始日期(YYYY-MM-DD)"
        if self.period_to is None:
            errors["period_to"] = "请填写期间结束日期(YYYY-MM-DD)"
        elif self.period_from is not None and self.period_to < self.period_from:
            errors["period_to"] = "期间的结束日期不能早于开始日期"
        return errors

    def errors(self) -> list[str]:
        return list(self.field_errors().values())


async def default_batch_name(db: AsyncSession, policy: Policy, period_from: date, period_to: date) -> str:
    """e.g. "技能兴威行动:重要赛事奖励 2026年度第2批(2026-11-27)": the policy, the period, which
    batch of the policy it is, and the day it was made."""
    years = str(period_from.year) if period_from.year == period_to.year else f"{period_from.year}-{period_to.year}"
    same_year = (PayoutBatch.period_from >= date(period_from.year, 1, 1), PayoutBatch.period_from <= date(period_from.year, 12, 31))
    count = (
        await db.execute(
            select(func.count()).select_from(PayoutBatch).where(PayoutBatch.policy_id == policy.id, PayoutBatch.kind == REGULAR, *same_year)
        )
    ).scalar_one()
    return limits.BATCH_NAME.fit(policy.name, f" {years}年度第{count + 1}批({date.today().isoformat()})")


async def create_batch(db: AsyncSession, actor: Actor, form: BatchForm) -> PayoutBatch:
    errors = form.field_errors()
    if errors:
        raise FormInvalid("发放批次信息有误,未创建", errors)
    policy = policy_of(form.policy_id)
    assert form.period_from is not None and form.period_to is not None
    name = form.name.strip() or await default_batch_name(db, policy, form.period_from, form.period_to)
    batch = PayoutBatch(
        name=name,
        policy_id=policy.id,
        period_from=form.period_from,
        period_to=form.period_to,
        status=DRAFT,
        kind=REGULAR,
        settings={},
        external={},
        sources=[],
        diff={},
        created_by_id=actor.user_id,
        created_by=actor.username,
    )
    db.add(batch)
    await db.flush()
    await record(
        db,
        actor,
        "payout.batch_create",
        "payout_batch",
        batch.id,
        {"name": batch.name, "policy_id": batch.policy_id, "period": [form.period_from.isoformat(), form.period_to.isoformat()]},
    )
    await db.commit()
    return batch


# ---------------------------------------------------------------- computing


def _parse_settings(policy: Policy, raw_amounts: dict[str, str], unit_mode: str, ledger_mode: str) -> dict[str, Any]:
    """The settings to store: amounts as plain strings. Bad text and amounts outside a tier's
    cap or floor are refused here, each naming its field (the tier and recipient, in words)."""
    problems: dict[str, str] = {}
    fields = {f.key: f for f in amount_fields(policy, {})}
    amounts: dict[str, str] = {}
    for key, text in raw_amounts.items():
        text = text.strip()
        field = fields.get(key)
        name = f"amount:{key}"
        if field is None:
            problems[name] = Text("金额项 {key} 不属于政策“{policy}”的可设定金额", key=key, policy=policy.name)
            continue
        if not text:
            problems[name] = Text("{label}:请填写金额", label=field.label)
            continue
        try:
            amount = Money(text)
        except MoneyError as exc:
            problems[name] = Text("{label}:{problem}", label=field.label, problem=looked_up(message_of(exc)))
            continue
        tier_id, _, role = key.partition(".")
        rule = policy.tier(tier_id).rule_for(role or "competitor")
        if rule is not None and (problem := rule.check(amount)):
            problems[name] = Text("{label}:{problem}", label=field.label, problem=problem)
            continue
        amounts[key] = amount.plain()
    if unit_mode and unit_mode not in UNIT_MODES:
        problems["unit_subsidy_mode"] = Text("单位补助方式 {value} 无效", value=repr(unit_mode))
    if ledger_mode and ledger_mode not in LEDGER_MODES:
        problems["ledger_mode"] = Text("台账模式 {value} 无效", value=repr(ledger_mode))
    if problems:
        raise FormInvalid("批次设置有误,未保存", problems)
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
    return LedgerEntry(
        policy_id=entry.policy_id,
        batch_id=f"#{entry.batch_id}",
        paid_on=entry.paid_on,
        recipient_id=entry.recipient_id,
        role=entry.role,
        skill_code=entry.skill_code,
        subject_id=entry.subject_id,
        amount=Money.from_fen(entry.amount_fen),
        tier_id=entry.tier_id,
        achievement_id=entry.achievement_id,
    )


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
    collected = await collect_ours(db, policy, batch.period_from, batch.period_to)
    try:
        outside = external_from_json(external)
    except InputErrors as exc:  # pragma: no cover - stored only after it parsed
        raise Invalid("外部成绩数据有误", details=[e.shown() for e in exc.errors]) from None
    for achievement in outside:
        collected.source_of[achievement.id] = "external"
    try:
        result = compute_awards(policy, collected.achievements + outside, _engine_settings(batch, settings), await _ledger_for(db, batch))
    except AwardError as exc:
        raise Invalid("无法计算:批次设置或成绩有误,未保存任何改动", details=exc.problems) from None
    for line in result.lines:
        if line.achievement_id in collected.provisional:
            line.notes = (*line.notes, collected.provisional[line.achievement_id])
    return _Computation(result, collected, len(outside))


def _line_key(line: PayoutLineRow) -> tuple[str, str, str, str]:
    return (line.kind, line.achievement_id, line.role, line.recipient_id)


def _diff_entry(line: PayoutLineRow, old: int | None, new: int | None) -> dict[str, Any]:
    return {
        "kind": line.kind,
        "role": line.role,
        "recipient_id": line.recipient_id,
        "recipient_name": line.recipient_name,
        "competition": line.competition,
        "item": line.item,
        "result": line.result,
        "payer": line.payer,
        "old": None if old is None else Money.from_fen(old).plain(),
        "new": None if new is None else Money.from_fen(new).plain(),
    }


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


def _line_row(
    line: PayoutLine,
    source: str,
    kind: str = "payment",
    amount_fen: int | None = None,
    notes: tuple[str, ...] | None = None,
    reverses: int | None = None,
) -> PayoutLineRow:
    return PayoutLineRow(
        kind=kind,
        reverses_line_id=reverses,
        payer=line.payer,
        role=line.role,
        recipient_id=line.recipient_id,
        recipient_name=line.recipient_name,
        recipient_unit=line.recipient_unit,
        amount_fen=line.amount.fen if amount_fen is None else amount_fen,
        entitled_fen=line.entitled.fen,
        tier_id=line.tier_id,
        basis=line.basis,
        notes=list(line.notes if notes is None else notes),
        achievement_id=line.achievement_id,
        competition=line.competition,
        item=line.item,
        skill_code=line.skill_code,
        result=line.result,
        subject_id=line.subject_id,
        source=source,
        withheld_fen=line.withheld.fen,
        withholding=line.withholding[: limits.WITHHOLDING.max],
    )


async def _correction_lines(db: AsyncSession, batch: PayoutBatch, computation: _Computation) -> list[PayoutLineRow]:
    """What the original batch should have paid, against what it (and its paid corrections)
    did pay: a reversal of each wrong paid line, and a new line with the right amount."""
    assert batch.corrects_batch_id is not None  # a correction batch names the batch it corrects
    original = await get_batch(db, batch.corrects_batch_id)
    paid: list[PayoutLineRow] = list(original.lines)
    for other in await corrections_of(db, original.id):
        if other.id != batch.id and other.status == PAID:
            paid.extend((await get_batch(db, other.id)).lines)
    net: dict[tuple[str, str, str], int] = {}
    withheld: dict[tuple[str, str, str], int] = {}
    latest: dict[tuple[str, str, str], PayoutLineRow] = {}
    payer_of: dict[tuple[str, str, str], str] = {}
    for line in sorted(paid, key=lambda row: row.id):
        key = (line.achievement_id, line.role, line.recipient_id)
        net[key] = net.get(key, 0) + line.amount_fen
        withheld[key] = withheld.get(key, 0) + line.withheld_fen
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
            why = f"更正后应发 {right.amount.format()} 元" if right is not None else "更正后不再符合发放条件"
            note = f"冲销批次“{original.name}”(#{original.id})第 {ref.number} 行已发放的 {Money.from_fen(was).format()} 元:{why}"
            reversal = PayoutLineRow(
                kind="reversal",
                reverses_line_id=ref.id,
                payer=payer_of[key],
                role=ref.role,
                recipient_id=ref.recipient_id,
                recipient_name=ref.recipient_name,
                recipient_unit=ref.recipient_unit,
                amount_fen=-was,
                entitled_fen=0,
                tier_id=ref.tier_id,
                basis=ref.basis,
                notes=[note],
                achievement_id=ref.achievement_id,
                competition=ref.competition,
                item=ref.item,
                skill_code=ref.skill_code,
                result=ref.result,
                subject_id=ref.subject_id,
                source=ref.source,
                withheld_fen=-withheld.get(key, 0),
                withholding=ref.withholding,
            )
            rows.append(reversal)
        if right is not None and right.amount.fen != 0:
            extra = (
                f"更正批次“{original.name}”(#{original.id}):替代已冲销的原发放行"
                if was != 0
                else f"更正批次“{original.name}”(#{original.id}):原批次未发放,补发"
            )
            source = computation.collected.source_of.get(right.achievement_id, "")
            rows.append(_line_row(right, source, notes=(*right.notes, extra)))
    return rows


async def _store(db: AsyncSession, batch: PayoutBatch, computation: _Computation) -> dict[str, Any]:
    """Replace the batch's lines with this computation; returns the difference from the last one."""
    result = computation.result
    if batch.kind == CORRECTION:
        new_lines = await _correction_lines(db, batch, computation)
    else:
        new_lines = [_line_row(line, computation.collected.source_of.get(line.achievement_id, "")) for line in result.lines]
    for number, row in enumerate(new_lines, 1):
        row.number = number
    before = list(batch.lines)
    diff: dict[str, Any] = diff_lines(before, new_lines)
    diff["computation"] = batch.computations + 1
    diff["first"] = batch.computations == 0
    batch.lines.clear()
    batch.excluded.clear()
    batch.honours.clear()
    await db.flush()  # the old rows go before the new ones come (numbers restart at 1)
    batch.lines.extend(new_lines)
    batch.excluded.extend(
        PayoutExcludedRow(
            number=n,
            status=ex.status,
            reason=ex.reason,
            role=ex.role,
            recipient_id=ex.recipient_id,
            recipient_name=ex.recipient_name,
            recipient_unit=ex.recipient_unit,
            achievement_id=ex.achievement_id,
            competition=ex.competition,
            item=ex.item,
            skill_code=ex.skill_code,
            result=ex.result,
            tier_id=ex.tier_id,
            amount_fen=None if ex.amount is None else ex.amount.fen,
        )
        for n, ex in enumerate(result.excluded, 1)
    )
    batch.honours.extend(
        PayoutHonourRow(
            number=n,
            honour_id=h.honour_id,
            title=h.title,
            source=h.source,
            recipient_id=h.recipient_id,
            recipient_name=h.recipient_name,
            recipient_unit=h.recipient_unit,
            achievement_id=h.achievement_id,
            competition=h.competition,
            item=h.item,
            result=h.result,
            tier_id=h.tier_id,
            role=h.role,
        )
        for n, h in enumerate(result.honours, 1)
    )
    batch.sources = [s.to_json() for s in computation.collected.items] + (
        [{"external": True, "filename": batch.external_filename, "achievements": computation.external_count}]
        if computation.external_count
        else []
    )
    batch.total_fen = sum(row.amount_fen for row in new_lines)
    batch.computations += 1
    batch.computed_at = utcnow()
    changed = bool(diff["added"] or diff["removed"] or diff["changed"])
    batch.diff = diff if not diff["first"] else {}
    status = status_after_compute(batch.status, changed)
    if status != batch.status and batch.status == SUBMITTED:  # back to computed: the submission lapses
        batch.submitted_by_id, batch.submitted_by, batch.submitted_at = None, "", None
    batch.status = status
    if changed and batch.results_override_reason:  # the organizer vouched for other lines: ask again
        _clear_override(batch)
    return diff


def _clear_override(batch: PayoutBatch) -> None:
    batch.results_override_reason, batch.results_override_by, batch.results_override_by_id = "", "", None
    batch.results_override_at, batch.results_override_items = None, []


def _check_editable(batch: PayoutBatch) -> None:
    if problem := frozen_refusal(batch.status):
        raise Conflict(problem, code="frozen")


async def _take(db: AsyncSession, batch: PayoutBatch, statuses: frozenset[str] | set[str], **values: Any) -> bool:
    """Compare-and-set on the batch row: apply ``values`` only if the batch is still in one of
    ``statuses`` and nobody recomputed it since it was read. Holds the row's write lock until the
    transaction ends, so a second concurrent request waits, then finds it changed (never a 500)."""
    statement = (
        update(PayoutBatch)
        .where(PayoutBatch.id == batch.id, PayoutBatch.status.in_(statuses), PayoutBatch.computations == batch.computations)
        .values(**(values or {"computations": PayoutBatch.computations}))
        .execution_options(synchronize_session=False)
    )
    return cast("CursorResult[Any]", await db.execute(statement)).rowcount == 1  # an UPDATE's result has a rowcount


async def _lock_editable(db: AsyncSession, batch: PayoutBatch) -> None:
    _check_editable(batch)
    if not await _take(db, batch, EDITABLE):
        await db.rollback()
        raise Conflict(BUSY, code="busy")


def _audit_summary(batch: PayoutBatch, diff: dict[str, Any]) -> dict[str, Any]:
    return {
        "computation": batch.computations,
        "lines": len(batch.lines),
        "excluded": len(batch.excluded),
        "honours": len(batch.honours),
        "total": Money.from_fen(batch.total_fen).plain(),
        "status": batch.status,
        "added": len(diff["added"]),
        "removed": len(diff["removed"]),
        "changed": len(diff["changed"]),
    }


async def delete_batch(db: AsyncSession, actor: Actor, batch_id: int) -> str:
    """Delete a draft batch (never computed: no lines, nothing approved or paid); audited.
    Returns its name. A batch computed meanwhile by someone else is refused, not deleted."""
    batch = await get_batch(db, batch_id)
    if problem := allowed.delete_batch(batch.status):
        raise Conflict(problem, code="not_draft")
    name = batch.name
    await record(db, actor, "payout.batch_delete", "payout_batch", batch.id, {"name": name, "policy_id": batch.policy_id})
    statement = delete(PayoutBatch).where(
        PayoutBatch.id == batch.id, PayoutBatch.status == DRAFT, PayoutBatch.computations == batch.computations
    )
    if cast("CursorResult[Any]", await db.execute(statement.execution_options(synchronize_session=False))).rowcount != 1:
        await db.rollback()
        raise Conflict(BUSY, code="busy")
    await db.commit()
    db.expunge_all()
    return name


async def compute(db: AsyncSession, actor: Actor, batch_id: int) -> dict[str, Any]:
    """(Re)compute with the stored settings and the sources as they are now."""
    batch = await get_batch(db, batch_id)
    await _lock_editable(db, batch)
    computation = await _compute(db, batch, batch.settings or {}, batch.external or {})
    diff = await _store(db, batch, computation)
    await record(db, actor, "payout.batch_compute", "payout_batch", batch.id, _audit_summary(batch, diff))
    await db.commit()
    return diff


async def save_settings(
    db: AsyncSession, actor: Actor, batch_id: int, raw_amounts: dict[str, str], unit_mode: str = "", ledger_mode: str = ""
) -> dict[str, Any]:
    """Set the batch's amounts (within each tier's cap/floor) and modes, and recompute. An
    amount out of bounds is refused with the tier and the bound; nothing is written."""
    batch = await get_batch(db, batch_id)
    _check_editable(batch)
    policy = policy_of(batch.policy_id)
    settings = _parse_settings(policy, raw_amounts, unit_mode, ledger_mode)
    await _lock_editable(db, batch)
    computation = await _compute(db, batch, settings, batch.external or {})  # refuses bad amounts before any write
    before = batch.settings or {}
    batch.settings = settings
    diff = await _store(db, batch, computation)
    changes = {k: v for k, v in settings["amounts"].items() if before.get("amounts", {}).get(k) != v}
    await record(
        db,
        actor,
        "payout.amounts_set",
        "payout_batch",
        batch.id,
        {
            "amounts": changes,
            "unit_subsidy_mode": settings["unit_subsidy_mode"],
            "ledger_mode": settings["ledger_mode"],
            **_audit_summary(batch, diff),
        },
    )
    await db.commit()
    return diff


async def import_external(db: AsyncSession, actor: Actor, batch_id: int, filename: str, content: bytes) -> int:
    """Replace the batch's external results with those of an award-engine template workbook,
    and recompute. Any bad row: every problem listed, nothing imported."""
    from contest.awards.results_io import read_results_upload

    batch = await get_batch(db, batch_id)
    _check_editable(batch)
    if batch.kind == CORRECTION:
        raise Conflict("更正批次沿用原批次的外部成绩,不能另行导入")
    if not content:
        raise Invalid("请选择要导入的成绩文件(.xlsx)")
    if not filename.lower().endswith((".xlsx", ".xlsm")):
        raise Invalid("成绩文件须为 Excel 工作簿(.xlsx),使用“外部成绩模板”填写")
    try:
        achievements = await parse_off_loop(read_results_upload, content)
    except InputErrors as exc:
        raise Invalid(
            Text("外部成绩文件有 {count} 处错误,未导入任何成绩", count=len(exc.errors)),
            details=[e.shown() for e in exc.errors],
        ) from None
    if not achievements:
        raise Invalid("外部成绩文件中没有成绩行")
    external = external_to_json(achievements)
    await _lock_editable(db, batch)
    computation = await _compute(db, batch, batch.settings or {}, external)
    batch.external, batch.external_filename = external, filename[:200]
    diff = await _store(db, batch, computation)
    await record(
        db,
        actor,
        "payout.external_import",
        "payout_batch",
        batch.id,
        {"filename": filename[:200], "achievements": len(achievements), **_audit_summary(batch, diff)},
    )
    await db.commit()
    return len(achievements)


# ---------------------------------------------------------------- review, approval, payment


async def submit(db: AsyncSession, actor: Actor, batch_id: int) -> None:
    batch = await get_batch(db, batch_id)
    if batch.status == SUBMITTED and batch.submitted_by_id == actor.user_id:
        return  # the same request again (a double click): the same result
    if problem := refusal("submit", batch.status):
        raise Conflict(problem)
    if not batch.lines:
        raise Conflict("批次没有发放行,无需审批")
    if not await _take(
        db,
        batch,
        TRANSITIONS["submit"].sources,
        status=SUBMITTED,
        submitted_by_id=actor.user_id,
        submitted_by=actor.username,
        submitted_at=utcnow(),
        returned_reason="",
    ):
        await db.rollback()
        return await _same_or_busy(db, batch_id, SUBMITTED, actor)
    await record(
        db,
        actor,
        "payout.batch_submit",
        "payout_batch",
        batch.id,
        {"computation": batch.computations, "lines": len(batch.lines), "total": Money.from_fen(batch.total_fen).plain()},
    )
    await db.commit()


async def _same_or_busy(db: AsyncSession, batch_id: int, status: str, actor: Actor) -> None:
    """After a lost compare-and-set: the same result if a concurrent twin of this request made it."""
    batch = await get_batch(db, batch_id)
    if batch.status == status:
        return
    raise Conflict(BUSY, code="busy")


@dataclass
class Blockers:
    """Why a batch cannot be approved yet (results not final), and whether an organizer may vouch."""

    checks: list[SourceCheck]

    @property
    def hard(self) -> list[SourceCheck]:  # the lines are stale: recompute, nobody can vouch for them
        return [c for c in self.checks if c.stale]

    @property
    def open(self) -> list[SourceCheck]:  # appeal window open or appeal undecided: an organizer may vouch
        return [c for c in self.checks if not c.stale and not c.final]

    def uncovered(self, batch: PayoutBatch) -> list[SourceCheck]:
        vouched = {entry.get("item_id") for entry in batch.results_override_items or []} if batch.results_override_reason else set()
        return [c for c in self.open if c.item_id not in vouched]


async def blockers(db: AsyncSession, batch: PayoutBatch, now: datetime | None = None) -> Blockers:
    """The source items of the batch as they stand now (docs/payouts.md, 成绩最终确认)."""
    return Blockers(await check_sources(db, batch.sources or [], batch.computed_at, now or utcnow()))


_OLD_PROVISIONAL = "该赛项成绩已公示但尚未最终确认"  # how lines computed before said it


@dataclass(frozen=True)
class SourceState:
    """What a source item whose results were not final when the batch was computed is now, by the
    rule approval applies (sources.item_settled): still not final (why), vouched for by an
    organizer, or treated as final (window closed, no appeal pending; for an approved batch:
    approval required it)."""

    final: bool
    vouched: bool
    why: str

    @property
    def note(self) -> str:
        if self.vouched:
            return f"{PROVISIONAL_PREFIX}({self.why}),{OVERRIDE_NOTE}"
        if self.final:
            return SETTLED_NOTE
        return f"{PROVISIONAL_PREFIX}:{self.why},申诉处理后可能变动"


async def source_states(db: AsyncSession, batch: PayoutBatch) -> dict[int, SourceState]:
    """Item id -> SourceState, for the items of the batch that were not final when computed."""
    ids = {
        s["item_id"]
        for s in batch.sources or []
        if not s.get("external") and s.get("included") and not s.get("final", s.get("status") == "final")
    }
    if not ids:
        return {}
    vouched = {e.get("item_id"): e.get("why", "") for e in batch.results_override_items or []} if batch.results_override_reason else {}
    still_open = {} if batch.status in FROZEN else {c.item_id: c.why for c in (await blockers(db, batch)).open}
    states = {}
    for item_id in ids:
        if item_id in vouched and (batch.status in FROZEN or item_id in still_open):
            states[item_id] = SourceState(False, True, still_open.get(item_id) or vouched[item_id])
        else:
            states[item_id] = SourceState(item_id not in still_open, False, still_open.get(item_id, ""))
    return states


def notes_now(notes: list[str] | tuple[str, ...], source: str, states: dict[int, SourceState]) -> list[str]:
    """A line's notes with its provisional 说明 (written when computed) replaced by what its
    source item ("item:<id>") is now."""
    state = states.get(int(source[5:])) if source.startswith("item:") and source[5:].isdigit() else None
    if state is None:
        return list(notes)
    return [*(n for n in notes if not n.startswith((PROVISIONAL_PREFIX, _OLD_PROVISIONAL))), state.note]


def notes_as_now(result: AwardResult, lines: list[PayoutLineRow], states: dict[int, SourceState]) -> None:
    """notes_now for every line of the workbook's result."""
    if not states:
        return
    item_of = {row.achievement_id: row.source for row in lines}
    for line in result.lines:
        line.notes = tuple(notes_now(line.notes, item_of.get(line.achievement_id, ""), states))


def _describe(checks: list[SourceCheck]) -> list[str]:
    return [Text("{competition}·{item}:{why}", competition=c.competition, item=c.item, why=looked_up(c.why)) for c in checks]


async def approve_refusal(db: AsyncSession, batch: PayoutBatch, approver_id: int | None) -> Conflict | None:
    """Why ``approver_id`` may not approve the batch now, or None: the page disables 审批通过 with
    this reason and approve() refuses with it (the state and four eyes: domain/allowed.py)."""
    if problem := refusal("approve", batch.status):
        return Conflict(problem)
    if problem := four_eyes_refusal(approver_id, batch.created_by_id, batch.submitted_by_id):
        return Conflict(problem, code="same_person")
    found = await blockers(db, batch)
    if found.hard:
        return Conflict("成绩在本批次计算后有变动,须重新计算后再提交审批", code="results_changed", details=_describe(found.hard))
    if waiting := found.uncovered(batch):
        return Conflict(
            "成绩尚未最终确认,暂不能审批:须等申诉期结束且申诉处理完毕,或由组织方填写理由准许提前审批",
            code="results_not_final",
            details=_describe(waiting),
        )
    return None


async def approve(db: AsyncSession, actor: Actor, batch_id: int) -> None:
    """Approval by a second finance account, and only once the results are final (or an organizer
    vouched for the unfinished ones with a recorded reason)."""
    batch = await get_batch(db, batch_id)
    if batch.status == APPROVED and batch.approved_by_id == actor.user_id:
        return  # a double click: the same result
    if found := await approve_refusal(db, batch, actor.user_id):
        raise found
    if not await _take(
        db,
        batch,
        TRANSITIONS["approve"].sources,
        status=APPROVED,
        approved_by_id=actor.user_id,
        approved_by=actor.username,
        approved_at=utcnow(),
    ):
        await db.rollback()
        return await _same_or_busy(db, batch_id, APPROVED, actor)
    await record(
        db,
        actor,
        "payout.batch_approve",
        "payout_batch",
        batch.id,
        {
            "computation": batch.computations,
            "lines": len(batch.lines),
            "total": Money.from_fen(batch.total_fen).plain(),
            "results_override": bool(batch.results_override_reason),
        },
    )
    await db.commit()


async def override_results(db: AsyncSession, actor: Actor, batch_id: int, reason: str) -> None:
    """An organizer lets a batch be approved before its results are final, with a reason; it
    covers the source items unfinished now, and lapses when a recompute changes the lines."""
    batch = await get_batch(db, batch_id)
    reason = reason.strip()
    if problem := refusal("override_results", batch.status):
        raise Conflict(problem)
    if not reason:
        raise FormInvalid("准许提前审批须填写理由", {"reason": "请填写理由(如:申诉不涉及获奖名次)"})
    if problem := limits.REASON.problem(reason):
        raise FormInvalid("理由过长,未保存", {"reason": problem})
    found = await blockers(db, batch)
    if found.hard:
        raise Conflict("成绩在本批次计算后有变动,须先重新计算", code="results_changed", details=_describe(found.hard))
    if not found.open:
        raise Conflict("本批次的成绩均已最终确认,无需准许提前审批")
    items = [{"item_id": c.item_id, "competition": c.competition, "item": c.item, "why": c.why} for c in found.open]
    if not await _take(
        db,
        batch,
        TRANSITIONS["override_results"].sources,
        results_override_reason=reason,
        results_override_by=actor.username,
        results_override_by_id=actor.user_id,
        results_override_at=utcnow(),
        results_override_items=items,
    ):
        await db.rollback()
        raise Conflict(BUSY, code="busy")
    await record(
        db, actor, "payout.results_override", "payout_batch", batch.id, {"reason": reason, "items": [c.item_id for c in found.open]}
    )
    await db.commit()


async def return_batch(db: AsyncSession, actor: Actor, batch_id: int, reason: str) -> None:
    """The approver sends a submitted batch back (退回) with a reason."""
    batch = await get_batch(db, batch_id)
    if problem := refusal("return", batch.status):
        raise Conflict(problem)
    reason = reason.strip()
    if not reason:
        raise FormInvalid("退回须填写理由", {"reason": "请填写退回理由"})
    if problem := limits.REASON.problem(reason):
        raise FormInvalid("退回理由过长", {"reason": problem})
    if not await _take(
        db,
        batch,
        TRANSITIONS["return"].sources,
        status=COMPUTED,
        submitted_by_id=None,
        submitted_by="",
        submitted_at=None,
        returned_reason=reason,
    ):
        await db.rollback()
        raise Conflict(BUSY, code="busy")
    await record(db, actor, "payout.batch_return", "payout_batch", batch.id, {"reason": reason})
    await db.commit()


async def mark_paid(db: AsyncSession, actor: Actor, batch_id: int, paid_on: date | None) -> bool:
    """Record that the approved batch was paid: its lines go into the policy's ledger, once.
    Idempotent and safe under concurrency: the batch row is claimed (approved -> paid) before any
    ledger entry is written, so a second request (a double click) finds it paid and gets the
    same result; returns False then."""
    batch = await get_batch(db, batch_id)
    if batch.status == PAID:
        return False
    if problem := refusal("pay", batch.status):
        raise Conflict(problem)
    when = paid_on or date.today()
    if not await _take(db, batch, TRANSITIONS["pay"].sources, status=PAID, paid_by=actor.username, paid_at=utcnow(), paid_on=when):
        await db.rollback()
        await _same_or_busy(db, batch_id, PAID, actor)
        return False
    for line in batch.lines:
        db.add(
            PayoutLedgerEntry(
                policy_id=batch.policy_id,
                batch_id=batch.id,
                line_id=line.id,
                paid_on=when,
                recipient_id=line.recipient_id,
                role=line.role,
                skill_code=ledger_skill(line.subject_id, line.skill_code),
                subject_id=line.subject_id,
                amount_fen=line.amount_fen,
                tier_id=line.tier_id,
                achievement_id=line.achievement_id,
            )
        )
    await record(
        db,
        actor,
        "payout.batch_paid",
        "payout_batch",
        batch.id,
        {"paid_on": when.isoformat(), "ledger_entries": len(batch.lines), "total": Money.from_fen(batch.total_fen).plain()},
    )
    await db.commit()
    return True


async def create_correction(db: AsyncSession, actor: Actor, batch_id: int) -> PayoutBatch:
    """A correction batch for a paid batch: recomputed from the results as they are now, it holds
    a reversal for every paid line that is wrong and a new line with the right amount."""
    original = await get_batch(db, batch_id)
    if original.status != PAID:
        raise Conflict("只有已发放的批次需要更正;未审批的批次直接重新计算即可")
    if original.kind == CORRECTION:
        raise Conflict("请对原批次建立更正批次,而不是对更正批次")
    pending = [b for b in await corrections_of(db, original.id) if b.status != PAID]
    if pending:
        raise Conflict(Text("该批次已有未完成的更正批次 #{number},请先处理", number=pending[0].id))
    batch = PayoutBatch(
        name=limits.BATCH_NAME.fit(original.name, "(更正)"),  # the original's name may already fill the column
        policy_id=original.policy_id,
        period_from=original.period_from,
        period_to=original.period_to,
        status=DRAFT,
        kind=CORRECTION,
        corrects_batch_id=original.id,
        settings=dict(original.settings or {}),
        external=dict(original.external or {}),
        external_filename=original.external_filename,
        sources=[],
        diff={},
        created_by_id=actor.user_id,
        created_by=actor.username,
    )
    db.add(batch)
    await db.flush()
    batch = await get_batch(db, batch.id)
    computation = await _compute(db, batch, batch.settings or {}, batch.external or {})
    diff = await _store(db, batch, computation)
    await record(db, actor, "payout.correction_create", "payout_batch", batch.id, {"corrects": original.id, **_audit_summary(batch, diff)})
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
        PayoutLine(
            payer=r.payer,
            role=r.role,
            recipient_id=r.recipient_id,
            recipient_name=r.recipient_name,
            recipient_unit=r.recipient_unit,
            amount=Money.from_fen(r.amount_fen),
            entitled=Money.from_fen(r.entitled_fen),
            tier_id=r.tier_id,
            basis=r.basis,
            achievement_id=r.achievement_id,
            competition=r.competition,
            item=r.item,
            skill_code=r.skill_code,
            result=r.result,
            subject_id=r.subject_id,
            notes=tuple(r.notes or ()),
            withheld=Money.from_fen(r.withheld_fen or 0),
            withholding=r.withholding or "",
        )
        for r in batch.lines
    ]
    lines.sort(key=lambda line: line.payer)  # grouped by payer, in the batch's order within each
    excluded = [
        _Excluded(
            e.status,
            e.reason,
            e.role,
            e.recipient_id,
            e.recipient_name,
            e.recipient_unit,
            e.competition,
            e.item,
            e.result,
            None if e.amount_fen is None else Money.from_fen(e.amount_fen),
        )
        for e in batch.excluded
    ]
    honours = [
        HonourLine(
            honour_id=h.honour_id,
            title=h.title,
            source=h.source,
            recipient_id=h.recipient_id,
            recipient_name=h.recipient_name,
            recipient_unit=h.recipient_unit,
            achievement_id=h.achievement_id,
            competition=h.competition,
            item=h.item,
            result=h.result,
            tier_id=h.tier_id,
            role=h.role or "competitor",
        )
        for h in batch.honours
    ]
    return AwardResult(
        policy_id=batch.policy_id,
        policy_name=policy_name,
        batch_id=batch.name,
        batch_date=batch.paid_on,
        ledger_mode=settings.get("ledger_mode") or (rules.ledger_mode if rules else ""),
        unit_subsidy_mode=settings.get("unit_subsidy_mode") or (rules.unit_subsidy_mode if rules else ""),
        lines=lines,
        excluded=excluded,  # type: ignore[arg-type]  # stored rows with the fields the workbook reads (_Excluded)
        honours=honours,
    )


def _day(moment: datetime | None) -> str:
    return moment.astimezone().date().isoformat() if moment else ""


async def workbook_info(db: AsyncSession, batch: PayoutBatch, result: AwardResult, *, for_finance: bool) -> Any:
    """The title block, names for the sign-off, payment details (masked unless for finance)."""
    try:
        policy: Policy | None = load_policy(batch.policy_id)
    except PolicyError:
        policy = None
    info = WorkbookInfo.for_result(result, policy)
    names = await user_names(db, [batch.created_by_id, batch.approved_by_id, batch.results_override_by_id])
    info.batch_name, info.batch_number = batch.name, f"#{batch.id}"
    info.status = STATUS_LABELS[batch.status] + ("(更正批次)" if batch.kind == CORRECTION else "")
    info.final = batch.status in FROZEN
    made = batch.computed_at or batch.created_at  # 制表日期: when the lines were made
    info.made_on = made.astimezone().date() if made else None
    info.prepared_by = names.get(batch.created_by_id or -1, batch.created_by)
    info.approved_by = names.get(batch.approved_by_id or -1, batch.approved_by) if batch.approved_by else ""
    if batch.results_override_reason:
        who = names.get(batch.results_override_by_id or -1, batch.results_override_by)
        items = "、".join(f"{i['competition']}·{i['item']}({i['why']})" for i in batch.results_override_items or [])
        info.override = f"组织方 {who} 于 {_day(batch.results_override_at)} 准许提前审批,理由:{batch.results_override_reason}(涉及:{items})"
    if batch.status == PAID and batch.paid_on:
        info.notes = (*info.notes, f"已于 {batch.paid_on.isoformat()} 发放,记入发放台账。")
    info.payees = await payees.details_for(db, {payee_key(line) for line in result.lines})
    info.phones = await payees.roster_phones(db, [line.recipient_id for line in result.lines if line.role != "unit"])
    info.mask_accounts = not for_finance
    return info


async def workbook_bytes(db: AsyncSession, batch: PayoutBatch, *, for_finance: bool = True) -> bytes:
    import io

    result = award_result(batch)
    notes_as_now(result, batch.lines, await source_states(db, batch))
    info = await workbook_info(db, batch, result, for_finance=for_finance)
    stream = io.BytesIO()
    write_finance_workbook(result, stream, info=info)
    return stream.getvalue()


async def missing_payees(db: AsyncSession, batch: PayoutBatch) -> list[PayoutLineRow]:
    """Lines whose recipient has no (or incomplete) payment details: flagged before approval."""
    found = await payees.details_for(db, {payee_key(line) for line in batch.lines})
    return [
        line for line in batch.lines if line.amount_fen > 0 and not found.get(payee_key(line), PayeeDetails()).complete(payee_key(line)[0])
    ]
