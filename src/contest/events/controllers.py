"""Organizer pages for competition setup. Thin: parse the form, call a service, render."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from contest.audit.service import Actor
from contest.awards.policies import policy_choices
from contest.domain import allowed, limits
from contest.domain.competition import CATEGORIES, LEVELS
from contest.domain.roles import JUDGE, PANEL_ROLES
from contest.domain.scheme import AGGREGATIONS, COMPONENT_KINDS, CRITERION_KINDS
from contest.domain.text import N_, Text
from contest.errors import ContestError, FormInvalid, Invalid
from contest.events import forms, service
from contest.events.draw_export import draw_workbook
from contest.web import fields
from contest.web.flash import saved
from contest.web.forms import FormState, refused
from contest.web.guards import ORGANIZERS
from contest.web.openapi import form_body
from contest.web.pages import render

COMPETITION_FORM = form_body(
    name=limits.COMPETITION_NAME,
    year=int,
    level=list(LEVELS),
    category=[str(c) for c in CATEGORIES],
    policy_id=limits.POLICY_ID,
    organizer=limits.ORGANIZER,
    start_date=date,
    end_date=date,
    show_provisional=bool,
    appeal_hours=int,
    appeal_contact=limits.APPEAL_CONTACT,
    board_interval=int,
)
ITEM_FORM = form_body(
    name=limits.ITEM_NAME,
    skill_code=limits.SKILL_CODE,
    skill_name=limits.SKILL_NAME,
    group_name=limits.ITEM_GROUP,
    is_team=bool,
    team_size=int,
    no_ties=bool,
    excellence_fraction=Decimal,
)


def _errors(exc: ContestError) -> list[str]:
    return [exc.message, *exc.details]


class CompetitionController(Controller):
    path = "/competitions"
    opt = ORGANIZERS

    async def _page(
        self, db: AsyncSession, competition_id: int, errors: list[str] | None = None, status: int = 200, posted: FormState | None = None
    ) -> Template:
        competition = await service.get_competition(db, competition_id)
        context = {
            "competition": competition,
            "counts": await service.entry_counts(db, competition_id),
            "policies": policy_choices(),
            "errors": errors or [],
            "posted": posted,
            "links": await service.link_counts(db, competition_id),
            "delete_refusal": await service.competition_delete_refusal(db, competition_id),
        }
        return render("events/competition.html", status, **context)

    async def _index(
        self, db: AsyncSession, errors: list[str] | None = None, status: int = 200, posted: FormState | None = None
    ) -> Template:
        context: dict[str, Any] = {
            "competitions": await service.list_competitions(db),
            "policies": policy_choices(),
            "errors": errors or [],
            "posted": posted,
        }
        return render("events/competitions.html", status, **context)

    @get("/")
    async def index(self, db: AsyncSession) -> Template:
        return await self._index(db)

    @post("/", **COMPETITION_FORM)
    async def create(self, request: Request, db: AsyncSession, actor: Actor) -> Any:
        form = await request.form()
        try:
            competition = await service.save_competition(db, actor, forms.competition_form(form))
        except ContestError as exc:
            await db.rollback()
            return await self._index(db, _errors(exc), exc.status_code, refused("new-competition", form, exc))
        return saved(request, f"/competitions/{competition.id}", N_("已创建赛事"))

    @get("/{competition_id:int}")
    async def show(self, db: AsyncSession, competition_id: int) -> Template:
        return await self._page(db, competition_id)

    @post("/{competition_id:int}", **COMPETITION_FORM)
    async def update(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Any:
        form = await request.form()
        try:
            await service.save_competition(db, actor, forms.competition_form(form), competition_id)
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, competition_id, _errors(exc), exc.status_code, refused("edit-competition", form, exc))
        return saved(request, f"/competitions/{competition_id}")

    @post("/{competition_id:int}/delete")
    async def delete(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Any:
        try:
            name = await service.delete_competition(db, actor, competition_id)
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, competition_id, _errors(exc), exc.status_code)
        return saved(request, "/competitions", Text("已删除赛事「{name}」", name=name))

    @post("/{competition_id:int}/items", **ITEM_FORM)
    async def create_item(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Any:
        form = await request.form()
        try:
            item = await service.save_item(db, actor, competition_id, forms.item_form(form))
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, competition_id, _errors(exc), exc.status_code, refused("new-item", form, exc))
        return saved(request, f"/items/{item.id}", N_("已创建赛项"))


class ItemController(Controller):
    path = "/items/{item_id:int}"
    opt = ORGANIZERS

    async def _page(
        self,
        db: AsyncSession,
        item_id: int,
        errors: list[str] | None = None,
        status: int = 200,
        posted: Any = None,
        state: FormState | None = None,
    ) -> Template:
        item = await service.get_item(db, item_id)
        # After a refused scheme the organizer sees what they typed, not the stored scheme.
        weights, rows = forms.scheme_rows(posted) if posted is not None else forms.scheme_rows_of(item)
        entries = await service.item_entries(db, item_id)
        judges = await service.item_judges(db, item_id)
        matrix = await service.conflict_matrix(db, item_id)
        dependents = await service.item_dependents(db, item_id)
        context = {
            "item": item,
            "entries": entries,
            "judges": judges,
            "conflicts": matrix,
            "entry_by_id": {e.id: e for e in entries},
            "draw": await service.latest_draw(db, item_id),
            "errors": errors or [],
            "judge_roles": service.JUDGE_ROLES,
            "weights": weights,
            "rows": rows,
            "blank_rows": range(max(3, 12 - len(rows))),
            "posted": state,
            "dependents": dependents,
            "refusals": {
                "scheme": allowed.scheme_edit(item.status),
                "draw": allowed.draw(item.status, len(entries)),
                "remove_judge": allowed.judge_removal(item.status),
                "delete": allowed.delete_item(item.status, dependents.entries, dependents.marks, dependents.versions),
            },
        }
        return render("events/item.html", status, **context)

    async def _act(
        self,
        db: AsyncSession,
        item_id: int,
        action: Any,
        posted_scheme: Any = None,
        *,
        request: Request | None = None,
        form_id: str = "",
        form: Any = None,
        anchor: str = "",
        done: str = "已保存",
    ) -> Any:
        """Run a write; on a refused input re-render the item page with the messages (and, for
        ``form_id``, what was typed beside its fields); after a write say so once (``done``)."""
        try:
            await action()
        except ContestError as exc:
            await db.rollback()
            state = refused(form_id, form if form is not None else posted_scheme, exc) if form_id else None
            return await self._page(db, item_id, _errors(exc), exc.status_code, posted_scheme, state)
        url = f"/items/{item_id}{anchor}"
        return saved(request, url, done) if request is not None else Redirect(url)

    @get("/")
    async def show(self, db: AsyncSession, item_id: int) -> Template:
        return await self._page(db, item_id)

    @get("/criterion-row", opt=ORGANIZERS)
    async def criterion_row(self, item_id: int) -> Template:
        return render("events/_criterion_row.html", row=None)

    @post("/", **ITEM_FORM)
    async def update(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        form = await request.form()

        async def action() -> None:
            item = await service.get_item(db, item_id)
            await service.save_item(db, actor, item.competition_id, forms.item_form(form), item_id)

        return await self._act(db, item_id, action, request=request, form_id="edit-item", form=form)

    @post("/delete")
    async def delete(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        try:
            item = await service.delete_item(db, actor, item_id)
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, item_id, _errors(exc), exc.status_code)
        return saved(request, f"/competitions/{item.competition_id}", Text("已删除赛项「{name}」", name=item.name))

    @post(
        "/scheme",
        **form_body(
            weight_theory=Decimal,
            weight_practical=Decimal,
            weight_oral=Decimal,
            crit_component=list(COMPONENT_KINDS),
            crit_code=limits.CRITERION_CODE,
            crit_name=limits.CRITERION_NAME,
            crit_max=Decimal,
            crit_step=Decimal,
            crit_kind=list(CRITERION_KINDS),
            crit_panel=int,
            crit_agg=list(AGGREGATIONS),
        ),
    )
    async def save_scheme(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        form = await request.form()

        async def action() -> None:
            await service.save_scheme(db, actor, item_id, forms.scheme_form(form))

        return await self._act(db, item_id, action, posted_scheme=form, request=request, form_id="scheme", anchor="#scheme")

    @post("/judges", **form_body(person_id=int, id_number=limits.ID_NUMBER, role=list(PANEL_ROLES)))
    async def assign_judge(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        form = await request.form()

        async def action() -> None:
            # The page picks a person by name (the typeahead posts person_id); the API may still send a 证件号码.
            errors: list[str] = []
            person_id = fields.integer(form, "person_id", N_("人员"), errors, minimum=1)
            if errors:
                raise Invalid(errors[0])
            if person_id is not None:
                person = await service.person_by_id(db, person_id)
            elif fields.raw(form, "id_number"):
                person = await service.person_by_id_number(db, fields.raw(form, "id_number"))
            else:
                raise Invalid("请输入姓名搜索,并从搜索结果中选择裁判")
            await service.assign_judge(db, actor, item_id, person, fields.raw(form, "role") or JUDGE)

        return await self._act(db, item_id, action)

    @post("/judges/{assignment_id:int}/delete")
    async def remove_judge(self, request: Request, db: AsyncSession, actor: Actor, item_id: int, assignment_id: int) -> Any:
        remove = lambda: service.unassign_judge(db, actor, item_id, assignment_id)  # noqa: E731
        return await self._act(db, item_id, remove, request=request, anchor="#judges", done=N_("已移除"))

    @post("/draw", **form_body(seed=limits.DRAW_SEED))
    async def draw(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        form = await request.form()
        return await self._act(
            db,
            item_id,
            lambda: service.run_draw(db, actor, item_id, str(form.get("seed", ""))),
            request=request,
            form_id="draw",
            form=form,
            anchor="#entries",
            done=N_("已完成抽签"),
        )

    @get("/draw.xlsx")
    async def draw_export(self, db: AsyncSession, item_id: int) -> Response:
        item = await service.get_item(db, item_id)
        entries = await service.item_entries(db, item_id)
        draw = await service.latest_draw(db, item_id)
        content = draw_workbook(item, entries, draw)
        filename = f"draw-item-{item.id}.xlsx"
        return Response(
            content,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


class UnitController(Controller):
    path = "/units"
    opt = ORGANIZERS

    @get("/")
    async def index(self, db: AsyncSession) -> Template:
        return render("events/units.html", units=await service.list_units(db), errors=[])

    @post("/", **form_body(name=limits.UNIT_NAME, code=limits.UNIT_CODE, region=limits.REGION, contact=limits.CONTACT))
    async def create(self, request: Request, db: AsyncSession, actor: Actor) -> Any:
        form = await request.form()
        try:
            await service.save_unit(
                db, actor, str(form.get("name", "")), str(form.get("code", "")), str(form.get("region", "")), str(form.get("contact", ""))
            )
        except ContestError as exc:
            await db.rollback()
            context = {"units": await service.list_units(db), "errors": _errors(exc), "posted": refused("new-unit", form, exc)}
            return render("events/units.html", exc.status_code, **context)
        return saved(request, "/units")


class PeopleController(Controller):
    path = "/people"
    opt = ORGANIZERS

    async def _page(
        self, db: AsyncSession, q: str = "", errors: list[str] | None = None, status: int = 200, posted: FormState | None = None
    ) -> Template:
        context = {
            "people": await service.search_people(db, q),
            "units": await service.list_units(db),
            "q": q,
            "errors": errors or [],
            "posted": posted,
        }
        return render("events/people.html", status, **context)

    @get("/")
    async def index(self, db: AsyncSession) -> Template:
        return await self._page(db)

    @post("/search", **form_body(q=limits.SEARCH))
    async def search(self, request: Request, db: AsyncSession) -> Template:
        # By POST: a 证件号码 typed here must not land in the URL, and so in access logs and history.
        form = await request.form()
        return await self._page(db, fields.raw(form, "q")[: limits.SEARCH.max])

    @post("/lookup", **form_body(q=limits.PERSON_NAME, item_id=int))
    async def lookup(self, request: Request, db: AsyncSession) -> Template:
        """The judge picker's typeahead (htmx): people whose name contains q, ID numbers masked; with
        item_id, those the one panel rule refuses are shown disabled with the reason. By POST, like
        the people search: what is typed stays out of URLs and access logs."""
        form = await request.form()
        q = fields.raw(form, "q")[: limits.PERSON_NAME.max]
        errors: list[str] = []
        item_id = fields.integer(form, "item_id", N_("赛项"), errors, minimum=1)
        refusals = await service.panel_refusals(db, item_id) if item_id is not None and not errors else {}
        people = await service.find_people_by_name(db, q)
        return render("events/_people_matches.html", people=people, refusals=refusals, q=q)

    @post(
        "/",
        **form_body(
            id_number=limits.ID_NUMBER,
            name=limits.PERSON_NAME,
            unit_id=int,
            gender=["", "男", "女"],
            phone=limits.PHONE,
            employment_region=limits.REGION,
            is_employee=bool,
        ),
    )
    async def save(self, request: Request, db: AsyncSession, actor: Actor) -> Any:
        form = await request.form()
        try:
            await service.save_person(db, actor, forms.person_form(form))
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, "", _errors(exc), exc.status_code, refused("new-person", form, exc))
        return saved(request, "/people")


class ConflictController(Controller):
    path = "/conflicts"
    opt = ORGANIZERS

    async def _page(
        self, db: AsyncSession, errors: list[str] | None = None, status: int = 200, posted: FormState | None = None
    ) -> Template:
        return render("events/conflicts.html", status, conflicts=await service.list_conflicts(db), errors=errors or [], posted=posted)

    @get("/")
    async def index(self, db: AsyncSession) -> Template:
        return await self._page(db)

    @post("/", **form_body(judge_id_number=limits.ID_NUMBER, other_id_number=limits.ID_NUMBER, reason=limits.CONFLICT_REASON))
    async def declare(self, request: Request, db: AsyncSession, actor: Actor) -> Any:
        form = await request.form()
        try:
            people = {}
            problems: dict[str, str] = {}
            for key in ("judge_id_number", "other_id_number"):
                try:
                    people[key] = await service.person_by_id_number(db, str(form.get(key, "")))
                except ContestError as exc:
                    problems[key] = exc.message
            if problems:
                raise FormInvalid("回避信息有误", problems)
            await service.declare_conflict(db, actor, people["judge_id_number"], people["other_id_number"], str(form.get("reason", "")))
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, _errors(exc), exc.status_code, refused("new-conflict", form, exc))
        return saved(request, "/conflicts")

    @post("/{conflict_id:int}/delete")
    async def remove(self, request: Request, db: AsyncSession, actor: Actor, conflict_id: int) -> Redirect:
        await service.remove_conflict(db, actor, conflict_id)
        return saved(request, "/conflicts", N_("已删除"))
