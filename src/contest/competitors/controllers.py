"""Competitors' pages: the organizer's certificate desk, a competitor's own result (我的成绩),
certificate downloads and the public verification page. Thin: parse, call a service, render."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from datetime import date
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.enums import MediaType
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from contest.accounts.sessions import throttle_of
from contest.audit.service import Actor
from contest.competitors import certificates, links, service
from contest.competitors.seal import MAX_SEAL_BYTES, clean_seal
from contest.db.models import Certificate, Competition
from contest.domain import certificates as rules
from contest.domain import idcard, limits
from contest.domain.certificates import CertificateStatus
from contest.domain.ranking import AWARDS
from contest.domain.text import N_, Text
from contest.errors import ContestError, FormInvalid, NotFound
from contest.events import service as events
from contest.events.draw_export import draw_workbook_with_codes
from contest.papers import pdf
from contest.web import fields
from contest.web.caching import REVOCABLE_CACHE, public_route_opt
from contest.web.client import client_address
from contest.web.flash import saved
from contest.web.forms import refused
from contest.web.guards import EVERYONE, ORGANIZERS
from contest.web.openapi import FILE, form_body
from contest.web.pages import render
from contest.web.uploads import receive_file
from contest.xlsx.upload import parse_off_loop

PDF = "application/pdf"
PRIVATE = {"Cache-Control": "private, no-store"}
# The verification page is the same for everyone who is not signed in: it passes through
# REVOCABLE_CACHE (a few seconds' public caching, an ETag and Last-Modified to revalidate with), so a
# revocation or a republication shows within seconds. Signed-in pages name the user: never shared.


def public_base(request: Request) -> str:
    """Where the public reaches us: CONTEST_PUBLIC_URL, else the address of this request."""
    return request.app.state.settings.public_url or str(request.base_url).rstrip("/")


def _attachment(content: bytes, media_type: str, filename: str, ascii_name: str) -> Response:
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media_type, status_code=200, headers={"Content-Disposition": disposition, **PRIVATE})


async def _pdf_of(settings: Any, competition: Competition, chosen: list[Certificate], base: str, **kwargs: Any) -> bytes:
    paper = certificates.paper(settings, competition, chosen, base, **kwargs)
    return await pdf.render_pdf_off_loop("papers/certificate.html", paper.context, paper.assets)


# ---------------------------------------------------------------- the organizer's desk


SETTINGS_FORM = form_body(
    lookup_factor=list(rules.FACTORS),
    title=limits.CERT_TITLE,
    award_body=limits.CERT_BODY,
    honour_body=limits.CERT_BODY,
    issuer=limits.ISSUER,
    issue_date=date,
)


class CertificateDeskController(Controller):
    """获奖证书 and 成绩查询 for one competition (organizers)."""

    path = "/competitions/{competition_id:int}/certificates"
    opt = ORGANIZERS

    async def _page(
        self,
        db: AsyncSession,
        competition_id: int,
        errors: list[str] | None = None,
        status: int = 200,
        new_code: dict | None = None,
        posted: Any = None,
    ) -> Template:
        competition = await events.get_competition(db, competition_id)
        settings = await service.settings_of(db, competition)
        issued, codes_at = await service.codes_issued(db, competition_id)
        all_certificates = await certificates.of_competition(db, competition_id)
        context = {
            "competition": competition,
            "settings": settings,
            "posted": posted,
            "factors": rules.FACTORS,
            "placeholders": rules.PLACEHOLDERS,
            "awards": AWARDS,
            "honours": await service.honour_rows(db, competition_id),
            "codes_issued": issued,
            "codes_at": codes_at,
            "new_code": new_code,
            "certificates": all_certificates,
            "valid_count": sum(1 for c in all_certificates if c.status == CertificateStatus.VALID),
            "competitor_count": len(await service.competitors_of(db, competition_id)),
            # valid certificates of each 荣誉称号: what deleting it withdraws at the next publication
            "honour_counts": Counter(c.honour for c in all_certificates if c.honour and c.status == CertificateStatus.VALID),
            "valid_items": sorted({c.item_id for c in all_certificates if c.status == CertificateStatus.VALID}),
            "item_names": {i.id: i.name for i in competition.items},
            "statuses": rules.STATUSES,
            "grouped": rules.grouped,
            "issuer": certificates.issuer_of(settings, competition),
            "max_seal_mb": MAX_SEAL_BYTES // 1024 // 1024,
            "errors": errors or [],
        }
        return render("competitors/desk.html", status, **context)

    async def _act(
        self,
        request: Request,
        db: AsyncSession,
        competition_id: int,
        action: Any,
        done: str,
        anchor: str,
        form_id: str = "",
        form: Any = None,
        field: str = "",
    ) -> Any:
        """Run a write; a refusal shows the desk again with the messages (and, for ``form_id``,
        what was typed with each message beside its field, ``field`` for a message that names
        none); a write says so once (``done``) and comes back to its section (``anchor``)."""
        try:
            await action()
        except ContestError as exc:
            await db.rollback()
            posted = refused(form_id, form, exc, field) if form_id else None
            return await self._page(db, competition_id, [exc.message, *exc.details], exc.status_code, posted=posted)
        return saved(request, f"/competitions/{competition_id}/certificates#{anchor}", done)

    @get("/")
    async def show(self, db: AsyncSession, competition_id: int) -> Template:
        return await self._page(db, competition_id)

    @post("/settings", **SETTINGS_FORM)
    async def save_settings(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Any:
        form = await request.form()

        async def action() -> None:
            errors: dict[str, str] = {}
            issue_date = fields.day(form, "issue_date", N_("颁发日期"), errors)
            if errors:
                raise FormInvalid("证书与查询设置有误", errors)
            competition = await events.get_competition(db, competition_id)
            posted = service.SettingsForm(
                fields.raw(form, "lookup_factor"),
                fields.raw(form, "title"),
                fields.raw(form, "award_body"),
                fields.raw(form, "honour_body"),
                fields.raw(form, "issuer"),
                issue_date,
            )
            await service.save_settings(db, actor, competition, posted)

        return await self._act(request, db, competition_id, action, N_("已保存证书与查询设置"), "template", "settings", form)

    @post("/seal", request_max_body_size=MAX_SEAL_BYTES + 256 * 1024, **form_body(file=FILE))
    async def upload_seal(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Any:
        async def action() -> None:
            competition = await events.get_competition(db, competition_id)
            _, content = await receive_file(request, "请选择印章图片(PNG 或 JPEG)")
            png = await parse_off_loop(clean_seal, content)
            await service.save_seal(db, actor, competition, png)

        return await self._act(request, db, competition_id, action, N_("已上传印章"), "seal", "seal", {}, "file")

    @post("/seal/delete")
    async def remove_seal(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Any:
        async def action() -> None:
            await service.save_seal(db, actor, await events.get_competition(db, competition_id), None)

        return await self._act(request, db, competition_id, action, N_("已删除印章"), "seal")

    @get("/seal.png")
    async def seal(self, db: AsyncSession, competition_id: int) -> Response:
        settings = await service.settings_of(db, await events.get_competition(db, competition_id))
        if not settings.seal_png:
            raise NotFound("还没有上传印章图片")
        # Our own PNG, never the uploaded bytes; nosniff comes with every response.
        return Response(
            settings.seal_png, media_type="image/png", headers={**PRIVATE, "Content-Disposition": 'inline; filename="seal.png"'}
        )

    @post("/honours", **form_body(title=limits.HONOUR_TITLE, awards=list(rules.AWARD_CODES)))
    async def add_honour(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Any:
        form = await request.form()
        awards = [a for a in form.getall("awards", []) if isinstance(a, str)] if hasattr(form, "getall") else []

        async def action() -> None:
            await events.get_competition(db, competition_id)
            await service.add_honour(db, actor, competition_id, fields.raw(form, "title"), awards)

        return await self._act(request, db, competition_id, action, N_("已添加荣誉称号"), "honours", "honour", form)

    @post("/honours/{rule_id:int}/delete")
    async def remove_honour(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int, rule_id: int) -> Any:
        async def action() -> None:
            await service.remove_honour(db, actor, competition_id, rule_id)

        return await self._act(request, db, competition_id, action, N_("已删除荣誉称号"), "honours")

    @get("/specimen.pdf")
    async def specimen(self, request: Request, db: AsyncSession, competition_id: int) -> Response:
        competition = await events.get_competition(db, competition_id)
        settings = await service.settings_of(db, competition)
        sample = certificates.specimen_certificate(competition, competition.items[0].name if competition.items else "焊工")
        content = await _pdf_of(settings, competition, [sample], public_base(request), specimen=True, document_title="证书样张")
        return _attachment(content, PDF, f"证书样张-{competition.name}.pdf", "specimen.pdf")

    @get("/all.pdf")
    async def batch(self, request: Request, db: AsyncSession, competition_id: int, item: int | None = None) -> Response:
        """Every valid certificate of the competition (or of one item) in one PDF, to print."""
        competition = await events.get_competition(db, competition_id)
        if item is not None and item not in {i.id for i in competition.items}:
            raise NotFound("赛项不存在")
        chosen = await certificates.of_competition(db, competition_id, item, valid_only=True)
        if not chosen:
            raise NotFound("还没有有效的证书:赛项成绩公示后自动生成")
        settings = await service.settings_of(db, competition)
        content = await _pdf_of(settings, competition, chosen, public_base(request))
        suffix = f"-item-{item}" if item is not None else ""
        return _attachment(content, PDF, f"获奖证书-{competition.name}{suffix}.pdf", f"certificates-{competition_id}{suffix}.pdf")

    @get("/{certificate_id:int}/pdf")
    async def one(self, request: Request, db: AsyncSession, competition_id: int, certificate_id: int) -> Response:
        certificate = await db.get(Certificate, certificate_id)
        if certificate is None or certificate.competition_id != competition_id:
            raise NotFound("证书不存在")
        competition = await events.get_competition(db, competition_id)
        settings = await service.settings_of(db, competition)
        content = await _pdf_of(settings, competition, [certificate], public_base(request))
        return _attachment(content, PDF, f"获奖证书-{certificate.name}-{certificate.serial}.pdf", f"certificate-{certificate.serial}.pdf")

    @post("/{certificate_id:int}/revoke", **form_body(reason=limits.REVOKE_REASON))
    async def revoke(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int, certificate_id: int) -> Any:
        form = await request.form()
        reason = fields.raw(form, "reason")

        async def action() -> None:
            await certificates.revoke(db, actor, competition_id, certificate_id, reason)

        return await self._act(request, db, competition_id, action, N_("已撤销证书"), "certificates", f"revoke-{certificate_id}", form)

    @post("/codes")
    async def issue_codes(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Any:
        """New 查询码 for every competitor: the draw mapping with the codes and the 准考证 to print, in one zip."""
        try:
            competition = await events.get_competition(db, competition_id)
            codes = await service.issue_codes(db, actor, competition_id)
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, competition_id, [exc.message, *exc.details], exc.status_code)
        items = [
            (await events.get_item(db, i.id), await events.item_entries(db, i.id), await events.latest_draw(db, i.id))
            for i in competition.items
        ]
        workbook = draw_workbook_with_codes(items, codes)
        slips = await _admission_slips(db, competition, items, codes, public_base(request))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("抽签对照表与查询码.xlsx", workbook)
            archive.writestr("准考证.pdf", slips)
        return _attachment(buffer.getvalue(), "application/zip", f"查询码-{competition.name}.zip", f"access-codes-{competition_id}.zip")

    @post("/codes/person", **form_body(id_number=limits.ID_NUMBER))
    async def reissue_code(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Any:
        """A new code for one competitor (a lost 准考证): shown once on the page."""
        form = await request.form()
        try:
            person = await events.person_by_id_number(db, fields.raw(form, "id_number")[: limits.ID_NUMBER.max])
            codes = await service.issue_codes(db, actor, competition_id, [person.id])
        except ContestError as exc:
            await db.rollback()
            posted = refused("reissue-code", form, exc, "id_number")
            return await self._page(db, competition_id, [exc.message, *exc.details], exc.status_code, posted=posted)
        page = await self._page(db, competition_id, new_code={"name": person.name, "code": rules.format_code(codes[person.id])})
        page.headers.update(PRIVATE)
        return page


async def _admission_slips(db: AsyncSession, competition: Competition, items: list, codes: dict[int, str], base: str) -> bytes:
    by_person: dict[int, dict[str, Any]] = {}
    for item, entries, _ in items:
        for entry in entries:
            for member in entry.members:
                slip = by_person.setdefault(
                    member.person_id,
                    {
                        "name": member.person.name,
                        "id_number": idcard.mask(member.person.id_number),
                        "unit": entry.unit.name,
                        "code": rules.format_code(codes[member.person_id]) if member.person_id in codes else "",
                        "entries": [],
                    },
                )
                slip["entries"].append({"item": item.name, "entry_no": entry.entry_no})
    slips = sorted(by_person.values(), key=lambda s: (s["unit"], s["name"]))
    lookup_url = f"{base}/public/competitions/{competition.id}/me"
    context = {"competition": competition.name, "slips": slips, "lookup_url": lookup_url}
    return await pdf.render_pdf_off_loop("papers/admission_slips.html", context, {"qr": (pdf.qr_svg(lookup_url), "image/svg+xml")})


# ---------------------------------------------------------------- competitors and the public


def _private(template: str, status: int = 200, **context: Any) -> Template:
    return Template(template, context=context, status_code=status, media_type=MediaType.HTML, headers=PRIVATE)


@get("/public/competitions/{competition_id:int}/me", opt=EVERYONE)
async def my_result_form(db: AsyncSession, competition_id: int) -> Template:
    competition = await events.get_competition(db, competition_id)
    settings = await service.settings_of(db, competition)
    return _private("competitors/me.html", competition=competition, factor=settings.lookup_factor, results=None, errors=[], name="")


@post("/public/competitions/{competition_id:int}/me", opt=EVERYONE, **form_body(name=limits.PERSON_NAME, secret=limits.LOOKUP_SECRET))
async def my_result(request: Request, db: AsyncSession, competition_id: int) -> Template:
    """我的成绩: name plus the second factor; throttled like sign-ins; the answer is never cached."""
    form = await request.form()
    competition = await events.get_competition(db, competition_id)
    settings = await service.settings_of(db, competition)
    app_settings = request.app.state.settings
    name = fields.raw(form, "name")
    context: dict[str, Any] = {"competition": competition, "factor": settings.lookup_factor, "name": name[: limits.PERSON_NAME.max]}
    try:
        found = await service.lookup(
            db,
            competition,
            settings,
            name,
            fields.raw(form, "secret"),
            client_address(request, app_settings.trusted_proxies),
            throttle_of(app_settings),
        )
    except ContestError as exc:  # nothing half-written: the attempt itself is committed before a refusal
        return _private("competitors/me.html", exc.status_code, **context, results=None, errors=[exc.message, *exc.details])
    downloads = {c.serial: links.sign(app_settings.secret_key, c.serial) for r in found for i in r.items for c in i.certificates}
    return _private(
        "competitors/me.html",
        **context,
        results=found,
        downloads=downloads,
        errors=[],
        statuses=rules.STATUSES,
        kinds=certificates.KIND_LABELS,
    )


@get("/certificates/{serial:str}/pdf", opt=EVERYONE)
async def certificate_download(request: Request, db: AsyncSession, serial: str, token: str = "") -> Response:
    """A competitor's own certificate, through the signed link a successful look-up gave them."""
    settings = request.app.state.settings
    normal = rules.normalise_serial(serial[: limits.SERIAL.max])
    certificate = await certificates.by_serial(db, normal) if normal else None
    if certificate is None or not links.valid(settings.secret_key, certificate.serial, token[:64]):
        raise NotFound("下载链接无效或已过期:请重新查询成绩后下载")
    if certificate.status != CertificateStatus.VALID:
        raise NotFound("该证书已失效(已被更正后的证书取代或已撤销):请重新查询成绩")
    competition = await events.get_competition(db, certificate.competition_id)
    desk = await service.settings_of(db, competition)
    content = await _pdf_of(desk, competition, [certificate], public_base(request))
    return _attachment(content, PDF, f"获奖证书-{certificate.name}.pdf", f"certificate-{certificate.serial}.pdf")


@get("/verify", opt={**EVERYONE, "exclude_from_csrf": True})
async def verify_form(serial: str = "") -> Any:
    """Type a serial off the paper (no camera at hand): the canonical page of that serial."""
    normal = rules.normalise_serial(serial[: limits.SERIAL.max])
    if normal:
        return Redirect(f"/verify/{normal}")
    error = N_("证书编号格式不正确:应为 26 位字母和数字(可含连字符)") if serial.strip() else ""
    return Template(
        "competitors/verify.html",
        context={"certificate": None, "error": error, "serial": serial[: limits.SERIAL.max]},
        status_code=422 if error else 200,
        media_type=MediaType.HTML,
        headers=PRIVATE,
    )


@get("/verify/{serial:str}", opt=public_route_opt(EVERYONE), middleware=[REVOCABLE_CACHE])
async def verify(request: Request, db: AsyncSession, serial: str) -> Any:
    """The public check of a certificate: masked name, item, award, date, result version, status.

    No CSRF cookie is set here (the page posts nothing), so a cache may keep the anonymous page;
    unknown serials count against the address like failed sign-ins.
    """
    normal = rules.normalise_serial(serial[: limits.SERIAL.max])
    if normal and normal != serial:
        return Redirect(f"/verify/{normal}")
    settings = request.app.state.settings
    ip = client_address(request, settings.trusted_proxies)
    until = await service.throttled_until(db, "verify", "", ip, throttle_of(settings))
    if until is not None:
        message = Text("查验次数过多,请 {minutes} 分钟后再试", minutes=service.minutes_until(until))
        return Template(
            "competitors/verify.html",
            context={"certificate": None, "error": message, "serial": serial[:40]},
            status_code=429,
            media_type=MediaType.HTML,
            headers=PRIVATE,
        )
    certificate = await certificates.by_serial(db, normal) if normal else None
    if certificate is None:
        await service.note_attempt(db, "verify", "", ip, False, throttle_of(settings))
        return Template(
            "competitors/verify.html",
            context={"certificate": None, "error": N_("未找到该证书编号:请核对后重新输入"), "serial": serial[:40]},
            status_code=404,
            media_type=MediaType.HTML,
            headers=PRIVATE,
        )
    competition = await events.get_competition(db, certificate.competition_id)
    desk = await service.settings_of(db, competition)
    context = {
        "certificate": certificate,
        "masked_name": rules.mask_name(certificate.name),
        "issued_on": certificates.issue_date(desk, competition, certificate),
        "issuer": certificates.issuer_of(desk, competition),
        "grouped": rules.grouped(certificate.serial),
        "error": "",
        "serial": certificate.serial,
    }
    return Template("competitors/verify.html", context=context, media_type=MediaType.HTML)


COMPETITOR_HANDLERS: list[ControllerRouterHandler] = [
    CertificateDeskController,
    my_result_form,
    my_result,
    certificate_download,
    verify_form,
    verify,
]
