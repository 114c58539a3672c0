"""Finance pages: payout batches, their review and approval, the workbook and the ledger.

Thin: parse the form, call the service, render. Finance writes; organizers may view.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from contest.audit.service import Actor
from contest.awards.policies import policy_choices
from contest.domain.awards.policy import LEDGER_MODES, ROLE_LABELS, UNIT_MODES
from contest.domain.money import Money, to_chinese_capital
from contest.errors import ContestError, Invalid
from contest.payouts import service
from contest.payouts.service import BatchForm
from contest.web.guards import FINANCE_DESK, FINANCE_ONLY
from contest.web.pages import render
from contest.web.uploads import MAX_BODY_BYTES, receive_file
from contest.xlsx.finance_workbook import STATUS_LABELS as EXCLUDED_LABELS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _errors(exc: ContestError) -> list[str]:
    return [exc.message, *exc.details]


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _money(fen: int | None) -> str:
    return "" if fen is None else Money.from_fen(fen).format()


def _capital(fen: int) -> str:
    return to_chinese_capital(Money.from_fen(fen))


COMMON = {
    "money": _money, "capital": _capital, "STATUS": service.STATUS_LABELS, "KIND": service.KIND_LABELS,
    "ROLE": ROLE_LABELS, "EXCLUDED": EXCLUDED_LABELS, "LEDGER_MODES": service.LEDGER_MODE_LABELS,
    "UNIT_MODES": service.UNIT_MODE_LABELS,
}


class PayoutController(Controller):
    path = "/finance"

    async def _index(self, db: AsyncSession, errors: list[str] | None = None, status: int = 200, form: dict | None = None) -> Template:
        today = date.today()
        context = {
            "batches": await service.list_batches(db),
            "policies": policy_choices(),
            "errors": errors or [],
            "form": form or {"name": "", "policy_id": "", "period_from": f"{today.year}-01-01", "period_to": f"{today.year}-12-31"},
            **COMMON,
        }
        return render("payouts/index.html", status, **context)

    async def _page(self, db: AsyncSession, batch_id: int, errors: list[str] | None = None, status: int = 200,
                    notice: str = "") -> Template:
        batch = await service.get_batch(db, batch_id)
        try:
            policy = service.policy_of(batch.policy_id)
            fields = service.amount_fields(policy, batch.settings or {})
            policy_name, rules = policy.name, policy.rules
        except ContestError as exc:
            fields, policy_name, rules = [], batch.policy_id, None
            errors = [*(errors or []), *_errors(exc)]
        original = await service.get_batch(db, batch.corrects_batch_id) if batch.corrects_batch_id else None
        context = {
            "batch": batch,
            "groups": service.payer_groups(batch),
            "fields": fields,
            "policy_name": policy_name,
            "policy_ledger_mode": rules.ledger_mode if rules else "",
            "policy_unit_mode": rules.unit_subsidy_mode if rules else "",
            "ledger_modes": LEDGER_MODES,
            "unit_modes": UNIT_MODES,
            "original": original,
            "corrections": await service.corrections_of(db, batch.id),
            "editable": batch.status in service.EDITABLE,
            "errors": errors or [],
            "notice": notice,
            **COMMON,
        }
        return render("payouts/batch.html", status, **context)

    async def _act(self, db: AsyncSession, batch_id: int, action: Any) -> Any:
        try:
            await action()
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, batch_id, _errors(exc), exc.status_code)
        return Redirect(f"/finance/batches/{batch_id}")

    @get("/", opt=FINANCE_DESK)
    async def index(self, db: AsyncSession) -> Template:
        return await self._index(db)

    @post("/batches", opt=FINANCE_ONLY)
    async def create(self, request: Request, db: AsyncSession, actor: Actor) -> Any:
        form = await request.form()
        posted = {k: str(form.get(k, "")) for k in ("name", "policy_id", "period_from", "period_to")}
        try:
            batch = await service.create_batch(
                db, actor, BatchForm(posted["name"], posted["policy_id"], _date(posted["period_from"]), _date(posted["period_to"]))
            )
        except ContestError as exc:
            await db.rollback()
            return await self._index(db, _errors(exc), exc.status_code, posted)
        return Redirect(f"/finance/batches/{batch.id}")

    @get("/batches/{batch_id:int}", opt=FINANCE_DESK)
    async def show(self, db: AsyncSession, batch_id: int) -> Template:
        return await self._page(db, batch_id)

    @post("/batches/{batch_id:int}/compute", opt=FINANCE_ONLY)
    async def compute(self, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        return await self._act(db, batch_id, lambda: service.compute(db, actor, batch_id))

    @post("/batches/{batch_id:int}/settings", opt=FINANCE_ONLY)
    async def settings(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        form = await request.form()
        amounts = {key[len("amount:"):]: str(value) for key, value in form.items() if key.startswith("amount:")}
        return await self._act(db, batch_id, lambda: service.save_settings(
            db, actor, batch_id, amounts, str(form.get("unit_subsidy_mode", "")), str(form.get("ledger_mode", ""))))

    @post("/batches/{batch_id:int}/external", opt=FINANCE_ONLY, request_max_body_size=MAX_BODY_BYTES)
    async def external(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        async def action() -> None:
            filename, content = await receive_file(request, "请选择要导入的成绩文件(.xlsx)")
            await service.import_external(db, actor, batch_id, filename, content)

        return await self._act(db, batch_id, action)

    @post("/batches/{batch_id:int}/submit", opt=FINANCE_ONLY)
    async def submit(self, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        return await self._act(db, batch_id, lambda: service.submit(db, actor, batch_id))

    @post("/batches/{batch_id:int}/approve", opt=FINANCE_ONLY)
    async def approve(self, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        return await self._act(db, batch_id, lambda: service.approve(db, actor, batch_id))

    @post("/batches/{batch_id:int}/return", opt=FINANCE_ONLY)
    async def send_back(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        form = await request.form()
        return await self._act(db, batch_id, lambda: service.return_batch(db, actor, batch_id, str(form.get("reason", ""))))

    @post("/batches/{batch_id:int}/paid", opt=FINANCE_ONLY)
    async def paid(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        form = await request.form()
        raw = str(form.get("paid_on", "")).strip()

        async def action() -> None:
            paid_on = _date(raw)
            if raw and paid_on is None:
                raise Invalid("发放日期应为 YYYY-MM-DD")
            await service.mark_paid(db, actor, batch_id, paid_on)

        return await self._act(db, batch_id, action)

    @post("/batches/{batch_id:int}/correction", opt=FINANCE_ONLY)
    async def correction(self, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        try:
            batch = await service.create_correction(db, actor, batch_id)
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, batch_id, _errors(exc), exc.status_code)
        return Redirect(f"/finance/batches/{batch.id}")

    @get("/batches/{batch_id:int}/workbook.xlsx", opt=FINANCE_DESK)
    async def workbook(self, db: AsyncSession, batch_id: int) -> Response:
        batch = await service.get_batch(db, batch_id)
        content = service.workbook_bytes(batch)
        status = "" if batch.status == "paid" else f"-{batch.status}"
        filename = f"payout-batch-{batch.id}{status}.xlsx"
        return Response(content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @get("/ledger", opt=FINANCE_DESK)
    async def ledger(self, db: AsyncSession, policy: str = "") -> Template:
        entries = await service.ledger(db, policy or None)
        return render("payouts/ledger.html", entries=entries, policy=policy, policies=policy_choices(), **COMMON)

    @get("/results-template.xlsx", opt=FINANCE_DESK)
    async def results_template(self) -> Response:
        from contest.awards.results_io import write_template

        stream = io.BytesIO()
        write_template(stream)
        return Response(stream.getvalue(), media_type=XLSX,
                        headers={"Content-Disposition": 'attachment; filename="external-results-template.xlsx"'})
