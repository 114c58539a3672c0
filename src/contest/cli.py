"""`contest ...`: serve, db upgrade, demo, users, audit, policies, awards."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from contest.settings import Settings

T = TypeVar("T")


def run_with_session(work: Callable[[AsyncSession], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run one coroutine with a database session, then dispose the engine."""
    from contest.db.engine import make_engine, make_session_factory

    settings = settings or Settings.from_env()

    async def runner() -> T:
        engine = make_engine(settings.database_url)
        try:
            async with make_session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


@click.group(help="技能竞赛管理 contest: competition management and scoring.")
def main() -> None:
    pass


# How uvicorn serves the app (`contest serve` and the live bench). The sans-io websockets protocol:
# a send frames into the socket's buffer and never waits, which the hub's fan-out relies on. No
# per-message deflate: board updates are small, and compressing the same update once per viewer was
# the largest cost of the fan-out to thousands of boards (bench/results/live.md).
# ws_max_size: the largest websocket frame a client may send (docs/live.md, "Limits"); a judge's message
# is a few hundred bytes, and uvicorn's default of 16 MiB would let one socket make the server buffer 16 MiB.
SERVE_OPTIONS = {"proxy_headers": True, "ws": "websockets-sansio", "ws_per_message_deflate": False, "ws_max_size": 65_536}


@main.command(help="Serve the web app (uvicorn). Several workers need PostgreSQL + Redis.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, reload: bool) -> None:
    import uvicorn

    settings = Settings.from_env()
    if workers > 1 and settings.is_sqlite:
        raise click.UsageError("多进程部署需要 PostgreSQL(CONTEST_DATABASE_URL)和 Redis(CONTEST_REDIS_URL)")
    click.echo(f"contest: serving on http://{host}:{port} ({'SQLite' if settings.is_sqlite else 'PostgreSQL'})")
    uvicorn.run("contest.app:create_app", factory=True, host=host, port=port, workers=workers, reload=reload, **SERVE_OPTIONS)


@main.group(help="Database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="Migrate the database to the latest schema (Alembic).")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    from contest.db.migrate import upgrade

    settings = Settings.from_env()
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")


@main.group(help="User accounts.")
def users() -> None:
    pass


@users.command("create", help="Create a user: ROLE is organizer, chief_judge, judge or finance.")
@click.argument("username")
@click.argument("role")
@click.option("--name", "display_name", default="", help="Display name (姓名).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_create(username: str, role: str, display_name: str, password: str) -> None:
    from contest.accounts.service import AccountError, create_user
    from contest.audit.service import Actor

    async def work(session: AsyncSession) -> None:
        await create_user(session, Actor.system("cli"), username, password, role, display_name)
        await session.commit()

    try:
        run_with_session(work)
    except AccountError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created {role} {username}")


@users.command("password", help="Set a user's password (signs the user out everywhere).")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_password(username: str, password: str) -> None:
    from contest.accounts.service import AccountError, set_password
    from contest.audit.service import Actor

    async def work(session: AsyncSession) -> None:
        await set_password(session, Actor.system("cli"), username, password)
        await session.commit()

    try:
        run_with_session(work)
    except AccountError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"password set for {username}")


@main.group(help="Audit log.")
def audit() -> None:
    pass


@audit.command("verify", help="Check the audit log's hash chain; exit 1 on any tampered or missing record.")
def audit_verify() -> None:
    from contest.audit.service import verify_chain

    count, problems = run_with_session(verify_chain)
    for problem in problems:
        click.echo(problem.problem, err=True)
    if problems:
        click.echo(f"audit log: {count} records, {len(problems)} problems", err=True)
        sys.exit(1)
    click.echo(f"audit log: {count} records, chain intact")


@main.group(help="Demo data (seeds/demo).")
def demo() -> None:
    pass


@demo.command("load", help="Load the demo competition, its rosters, judges and demo logins.")
@click.option("--if-empty", is_flag=True, help="Do nothing (but print the logins) if the database already has a competition.")
def demo_load(if_empty: bool) -> None:
    from contest.demo import DEMO_PASSWORD, demo_logins, load_demo

    settings = Settings.from_env()
    loaded = run_with_session(lambda session: load_demo(session, settings, only_if_empty=if_empty), settings)
    click.echo("demo data loaded" if loaded else "database already has data; demo not loaded again")
    click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for username, role_label in demo_logins():
        click.echo(f"  {username:<10} {role_label}")


@demo.command("score", help="Enter plausible marks for every open item, as the demo judges (to try lock, reveal, awards).")
@click.option("--seed", default=2026, show_default=True, type=int)
def demo_score(seed: int) -> None:
    from contest.demo import score_demo

    stored = run_with_session(lambda session: score_demo(session, seed))
    click.echo(f"{stored} marks stored")


from contest.awards.cli import awards_group, policies_group  # noqa: E402 - registered after the core groups

main.add_command(policies_group)
main.add_command(awards_group)
