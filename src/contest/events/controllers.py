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
from contest.domain import limits
from contest.domain.competition import CATEGORIES, LEVELS
from contest.domain.roles import JUDGE, PANEL_ROLES
from contest.domain.scheme import AGGREGATIONS, COMPONENT_KINDS, CRITERION_KINDS
from contest.errors import ContestError, Invalid
from contest.events import forms, service
from contest.events.draw_export import draw_workbook
from contest.web import fields
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
)
ITEM_FORM = form_body(
    name=limits.ITEM_NAME,
    skill_code=limits.SKILL_CODE,
    skill_name=limits.SKILL_NAME,
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

    async def _page(self, db: AsyncSession, competition_id: int, errors: list[str] | None = None, status: int = 200) -> Template:
        competition = await service.get_competition(db, competition_id)
        context = {
            "competition": competition,
            "counts": await service.entry_counts(db, competition_id),
            "policies": policy_choices(),
            "errors": errors or [],
        }
        return render("events/competition.html", status, **context)

    @get("/")
    async def index(self, db: AsyncSession) -> Template:
        context: dict[str, Any] = {"competitions": await service.list_competitions(db), "policies": policy_choices(), "errors": []}
        return render("events/competitions.html", **context)

    @post("/", **COMPETITION_FORM)
    async def create(self, request: Request, db: AsyncSession, actor: Actor) -> Any:
        try:
            competition = await service.save_competition(db, actor, forms.competition_form(await request.form()))
        except ContestError as exc:
            context = {"competitions": await service.list_competitions(db), "policies": policy_choices(), "errors": _errors(exc)}
            return render("events/competitions.html", exc.status_code, **context)
        return Redirect(f"/competitions/{competition.id}")

    @get("/{competition_id:int}")
    async def show(self, db: AsyncSession, competition_id: int) -> Template:
        return await self._page(db, competition_id)

    @post("/{competition_id:int}", **COMPETITION_FORM)
    async def update(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Any:
        try:
            await service.save_competition(db, actor, forms.competition_form(await request.form()), competition_id)
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, competition_id, _errors(exc), exc.status_code)
        return Redirect(f"/competitions/{competition_id}")

    @post("/{competition_id:int}/items", **ITEM_FORM)
    async def create_item(self, request: Request, db: AsyncSession, actor: Actor, competition_id: int) -> Any:
        try:
            item = await service.save_item(db, actor, competition_id, forms.item_form(await request.form()))
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, competition_id, _errors(exc), exc.status_code)
        return Redirect(f"/items/{item.id}")


class ItemController(Controller):
    path = "/items/{item_id:int}"
    opt = ORGANIZERS

    async def _page(
        self, db: AsyncSession, item_id: int, errors: list[str] | None = None, status: int = 200, posted: Any = None
    ) -> Template:
        item = await service.get_item(db, item_id)
        # After a refused scheme the organizer sees what they typed, not the stored scheme.
        weights, rows = forms.scheme_rows(posted) if posted is not None else forms.scheme_rows_of(item)
        entries = await service.item_entries(db, item_id)
        judges = await service.item_judges(db, item_id)
        matrix = await service.conflict_matrix(db, item_id)
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
        }
        return render("events/item.html", status, **context)

    async def _act(self, db: AsyncSession, item_id: int, action: Any, posted_scheme: Any = None) -> Any:
        """Run a write; on a refused input re-render the item page with the messages."""
        try:
            await action()
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, item_id, _errors(exc), exc.status_code, posted_scheme)
        return Redirect(f"/items/{item_id}")

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

        return await self._act(db, item_id, action)

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

        return await self._act(db, item_id, action, posted_scheme=form)

    @post("/judges", **form_body(person_id=int, id_number=limits.ID_NUMBER, role=list(PANEL_ROLES)))
    async def assign_judge(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        form = await request.form()

        async def action() -> None:
            # The page picks a person by name (the typeahead posts person_id); the API may still send a 证件号码.
            errors: list[str] = []
            person_id = fields.integer(form, "person_id", "人员", errors, minimum=1)
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
    async def remove_judge(self, db: AsyncSession, actor: Actor, item_id: int, assignment_id: int) -> Any:
        return await self._act(db, item_id, lambda: service.unassign_judge(db, actor, item_id, assignment_id))

    @post("/draw", **form_body(seed=limits.DRAW_SEED))
    async def draw(self, request: Request, db: AsyncSession, actor: Actor, item_id: int) -> Any:
        form = await request.form()
        return await self._act(db, item_id, lambda: service.run_draw(db, actor, item_id, str(form.get("seed", ""))))

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
            context = {"units": await service.list_units(db), "errors": _errors(exc)}
            return render("events/units.html", exc.status_code, **context)
        return Redirect("/units")


class PeopleController(Controller):
    path = "/people"
    opt = ORGANIZERS

    async def _page(self, db: AsyncSession, q: str = "", errors: list[str] | None = None, status: int = 200) -> Template:
        context = {"people": await service.search_people(db, q), "units": await service.list_units(db), "q": q, "errors": errors or []}
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
        item_id = fields.integer(form, "item_id", "赛项", errors, minimum=1)
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
        try:
            await service.save_person(db, actor, forms.person_form(await request.form()))
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, "", _errors(exc), exc.status_code)
        return Redirect("/people")


class ConflictController(Controller):
    path = "/conflicts"
    opt = ORGANIZERS

    async def _page(self, db: AsyncSession, errors: list[str] | None = None, status: int = 200) -> Template:
        return render("events/conflicts.html", status, conflicts=await service.list_conflicts(db), errors=errors or [])

    @get("/")
    async def index(self, db: AsyncSession) -> Template:
        return await self._page(db)

    @post("/", **form_body(judge_id_number=limits.ID_NUMBER, other_id_number=limits.ID_NUMBER, reason=limits.CONFLICT_REASON))
    async def declare(self, request: Request, db: AsyncSession, actor: Actor) -> Any:
        form = await request.form()
        try:
            judge = await service.person_by_id_number(db, str(form.get("judge_id_number", "")))
            other = await service.person_by_id_number(db, str(form.get("other_id_number", "")))
            await service.declare_conflict(db, actor, judge, other, str(form.get("reason", "")))
        except ContestError as exc:
            await db.rollback()
            return await self._page(db, _errors(exc), exc.status_code)
        return Redirect("/conflicts")

    @post("/{conflict_id:int}/delete")
    async def remove(self, db: AsyncSession, actor: Actor, conflict_id: int) -> Redirect:
        await service.remove_conflict(db, actor, conflict_id)
        return Redirect("/conflicts")
