"""Finance pages: payout batches, their review and approval, payees, the workbook and the ledger.

Thin: parse the form, call the service, render. Finance writes; organizers may view, and may let
a batch be approved before its results are final (with a reason). A refused form is shown again
with what was typed and the field named.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from contest.audit.service import Actor
from contest.awards.finance_workbook import payee_key
from contest.awards.policies import policy_choices
from contest.domain import allowed, limits
from contest.domain.awards.model import EXCLUDED_LABELS
from contest.domain.awards.payees import KIND_LABELS as PAYEE_KINDS
from contest.domain.awards.policy import (
    LEDGER_MODE_LABELS,
    LEDGER_MODES,
    ROLE_LABELS,
    UNIT_MODE_LABELS,
    UNIT_MODES,
    Policy,
    PolicyError,
)
from contest.domain.idcard import mask
from contest.domain.money import Money, to_chinese_capital
from contest.domain.payouts import EDITABLE, KIND_LABELS, PAID, STATUS_LABELS
from contest.domain.roles import FINANCE
from contest.domain.text import N_, Text
from contest.errors import ContestError, FormInvalid
from contest.payouts import payees, service
from contest.payouts.service import BatchForm
from contest.payouts.sources import ITEM_STATUS_LABELS
from contest.web.flash import saved
from contest.web.guards import FINANCE_DESK, FINANCE_ONLY, ORGANIZERS
from contest.web.openapi import FILE, form_body
from contest.web.pages import render
from contest.web.uploads import MAX_BODY_BYTES, receive_file
from contest.xlsx.upload import parse_off_loop

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _errors(exc: ContestError) -> list[str]:
    return [exc.message, *exc.details]


def _fields(exc: ContestError) -> dict[str, str]:
    return dict(getattr(exc, "fields", {}) or {})


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _money(fen: int | None) -> str:
    return "" if fen is None else Money.from_fen(fen).format()


def _capital(fen: int) -> str:
    return to_chinese_capital(Money.from_fen(fen))


class PolicyNames:
    """Policy and tier names for pages (English names where the policy file gives them)."""

    def __init__(self) -> None:
        self._policies: dict[str, Policy | None] = {}

    def policy(self, policy_id: str) -> Policy | None:
        if policy_id not in self._policies:
            try:
                self._policies[policy_id] = service.load_policy(policy_id)
            except PolicyError:
                self._policies[policy_id] = None
        return self._policies[policy_id]

    def name(self, policy_id: str, lang: str = "zh") -> str:
        policy = self.policy(policy_id)
        if policy is None:
            return policy_id
        return policy.name_en if lang == "en" and policy.name_en else policy.name

    def tier(self, policy_id: str, tier_id: str, lang: str = "zh") -> str:
        policy = self.policy(policy_id)
        if policy is None:
            return tier_id
        try:
            tier = policy.tier(tier_id)
        except KeyError:
            return tier_id
        return tier.title_en if lang == "en" and tier.title_en else tier.title


COMMON: dict[str, Any] = {
    "money": _money,
    "capital": _capital,
    "STATUS": STATUS_LABELS,
    "KIND": KIND_LABELS,
    "ROLE": ROLE_LABELS,
    "EXCLUDED": EXCLUDED_LABELS,
    "LEDGER_MODES": LEDGER_MODE_LABELS,
    "UNIT_MODES": UNIT_MODE_LABELS,
    "ITEM_STATUS_LABELS": ITEM_STATUS_LABELS,
    "PAYEE_KINDS": PAYEE_KINDS,
    "mask": mask,
}


def _is_finance(request: Request) -> bool:
    user = request.scope.get("user")
    return user is not None and user.role == FINANCE


class PayoutController(Controller):
    path = "/finance"

    async def _index(
        self,
        db: AsyncSession,
        errors: list[str] | None = None,
        status: int = 200,
        form: dict | None = None,
        fields: dict[str, str] | None = None,
    ) -> Template:
        today = date.today()
        context = {
            "batches": await service.list_batches(db),
            "policies": policy_choices(),
            "names": PolicyNames(),
            "errors": errors or [],
            "fields": fields or {},
            "form": form or {"name": "", "policy_id": "", "period_from": f"{today.year}-01-01", "period_to": f"{today.year}-12-31"},
            **COMMON,
        }
        return render("payouts/index.html", status, **context)

    async def _page(
        self,
        request: Request,
        db: AsyncSession,
        batch_id: int,
        errors: list[str] | None = None,
        status: int = 200,
        typed: dict[str, str] | None = None,
        fields: dict[str, str] | None = None,
        notice: str = "",
    ) -> Template:
        batch = await service.get_batch(db, batch_id)
        try:
            policy = service.policy_of(batch.policy_id)
            amount_fields = service.amount_fields(policy, batch.settings or {})
            rules = policy.rules
        except ContestError as exc:
            amount_fields, rules = [], None
            errors = [*(errors or []), *_errors(exc)]
        original = await service.get_batch(db, batch.corrects_batch_id) if batch.corrects_batch_id else None
        finance = _is_finance(request)
        details = await payees.details_for(db, {payee_key(line) for line in batch.lines})
        found = await service.blockers(db, batch) if batch.status in EDITABLE else None
        missing = [
            line
            for line in batch.lines
            if line.amount_fen > 0 and not details.get(payee_key(line), payees.PayeeDetails()).complete(payee_key(line)[0])
        ]
        user = request.scope.get("user")
        approve_refusal = await service.approve_refusal(db, batch, user.id if user else None) if finance else None
        context = {
            "batch": batch,
            "approve_refusal": approve_refusal.message if approve_refusal else None,
            "delete_refusal": allowed.delete_batch(batch.status),
            "groups": service.payer_groups(batch),
            "fields": amount_fields,
            "names": PolicyNames(),
            "people": await service.user_names(
                db, [batch.created_by_id, batch.submitted_by_id, batch.approved_by_id, batch.results_override_by_id]
            ),
            "policy_ledger_mode": rules.ledger_mode if rules else "",
            "policy_unit_mode": rules.unit_subsidy_mode if rules else "",
            "ledger_modes": LEDGER_MODES,
            "unit_modes": UNIT_MODES,
            "original": original,
            "corrections": await service.corrections_of(db, batch.id),
            "editable": batch.status in EDITABLE,
            "errors": errors or [],
            "typed": typed or {},
            "field_errors": fields or {},
            "notice": notice,
            "details": details,
            "payee_key": payee_key,
            "missing": missing,
            "blockers": found,
            "show_accounts": finance,
            "withholds": any(line.withheld_fen for line in batch.lines),
            **COMMON,
        }
        return render("payouts/batch.html", status, **context)

    async def _act(
        self, request: Request, db: AsyncSession, batch_id: int, action: Any, typed: dict[str, str] | None = None, done: str = "已保存"
    ) -> Any:
        try:
            await action()
        except ContestError as exc:
            await db.rollback()
            return await self._page(request, db, batch_id, _errors(exc), exc.status_code, typed=typed, fields=_fields(exc))
        return saved(request, f"/finance/batches/{batch_id}", done)

    @get("/", opt=FINANCE_DESK)
    async def index(self, db: AsyncSession) -> Template:
        return await self._index(db)

    @post("/batches", opt=FINANCE_ONLY, **form_body(name=limits.BATCH_NAME, policy_id=limits.POLICY_ID, period_from=date, period_to=date))
    async def create(self, request: Request, db: AsyncSession, actor: Actor) -> Any:
        form = await request.form()
        posted = {k: str(form.get(k, "")) for k in ("name", "policy_id", "period_from", "period_to")}
        try:
            batch = await service.create_batch(
                db, actor, BatchForm(posted["name"], posted["policy_id"], _date(posted["period_from"]), _date(posted["period_to"]))
            )
        except ContestError as exc:
            await db.rollback()
            return await self._index(db, _errors(exc), exc.status_code, posted, _fields(exc))
        return saved(request, f"/finance/batches/{batch.id}", N_("已创建发放批次"))

    @get("/batches/{batch_id:int}", opt=FINANCE_DESK)
    async def show(self, request: Request, db: AsyncSession, batch_id: int) -> Template:
        return await self._page(request, db, batch_id)

    @post("/batches/{batch_id:int}/compute", opt=FINANCE_ONLY)
    async def compute(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        return await self._act(request, db, batch_id, lambda: service.compute(db, actor, batch_id), done=N_("已计算"))

    @post(
        "/batches/{batch_id:int}/settings",
        opt=FINANCE_ONLY,
        **form_body(unit_subsidy_mode=list(UNIT_MODES), ledger_mode=list(LEDGER_MODES)),
    )
    async def settings(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        form = await request.form()
        typed = {key: str(value) for key, value in form.items() if key != "_csrf_token"}
        amounts = {key[len("amount:") :]: value for key, value in typed.items() if key.startswith("amount:")}
        return await self._act(
            request,
            db,
            batch_id,
            lambda: service.save_settings(db, actor, batch_id, amounts, typed.get("unit_subsidy_mode", ""), typed.get("ledger_mode", "")),
            typed,
        )

    @post("/batches/{batch_id:int}/external", opt=FINANCE_ONLY, request_max_body_size=MAX_BODY_BYTES, **form_body(file=FILE))
    async def external(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        async def action() -> None:
            filename, content = await receive_file(request, "请选择要导入的成绩文件(.xlsx)")
            await service.import_external(db, actor, batch_id, filename, content)

        return await self._act(request, db, batch_id, action)

    @post("/batches/{batch_id:int}/submit", opt=FINANCE_ONLY)
    async def submit(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        return await self._act(request, db, batch_id, lambda: service.submit(db, actor, batch_id), done=N_("已提交审批"))

    @post("/batches/{batch_id:int}/approve", opt=FINANCE_ONLY)
    async def approve(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        return await self._act(request, db, batch_id, lambda: service.approve(db, actor, batch_id), done=N_("已审批通过"))

    @post("/batches/{batch_id:int}/delete", opt=FINANCE_ONLY)
    async def delete(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        try:
            name = await service.delete_batch(db, actor, batch_id)
        except ContestError as exc:
            await db.rollback()
            return await self._page(request, db, batch_id, _errors(exc), exc.status_code)
        return saved(request, "/finance", Text("已删除发放批次「{name}」", name=name))

    @post("/batches/{batch_id:int}/override", opt=ORGANIZERS, **form_body(reason=limits.REASON))
    async def override(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        form = await request.form()
        typed = {"override_reason": str(form.get("reason", ""))}
        return await self._act(
            request, db, batch_id, lambda: service.override_results(db, actor, batch_id, typed["override_reason"]), typed
        )

    @post("/batches/{batch_id:int}/return", opt=FINANCE_ONLY, **form_body(reason=limits.REASON))
    async def send_back(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        form = await request.form()
        typed = {"return_reason": str(form.get("reason", ""))}
        return await self._act(
            request, db, batch_id, lambda: service.return_batch(db, actor, batch_id, typed["return_reason"]), typed, done=N_("已退回")
        )

    @post("/batches/{batch_id:int}/paid", opt=FINANCE_ONLY, **form_body(paid_on=date))
    async def paid(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        form = await request.form()
        raw = str(form.get("paid_on", "")).strip()

        async def action() -> None:
            paid_on = _date(raw)
            if raw and paid_on is None:
                raise FormInvalid("发放日期有误,未登记", {"paid_on": Text("发放日期 {raw} 无效:应为 YYYY-MM-DD", raw=repr(raw))})
            await service.mark_paid(db, actor, batch_id, paid_on)

        return await self._act(request, db, batch_id, action, {"paid_on": raw}, done=N_("已登记为已发放"))

    @post("/batches/{batch_id:int}/correction", opt=FINANCE_ONLY)
    async def correction(self, request: Request, db: AsyncSession, actor: Actor, batch_id: int) -> Any:
        try:
            batch = await service.create_correction(db, actor, batch_id)
        except ContestError as exc:
            await db.rollback()
            return await self._page(request, db, batch_id, _errors(exc), exc.status_code)
        return saved(request, f"/finance/batches/{batch.id}", N_("已建立更正批次"))

    @get("/batches/{batch_id:int}/workbook.xlsx", opt=FINANCE_DESK)
    async def workbook(self, request: Request, db: AsyncSession, batch_id: int) -> Response:
        batch = await service.get_batch(db, batch_id)
        content = await service.workbook_bytes(db, batch, for_finance=_is_finance(request))
        status = "" if batch.status == PAID else f"-{batch.status}"
        filename = f"payout-batch-{batch.id}{status}.xlsx"
        return Response(content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @get("/ledger", opt=FINANCE_DESK)
    async def ledger(self, db: AsyncSession, policy: str = "") -> Template:
        entries = await service.ledger(db, policy or None)
        return render("payouts/ledger.html", entries=entries, policy=policy, policies=policy_choices(), names=PolicyNames(), **COMMON)

    @get("/results-template.xlsx", opt=FINANCE_DESK)
    async def results_template(self) -> Response:
        from contest.awards.results_io import write_template

        stream = io.BytesIO()
        write_template(stream)
        return Response(
            stream.getvalue(), media_type=XLSX, headers={"Content-Disposition": 'attachment; filename="external-results-template.xlsx"'}
        )

    # ------------------------------------------------------------ payees (finance only)

    async def _payees(
        self,
        db: AsyncSession,
        query: str = "",
        errors: list[str] | None = None,
        status: int = 200,
        form: dict[str, str] | None = None,
        fields: dict[str, str] | None = None,
        notice: str = "",
    ) -> Template:
        return render(
            "payouts/payees.html",
            status,
            payees=await payees.list_payees(db, query),
            query=query,
            errors=errors or [],
            form=form or {},
            field_errors=fields or {},
            notice=notice,
            columns=payees.COLUMNS,
            **COMMON,
        )

    @get("/payees", opt=FINANCE_ONLY)
    async def payee_list(self, db: AsyncSession, q: str = "", kind: str = "", key: str = "", name: str = "") -> Template:
        form = {"kind": kind, "key": key, "name": name}
        if kind in PAYEE_KINDS and (key or name):  # "补充收款信息" from a batch: the form starts with who it is
            existing = await payees.details_for(db, [(kind, key if kind == "person" else name)])
            found = next(iter(existing.values()), None)
            if found is not None:
                form.update(
                    account_name=found.account_name,
                    bank_name=found.bank_name,
                    account_number=found.account_number,
                    credit_code=found.credit_code,
                    phone=found.phone,
                )
        return await self._payees(db, q, form=form)

    @post(
        "/payees",
        opt=FINANCE_ONLY,
        **form_body(
            kind=list(PAYEE_KINDS),
            key=limits.PAYEE_KEY,
            name=limits.PAYEE_KEY,
            account_name=limits.ACCOUNT_NAME,
            bank_name=limits.BANK_NAME,
            account_number=limits.ACCOUNT_NUMBER,
            credit_code=limits.CREDIT_CODE,
            phone=limits.PHONE,
            note=limits.PAYEE_NOTE,
        ),
    )
    async def payee_save(self, request: Request, db: AsyncSession, actor: Actor) -> Any:
        data = await request.form()
        typed = {k: str(data.get(k, "")) for k in ("kind", "key", "name", *payees.FIELDS)}
        form = payees.PayeeForm(typed["kind"], typed["key"], typed["name"], {k: typed[k] for k in payees.FIELDS})
        try:
            payee = await payees.save_payee(db, actor, form)
        except ContestError as exc:
            await db.rollback()
            return await self._payees(db, errors=_errors(exc), status=exc.status_code, form=typed, fields=_fields(exc))
        return saved(request, "/finance/payees", Text("已保存 {name} 的收款信息", name=payee.name))

    @post("/payees/import", opt=FINANCE_ONLY, request_max_body_size=MAX_BODY_BYTES, **form_body(file=FILE))
    async def payee_import(self, request: Request, db: AsyncSession, actor: Actor) -> Any:
        try:
            filename, content = await receive_file(request, "请选择要导入的收款信息文件(.xlsx)")
            rows = await parse_off_loop(payees.read_payee_upload, content)
            created, updated = await payees.import_payees(db, actor, filename, rows)
        except ContestError as exc:
            await db.rollback()
            return await self._payees(db, errors=_errors(exc), status=exc.status_code)
        message = Text("已导入收款信息:新增 {created} 条,更新 {updated} 条", created=created, updated=updated)
        return saved(request, "/finance/payees", message)

    @get("/payees/template.xlsx", opt=FINANCE_ONLY)
    async def payee_template(self, db: AsyncSession, batch: int | None = None) -> Response:
        """The blank payee workbook, or (?batch=N) one listing that batch's recipients without details."""
        recipients: list[tuple[str, str, str]] = []
        filename = "payees-template.xlsx"
        if batch is not None:
            found = await service.get_batch(db, batch)
            seen: set[tuple[str, str]] = set()
            for line in await service.missing_payees(db, found):
                key = payee_key(line)
                if key not in seen:
                    seen.add(key)
                    recipients.append((key[0], key[1], line.recipient_name))
            filename = f"payees-batch-{found.id}.xlsx"
        stream = io.BytesIO()
        payees.write_template(stream, recipients)
        return Response(stream.getvalue(), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
