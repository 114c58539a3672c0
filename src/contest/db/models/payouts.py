"""Payout batches, their lines and the ledger of what each policy has paid (docs/payouts.md).

Money is integer fen (BigInteger), never float. A batch moves draft -> computed -> submitted ->
approved -> paid; its lines are replaced by each computation until it is approved, and never
change after that. A correction batch pays the difference on a paid batch as reversal lines
(negative, referencing the paid line) plus new lines.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.db.models.core import Base, TZDateTime, utcnow
from contest.domain import limits
from contest.domain.payouts import BatchKind, BatchStatus


class PayoutBatch(Base):
    """发放批次: one policy, one period, the sources and the settings chosen by finance."""

    __tablename__ = "payout_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.BATCH_NAME.max))
    policy_id: Mapped[str] = mapped_column(String(limits.POLICY_ID.max), index=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=BatchStatus.DRAFT)
    kind: Mapped[str] = mapped_column(String(20), default=BatchKind.REGULAR)  # regular / correction
    corrects_batch_id: Mapped[int | None] = mapped_column(ForeignKey("payout_batches.id", ondelete="RESTRICT"), nullable=True, index=True)
    # {"amounts": {"tier" | "tier.unit" | "tier.coach_team": "2000.00"}, "unit_subsidy_mode": ..., "ledger_mode": ...}
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # Results from competitions run elsewhere, imported from the award engine's Excel template,
    # kept in the engine's JSON form ({"achievements": [...]}) so every recompute reads them again.
    external: Mapped[dict] = mapped_column(JSON, default=dict)
    external_filename: Mapped[str] = mapped_column(String(limits.FILENAME.max), default="")
    sources: Mapped[list] = mapped_column(JSON, default=list)  # what the last computation read
    diff: Mapped[dict] = mapped_column(JSON, default=dict)  # the last recompute against the one before
    computations: Mapped[int] = mapped_column(Integer, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    computed_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    submitted_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submitted_by: Mapped[str] = mapped_column(String(64), default="")
    submitted_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    approved_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    approved_by: Mapped[str] = mapped_column(String(64), default="")
    approved_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    returned_reason: Mapped[str] = mapped_column(String(500), default="")
    paid_by: Mapped[str] = mapped_column(String(64), default="")
    paid_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # 成绩未最终确认时提前审批: an organizer vouches for the listed source items (still in their
    # appeal window, or with an undecided appeal) with a reason; shown on the workbook
    results_override_reason: Mapped[str] = mapped_column(String(limits.REASON.max), default="", server_default="")
    results_override_by: Mapped[str] = mapped_column(String(64), default="", server_default="")
    results_override_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    results_override_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    results_override_items: Mapped[list] = mapped_column(
        JSON, default=list, server_default="[]"
    )  # [{"item_id", "competition", "item", "why"}]

    lines: Mapped[list[PayoutLineRow]] = relationship(
        back_populates="batch", lazy="raise", order_by="PayoutLineRow.number", cascade="all, delete-orphan"
    )
    excluded: Mapped[list[PayoutExcludedRow]] = relationship(
        lazy="raise", order_by="PayoutExcludedRow.number", cascade="all, delete-orphan"
    )
    honours: Mapped[list[PayoutHonourRow]] = relationship(lazy="raise", order_by="PayoutHonourRow.number", cascade="all, delete-orphan")


class PayoutLineRow(Base):
    """One payment (or a reversal: a negative amount that cancels a paid line)."""

    __tablename__ = "payout_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 序号 within the batch
    kind: Mapped[str] = mapped_column(String(20), default="payment")  # payment / reversal
    reverses_line_id: Mapped[int | None] = mapped_column(ForeignKey("payout_lines.id", ondelete="RESTRICT"), nullable=True, index=True)
    payer: Mapped[str] = mapped_column(String(limits.ORGANIZER.max))
    role: Mapped[str] = mapped_column(String(20))  # competitor / coach / unit
    recipient_id: Mapped[str] = mapped_column(String(limits.PAYEE_KEY.max))  # 证件号码, or the unit's name
    recipient_name: Mapped[str] = mapped_column(String(limits.PAYEE_KEY.max))
    recipient_unit: Mapped[str] = mapped_column(String(limits.UNIT_NAME.max), default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    entitled_fen: Mapped[int] = mapped_column(BigInteger)
    tier_id: Mapped[str] = mapped_column(String(100), default="")
    basis: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[list] = mapped_column(JSON, default=list)
    achievement_id: Mapped[str] = mapped_column(String(limits.ACHIEVEMENT_ID.max))
    competition: Mapped[str] = mapped_column(String(limits.COMPETITION_NAME.max), default="")
    item: Mapped[str] = mapped_column(String(limits.ITEM_NAME.max), default="")
    skill_code: Mapped[str] = mapped_column(String(limits.SKILL_CODE.max), default="")
    result: Mapped[str] = mapped_column(String(limits.RESULT.max), default="")
    subject_id: Mapped[str] = mapped_column(String(limits.SUBJECT_ID.max), default="")
    source: Mapped[str] = mapped_column(String(100), default="")  # "item:<id>" or "external"
    withheld_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # 代扣个税
    withholding: Mapped[str] = mapped_column(String(limits.WITHHOLDING.max), default="", server_default="")

    batch: Mapped[PayoutBatch] = relationship(back_populates="lines", lazy="raise")


class PayoutExcludedRow(Base):
    """A would-be recipient who is not paid in the batch, with the reason."""

    __tablename__ = "payout_excluded"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[str] = mapped_column(String(limits.PAYEE_KEY.max))
    recipient_name: Mapped[str] = mapped_column(String(limits.PAYEE_KEY.max))
    recipient_unit: Mapped[str] = mapped_column(String(limits.UNIT_NAME.max), default="")
    achievement_id: Mapped[str] = mapped_column(String(limits.ACHIEVEMENT_ID.max))
    competition: Mapped[str] = mapped_column(String(limits.COMPETITION_NAME.max), default="")
    item: Mapped[str] = mapped_column(String(limits.ITEM_NAME.max), default="")
    skill_code: Mapped[str] = mapped_column(String(limits.SKILL_CODE.max), default="")
    result: Mapped[str] = mapped_column(String(limits.RESULT.max), default="")
    tier_id: Mapped[str] = mapped_column(String(100), default="")
    amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class PayoutHonourRow(Base):
    """A non-cash outcome (晋升等级, 推荐评选) listed beside the payouts."""

    __tablename__ = "payout_honours"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    honour_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text, default="")
    recipient_id: Mapped[str] = mapped_column(String(limits.PAYEE_KEY.max))
    recipient_name: Mapped[str] = mapped_column(String(limits.PAYEE_KEY.max))
    recipient_unit: Mapped[str] = mapped_column(String(limits.UNIT_NAME.max), default="")
    achievement_id: Mapped[str] = mapped_column(String(limits.ACHIEVEMENT_ID.max))
    competition: Mapped[str] = mapped_column(String(limits.COMPETITION_NAME.max), default="")
    item: Mapped[str] = mapped_column(String(limits.ITEM_NAME.max), default="")
    result: Mapped[str] = mapped_column(String(limits.RESULT.max), default="")
    tier_id: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20), default="competitor", server_default="competitor")  # or coach


class PayoutLedgerEntry(Base):
    """台账: one amount a policy has paid (written when a batch is marked paid; read by later batches)."""

    __tablename__ = "payout_ledger"
    __table_args__ = (Index("ix_payout_ledger_policy_recipient", "policy_id", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(limits.POLICY_ID.max))
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id", ondelete="RESTRICT"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("payout_lines.id", ondelete="RESTRICT"), unique=True)
    paid_on: Mapped[date] = mapped_column(Date)
    recipient_id: Mapped[str] = mapped_column(String(limits.PAYEE_KEY.max))
    role: Mapped[str] = mapped_column(String(20))
    skill_code: Mapped[str] = mapped_column(String(limits.SKILL_CODE.max), default="")
    subject_id: Mapped[str] = mapped_column(String(limits.SUBJECT_ID.max), default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    tier_id: Mapped[str] = mapped_column(String(100), default="")
    achievement_id: Mapped[str] = mapped_column(String(limits.ACHIEVEMENT_ID.max), default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class Payee(Base):
    """收款信息: where a person's or a unit's award is paid (finance only; masked everywhere else).

    Keyed as payout lines name their recipient: a person by 证件号码 (which also covers people
    of external results who are not in our rosters), a unit by its name. Imported by finance from
    the payee workbook or edited on the finance pages; never through the organizers' rosters.
    Bank account numbers are personal data: never logged, never in the audit detail.
    """

    __tablename__ = "payees"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_payees_kind_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # person / unit
    key: Mapped[str] = mapped_column(String(limits.PAYEE_KEY.max))  # 证件号码, or the unit's name
    name: Mapped[str] = mapped_column(String(limits.PAYEE_KEY.max))  # 姓名 or 单位名称 as imported
    account_name: Mapped[str] = mapped_column(String(limits.ACCOUNT_NAME.max), default="")  # 户名
    bank_name: Mapped[str] = mapped_column(String(limits.BANK_NAME.max), default="")  # 开户行
    account_number: Mapped[str] = mapped_column(String(limits.ACCOUNT_NUMBER.max), default="")  # 银行账号
    credit_code: Mapped[str] = mapped_column(String(limits.CREDIT_CODE.max), default="")  # units: 统一社会信用代码
    phone: Mapped[str] = mapped_column(String(limits.PHONE.max), default="")  # people: 联系电话
    note: Mapped[str] = mapped_column(String(limits.PAYEE_NOTE.max), default="")
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, onupdate=utcnow)
