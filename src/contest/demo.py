"""The demo competition (seeds/demo): created through the same services an organizer uses.

competition.toml describes the competition and the desk logins; roster.xlsx and judges.xlsx go
through the roster import, exactly as an organizer's files would; then every item is drawn.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.accounts.service import create_user, set_password
from contest.audit.service import Actor
from contest.db.models import Competition, User
from contest.domain.lifecycle import SCORING, SETUP
from contest.domain.roles import JUDGE, ROLES
from contest.domain.text import N_
from contest.errors import ContestError
from contest.events import service
from contest.events.service import CompetitionForm
from contest.rosters.service import import_judges, import_roster
from contest.settings import Settings

DEMO_PASSWORD = "demo-2026"
ACTOR = Actor.system("demo")


def _config(settings: Settings | None = None) -> dict:
    path = (settings or Settings.from_env()).seeds_dir / "demo" / "competition.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def demo_logins(settings: Settings | None = None) -> list[tuple[str, str]]:
    """(username, role) of every demo login: the desk users and the judges of judges.xlsx."""
    from openpyxl import load_workbook

    settings = settings or Settings.from_env()
    logins = [(u["username"], ROLES[u["role"]]) for u in _config(settings)["users"]]
    sheet = load_workbook(settings.seeds_dir / "demo" / "judges.xlsx", read_only=True)["裁判"]
    rows = sheet.iter_rows(values_only=True)
    header = list(next(rows))
    for row in rows:
        record = dict(zip(header, row, strict=False))
        if record.get(N_("登录账号")):
            logins.append((str(record[N_("登录账号")]), str(record["角色"])))
    return logins


# What load_demo reports as it goes (the command line shows a progress bar).
DEMO_STEPS = ("赛事", "参赛名单 roster.xlsx", "裁判名单 judges.xlsx", "账号", "抽签", "开始评分", "部分工位评分")
# The share of each item's stations the loaded demo has already scored: the console has device
# health and judge agreement to show at once, and the judges who sign in still have stations to score.
DEMO_SCORED_SHARE = 0.5


async def load_demo(db: AsyncSession, settings: Settings, only_if_empty: bool = True, done: Callable[[str], None] | None = None) -> bool:
    """Load the demo; returns False (and does nothing) when competitions exist and only_if_empty.
    ``done(step)`` is called after each of DEMO_STEPS."""
    done = done or (lambda step: None)
    if only_if_empty and (await db.execute(select(func.count()).select_from(Competition))).scalar_one():
        return False
    config = _config(settings)
    meta = config["competition"]
    form = CompetitionForm(
        name=meta["name"],
        year=meta["year"],
        level=meta["level"],
        category=meta["category"],
        policy_id=meta.get("policy_id", ""),
        organizer=meta.get("organizer", ""),
        start_date=date.fromisoformat(meta["start_date"]) if meta.get("start_date") else None,
        end_date=date.fromisoformat(meta["end_date"]) if meta.get("end_date") else None,
        appeal_contact=meta.get("appeal_contact", ""),
    )
    competition = await service.save_competition(db, ACTOR, form)
    done(DEMO_STEPS[0])
    folder = settings.seeds_dir / "demo"
    for importer, filename, step in ((import_roster, "roster.xlsx", DEMO_STEPS[1]), (import_judges, "judges.xlsx", DEMO_STEPS[2])):
        result = await importer(db, ACTOR, competition.id, filename, (folder / filename).read_bytes())
        if not result.ok:
            problems = "; ".join(f"{p.sheet} 第{p.row}行 {p.column}: {p.message}" for p in result.problems[:10])
            raise ContestError(f"演示数据 {filename} 导入失败:{problems}")
        done(step)
    for user in config["users"]:
        if not (await db.execute(select(User.id).where(User.username == user["username"]))).first():
            await create_user(db, ACTOR, user["username"], DEMO_PASSWORD, user["role"], user.get("name", ""))
    await db.commit()
    # Judges' accounts come from judges.xlsx without a password; the demo gives them one.
    for username, _role in demo_logins(settings):
        await set_password(db, ACTOR, username, DEMO_PASSWORD)
    await db.commit()
    done(DEMO_STEPS[3])
    competition = await service.get_competition(db, competition.id)
    for item in competition.items:
        await service.run_draw(db, ACTOR, item.id, seed=f"demo-{item.skill_code}")
    done(DEMO_STEPS[4])
    await open_demo_items(db, competition.id)
    done(DEMO_STEPS[5])
    await score_demo(db, share=DEMO_SCORED_SHARE)
    done(DEMO_STEPS[6])
    return True


async def open_demo_items(db: AsyncSession, competition_id: int) -> None:
    """Open every demo item for scoring, so judges can start at once."""
    from contest.live.actions import open_scoring

    competition = await service.get_competition(db, competition_id)
    for item in competition.items:
        if item.status == SETUP:
            await open_scoring(db, ACTOR, item.id)


async def score_demo(db: AsyncSession, seed: int = 2026, share: float = 1.0) -> int:
    """Enter plausible marks for every open item through the judges' own mark service: on the
    first ``share`` of each item's stations (the loaded demo scores half; `contest demo score` the
    rest), skipping stations that already have marks.

    Measurement criteria go to the first panel judge without a conflict; judgement criteria
    to as many conflict-free judges as the panel needs (WorldSkills marks within 1 of each
    other). Entries short of conflict-free judges are left for the chief judge to resolve.
    So that the chief judge's console has something to show: on each item the judge in the
    highest seat marks the averaged judgement criteria (never the WorldSkills ones, whose
    spread would block the lock) about a fifth of their maximum above the others, which the
    console's judge agreement flags (偏高); and every judge who scored gets a demo tablet in the
    console's device panel, one of them gone quiet with two marks unsent.
    Returns the number of marks stored.
    """
    import random
    import uuid
    from decimal import Decimal

    from contest.db.models import Item, JudgeAssignment, Mark
    from contest.live.service import Judge, MarkIn, MarkRefused, submit_mark

    rng = random.Random(seed)
    stored = 0
    scorers: dict[int, User] = {}
    items = list((await db.execute(select(Item).where(Item.status == SCORING).order_by(Item.id))).scalars())
    for item in items:
        full = await service.get_item(db, item.id)
        judges = list(
            (
                await db.execute(
                    select(JudgeAssignment, User)
                    .join(User, User.person_id == JudgeAssignment.person_id)
                    .where(JudgeAssignment.item_id == item.id, JudgeAssignment.role == JUDGE)
                    .order_by(JudgeAssignment.seat)
                )
            ).all()
        )
        conflicts = await service.conflict_matrix(db, item.id)
        biased = max((a.seat for a, _ in judges), default=None)
        entries = sorted(await service.item_entries(db, item.id), key=lambda e: e.station_no or 0)
        scored = set((await db.execute(select(Mark.entry_id).where(Mark.item_id == item.id).distinct())).scalars())
        for n, entry in enumerate(entries):
            skill = rng.uniform(0.55, 0.95)
            if entry.id in scored or n >= math.ceil(share * len(entries)):
                continue
            free = [(a, u) for a, u in judges if entry.id not in conflicts.get(a.id, {})]
            for component in full.components:
                for criterion in component.criteria:
                    panel = free[:1] if criterion.kind == "measurement" else free[: criterion.panel_size]
                    base = rng.randint(1, 3) if criterion.aggregation == "worldskills" else None
                    for assignment, user in panel:
                        if base is not None:
                            value = Decimal(max(0, min(3, base + rng.choice((0, 0, -1 if base > 1 else 0)))))
                        else:
                            steps = int(criterion.max_mark / criterion.step)
                            # judgement marks a little lower, leaving room above for the biased judge
                            level = skill * 0.8 if criterion.kind == "judgement" else skill
                            bias = 0.2 if criterion.kind == "judgement" and assignment.seat == biased else 0.0
                            value = criterion.step * round(steps * min(1.0, level + bias + rng.uniform(-0.08, 0.08)))
                        assert user.person_id is not None and entry.station_no is not None  # demo judges are people; drawn
                        judge = Judge(user.id, user.username, user.person_id, "demo")
                        mark = MarkIn(str(uuid.uuid4()), item.id, entry.station_no, criterion.id, str(value))
                        try:
                            await submit_mark(db, judge, mark)
                            stored += 1
                            scorers[user.id] = user
                        except MarkRefused:
                            await db.rollback()
    await _demo_tablets(db, list(scorers.values()))
    return stored


async def _demo_tablets(db: AsyncSession, users: list[User]) -> None:
    """A tablet per demo judge on the console's device panel (live/devices.py): last heard from now,
    not connected (the demo's marks came from the command line); the first one holds two marks it
    never sent, which the console warns about."""
    from datetime import timedelta

    from sqlalchemy import delete

    from contest.db.models import DeviceStatus, utcnow
    from contest.live.offline import tablet_version

    now = utcnow()
    await db.execute(delete(DeviceStatus).where(DeviceStatus.device.like("演示平板-%")))
    for n, user in enumerate(sorted(users, key=lambda u: u.username)):
        quiet = n == 0
        db.add(
            DeviceStatus(
                user_id=user.id,
                person_id=user.person_id,
                device=f"演示平板-{user.username}",
                user_agent="contest demo score",
                app_version=tablet_version(),
                connection_id="demo",
                connected=False,
                connected_at=now - timedelta(hours=1),
                last_seen_at=now - (timedelta(minutes=7) if quiet else timedelta(seconds=20)),
                pending=2 if quiet else 0,
                oldest_pending_at=now - timedelta(minutes=8) if quiet else None,
            )
        )
    await db.commit()
