"""`contest ...`: serve, db upgrade, demo, users, audit, policies, awards."""

from __future__ import annotations

import shutil
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from contest import __version__
from contest.settings import Settings

if TYPE_CHECKING:  # the command line starts fast: SQLAlchemy and the web stack load only for commands that use them
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


def run_with_session(work: Callable[[AsyncSession], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run one coroutine with a database session, then dispose the engine."""
    import asyncio

    from contest.db.engine import make_engine, make_session_factory

    settings = settings or Settings.from_env()

    async def runner() -> T:
        engine = make_engine(settings.database_url)
        try:
            async with make_session_factory(engine, settings.audit_key)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


@click.group(help="技能竞赛管理 contest: competition management and scoring.")
@click.version_option(__version__, prog_name="contest")
def main() -> None:
    pass


# How uvicorn serves the app (`contest serve` and the live bench). The sans-io websockets protocol:
# a send frames into the socket's buffer and never waits, which the hub's fan-out relies on. No
# per-message deflate: board updates are small, and compressing the same update once per viewer was
# the largest cost of the fan-out to thousands of boards (bench/results/live.md). Proxy headers are
# believed only from CONTEST_TRUSTED_PROXIES (`serve` turns them on for those). uvicorn's access log is
# off: the app writes its own, with the request id (web/request_log.py).
# ws_max_size: the largest websocket frame a client may send (docs/live.md, "Limits"); a judge's message
# is a few hundred bytes, and uvicorn's default of 16 MiB would let one socket make the server buffer 16 MiB.
SERVE_OPTIONS: dict[str, Any] = {
    "proxy_headers": False,
    "ws": "websockets-sansio",
    "ws_per_message_deflate": False,
    "access_log": False,
    "ws_max_size": 65_536,
}


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """SERVE_OPTIONS plus the proxies whose X-Forwarded-For uvicorn believes: exactly those the app
    trusts (CONTEST_TRUSTED_PROXIES); none configured, none believed (not even 127.0.0.1)."""
    proxies = {"proxy_headers": bool(settings.trusted_proxies), "forwarded_allow_ips": [str(n) for n in settings.trusted_proxies]}
    return {**SERVE_OPTIONS, **proxies}


@main.command(help="Serve the web app (uvicorn). Several workers need PostgreSQL + Redis.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option(
    "--board-processes",
    type=click.IntRange(0, 16),
    default=None,
    help=(
        "Processes serving the boards' websockets beside each worker "
        "(default 1 with one worker, 0 with several; or CONTEST_BOARD_PROCESSES)."
    ),
)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, board_processes: int | None, reload: bool) -> None:
    import os

    import uvicorn

    if board_processes is None and workers > 1 and "CONTEST_BOARD_PROCESSES" not in os.environ:
        # Several workers already share the boards between them; a board process beside each one
        # oversubscribed a 2-core machine (bench/results/live.md, session 4): only when asked for.
        board_processes = 0
    if board_processes is not None:  # the app is made by uvicorn (in each worker): it reads the environment
        os.environ["CONTEST_BOARD_PROCESSES"] = str(board_processes)
    settings = Settings.from_env()
    if workers > 1 and settings.is_sqlite:
        raise click.UsageError("多进程部署需要 PostgreSQL(CONTEST_DATABASE_URL)和 Redis(CONTEST_REDIS_URL)")
    boards = f", {settings.board_processes} board process(es)" if settings.board_processes else ""
    click.echo(f"contest: serving on http://{host}:{port} ({'SQLite' if settings.is_sqlite else 'PostgreSQL'}{boards})")
    own_metrics = _metrics_directory(settings.var_dir)
    try:
        uvicorn.run(
            "contest.app:create_served_app", factory=True, host=host, port=port, workers=workers, reload=reload, **uvicorn_options(settings)
        )
    finally:
        if own_metrics is not None:
            shutil.rmtree(own_metrics, ignore_errors=True)


METRICS_DIR = "metrics"  # under the var dir: one directory per running `contest serve`, named by its pid


def _metrics_directory(var_dir: Path) -> Path | None:
    """Give this server's processes (workers, board processes) one PROMETHEUS_MULTIPROC_DIR, so that
    /metrics adds them all up: <var>/metrics/<pid>, empty at start and removed at exit; directories
    left by a server that was killed are removed here. None if the operator set one (theirs is used).

    Must run before prometheus_client is imported in this process: the library picks its
    multiprocess values at import (contest.metrics is imported with the app, after this)."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") or "prometheus_client" in sys.modules:  # the latter: only if called in-process
        return None
    parent = var_dir / METRICS_DIR
    parent.mkdir(parents=True, exist_ok=True)
    for entry in parent.iterdir():
        if entry.is_dir() and (not entry.name.isdigit() or not _running(int(entry.name)) or int(entry.name) == os.getpid()):
            shutil.rmtree(entry, ignore_errors=True)
    own = parent / str(os.getpid())
    own.mkdir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(own)
    previous = signal.getsignal(signal.SIGTERM)

    def removed_then_terminated(signum: int, frame: object) -> None:
        # uvicorn shuts down on SIGTERM, then raises it again with the handler it found (this one):
        # remove the directory, then end as SIGTERM would have (a service manager sees no failure).
        shutil.rmtree(own, ignore_errors=True)
        signal.signal(signum, previous)
        signal.raise_signal(signum)

    if previous is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, removed_then_terminated)
    return own


def _running(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: not ours to remove
        return True
    return True


@main.group(help="Database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="Migrate the database to the latest schema (Alembic).")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    from contest.db.migrate import upgrade

    settings = Settings.from_env()
    upgrade(settings.database_url, revision, settings.audit_key)
    click.echo(f"database at {revision}")


@main.group(help="User accounts.")
def users() -> None:
    pass


@users.command("create", help="Create a user: ROLE is organizer, chief_judge, judge or finance; USERNAME is 2-32 of a-z 0-9 . _ -")
@click.argument("username")
@click.argument("role")
@click.option("--name", "display_name", default="", help="Display name (姓名).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_create(username: str, role: str, display_name: str, password: str) -> None:
    from contest.accounts.service import AccountError, create_user
    from contest.audit.service import Actor

    async def work(session: AsyncSession) -> str:
        user = await create_user(session, Actor.system("cli"), username, password, role, display_name)
        await session.commit()
        return user.username

    try:
        stored = run_with_session(work)
    except AccountError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created {role} {stored}")


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


MAX_PROBLEMS_SHOWN = 100  # a wrong key fails every record: the first ones say enough


def _report_problems(count: int, problems: list) -> None:
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        click.echo(problem.problem, err=True)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        click.echo(f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more", err=True)
    click.echo(f"audit log: {count} records, {len(problems)} problems", err=True)


@audit.command("verify", help="Check every audit record's MAC and link (and the chain against a checkpoint); exit 1 on tampering.")
@click.option(
    "--checkpoint", "checkpoint_file", type=click.File("r", encoding="utf-8"), help="A checkpoint made by `contest audit checkpoint`."
)
def audit_verify(checkpoint_file) -> None:
    from contest.audit.chain import Checkpoint, CheckpointError
    from contest.audit.service import verify_chain

    checkpoint = None
    if checkpoint_file is not None:
        try:
            checkpoint = Checkpoint.from_json(checkpoint_file.read())
        except CheckpointError as exc:
            raise click.BadParameter(str(exc), param_hint="--checkpoint") from None
    count, problems = run_with_session(lambda session: verify_chain(session, checkpoint))
    if problems:
        _report_problems(count, problems)
        sys.exit(1)
    against = f"; matches the checkpoint of {checkpoint.at} ({checkpoint.records} records)" if checkpoint else ""
    click.echo(f"audit log: {count} records, chain intact{against}")


@audit.command("checkpoint", help="Verify the chain, then print its head (records, last MAC, time) as JSON: keep it outside the database.")
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, writable=True), help="Write the checkpoint to this file instead of printing it."
)
def audit_checkpoint(out: str | None) -> None:
    from contest.audit.service import verified_checkpoint

    count, problems, checkpoint = run_with_session(verified_checkpoint)
    if checkpoint is None:
        _report_problems(count, problems)
        click.echo("no checkpoint made: the chain has problems", err=True)
        sys.exit(1)
    if out:
        with open(out, "w", encoding="utf-8") as file:
            file.write(checkpoint.to_json())
        click.echo(f"checkpoint of {checkpoint.records} records written to {out}", err=True)
    else:
        click.echo(checkpoint.to_json(), nl=False)


def _audit_check(database_url: str) -> tuple[int, list]:
    """(audit records, problems) of the database at ``database_url``."""
    from contest.audit.service import verify_chain

    return run_with_session(verify_chain, Settings.from_env().with_database(database_url))


def _report(report, audit_records: int, where: str = "") -> None:
    click.echo(f"  file: {report.path} ({report.bytes / 1024 / 1024:.1f} MB)")
    if report.schema:
        click.echo(f"  schema: {report.schema}")
    for table in ("competitions", "items", "entries", "marks", "result_versions", "appeals", "payout_batches"):
        if table in report.rows:
            click.echo(f"  {table}: {report.rows[table]}")
    click.echo(f"  audit log: {audit_records} records, chain intact{where}")


@main.command(help="Back up the database, audit chain included, while the server runs; the copy is checked (docs/deploy.md).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: ./var/backups/contest-<time>.db (or .pgdump).")
def backup(out: Path | None) -> None:
    from contest.db import backup as backups

    settings = Settings.from_env()
    out = out or backups.default_backup_path(settings.var_dir, settings.database_url)
    where = ""
    try:
        if settings.is_sqlite:
            report = backups.backup_sqlite(settings.database_url, out)
            audited, problems = _audit_check(f"sqlite+aiosqlite:///{report.path}")
        else:
            report = backups.backup_postgresql(settings.database_url, out)
            with backups.scratch_restore(settings.database_url, report.path) as (scratch, why_not):
                if scratch is not None:  # the copy itself, restored into a scratch database
                    audited, problems = _audit_check(scratch)
                    report.schema, report.rows = _database_rows(settings.with_database(scratch))
                    where = " (checked in a restore of the copy)"
                else:
                    audited, problems = _audit_check(settings.database_url)
                    where = " (in the live database: the copy's table of contents only was checked)"
                    click.echo(f"备份本身未能试恢复(无权创建临时数据库:{why_not}),审计链在在线数据库中核对", err=True)
    except backups.BackupError as exc:
        raise click.ClickException(exc.message) from None
    if problems:
        raise click.ClickException(f"备份已写入 {out},但审计链校验未通过:{problems[0].problem}")
    click.echo("backup written and checked:")
    _report(report, audited, where)


@main.command(help="Restore a backup made by `contest backup`; refuses to overwrite data without --force.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite a database that holds data (stop the server first).")
def restore(file: Path, force: bool) -> None:
    from contest.db import backup as backups

    settings = Settings.from_env()
    try:
        if settings.is_sqlite:
            report = backups.restore_sqlite(file, settings.database_url, force)
        else:
            has_data = run_with_session(_synchronously(backups.has_data), settings)
            report = backups.restore_postgresql(file, settings.database_url, force, has_data)
            report.schema, report.rows = _database_rows(settings)
    except backups.BackupError as exc:
        raise click.ClickException(exc.message) from None
    audited, problems = _audit_check(settings.database_url)
    for problem in problems:
        click.echo(problem.problem, err=True)
    if problems:
        raise click.ClickException("已恢复,但审计链校验未通过:见上")
    click.echo("restored and checked:")
    _report(report, audited)


def _synchronously(work: Callable[[Any], T]) -> Callable[[AsyncSession], Awaitable[T]]:
    """``work(sync connection)`` as a coroutine for run_with_session."""

    async def run(session: AsyncSession) -> T:
        connection = await session.connection()
        return await connection.run_sync(work)

    return run


def _database_rows(settings: Settings) -> tuple[str, dict[str, int]]:
    from contest.db import backup as backups

    return run_with_session(_synchronously(backups.database_rows), settings)


@main.command("export", help="Everything about one competition, for the archive: FILE.json (importable) or FILE.xlsx.")
@click.argument("competition_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="…/存档.json or …/存档.xlsx")
def export_competition(competition_id: int, out: Path) -> None:
    from contest.archive import service as archives
    from contest.errors import ContestError

    if out.suffix.lower() not in (".json", ".xlsx"):
        raise click.UsageError("--out 须为 .json(可导回系统)或 .xlsx(供人阅读)文件")
    steps = archives.EXPORT_STEPS
    # On stderr, so that stdout stays the summary; step names in Chinese (what the operator reads).
    with click.progressbar(length=len(steps), label="导出赛事存档", item_show_func=lambda step: step, file=sys.stderr) as bar:
        try:
            archive = run_with_session(lambda session: archives.collect(session, competition_id, lambda step: bar.update(1, step)))
        except ContestError as exc:
            raise click.ClickException(exc.message) from None
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(archives.to_json(archive) if out.suffix.lower() == ".json" else archives.write_xlsx(archive))
        out.chmod(0o600)  # names and ID numbers: for the operator only
        bar.update(1, steps[-1])
    click.echo(f"exported competition {competition_id} ({archive['competition']['name']}) to {out}")
    for table, count in archives.summary(archive).items():
        click.echo(f"  {table}: {count}")


@main.command("import", help="Import a competition archive (FILE.json from `contest export`) with new ids.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_competition(file: Path) -> None:
    from contest.archive import service as archives
    from contest.audit.service import Actor
    from contest.errors import ContestError

    try:
        archive = archives.parse(file.read_bytes())
        # Rows by table, on stderr (stdout stays the summary).
        with click.progressbar(
            length=archives.rows_to_load(archive), label="导入赛事存档(行)", item_show_func=lambda table: table, file=sys.stderr
        ) as bar:
            new_id = run_with_session(
                lambda session: archives.load(session, Actor.system("cli import"), archive, lambda table, rows: bar.update(rows, table))
            )
    except ContestError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"imported {archive['competition']['name']} as competition {new_id}")


@main.group(help="Demo data (seeds/demo).")
def demo() -> None:
    pass


@demo.command("load", help="Load the demo competition, its rosters, judges and demo logins.")
@click.option("--if-empty", is_flag=True, help="Do nothing (but print the logins) if the database already has a competition.")
def demo_load(if_empty: bool) -> None:
    from contest.demo import DEMO_PASSWORD, DEMO_STEPS, demo_logins, load_demo

    settings = Settings.from_env()
    with click.progressbar(length=len(DEMO_STEPS), label="loading the demo", item_show_func=lambda step: step, file=sys.stderr) as bar:
        loaded = run_with_session(
            lambda session: load_demo(session, settings, only_if_empty=if_empty, done=lambda step: bar.update(1, step)), settings
        )
    click.echo("demo data loaded" if loaded else "database already has data; demo not loaded again")
    click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for username, role_label in demo_logins():
        click.echo(f"  {username:<10} {role_label}")


@demo.command("score", help="Enter plausible marks for the unscored stations of every open item, as the demo judges (to try lock, reveal).")
@click.option("--seed", default=2026, show_default=True, type=int)
def demo_score(seed: int) -> None:
    from contest.demo import score_demo

    stored = run_with_session(lambda session: score_demo(session, seed))
    click.echo(f"{stored} marks stored")


from contest.awards.cli import awards_group, policies_group  # noqa: E402 - registered after the core groups

main.add_command(policies_group)
main.add_command(awards_group)
