"""One settings object, read from CONTEST_* environment variables.

The embedded default is SQLite under ./var (of the directory the command runs in), so a fresh
clone or a fresh install runs with nothing else installed.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import overload

from contest import resources

REPO_ROOT = resources.CHECKOUT_DIR  # the source checkout (tests and benchmarks use it)


@overload
def _env(name: str) -> str | None: ...
@overload
def _env(name: str, default: str) -> str: ...
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


AUDIT_KEY_FILE = "audit_key"
MIN_AUDIT_KEY_LENGTH = 32


class SettingsError(ValueError):
    """A setting that cannot work; the message names the variable."""


def _audit_key(var_dir: Path, secret_key: str) -> str:
    """The key of the audit chain's MACs: kept outside the database, so a database writer cannot
    recompute them. From CONTEST_AUDIT_KEY, else generated once into <var dir>/audit_key (owner-only).
    Never the CSRF secret: that one signs tokens every browser sees."""
    key = _env("AUDIT_KEY")
    if key is None:
        path = var_dir / AUDIT_KEY_FILE
        if not path.exists():
            var_dir.mkdir(parents=True, exist_ok=True)
            # Written aside, then linked into place: two processes starting at once agree on one key.
            staged = var_dir / f".{AUDIT_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
            try:
                os.link(staged, path)
            except FileExistsError:
                pass
            finally:
                staged.unlink()
        key = path.read_text().strip()
        where = str(path)
    else:
        key, where = key.strip(), "CONTEST_AUDIT_KEY"
    return _checked_audit_key(key, where, secret_key)


def _checked_audit_key(key: str, where: str, secret_key: str) -> str:
    if len(key) < MIN_AUDIT_KEY_LENGTH:
        raise SettingsError(f"审计密钥({where})至少需要 {MIN_AUDIT_KEY_LENGTH} 个字符")
    if key == secret_key:
        raise SettingsError(f"审计密钥({where})不能与 CONTEST_SECRET_KEY 相同:请另设 CONTEST_AUDIT_KEY")
    return key


def _trusted_proxies(raw: str | None) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """CONTEST_TRUSTED_PROXIES: addresses or networks (comma-separated) whose X-Forwarded-For /
    X-Real-IP headers are believed. Default none: the peer's own address is the client's."""
    networks = []
    for part in (raw or "").split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise SettingsError(f"CONTEST_TRUSTED_PROXIES 中的「{part.strip()}」不是 IP 地址或网段") from None
    return tuple(networks)


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


def _board_processes(default: str = "1") -> int:
    raw = _env("BOARD_PROCESSES", default) or default
    if not raw.isascii() or not raw.isdigit() or int(raw) > 16:
        raise SettingsError(f"CONTEST_BOARD_PROCESSES={raw!r}:应为 0 到 16 的整数(0:大屏由评分进程自己服务)")
    return int(raw)


def _public_url(raw: str | None) -> str:
    """CONTEST_PUBLIC_URL: http(s)://host[:port][/path], printed on certificates as it is."""
    url = (raw or "").strip().rstrip("/")
    if url and (not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url)):
        raise SettingsError(f"CONTEST_PUBLIC_URL「{url}」应为 http:// 或 https:// 开头的网址,例如 https://contest.example.cn")
    return url


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
    # Empty: resolved from CONTEST_AUDIT_KEY or <var_dir>/audit_key when the settings are made.
    audit_key: str = field(default="", repr=False)
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default_factory=tuple)
    log_json: bool = False  # CONTEST_LOG_FORMAT=json: one JSON object per log line
    metrics_token: str = field(default="", repr=False)  # CONTEST_METRICS_TOKEN: a scraper's bearer token for /metrics
    # Judge agreement on the chief judge's console (domain/agreement.py, docs/live.md): a judge whose
    # mean deviation from the rest of the panel, on the 0-3 judgement scale, is beyond the threshold
    # over at least min_cells shared cells is flagged.
    agreement_threshold: Decimal = Decimal("0.5")
    agreement_min_cells: int = 3
    # A tablet whose socket is open but that has not been heard from for this long is "silent".
    device_silent_seconds: int = 30
    # The address the public reaches the product at (https://...): what certificates' QR codes and
    # admission slips print. Unset: the address of the request that printed them.
    public_url: str = ""
    # Processes `contest serve` starts beside the judge process to serve the boards' websockets
    # (live/handoff.py); 0: the judge process serves them itself.
    board_processes: int = 1

    def __post_init__(self) -> None:
        if not self.audit_key:
            object.__setattr__(self, "audit_key", _audit_key(self.var_dir, self.secret_key))
        else:
            _checked_audit_key(self.audit_key, "audit_key", self.secret_key)

    @classmethod
    def from_env(cls) -> Settings:
        var_dir = Path(_env("VAR_DIR", str(Path.cwd() / "var"))).resolve()
        database_url = _env("DATABASE_URL") or f"sqlite+aiosqlite:///{var_dir / 'contest.db'}"
        origins = tuple(o.strip() for o in (_env("ALLOWED_ORIGINS", "") or "").split(",") if o.strip())
        return cls(
            database_url=database_url,
            secret_key=_secret_key(var_dir),
            redis_url=_env("REDIS_URL"),
            var_dir=var_dir,
            seeds_dir=Path(_env("SEEDS_DIR") or resources.seeds_dir()),
            debug=_env("DEBUG", "0") == "1",
            log_json=(_env("LOG_FORMAT", "text") or "text").lower() == "json",
            metrics_token=_env("METRICS_TOKEN", "") or "",
            agreement_threshold=_decimal_setting("AGREEMENT_THRESHOLD", "0.5"),
            agreement_min_cells=_positive_int("AGREEMENT_MIN_CELLS", "3"),
            device_silent_seconds=_positive_int("DEVICE_SILENT_SECONDS", "30"),
            session_days=int(_env("SESSION_DAYS", "7")),
            login_max_failures=int(_env("LOGIN_MAX_FAILURES", "5")),
            login_window_minutes=int(_env("LOGIN_WINDOW_MINUTES", "15")),
            secure_cookies=_env("SECURE_COOKIES", "0") == "1",
            allowed_origins=origins,
            trusted_proxies=_trusted_proxies(_env("TRUSTED_PROXIES")),
            public_url=_public_url(_env("PUBLIC_URL")),
            board_processes=_board_processes(),
        )

    def with_database(self, database_url: str) -> Settings:
        return replace(self, database_url=database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
