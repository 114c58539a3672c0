"""SQLAlchemy models. Columns use portable types so the same migrations run on SQLite and PostgreSQL.

Marks and weights are Numeric (Decimal in Python): never float.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from contest.domain import limits
from contest.domain.lifecycle import SETUP
from contest.domain.limits import (
    APPEAL_CONTACT,
    AUDIT_DEVICE,
    CLIENT_ID,
    COMPETITION_NAME,
    COMPONENT_NAME,
    CONFLICT_REASON,
    CONTACT,
    CRITERION_CODE,
    CRITERION_NAME,
    DISPLAY_NAME,
    DRAW_SEED,
    ENTRY_NO,
    GENDER,
    ID_NUMBER,
    ITEM_GROUP,
    ITEM_NAME,
    ORGANIZER,
    PERSON_NAME,
    PHONE,
    POLICY_ID,
    REASON,
    REGION,
    SIGNATURE,
    SKILL_CODE,
    SKILL_NAME,
    TEAM_NAME,
    UNIT_CODE,
    UNIT_NAME,
    USERNAME,
)
from contest.domain.roles import JUDGE

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class TZDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on both backends (SQLite stores them naive; UTC is added back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: use contest.db.models.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# ---------------------------------------------------------------- accounts


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME.max), unique=True)  # normalised: contest.domain.usernames
    # usernames.skeleton(username): accounts that read alike share it (new look-alikes are refused).
    username_skeleton: Mapped[str] = mapped_column(String(USERNAME.max), default="", index=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME.max), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)

    person: Mapped[Person | None] = relationship(lazy="raise")


class UserSession(Base):
    """Server-side sessions in the database, so several processes share logins."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime())
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class LoginAttempt(Base):
    """Login throttling lives in the database: the in-process rate limiter counts per process."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"), Index("ix_login_attempts_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditRecord(Base):
    """Append-only log of every write that matters; each record hashes its predecessor."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(64), default="")
    device: Mapped[str] = mapped_column(String(AUDIT_DEVICE.max), default="")
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64))


# ---------------------------------------------------------------- rosters


class Unit(Base):
    """选送单位 / 工作单位."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(UNIT_NAME.max), unique=True)
    code: Mapped[str] = mapped_column(String(UNIT_CODE.max), default="")
    region: Mapped[str] = mapped_column(String(REGION.max), default="")
    contact: Mapped[str] = mapped_column(String(CONTACT.max), default="")


class Person(Base):
    """Anyone: competitor, coach, judge. 证件号码 identifies a person across competitions and years."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(ID_NUMBER.max), unique=True)
    name: Mapped[str] = mapped_column(String(PERSON_NAME.max))
    gender: Mapped[str] = mapped_column(String(GENDER.max), default="")
    phone: Mapped[str] = mapped_column(String(PHONE.max), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), nullable=True, index=True)
    employment_region: Mapped[str] = mapped_column(String(REGION.max), default="")
    is_employee: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit | None] = relationship(lazy="raise")


# ---------------------------------------------------------------- competitions


class Competition(Base):
    """赛事."""

    __tablename__ = "competitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(COMPETITION_NAME.max))
    year: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(20))  # world / national / provincial / municipal
    category: Mapped[int] = mapped_column(Integer, default=1)  # 一类 = 1, 二类 = 2
    policy_id: Mapped[str] = mapped_column(String(POLICY_ID.max), default="")
    organizer: Mapped[str] = mapped_column(String(ORGANIZER.max), default="")
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    show_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # 申诉: an appeal is accepted up to this many hours after an item's results are published.
    appeal_hours: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    # Who receives appeals and how (仲裁组, office, phone), stated on the public page and the 成绩公示表.
    appeal_contact: Mapped[str] = mapped_column(String(APPEAL_CONTACT.max), default="", server_default="")
    # Seconds between the hall board's pages (contest.domain.competition.BOARD_INTERVAL_*).
    board_interval: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)

    items: Mapped[list[Item]] = relationship(back_populates="competition", lazy="raise", order_by="Item.id")


class Item(Base):
    """赛项: belongs to one competition, maps to a canonical skill (the key for no double award)."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("competition_id", "skill_code", name="uq_items_competition_skill"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(ITEM_NAME.max))
    skill_code: Mapped[str] = mapped_column(String(SKILL_CODE.max))
    skill_name: Mapped[str] = mapped_column(String(SKILL_NAME.max))
    # 组别 (院校组 / 非院校组, 职工组 / 学生组): the result's group, which award policy tiers may require
    group_name: Mapped[str] = mapped_column(String(ITEM_GROUP.max), default="", server_default="")
    is_team: Mapped[bool] = mapped_column(Boolean, default=False)
    team_size: Mapped[int] = mapped_column(Integer, default=1)
    no_ties: Mapped[bool] = mapped_column(Boolean, default=False)
    excellence_fraction: Mapped[Decimal] = mapped_column(Numeric(4, 3), default=Decimal("0.5"))
    tie_break: Mapped[list] = mapped_column(JSON, default=lambda: ["practical_score", "practical_time"])
    status: Mapped[str] = mapped_column(String(20), default=SETUP)
    draw_seed: Mapped[str | None] = mapped_column(String(DRAW_SEED.max), nullable=True)
    drawn_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    # Monotonic per-item change counter: every stored mark or state change takes the next number,
    # so a reconnecting tablet or board knows whether it missed anything.
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    locked_by: Mapped[str] = mapped_column(String(SIGNATURE.max), default="", server_default="")  # the signer's name, as it was then
    # The signed-in account that locked and signed (None for a lock made by a system actor).
    locked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    revealed_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)

    competition: Mapped[Competition] = relationship(back_populates="items", lazy="raise")
    components: Mapped[list[Component]] = relationship(
        back_populates="item", lazy="raise", order_by="Component.position", cascade="all, delete-orphan"
    )


class Component(Base):
    """组成部分: 理论 / 实操 / 答辩, each scored 0-100 and weighted (weights add up to 100)."""

    __tablename__ = "components"
    __table_args__ = (UniqueConstraint("item_id", "kind", name="uq_components_item_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # theory / practical / oral
    name: Mapped[str] = mapped_column(String(COMPONENT_NAME.max))
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    position: Mapped[int] = mapped_column(Integer, default=0)

    item: Mapped[Item] = relationship(back_populates="components", lazy="raise")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="component", lazy="raise", order_by="Criterion.position", cascade="all, delete-orphan"
    )


class Criterion(Base):
    """评分项: measurement (测量分, one judge) or judgement (评价分, a panel and an aggregation rule)."""

    __tablename__ = "criteria"
    __table_args__ = (UniqueConstraint("component_id", "code", name="uq_criteria_component_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(CRITERION_CODE.max))
    name: Mapped[str] = mapped_column(String(CRITERION_NAME.max))
    max_mark: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    step: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0.5"))
    kind: Mapped[str] = mapped_column(String(20))  # measurement / judgement
    panel_size: Mapped[int] = mapped_column(Integer, default=1)
    aggregation: Mapped[str] = mapped_column(String(20), default="single")
    position: Mapped[int] = mapped_column(Integer, default=0)

    component: Mapped[Component] = relationship(back_populates="criteria", lazy="raise")


class Entry(Base):
    """参赛单元: one competitor, or one team of 2-3. 参赛号 at registration, 工位号 from the draw."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("item_id", "entry_no", name="uq_entries_item_entry_no"),
        UniqueConstraint("item_id", "station_no", name="uq_entries_item_station_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    entry_no: Mapped[str] = mapped_column(String(ENTRY_NO.max))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    team_name: Mapped[str] = mapped_column(String(TEAM_NAME.max), default="")
    station_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    practical_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 实操用时: breaks ties

    unit: Mapped[Unit] = relationship(lazy="raise")
    members: Mapped[list[EntryMember]] = relationship(
        back_populates="entry", lazy="raise", order_by="EntryMember.position", cascade="all, delete-orphan"
    )
    coaches: Mapped[list[EntryCoach]] = relationship(
        back_populates="entry", lazy="raise", order_by="EntryCoach.position", cascade="all, delete-orphan"
    )


class EntryMember(Base):
    __tablename__ = "entry_members"
    __table_args__ = (UniqueConstraint("entry_id", "person_id", name="uq_entry_members_entry_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    entry: Mapped[Entry] = relationship(back_populates="members", lazy="raise")
    person: Mapped[Person] = relationship(lazy="raise")


class EntryCoach(Base):
    """教练: the coaching team is rewarded like the winner, split by declared shares (equal by default)."""

    __tablename__ = "entry_coaches"
    __table_args__ = (UniqueConstraint("entry_id", "person_id", name="uq_entry_coaches_entry_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    share: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    entry: Mapped[Entry] = relationship(back_populates="coaches", lazy="raise")
    person: Mapped[Person] = relationship(lazy="raise")


class JudgeAssignment(Base):
    """A judge (or chief judge, 裁判长) on an item's panel."""

    __tablename__ = "judge_assignments"
    __table_args__ = (UniqueConstraint("item_id", "person_id", name="uq_judge_assignments_item_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    role: Mapped[str] = mapped_column(String(20), default=JUDGE)  # judge / chief_judge
    seat: Mapped[int] = mapped_column(Integer, default=0)  # 裁判席位号, shown instead of names

    item: Mapped[Item] = relationship(lazy="raise")
    person: Mapped[Person] = relationship(lazy="raise")


class DeclaredConflict(Base):
    """回避: a relation a judge declared with a person (competitor or coach); blocks scoring their entries."""

    __tablename__ = "declared_conflicts"
    __table_args__ = (UniqueConstraint("judge_person_id", "other_person_id", name="uq_declared_conflicts_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    judge_person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    other_person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(CONFLICT_REASON.max), default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)

    judge: Mapped[Person] = relationship(foreign_keys=[judge_person_id], lazy="raise")
    other: Mapped[Person] = relationship(foreign_keys=[other_person_id], lazy="raise")


class Draw(Base):
    """抽签 record: the seed and the resulting 工位号 mapping, so the draw can be re-derived and checked."""

    __tablename__ = "draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    seed: Mapped[str] = mapped_column(String(DRAW_SEED.max))
    mapping: Mapped[dict] = mapped_column(JSON)  # entry_no -> station_no
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")


# ---------------------------------------------------------------- live scoring


class Mark(Base):
    """The current mark of one judge on one criterion of one entry. History is in the audit log."""

    __tablename__ = "marks"
    __table_args__ = (UniqueConstraint("entry_id", "criterion_id", "judge_person_id", name="uq_marks_entry_criterion_judge"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"), index=True)
    judge_person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    value: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    seq: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str] = mapped_column(String(CLIENT_ID.max))
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class DeviceStatus(Base):
    """A judge's tablet as its server process last knew it (live/devices.py): connected or not, last
    heard from, and what its outbox holds unsent. One row per account and device; written in batches
    at a bounded rate, so every process (and a console on any of them) reads the same picture."""

    __tablename__ = "device_status"
    __table_args__ = (UniqueConstraint("user_id", "device", name="uq_device_status_user_device"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), nullable=True, index=True)
    device: Mapped[str] = mapped_column(String(limits.DEVICE.max), default="")
    user_agent: Mapped[str] = mapped_column(String(limits.USER_AGENT.max), default="")
    app_version: Mapped[str] = mapped_column(String(limits.APP_VERSION.max), default="")
    connection_id: Mapped[str] = mapped_column(String(32))  # the socket that wrote last: only it may mark the row closed
    connected: Mapped[bool] = mapped_column(Boolean, default=True)
    connected_at: Mapped[datetime] = mapped_column(TZDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(TZDateTime())
    pending: Mapped[int] = mapped_column(Integer, default=0)
    oldest_pending_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)


class MarkSubmission(Base):
    """Every client_id ever accepted, with what was acknowledged: a retry is answered from here."""

    __tablename__ = "mark_submissions"

    client_id: Mapped[str] = mapped_column(String(CLIENT_ID.max), primary_key=True)
    mark_id: Mapped[int] = mapped_column(ForeignKey("marks.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    judge_person_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    seq: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class ConflictOverride(Base):
    """The chief judge lets a conflicted judge score an entry (a panel fell short), with a reason."""

    __tablename__ = "conflict_overrides"
    __table_args__ = (UniqueConstraint("item_id", "judge_person_id", "entry_id", name="uq_conflict_overrides_triple"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    judge_person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(REASON.max))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class TieDecision(Base):
    """排名不并列: the organizer's order inside a tie the chain could not break, with the reason."""

    __tablename__ = "tie_decisions"
    __table_args__ = (UniqueConstraint("item_id", "entry_id", name="uq_tie_decisions_item_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(REASON.max))
    created_by: Mapped[str] = mapped_column(String(64))


class LoginLink(Base):
    """A per-judge sign-in link (printed as a QR code): only the token's hash is kept."""

    __tablename__ = "login_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime())
