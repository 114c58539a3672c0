"""Published result versions and appeals (申诉)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contest.db.models.core import Base, TZDateTime, utcnow
from contest.domain.limits import APPEAL_TEXT, APPELLANT, DECISION_TEXT, REASON
from contest.domain.results import AppealStatus


class ResultVersion(Base):
    """Each publication of an item's results (公示) is a version: v1, then v2 after a revision."""

    __tablename__ = "result_versions"
    __table_args__ = (UniqueConstraint("item_id", "version", name="uq_result_versions_item_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(REASON.max), default="")  # why it was revised (the reopen reason)
    rows: Mapped[list] = mapped_column(JSON)  # [{station, entry_no, names, unit, total, place, award}]
    changes: Mapped[list] = mapped_column(JSON, default=list)  # [{station, field, old, new}] against the previous version


class Appeal(Base):
    """申诉: recorded in writing within the window; the arbitration group's decision is final."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    station_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    appellant: Mapped[str] = mapped_column(String(APPELLANT.max))
    content: Mapped[str] = mapped_column(String(APPEAL_TEXT.max))
    received_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=AppealStatus.PENDING)  # pending / upheld / rejected
    decision: Mapped[str] = mapped_column(String(DECISION_TEXT.max), default="")
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
