"""Competitors' desk: the organizer's settings (second factor, certificate template, seal, honours),
look-up codes, and a competitor's look-up of their own result.

A look-up needs the name and a second factor the organizer chose: the last four characters of the
证件号码, or the 查询码 printed on the 准考证. Failures are counted in the database like sign-ins
(contest.accounts.service.failures_free_at): per name from one address, per address across names,
and per name across addresses, so neither one address nor many can walk through 10,000 endings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.accounts.service import Throttle, failures_free_at, prune_attempts
from contest.audit.service import Actor, derived_key, record
from contest.competitors.certificates import valid_of_person
from contest.db.models import (
    AccessCode,
    Certificate,
    Competition,
    CompetitorSettings,
    Entry,
    EntryMember,
    HonourRuleRow,
    Item,
    LookupAttempt,
    Person,
    ResultVersion,
    Unit,
    utcnow,
)
from contest.domain import certificates as rules
from contest.domain import limits
from contest.domain.lifecycle import FINAL, PUBLIC_RESULTS
from contest.domain.text import N_, Text
from contest.errors import ContestError, FormInvalid, Invalid, NotFound

# A name tried from many addresses: this many times the per-address allowance, then it waits too.
SUBJECT_FACTOR = 10


class LookupRefused(ContestError):
    status_code = 403
    code = "lookup_refused"


class Throttled(ContestError):
    status_code = 429
    code = "throttled"


# ---------------------------------------------------------------- settings


def default_settings(competition: Competition) -> CompetitorSettings:
    return CompetitorSettings(
        competition_id=competition.id,
        lookup_factor="id_last4",
        title=rules.DEFAULT_TITLE,
        award_body=rules.DEFAULT_AWARD_BODY,
        honour_body=rules.DEFAULT_HONOUR_BODY,
        issuer="",
        issue_date=None,
        seal_png=None,
    )


async def settings_of(db: AsyncSession, competition: Competition) -> CompetitorSettings:
    """The stored settings, or the defaults (not stored until the organizer saves)."""
    stored = await db.get(CompetitorSettings, competition.id)
    return stored if stored is not None else default_settings(competition)


async def _stored_settings(db: AsyncSession, competition: Competition) -> CompetitorSettings:
    stored = await db.get(CompetitorSettings, competition.id)
    if stored is None:
        stored = default_settings(competition)
        db.add(stored)
    return stored


@dataclass(frozen=True)
class SettingsForm:
    lookup_factor: str
    title: str
    award_body: str
    honour_body: str
    issuer: str
    issue_date: date | None


async def save_settings(db: AsyncSession, actor: Actor, competition: Competition, form: SettingsForm) -> CompetitorSettings:
    errors: dict[str, str] = {}  # form field -> message, shown beside it (contest.web.forms)
    if form.lookup_factor not in rules.FACTORS:
        errors["lookup_factor"] = N_("查询方式应为 证件号码后四位 或 查询码")
    errors |= rules.template_problems(form.title, form.award_body, form.honour_body)
    for key, bounded, value in (
        ("title", limits.CERT_TITLE, form.title),
        ("award_body", limits.CERT_BODY, form.award_body),
        ("honour_body", limits.CERT_BODY, form.honour_body),
        ("issuer", limits.ISSUER, form.issuer),
    ):
        if problem := bounded.problem(value):
            errors.setdefault(key, problem)
    if errors:
        raise FormInvalid("证书与查询设置有误", errors)
    stored = await _stored_settings(db, competition)
    stored.lookup_factor, stored.title, stored.issuer = form.lookup_factor, form.title.strip(), form.issuer.strip()
    stored.issue_date, stored.award_body, stored.honour_body = form.issue_date, form.award_body.strip(), form.honour_body.strip()
    detail = {
        "lookup_factor": form.lookup_factor,
        "title": stored.title,
        "issuer": stored.issuer,
        "issue_date": form.issue_date.isoformat() if form.issue_date else None,
    }
    await record(db, actor, "competitors.settings", "competition", competition.id, detail)
    await db.commit()
    return stored


async def save_seal(db: AsyncSession, actor: Actor, competition: Competition, png: bytes | None) -> None:
    """``png`` made by contest.competitors.seal.clean_seal (or None: remove the seal)."""
    stored = await _stored_settings(db, competition)
    stored.seal_png = png
    digest = hashlib.sha256(png).hexdigest() if png else None
    await record(db, actor, "competitors.seal", "competition", competition.id, {"sha256": digest, "bytes": len(png or b"")})
    await db.commit()


async def honour_rows(db: AsyncSession, competition_id: int) -> list[HonourRuleRow]:
    rows = await db.execute(select(HonourRuleRow).where(HonourRuleRow.competition_id == competition_id).order_by(HonourRuleRow.id))
    return list(rows.scalars())


async def add_honour(db: AsyncSession, actor: Actor, competition_id: int, title: str, awards: list[str]) -> HonourRuleRow:
    title = title.strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = N_("请填写荣誉称号")
    elif problem := limits.HONOUR_TITLE.problem(title):
        errors["title"] = problem
    elif title in {r.title for r in await honour_rows(db, competition_id)}:
        errors["title"] = Text("荣誉称号「{title}」已存在", title=limits.shown(title))
    if not awards:
        errors["awards"] = N_("请选择获得该称号的奖项")
    elif any(a not in rules.AWARD_CODES for a in awards):
        errors["awards"] = N_("奖项应为 一等奖、二等奖、三等奖、优胜奖")
    if errors:
        raise FormInvalid("荣誉称号设置有误", errors)
    row = HonourRuleRow(competition_id=competition_id, title=title, awards=[a for a in rules.AWARD_CODES if a in awards])
    db.add(row)
    await db.flush()
    await record(db, actor, "competitors.honour.add", "competition", competition_id, {"title": title, "awards": row.awards})
    await db.commit()
    return row


async def remove_honour(db: AsyncSession, actor: Actor, competition_id: int, rule_id: int) -> None:
    row = await db.get(HonourRuleRow, rule_id)
    if row is None or row.competition_id != competition_id:
        raise NotFound("荣誉称号不存在")
    await db.delete(row)
    await record(db, actor, "competitors.honour.remove", "competition", competition_id, {"title": row.title})
    await db.commit()


# ---------------------------------------------------------------- access codes (查询码)


def new_code() -> str:
    return "".join(secrets.choice(rules.ACCESS_CODE_ALPHABET) for _ in range(rules.ACCESS_CODE_LENGTH))


# 查询码 are stored as an HMAC under a key kept outside the database (derived from the audit key):
# a copy of the database alone cannot be searched for the codes (8 letters of 31: ~40 bits).
ACCESS_CODE_KEY_LABEL = "access-code/v1"
KEYED_PREFIX = "hmac:"


def code_hash(key: bytes, competition_id: int, code: str) -> str:
    """What is stored of a code: "hmac:" and the HMAC-SHA256 (base64url, 43 characters)."""
    digest = hmac.new(key, f"{competition_id}:{rules.normalise_code(code)}".encode(), hashlib.sha256).digest()
    return KEYED_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def legacy_code_hash(competition_id: int, code: str) -> str:
    """How codes were stored before the keyed hash (unkeyed SHA-256, 64 hex digits): still
    accepted, and replaced by ``code_hash`` on the first successful look-up (docs/competitors.md)."""
    return hashlib.sha256(f"{competition_id}:{rules.normalise_code(code)}".encode()).hexdigest()


def _code_key(db: AsyncSession) -> bytes:
    return derived_key(db, ACCESS_CODE_KEY_LABEL)


async def competitors_of(db: AsyncSession, competition_id: int, name: str | None = None) -> list[Person]:
    """Everyone who competes in one of the competition's items (or those called ``name``), by name."""
    query = (
        select(Person)
        .join(EntryMember, EntryMember.person_id == Person.id)
        .join(Entry, Entry.id == EntryMember.entry_id)
        .join(Item, Item.id == Entry.item_id)
        .where(Item.competition_id == competition_id)
        .distinct()
        .order_by(Person.name, Person.id)
    )
    if name is not None:
        query = query.where(Person.name == name)
    return list((await db.execute(query)).scalars())


async def issue_codes(db: AsyncSession, actor: Actor, competition_id: int, person_ids: list[int] | None = None) -> dict[int, str]:
    """New codes (person id -> code) for every competitor, or for ``person_ids``; their earlier
    codes stop working. Only the hashes are stored: the codes exist in what this returns."""
    wanted = [p.id for p in await competitors_of(db, competition_id)]
    if person_ids is not None:
        unknown = set(person_ids) - set(wanted)
        if unknown:
            raise NotFound("该人员不是本赛事的参赛选手")
        wanted = person_ids
    if not wanted:
        raise Invalid("本赛事还没有参赛选手")
    await db.execute(delete(AccessCode).where(AccessCode.competition_id == competition_id, AccessCode.person_id.in_(wanted)))
    codes = {person_id: new_code() for person_id in wanted}
    key = _code_key(db)
    db.add_all(
        AccessCode(competition_id=competition_id, person_id=pid, code_hash=code_hash(key, competition_id, c)) for pid, c in codes.items()
    )
    await record(db, actor, "access_codes.issue", "competition", competition_id, {"people": len(codes), "all": person_ids is None})
    await db.commit()
    return codes


async def codes_issued(db: AsyncSession, competition_id: int) -> tuple[int, datetime | None]:
    count, latest = (
        await db.execute(select(func.count(), func.max(AccessCode.created_at)).where(AccessCode.competition_id == competition_id))
    ).one()
    return count, latest


# ---------------------------------------------------------------- throttle


async def _subject_at_address_until(
    db: AsyncSession, kind: str, subject: str, ip: str, since: datetime, throttle: Throttle
) -> datetime | None:
    pair = LookupAttempt.kind == kind, LookupAttempt.subject == subject, LookupAttempt.ip == ip
    last_success = (await db.execute(select(func.max(LookupAttempt.at)).where(*pair, LookupAttempt.success.is_(True)))).scalar()
    start = max(since, last_success) if last_success else since
    return await failures_free_at(db, LookupAttempt, start, throttle.max_failures, throttle.window, *pair)


async def throttled_until(db: AsyncSession, kind: str, subject: str, ip: str, throttle: Throttle) -> datetime | None:
    """When ``subject`` may be tried again from ``ip`` (None: now). A subject of "" counts the address only."""
    since = utcnow() - throttle.window
    address = LookupAttempt.kind == kind, LookupAttempt.ip == ip
    until = [await failures_free_at(db, LookupAttempt, since, throttle.address_max, throttle.window, *address)]
    if subject:
        until.append(await _subject_at_address_until(db, kind, subject, ip, since, throttle))
        until.append(
            await failures_free_at(
                db,
                LookupAttempt,
                since,
                throttle.max_failures * SUBJECT_FACTOR,
                throttle.window,
                LookupAttempt.kind == kind,
                LookupAttempt.subject == subject,
            )
        )
    return max((u for u in until if u is not None), default=None)


def minutes_until(until: datetime) -> int:
    return max(1, math.ceil((until - utcnow()).total_seconds() / 60))


async def note_attempt(db: AsyncSession, kind: str, subject: str, ip: str, success: bool, throttle: Throttle) -> None:
    db.add(LookupAttempt(kind=kind, subject=subject[:120], ip=ip[:64], success=success))
    await prune_attempts(db, LookupAttempt, throttle.window)
    await db.commit()


# ---------------------------------------------------------------- a competitor's own result


@dataclass
class MyItem:
    item_name: str
    status: str
    is_team: bool
    team: str
    entry_no: str
    station: int | None
    version: int | None  # the published version shown, or None before publication
    revised: bool
    final: bool
    row: dict | None  # the competitor's row of that version: components, total, place, award, honours
    field_size: int
    certificates: list[Certificate] = field(default_factory=list)


@dataclass
class MyResult:
    name: str
    unit: str
    items: list[MyItem]


def _subject(competition_id: int, name: str) -> str:
    return f"{competition_id}:{name}"


async def lookup(
    db: AsyncSession, competition: Competition, settings: CompetitorSettings, name: str, secret: str, ip: str, throttle: Throttle
) -> list[MyResult]:
    """The competitor's results after publication, or LookupRefused / Throttled. Records the attempt."""
    name, secret, ip = rules.normalise_name(name), (secret or "").strip(), ip[:64]
    factor = rules.FACTORS[settings.lookup_factor]
    errors = limits.too_long((limits.PERSON_NAME, name), (limits.LOOKUP_SECRET, secret))
    if not name or not secret:
        errors.insert(0, Text("请填写姓名和{factor}", factor=Text(factor)))
    if errors:
        raise Invalid("查询信息有误", details=errors)
    subject = _subject(competition.id, name)
    until = await throttled_until(db, "lookup", subject, ip, throttle)
    if until is not None:
        raise Throttled(Text("查询失败次数过多,请 {minutes} 分钟后再试", minutes=minutes_until(until)))
    people = await competitors_of(db, competition.id, name)
    if settings.lookup_factor == "id_last4":
        matched = [p for p in people if rules.id_tail_matches(p.id_number, secret)]
    else:
        matched = await _code_holders(db, competition.id, people, secret)
    await note_attempt(db, "lookup", subject, ip, bool(matched), throttle)
    if not matched:
        raise LookupRefused(Text("姓名或{factor}不正确(多次输错将暂停查询)", factor=Text(factor)))
    return [await my_result(db, competition, person) for person in matched]


async def _code_holders(db: AsyncSession, competition_id: int, people: list[Person], secret: str) -> list[Person]:
    """Those of ``people`` whose 查询码 is ``secret``. A code still stored the old way (unkeyed) is
    accepted and re-stored keyed, in the same transaction as the attempt that proved it."""
    keyed, legacy = code_hash(_code_key(db), competition_id, secret), legacy_code_hash(competition_id, secret)
    rows = (
        await db.execute(
            select(AccessCode).where(
                AccessCode.competition_id == competition_id,
                AccessCode.person_id.in_([p.id for p in people]),
                AccessCode.code_hash.in_([keyed, legacy]),
            )
        )
    ).scalars()
    holders = set()
    for row in rows:
        if row.code_hash == legacy:
            row.code_hash = keyed
        holders.add(row.person_id)
    return [p for p in people if p.id in holders]


def _row_of(rows: list[dict], entry: Entry) -> dict | None:
    """The entry's published row (rows published before entry ids were kept: by 工位号)."""
    for row in rows:
        if row.get("entry_id") == entry.id or (row.get("entry_id") is None and row.get("station") == entry.station_no):
            return row
    return None


async def my_result(db: AsyncSession, competition: Competition, person: Person) -> MyResult:
    entries = (
        await db.execute(
            select(Entry, Item)
            .join(EntryMember, EntryMember.entry_id == Entry.id)
            .join(Item, Item.id == Entry.item_id)
            .where(EntryMember.person_id == person.id, Item.competition_id == competition.id)
            .order_by(Item.id)
        )
    ).all()
    certificates = await valid_of_person(db, competition.id, person.id)
    items = []
    unit = ""
    for entry, item in entries:
        version = None
        if item.status in PUBLIC_RESULTS:
            version = (
                await db.execute(
                    select(ResultVersion).where(ResultVersion.item_id == item.id).order_by(ResultVersion.version.desc()).limit(1)
                )
            ).scalar_one_or_none()
        row = _row_of(version.rows, entry) if version else None
        unit = unit or (row or {}).get("unit", "")
        items.append(
            MyItem(
                item_name=item.name,
                status=item.status,
                is_team=item.is_team,
                team=entry.team_name,
                entry_no=entry.entry_no,
                station=entry.station_no,
                version=version.version if version else None,
                revised=bool(version and version.version > 1),
                final=item.status == FINAL,
                row=row,
                field_size=sum(1 for r in version.rows if r.get("place")) if version else 0,
                certificates=[c for c in certificates if c.item_id == item.id],
            )
        )
    if not unit and person.unit_id is not None:
        found = await db.get(Unit, person.unit_id)
        unit = found.name if found else ""
    return MyResult(name=person.name, unit=unit, items=items)
