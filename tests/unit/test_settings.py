"""Settings that guard the product: the audit key (outside the database, owner-only, never the
CSRF secret) and the trusted proxies."""

from __future__ import annotations

import ipaddress
import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from contest.settings import Settings, SettingsError, _audit_key

SECRET = "csrf-secret-0123456789abcdef-0123456789"


@pytest.fixture
def no_env_key(monkeypatch):
    monkeypatch.delenv("CONTEST_AUDIT_KEY", raising=False)


def test_audit_key_is_generated_once_into_the_var_dir_owner_only(tmp_path: Path, no_env_key) -> None:
    key = _audit_key(tmp_path, SECRET)
    path = tmp_path / "audit_key"
    assert path.read_text() == key and len(key) >= 32 and key != SECRET
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _audit_key(tmp_path, SECRET) == key
    assert _audit_key(tmp_path / "elsewhere", SECRET) != key
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging files left


def _key_in(var_dir: str) -> str:
    return _audit_key(Path(var_dir), SECRET)


def test_processes_starting_together_agree_on_one_key(tmp_path: Path, no_env_key) -> None:
    with ProcessPoolExecutor(4) as pool:
        keys = set(pool.map(_key_in, [str(tmp_path / "var")] * 16))
    assert len(keys) == 1


def test_audit_key_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONTEST_AUDIT_KEY", "k" * 40)
    assert _audit_key(tmp_path, SECRET) == "k" * 40
    assert not (tmp_path / "audit_key").exists()


@pytest.mark.parametrize(("key", "message"), [("short", "至少需要 32 个字符"), (SECRET, "不能与 CONTEST_SECRET_KEY 相同")])
def test_a_weak_or_reused_audit_key_is_refused(tmp_path: Path, monkeypatch, key: str, message: str) -> None:
    monkeypatch.setenv("CONTEST_AUDIT_KEY", key)
    with pytest.raises(SettingsError, match=message):
        _audit_key(tmp_path, SECRET)
    with pytest.raises(SettingsError, match=message):
        Settings(database_url="sqlite://", secret_key=SECRET, var_dir=tmp_path, audit_key=key)


def test_trusted_proxies_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONTEST_VAR_DIR", str(tmp_path))
    assert Settings.from_env().trusted_proxies == ()
    monkeypatch.setenv("CONTEST_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/24,::1")
    assert Settings.from_env().trusted_proxies == (
        ipaddress.ip_network("10.0.0.1/32"),
        ipaddress.ip_network("192.168.0.0/24"),
        ipaddress.ip_network("::1/128"),
    )
    monkeypatch.setenv("CONTEST_TRUSTED_PROXIES", "10.0.0.1,proxy.local")
    with pytest.raises(SettingsError, match=r"「proxy\.local」不是 IP 地址或网段"):
        Settings.from_env()


def test_board_processes_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONTEST_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("CONTEST_BOARD_PROCESSES", raising=False)
    assert Settings.from_env().board_processes == 1  # one beside the judge process by default
    monkeypatch.setenv("CONTEST_BOARD_PROCESSES", "0")
    assert Settings.from_env().board_processes == 0
    for bad in ("-1", "two", "17", "1.5", "٣"):
        monkeypatch.setenv("CONTEST_BOARD_PROCESSES", bad)
        with pytest.raises(SettingsError, match=r"CONTEST_BOARD_PROCESSES.*应为 0 到 16 的整数"):
            Settings.from_env()
