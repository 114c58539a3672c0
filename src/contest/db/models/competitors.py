"""Competitors' desk (issue 17): how they look up their results, their certificates (获奖证书),
the honours a competition grants, and the throttle of look-ups and verifications."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from contest.db.models.core import Base, TZDateTime, utcnow
from contest.domain.certificates import CertificateStatus
from contest.domain.limits import (
    CERT_BODY,
    CERT_TITLE,
    COMPETITION_NAME,
    HONOUR_TITLE,
    ISSUER,
    ITEM_NAME,
    PERSON_NAME,
    REVOKE_REASON,
    TEAM_NAME,
    UNIT_NAME,
)


class CompetitorSettings(Base):
    """Per competition: the second factor of a look-up and the certificate template."""

    __tablename__ = "competitor_settings"

    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), primary_key=True)
    lookup_factor: Mapped[str] = mapped_column(String(20), default="id_last4")  # id_last4 / access_code
    title: Mapped[str] = mapped_column(String(CERT_TITLE.max))
    award_body: Mapped[str] = mapped_column(String(CERT_BODY.max))
    honour_body: Mapped[str] = mapped_column(String(CERT_BODY.max))
    issuer: Mapped[str] = mapped_column(String(ISSUER.max), default="")
    issue_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    seal_png: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # re-encoded by us: never the uploaded bytes
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, onupdate=utcnow)


class HonourRuleRow(Base):
    """荣誉称号 granted with awards, e.g. 「威海市技术能手」 for 1st-3rd."""

    __tablename__ = "honour_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(HONOUR_TITLE.max))
    awards: Mapped[list] = mapped_column(JSON)  # award codes: first / second / third / excellence


class AccessCode(Base):
    """A competitor's look-up code (查询码, printed on the 准考证): only its hash is kept."""

    __tablename__ = "access_codes"
    __table_args__ = (UniqueConstraint("competition_id", "person_id", name="uq_access_codes_competition_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class Certificate(Base):
    """获奖证书: one per person and award, and per person and honour, of a published result version.

    The printed facts are kept here as issued; a later version confirms them (``confirmed_version``),
    supersedes them (a new certificate names this one in ``replaces_id``), or revokes them.
    """

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(26), unique=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    result_version_id: Mapped[int] = mapped_column(ForeignKey("result_versions.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # the result version it was issued from
    confirmed_version: Mapped[int] = mapped_column(Integer)  # the latest version that still grants it unchanged
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id", ondelete="SET NULL"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(10))  # award / honour
    name: Mapped[str] = mapped_column(String(PERSON_NAME.max))
    unit: Mapped[str] = mapped_column(String(UNIT_NAME.max), default="")
    team: Mapped[str] = mapped_column(String(TEAM_NAME.max), default="")
    competition: Mapped[str] = mapped_column(String(COMPETITION_NAME.max))
    item: Mapped[str] = mapped_column(String(ITEM_NAME.max))
    award: Mapped[str] = mapped_column(String(20))
    honour: Mapped[str] = mapped_column(String(HONOUR_TITLE.max), default="")
    status: Mapped[str] = mapped_column(String(12), default=CertificateStatus.VALID)  # valid / superseded / revoked
    status_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the version that superseded or revoked it
    status_reason: Mapped[str] = mapped_column(String(REVOKE_REASON.max), default="")
    status_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    issued_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class LookupAttempt(Base):
    """Look-ups of results (kind "lookup", subject: competition and name) and verifications of
    unknown serials (kind "verify"), counted in the database like sign-ins: every process agrees."""

    __tablename__ = "lookup_attempts"
    __table_args__ = (
        Index("ix_lookup_attempts_subject_at", "kind", "subject", "at"),
        Index("ix_lookup_attempts_ip_at", "kind", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(120), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
