"""Generate a competition ready for live scoring, and a plan for the load generator.

    .venv/bin/python -m bench.live.seed --db var/bench/live.db --items 100 --judges-per-item 10 --out plan.json
    .venv/bin/python -m bench.live.seed --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/contest_bench_live \
        --items 100 --judges-per-item 10 --out plan.json      # the database is dropped and created afresh

One competition, ``items`` items, each with ``entries`` entries (one competitor each, from its
own unit), a generated scheme (one practical component of ``criteria`` judgement criteria summing to 100,
step 0.5, a panel as large as the item's judges), ``judges_per_item`` judges per item (each judge
on exactly one item, all from a neutral unit: conflict-free), drawn and opened for scoring.
Every judge gets an account (no password) and a server-side session; the plan holds the cookie
tokens, so the load generator needs no HTTP logins.

Structural writes go through the services (events.service, live.actions, accounts.service);
people, entries and assignments are inserted in bulk (the services commit per row, which
would make the 1,000-judge seed slow for no benefit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from contest.accounts.service import create_user, open_session
from contest.audit.service import Actor
from contest.db.engine import make_engine, make_session_factory
from contest.db.migrate import upgrade
from contest.db.models import Entry, EntryMember, JudgeAssignment, Person
from contest.domain.idcard import check_digit
from contest.domain.scheme import ComponentSpec, CriterionSpec
from contest.events import service
from contest.events.service import CompetitionForm, ItemForm
from contest.live import actions

ACTOR = Actor.system("bench")
STEP = Decimal("0.5")


def id_number(n: int) -> str:
    """A valid 18-digit 证件号码, distinct for every n < 365,000."""
    birth = date(1960, 1, 1) + timedelta(days=n // 1000)
    body = f"230102{birth:%Y%m%d}{n % 1000:03d}"
    return body + check_digit(body)


def scheme(criteria: int, panel: int) -> list[ComponentSpec]:
    aggregation = "trimmed_mean" if panel >= 5 else "mean"
    return [
        ComponentSpec(
            "practical",
            Decimal(100),
            criteria=[
                CriterionSpec(f"C{k + 1}", f"评分项{k + 1}", Decimal(100) / criteria, STEP, "judgement", panel, aggregation)
                for k in range(criteria)
            ],
        )
    ]


async def _seed(url: str, items: int, entries: int, judges_per_item: int, criteria: int, show_provisional: bool) -> dict:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    panel = max(2, judges_per_item)
    async with factory() as db:
        comp = await service.save_competition(
            db, ACTOR, CompetitionForm("2026年全国职业技能大赛(压测)", 2026, "national", 1, show_provisional=show_provisional)
        )
        judges_unit = await service.save_unit(db, ACTOR, "裁判委员会")
        item_ids = []
        for i in range(items):
            item = await service.save_item(db, ACTOR, comp.id, ItemForm(f"赛项{i + 1:03d}", f"B-{i + 1:03d}", f"压测工种{i + 1:03d}"))
            await service.save_scheme(db, ACTOR, item.id, scheme(criteria, panel))
            item_ids.append(item.id)
        unit_ids = [(await service.save_unit(db, ACTOR, f"参赛单位{u + 1:03d}")).id for u in range(entries)]
        n = 0
        competitors = []
        for item_id in item_ids:
            for e in range(entries):
                competitors.append((item_id, e, Person(id_number=id_number(n), name=f"选手{n:05d}", unit_id=unit_ids[e])))
                n += 1
        db.add_all([p for _, _, p in competitors])
        await db.flush()
        for item_id, e, person in competitors:
            entry = Entry(item_id=item_id, entry_no=f"E{e + 1:03d}", unit_id=unit_ids[e])
            entry.members = [EntryMember(person_id=person.id)]
            db.add(entry)
        await db.commit()
        judges: list[dict] = []
        for item_id in item_ids:
            for seat in range(judges_per_item):
                person = Person(id_number=id_number(n), name=f"裁判{n:05d}", unit_id=judges_unit.id)
                n += 1
                db.add(person)
                await db.flush()
                db.add(JudgeAssignment(item_id=item_id, person_id=person.id, role="judge", seat=seat + 1))
                username = f"bj{len(judges):05d}"
                user = await create_user(db, ACTOR, username, None, "judge", person_id=person.id)
                judges.append({"username": username, "user_id": user.id, "person_id": person.id, "item_id": item_id})
        await db.commit()
        plan_items = []
        for item_id in item_ids:
            await service.run_draw(db, ACTOR, item_id, seed="bench")
            await actions.open_scoring(db, ACTOR, item_id)
            fresh = await service.get_item(db, item_id)
            stations = sorted(s for s in (await db.execute(select(Entry.station_no).where(Entry.item_id == item_id))).scalars())
            plan_items.append({"id": item_id, "stations": stations, "criteria": [k.id for c in fresh.components for k in c.criteria]})
        for judge in judges:
            _, token = await open_session(db, judge["user_id"], "bench/live", 7, via="bench")
            judge["token"] = token
    await engine.dispose()
    return {
        "database_url": url,
        "competition_id": comp.id,
        "items": plan_items,
        "judges": judges,
        "max_mark": str(Decimal(100) / criteria),
        "step": str(STEP),
        "show_provisional": show_provisional,
        "seed_seconds": round(time.perf_counter() - started, 1),
    }


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def _pg_split(url: str) -> tuple[str, str]:
    """(admin DSN for asyncpg, database name) of a postgresql[+asyncpg]:// URL. The admin entry is the
    same server's `postgres` database, or CONTEST_BENCH_PG_ADMIN (an asyncpg DSN) if set."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.database:
        raise ValueError(f"no database name in {url!r}")
    admin = os.environ.get("CONTEST_BENCH_PG_ADMIN") or parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    return admin, parsed.database


def pg_admin_dsn(url: str) -> str:
    return _pg_split(url)[0]


async def _pg_admin(url: str, *statements: str) -> None:
    import asyncpg

    admin, _ = _pg_split(url)
    conn = await asyncpg.connect(admin, timeout=10)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


def fresh_postgres(url: str) -> None:
    """Drop (forcing out leftover connections) and create the URL's database: an empty one for every run."""
    _, name = _pg_split(url)
    if not name.replace("_", "").isalnum():
        raise ValueError(f"database name {name!r}: letters, digits and _ only")
    asyncio.run(_pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'))


def drop_postgres(url: str) -> None:
    _, name = _pg_split(url)
    asyncio.run(_pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sqlite_url(db_path: Path) -> str:
    return f"sqlite+aiosqlite:///{db_path}"


def make_plan_url(url: str, items: int, entries: int, judges_per_item: int, criteria: int, show_provisional: bool) -> dict:
    """A fresh database at url (SQLite file removed, or PostgreSQL database dropped and created),
    migrated and seeded; returns the plan."""
    if is_postgres(url):
        fresh_postgres(url)
    else:
        db_path = Path(url.split("///", 1)[1])
        db_path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    upgrade(url)
    return asyncio.run(_seed(url, items, entries, judges_per_item, criteria, show_provisional))


def make_plan(db_path: Path, items: int, entries: int, judges_per_item: int, criteria: int, show_provisional: bool) -> dict:
    """A fresh SQLite database at db_path (migrated), seeded; returns the plan."""
    return make_plan_url(sqlite_url(db_path), items, entries, judges_per_item, criteria, show_provisional)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", type=Path, help="a SQLite file (replaced)")
    where.add_argument("--database-url", help="postgresql+asyncpg://... (the database is dropped and created) or sqlite+aiosqlite:///...")
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--judges-per-item", type=int, default=10)
    parser.add_argument("--criteria", type=int, default=5)
    parser.add_argument("--show-provisional", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    url = args.database_url or sqlite_url(args.db)
    plan = make_plan_url(url, args.items, args.entries, args.judges_per_item, args.criteria, args.show_provisional)
    args.out.write_text(json.dumps(plan))
    print(f"seeded {len(plan['items'])} items, {len(plan['judges'])} judges in {plan['seed_seconds']} s -> {args.out}")


if __name__ == "__main__":
    main()
