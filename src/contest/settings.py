"""One settings object, read from CONTEST_* environment variables.

The embedded default is SQLite under ./var, so a fresh clone runs with nothing else installed.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


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


def _decimal_setting(name: str, default: str) -> Decimal:
    raw = _env(name, default) or default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"CONTEST_{name}={raw!r}: not a number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"CONTEST_{name}={raw!r}: must be a number >= 0")
    return value


def _positive_int(name: str, default: str) -> int:
    raw = _env(name, default) or default
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"CONTEST_{name}={raw!r}: must be a whole number >= 1")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    redis_url: str | None = None
    var_dir: Path = REPO_ROOT / "var"
    seeds_dir: Path = REPO_ROOT / "seeds"
    debug: bool = False
    session_days: int = 7
    # Failed logins per account (or per address) within the window before refusing.
    login_max_failures: int = 5
    login_window_minutes: int = 15
    secure_cookies: bool = False
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    # Judge agreement on the chief judge's console (domain/agreement.py, docs/live.md): a judge whose
    # mean deviation from the rest of the panel, on the 0-3 judgement scale, is beyond the threshold
    # over at least min_cells shared cells is flagged.
    agreement_threshold: Decimal = Decimal("0.5")
    agreement_min_cells: int = 3
    # A tablet whose socket is open but that has not been heard from for this long is "silent".
    device_silent_seconds: int = 30

    @classmethod
    def from_env(cls) -> Settings:
        var_dir = Path(_env("VAR_DIR", str(REPO_ROOT / "var")))  # type: ignore[arg-type]
        database_url = _env("DATABASE_URL") or f"sqlite+aiosqlite:///{var_dir / 'contest.db'}"
        origins = tuple(o.strip() for o in (_env("ALLOWED_ORIGINS", "") or "").split(",") if o.strip())
        return cls(
            database_url=database_url,
            secret_key=_secret_key(var_dir),
            redis_url=_env("REDIS_URL"),
            var_dir=var_dir,
            seeds_dir=Path(_env("SEEDS_DIR", str(REPO_ROOT / "seeds"))),  # type: ignore[arg-type]
            debug=_env("DEBUG", "0") == "1",
            session_days=int(_env("SESSION_DAYS", "7")),  # type: ignore[arg-type]
            login_max_failures=int(_env("LOGIN_MAX_FAILURES", "5")),  # type: ignore[arg-type]
            login_window_minutes=int(_env("LOGIN_WINDOW_MINUTES", "15")),  # type: ignore[arg-type]
            secure_cookies=_env("SECURE_COOKIES", "0") == "1",
            allowed_origins=origins,
            agreement_threshold=_decimal_setting("AGREEMENT_THRESHOLD", "0.5"),
            agreement_min_cells=_positive_int("AGREEMENT_MIN_CELLS", "3"),
            device_silent_seconds=_positive_int("DEVICE_SILENT_SECONDS", "30"),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
