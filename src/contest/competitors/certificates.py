"""Certificates (获奖证书): issued with each published result version, printed as PDF, verified by serial.

Issued inside the publication's transaction (contest.results.service.add_version calls
``issue_for_version``): one certificate per person and award, and per person and honour, of the
version's rows. A republication plans the earlier ones (contest.domain.certificates.plan):
unchanged facts stay valid and are confirmed by the new version; changed facts are superseded by
a new certificate; what the new version no longer grants is revoked.

Imports only models and rules (never contest.results.service): results calls in here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.audit.service import Actor, record
from contest.db.models import Certificate, Competition, CompetitorSettings, HonourRuleRow, Item, ResultVersion, utcnow
from contest.domain import certificates as rules
from contest.domain.certificates import CertificateStatus
from contest.domain.limits import REVOKE_REASON
from contest.domain.text import N_
from contest.errors import Conflict, Invalid, NotFound
from contest.papers import pdf

KIND_LABELS = {"award": "获奖证书", "honour": "荣誉称号证书"}


def new_serial() -> str:
    return rules.encode_serial(secrets.randbits(rules.SERIAL_BITS))


async def honour_rules(db: AsyncSession, competition_id: int) -> list[rules.HonourRule]:
    rows = await db.execute(select(HonourRuleRow).where(HonourRuleRow.competition_id == competition_id).order_by(HonourRuleRow.id))
    return [rules.HonourRule(r.title, frozenset(r.awards)) for r in rows.scalars()]


def wanted_of(rows: list[dict], competition: str, item: str) -> list[rules.Wanted]:
    wanted = []
    for row in rows:
        if not row.get("award"):
            continue
        for person in row.get("people", []):
            content = rules.Content(person["name"], row.get("unit", ""), row.get("team", ""), competition, item, row["award"])
            wanted.append(rules.Wanted(person["id"], content))
            wanted += [
                rules.Wanted(person["id"], rules.Content(**{**content.__dict__, "honour": title})) for title in row.get("honours", [])
            ]
    return wanted


def _content(certificate: Certificate) -> rules.Content:
    return rules.Content(**{name: getattr(certificate, name) for name in rules.CONTENT_FIELDS})


async def issue_for_version(db: AsyncSession, actor: Actor, item: Item, version: ResultVersion) -> rules.Plan:
    """Certificates for a version just published (in its transaction; the caller commits)."""
    competition = await db.get(Competition, item.competition_id)
    assert competition is not None
    existing = list(
        (
            await db.execute(select(Certificate).where(Certificate.item_id == item.id, Certificate.status == CertificateStatus.VALID))
        ).scalars()
    )
    by_id = {c.id: c for c in existing}
    earlier = [rules.Existing(c.id, c.person_id, _content(c)) for c in existing]
    planned = rules.plan(earlier, wanted_of(version.rows, competition.name, item.name))
    now = utcnow()
    for certificate_id in planned.keep:
        by_id[certificate_id].confirmed_version = version.version
    for certificate_id in planned.revoke:
        old = by_id[certificate_id]
        what = f"荣誉称号「{old.honour}」" if old.honour else old.award
        reason = f"成绩公示 v{version.version} 更正后不再获得{what}"
        old.status, old.status_version, old.status_at, old.status_reason = (
            CertificateStatus.REVOKED,
            version.version,
            now,
            reason[: REVOKE_REASON.max],
        )
    for certificate_id, _ in planned.replace:
        old = by_id[certificate_id]
        old.status, old.status_version, old.status_at = CertificateStatus.SUPERSEDED, version.version, now
    for replaces, want in [*((old_id, w) for old_id, w in planned.replace), *((None, w) for w in planned.issue)]:
        db.add(
            Certificate(
                serial=new_serial(),
                competition_id=competition.id,
                item_id=item.id,
                result_version_id=version.id,
                version=version.version,
                confirmed_version=version.version,
                person_id=want.person_id,
                replaces_id=replaces,
                kind=want.content.kind,
                **want.content.__dict__,
            )
        )
    await db.flush()
    detail = {
        "version": version.version,
        "issued": len(planned.issue),
        "superseded": len(planned.replace),
        "revoked": len(planned.revoke),
        "kept": len(planned.keep),
    }
    await record(db, actor, "certificates.issue", "item", item.id, detail)
    return planned


async def revoke(db: AsyncSession, actor: Actor, competition_id: int, certificate_id: int, reason: str) -> Certificate:
    """The organizer withdraws a certificate (e.g. a correction outside the results), with a reason
    the verification page shows."""
    certificate = await db.get(Certificate, certificate_id)
    if certificate is None or certificate.competition_id != competition_id:
        raise NotFound("证书不存在")
    reason = reason.strip()
    if not reason:
        raise Invalid("撤销证书必须填写原因(查验页面会显示)", field="reason")
    if problem := REVOKE_REASON.problem(reason):
        raise Invalid(problem, field="reason")
    if certificate.status != CertificateStatus.VALID:
        raise Conflict("该证书已失效,无需撤销")
    certificate.status, certificate.status_at, certificate.status_reason = CertificateStatus.REVOKED, utcnow(), reason
    await record(db, actor, "certificate.revoke", "competition", competition_id, {"certificate_id": certificate.id, "reason": reason})
    await db.commit()
    return certificate


async def of_competition(db: AsyncSession, competition_id: int, item_id: int | None = None, valid_only: bool = False) -> list[Certificate]:
    query = select(Certificate).where(Certificate.competition_id == competition_id)
    if item_id is not None:
        query = query.where(Certificate.item_id == item_id)
    if valid_only:
        query = query.where(Certificate.status == CertificateStatus.VALID)
    return list((await db.execute(query.order_by(Certificate.item_id, Certificate.kind, Certificate.id))).scalars())


async def valid_of_person(db: AsyncSession, competition_id: int, person_id: int) -> list[Certificate]:
    query = select(Certificate).where(
        Certificate.competition_id == competition_id, Certificate.person_id == person_id, Certificate.status == CertificateStatus.VALID
    )
    return list((await db.execute(query.order_by(Certificate.item_id, Certificate.kind, Certificate.id))).scalars())


async def by_serial(db: AsyncSession, serial: str) -> Certificate | None:
    return (await db.execute(select(Certificate).where(Certificate.serial == serial))).scalar_one_or_none()


# ---------------------------------------------------------------- printing


def issue_date(settings: CompetitorSettings, competition: Competition, certificate: Certificate | None) -> date:
    """The date a certificate carries (on paper and on the verification page alike): the organizer's
    date, else the competition's last day, else the day it was issued."""
    if settings.issue_date is not None:
        return settings.issue_date
    if competition.end_date is not None:
        return competition.end_date
    return (certificate.issued_at if certificate is not None else utcnow()).astimezone().date()


def issuer_of(settings: CompetitorSettings, competition: Competition) -> str:
    return settings.issuer or competition.organizer or f"{competition.name}组委会"


@dataclass(frozen=True)
class Paper:
    """What the PDF renderer needs: plain data and assets, nothing tied to the database session."""

    context: dict[str, Any]
    assets: dict[str, tuple[bytes, str]]


def paper(
    settings: CompetitorSettings,
    competition: Competition,
    certificates: list[Certificate],
    verify_base: str,
    specimen: bool = False,
    document_title: str = "获奖证书",
) -> Paper:
    """The certificates as one printable document (one landscape A4 page each)."""
    award_body = rules.parse_body(settings.award_body)
    honour_body = rules.parse_body(settings.honour_body)
    assets: dict[str, tuple[bytes, str]] = {}
    if settings.seal_png:
        assets["seal"] = (settings.seal_png, "image/png")
    sheets = []
    for number, certificate in enumerate(certificates):
        url = f"{verify_base}/verify/{certificate.serial}"
        assets[f"qr{number}"] = (pdf.qr_svg(url), "image/svg+xml")
        values = {name: getattr(certificate, name) for name in rules.CONTENT_FIELDS}
        paragraphs = rules.fill(honour_body if certificate.honour else award_body, values)
        sheets.append(
            {
                "title": settings.title,
                "paragraphs": [{"pieces": p, "salutation": i == 0 and _is_salutation(p)} for i, p in enumerate(paragraphs)],
                "issuer": issuer_of(settings, competition),
                "date": rules.chinese_date(issue_date(settings, competition, certificate)),
                "seal": "seal" if settings.seal_png else "",
                "qr": f"qr{number}",
                "serial": rules.grouped(certificate.serial),
                "version": certificate.confirmed_version,
                "verify_url": f"{verify_base}/verify",
                "watermark": "样张" if specimen else ("" if certificate.status == CertificateStatus.VALID else "已失效"),
            }
        )
    return Paper({"certificates": sheets, "document_title": document_title}, assets)


def _is_salutation(pieces: list[rules.Piece]) -> bool:
    text = "".join(p.text for p in pieces).rstrip()
    return text.endswith((":", "\uff1a"))  # ASCII or full-width colon


def specimen_certificate(competition: Competition, item_name: str) -> Certificate:
    """A sample certificate for the organizer's preview (never stored)."""
    return Certificate(
        serial=rules.encode_serial(0),
        version=1,
        confirmed_version=1,
        kind="award",
        name="张三",
        unit="某某职业技术学院",
        team="",
        competition=competition.name,
        item=item_name,
        award=N_("一等奖"),
        honour="",
        status=CertificateStatus.VALID,
        issued_at=utcnow(),
    )
