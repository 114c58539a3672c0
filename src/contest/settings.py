"""One settings object, read from CONTEST_* environment variables.

The embedded default is SQLite under ./var (of the directory the command runs in), so a fresh
clone or a fresh install runs with nothing else installed.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from contest import resources

REPO_ROOT = resources.CHECKOUT_DIR  # the source checkout (tests and benchmarks use it)


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"CONTEST_{name}")
    return value if value not in (None, "") else default


def _secret_key(var_dir: Path) -> str:
    """A stable secret: from the environment, else one generated once and kept in ./var."""
    configured = _env("SECRET_KEY")
    if configured:
        return configured
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    redis_url: str | None = None
    var_dir: Path = field(default_factory=lambda: Path.cwd() / "var")
    seeds_dir: Path = field(default_factory=resources.seeds_dir)
    debug: bool = False
    session_days: int = 7
    # Failed logins per account (or per address) within the window before refusing.
    login_max_failures: int = 5
    login_window_minutes: int = 15
    secure_cookies: bool = False
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_env(cls) -> Settings:
        var_dir = Path(_env("VAR_DIR", str(Path.cwd() / "var"))).resolve()  # type: ignore[arg-type]
        database_url = _env("DATABASE_URL") or f"sqlite+aiosqlite:///{var_dir / 'contest.db'}"
        origins = tuple(o.strip() for o in (_env("ALLOWED_ORIGINS", "") or "").split(",") if o.strip())
        return cls(
            database_url=database_url,
            secret_key=_secret_key(var_dir),
            redis_url=_env("REDIS_URL"),
            var_dir=var_dir,
            seeds_dir=Path(_env("SEEDS_DIR") or resources.seeds_dir()),
            debug=_env("DEBUG", "0") == "1",
            session_days=int(_env("SESSION_DAYS", "7")),  # type: ignore[arg-type]
            login_max_failures=int(_env("LOGIN_MAX_FAILURES", "5")),  # type: ignore[arg-type]
            login_window_minutes=int(_env("LOGIN_WINDOW_MINUTES", "15")),  # type: ignore[arg-type]
            secure_cookies=_env("SECURE_COOKIES", "0") == "1",
            allowed_origins=origins,
        )

    def with_database(self, database_url: str) -> Settings:
        return replace(self, database_url=database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
