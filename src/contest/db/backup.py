"""Back up and restore the whole database, audit chain included, while the server runs.

SQLite: the online backup API copies every page inside one read transaction, so the copy is a
consistent snapshot even while the mark writer commits (WAL lets it go on writing meanwhile).
PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot by construction) and ``pg_restore``.

A backup is checked as soon as it is written (integrity, schema version, audit chain) and a
restore is checked the same way; a restore refuses to overwrite a database that holds data (a
competition or an audit record) unless told to (``force``). On PostgreSQL the dump is checked by
restoring it into a scratch database beside the live one (``scratch_restore``), when the database
user may create one; otherwise only its table of contents is checked and the audit chain is
verified in the live database (the command says which). The audit chain's key is not in the
database: back up the key file too (docs/deploy.md).
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url

from contest.errors import ContestError


class BackupError(ContestError):
    code = "backup_failed"


# A database "holds data" when it has a competition or an audit record (every change writes one:
# users, units, settings...). A freshly migrated, empty database holds none.
DATA_TABLES = ("competitions", "audit_log")


@dataclass
class BackupReport:
    path: Path
    bytes: int
    schema: str
    rows: dict[str, int] = field(default_factory=dict)


def is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def sqlite_file(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("内存数据库无法备份")
    return Path(database)


def libpq_url(database_url: str) -> str:
    """The URL pg_dump and pg_restore understand (no SQLAlchemy driver suffix)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def default_backup_path(var_dir: Path, database_url: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return var_dir / "backups" / f"contest-{stamp}.{'db' if is_sqlite(database_url) else 'pgdump'}"


# ---------------------------------------------------------------- SQLite


def _sqlite_rows(path: Path) -> tuple[str, dict[str, int]]:
    """(schema revision, rows per table) of a SQLite file, after an integrity check."""
    try:
        return _sqlite_rows_unchecked(path)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} 不是有效的数据库备份({exc})") from None


def _sqlite_rows_unchecked(path: Path) -> tuple[str, dict[str, int]]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"数据库文件 {path} 已损坏(integrity_check 未通过)")
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        if "alembic_version" not in tables:
            raise BackupError(f"{path} 不是本系统的数据库(没有 alembic_version 表)")
        schema = db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        rows = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables if t != "alembic_version"}
    return schema, rows


def _sqlite_copy(source: Path, target: Path) -> None:
    """Page-by-page copy in one read transaction of ``source`` (a consistent snapshot)."""
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def backup_sqlite(database_url: str, out: Path) -> BackupReport:
    source = sqlite_file(database_url)
    if not source.exists():
        raise BackupError(f"数据库文件 {source} 不存在")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    _sqlite_copy(source, partial)
    with closing(sqlite3.connect(partial)) as db:
        db.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    schema, rows = _sqlite_rows(partial)
    partial.chmod(0o600)  # names, ID numbers, bank accounts: for the operator only
    partial.replace(out)
    return BackupReport(out, out.stat().st_size, schema, rows)


def sqlite_has_data(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return any(db.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0] for t in DATA_TABLES if t in tables)


def has_data(connection: Connection) -> bool:
    """Whether the database holds data (DATA_TABLES), through a synchronous SQLAlchemy connection."""
    tables = set(inspect(connection).get_table_names())
    return any(connection.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{t}")')).scalar() for t in DATA_TABLES if t in tables)


def database_rows(connection: Connection) -> tuple[str, dict[str, int]]:
    """(schema revision, rows per table), through a synchronous SQLAlchemy connection."""
    tables = sorted(set(inspect(connection).get_table_names()) - {"alembic_version"})
    schema = connection.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""
    return schema, {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


def restore_sqlite(backup: Path, database_url: str, force: bool) -> BackupReport:
    target = sqlite_file(database_url)
    _schema, _rows = _sqlite_rows(backup)  # refuse a damaged or foreign file before touching anything
    if sqlite_has_data(target) and not force:
        raise BackupError(f"目标数据库 {target} 已有数据:确认要用备份覆盖时,加 --force(请先停止服务)")
    target.parent.mkdir(parents=True, exist_ok=True)
    _sqlite_copy(backup, target)
    return BackupReport(target, target.stat().st_size, *_sqlite_rows(target))


# ---------------------------------------------------------------- PostgreSQL


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"找不到 {name}:请安装 PostgreSQL 客户端(Debian: apt-get install postgresql-client),"
            f"或直接运行 {name} --format=custom(见 docs/deploy.md)"
        )
    return path


def _run(args: list[str]) -> str:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} 失败:{done.stderr.strip()[-500:]}")
    return done.stdout


def backup_postgresql(database_url: str, out: Path) -> BackupReport:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={libpq_url(database_url)}"])
    listing = _run([_tool("pg_restore"), "--list", str(partial)])
    if "TABLE DATA public alembic_version" not in listing:
        raise BackupError("备份中没有 alembic_version 表:这不是本系统的数据库")
    partial.chmod(0o600)  # names, ID numbers, bank accounts: for the operator only
    partial.replace(out)
    return BackupReport(out, out.stat().st_size, "")


@contextmanager
def scratch_restore(database_url: str, dump: Path) -> Iterator[tuple[str | None, str]]:
    """Restore ``dump`` into a new database beside the live one, to check the copy itself; yields
    (its SQLAlchemy URL, "") and drops it afterwards. (None, why) when the database user may not
    create a database: the caller then checks what it can elsewhere. A dump that does not restore
    is a BackupError."""
    url = make_url(database_url)
    name = f"{url.database or 'contest'}_backup_check_{secrets.token_hex(4)}"[:63]
    maintenance = f"--maintenance-db={libpq_url(database_url)}"
    created = subprocess.run([_tool("createdb"), maintenance, name], capture_output=True, text=True)
    if created.returncode != 0:
        yield None, created.stderr.strip()[-300:]
        return
    scratch = url.set(database=name).render_as_string(hide_password=False)
    try:
        _run([_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction", f"--dbname={libpq_url(scratch)}", str(dump)])
        yield scratch, ""
    finally:
        subprocess.run([_tool("dropdb"), maintenance, "--if-exists", name], capture_output=True)


def restore_postgresql(backup: Path, database_url: str, force: bool, has_data: bool) -> BackupReport:
    _run([_tool("pg_restore"), "--list", str(backup)])  # refuse a damaged file before touching anything
    if has_data and not force:
        raise BackupError("目标数据库已有数据:确认要用备份覆盖时,加 --force(请先停止服务)")
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={libpq_url(database_url)}",
            str(backup),
        ]
    )
    return BackupReport(backup, backup.stat().st_size, "")
