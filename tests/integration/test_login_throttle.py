"""Login throttling that cannot be turned against a judge: counted per account at one address and
per address, never per account alone; kept in the database; an organizer sees and clears it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from contest.accounts.service import AccountError, Throttle, current_locks, login
from contest.db.engine import make_engine, make_session_factory
from contest.db.models import AuditRecord, LoginAttempt
from tests.conftest import PASSWORD, csrf_token, post_form
from tests.conftest import login as sign_in

THROTTLE = Throttle(max_failures=5, window=timedelta(minutes=15))
ATTACKER, JUDGES_TABLET, OTHER = "10.0.0.66", "10.0.0.7", "10.0.0.8"


def _run(url: str, work):
    async def runner():
        engine = make_engine(url)
        try:
            async with make_session_factory(engine)() as db:
                return await work(db)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


def _try(url: str, username: str, password: str, ip: str) -> str:
    async def work(db) -> str:
        try:
            await login(db, username, password, ip, "tests", THROTTLE, 1)
        except AccountError as exc:
            return exc.message
        return "ok"

    return _run(url, work)


def _fail(url: str, username: str, ip: str, times: int) -> None:
    for _ in range(times):
        assert _try(url, username, "wrong-password", ip) == "用户名或密码错误"


def _failed_before(url: str, username: str, ip: str, times: int) -> None:
    """Failures as `login` records them, written directly (each real one costs an argon2 hash)."""

    async def work(db) -> None:
        db.add_all([LoginAttempt(username=username, ip=ip, success=False) for _ in range(times)])
        await db.commit()

    _run(url, work)


def test_wrong_passwords_from_one_device_do_not_lock_the_judge_out_elsewhere(role_users, migrated) -> None:
    url = migrated.database_url
    _fail(url, "judge1", ATTACKER, 5)
    assert "登录失败次数过多" in _try(url, "judge1", PASSWORD, ATTACKER)  # the right password, from there: refused
    assert _try(url, "judge1", PASSWORD, JUDGES_TABLET) == "ok"  # the judge, on the tablet: in
    assert _try(url, "fin", PASSWORD, ATTACKER) == "ok"  # other accounts from that address: in (below the address limit)


def test_an_address_trying_many_accounts_is_slowed_down(role_users, migrated) -> None:
    url = migrated.database_url
    for name in ("org", "fin", "judge1"):
        _failed_before(url, name, ATTACKER, 4)  # below the per-account limit each ...
    _fail(url, "nobody", ATTACKER, 4)  # ... unknown names count too
    assert _try(url, "fin", PASSWORD, ATTACKER) == "ok"  # 16 failures: not yet
    _fail(url, "chief", ATTACKER, 4)  # 20
    assert "登录失败次数过多" in _try(url, "fin", PASSWORD, ATTACKER)
    assert _try(url, "fin", PASSWORD, OTHER) == "ok"


def test_case_and_full_width_count_as_the_same_account(role_users, migrated) -> None:
    url = migrated.database_url
    for spelling in ("JUDGE1", "Judge1", "ｊｕｄｇｅ１", "judge1 ", "judge1"):
        _fail(url, spelling, ATTACKER, 1)
    assert "登录失败次数过多" in _try(url, "judge1", PASSWORD, ATTACKER)


def test_a_success_ends_a_run_of_typos_and_old_failures_expire(role_users, migrated) -> None:
    url = migrated.database_url
    _failed_before(url, "judge1", JUDGES_TABLET, 4)
    assert _try(url, "judge1", PASSWORD, JUDGES_TABLET) == "ok"
    _failed_before(url, "judge1", JUDGES_TABLET, 4)
    assert _try(url, "judge1", PASSWORD, JUDGES_TABLET) == "ok"  # 8 failures in the window, never 5 in a row
    _failed_before(url, "org", ATTACKER, 5)
    assert "请 15 分钟后再试" in _try(url, "org", PASSWORD, ATTACKER)

    async def age(db) -> None:
        # Move the failures back in time: 16 minutes ago they are out of the window.
        for attempt in (await db.execute(select(LoginAttempt).where(LoginAttempt.username == "org"))).scalars():
            attempt.at = attempt.at - timedelta(minutes=16)
        await db.commit()

    _run(url, age)
    assert _try(url, "org", PASSWORD, ATTACKER) == "ok"


def test_spoofed_forwarding_headers_are_ignored_without_a_trusted_proxy(client, role_users, migrated) -> None:
    for n in range(5):
        headers = {"x-forwarded-for": f"198.51.100.{n}", "x-real-ip": f"198.51.100.{n}"}
        client.post("/login", data={"username": "org", "password": "bad-pass-1", "_csrf_token": csrf_token(client)}, headers=headers)
    response = client.post(
        "/login",
        data={"username": "org", "password": PASSWORD, "_csrf_token": csrf_token(client)},
        headers={"x-forwarded-for": "198.51.100.99"},
    )
    assert response.status_code == 400 and "登录失败次数过多" in response.text
    ips = _run(migrated.database_url, lambda db: _distinct_ips(db))
    assert ips == ["testclient"]


async def _distinct_ips(db) -> list[str]:
    return list((await db.execute(select(LoginAttempt.ip).distinct())).scalars())


def test_the_organizer_sees_and_clears_a_lock(client, role_users, migrated) -> None:
    url = migrated.database_url
    _failed_before(url, "judge1", ATTACKER, 5)
    for name in ("a1", "a2", "a3", "a4"):
        _failed_before(url, name, OTHER, 5)  # 20 from OTHER: the address as a whole, and four account pairs
    locks = _run(url, lambda db: current_locks(db, THROTTLE))
    assert {(lock.username, lock.ip, lock.failures) for lock in locks} == {
        ("judge1", ATTACKER, 5),
        ("a1", OTHER, 5),
        ("a2", OTHER, 5),
        ("a3", OTHER, 5),
        ("a4", OTHER, 5),
        (None, OTHER, 20),
    }
    sign_in(client, "org")
    page = client.get("/accounts/locks")
    assert page.status_code == 200 and ATTACKER in page.text and "judge1" in page.text and "该地址的所有账号" in page.text

    cleared = post_form(client, "/accounts/locks/clear", {"ip": ATTACKER, "username": "judge1"})
    assert cleared.status_code in (302, 303)
    assert _try(url, "judge1", PASSWORD, ATTACKER) == "ok"
    assert "judge1" not in client.get("/accounts/locks").text

    assert post_form(client, "/accounts/locks/clear", {"ip": OTHER}).status_code in (302, 303)  # the address and its pairs
    assert _run(url, lambda db: current_locks(db, THROTTLE)) == []
    unlocks = _run(url, lambda db: _unlock_details(db))
    assert unlocks == [{"ip": ATTACKER, "username": "judge1", "failures": 5}, {"ip": OTHER, "username": None, "failures": 20}]

    again = post_form(client, "/accounts/locks/clear", {"ip": OTHER})
    assert again.status_code == 400 and "没有被限制的登录" in again.text


async def _unlock_details(db) -> list[dict]:
    rows = await db.execute(select(AuditRecord.detail).where(AuditRecord.action == "login.unlock").order_by(AuditRecord.id))
    return list(rows.scalars())


@pytest.mark.services
def test_throttling_and_its_listing_on_postgresql(pg_url: str) -> None:
    from contest.db.migrate import upgrade

    upgrade(pg_url)
    _failed_before(pg_url, "judge1", ATTACKER, 5)
    for name in ("a1", "a2", "a3", "a4"):
        _failed_before(pg_url, name, OTHER, 5)
    locks = _run(pg_url, lambda db: current_locks(db, THROTTLE))
    assert {(lock.username, lock.ip, lock.failures) for lock in locks} == {
        ("judge1", ATTACKER, 5),
        ("a1", OTHER, 5),
        ("a2", OTHER, 5),
        ("a3", OTHER, 5),
        ("a4", OTHER, 5),
        (None, OTHER, 20),
    }
    assert "登录失败次数过多" in _try(pg_url, "judge1", PASSWORD, ATTACKER)
    assert _try(pg_url, "judge1", PASSWORD, JUDGES_TABLET) == "用户名或密码错误"  # not throttled there (no such user here)


def test_attempts_older_than_the_window_are_pruned_at_most_once_a_minute(role_users, migrated, monkeypatch) -> None:
    """login_attempts and lookup_attempts keep only what still counts: a failed attempt deletes the
    rows that have left the window (at most once a minute per process, so a storm costs no more)."""
    from contest.accounts import service as accounts
    from contest.competitors.service import note_attempt
    from contest.db.models import LookupAttempt, utcnow

    url = migrated.database_url
    monkeypatch.setattr(accounts, "_last_pruned", {})
    old = utcnow() - THROTTLE.window - timedelta(minutes=1)

    def add_old() -> None:
        async def work(db) -> None:
            db.add_all([LoginAttempt(username="judge1", ip=OTHER, success=False, at=old) for _ in range(3)])
            db.add_all([LookupAttempt(kind="lookup", subject="s", ip=OTHER, success=False, at=old) for _ in range(3)])
            await db.commit()

        _run(url, work)

    def counts() -> tuple[int, int, int]:
        async def work(db):
            logins = list((await db.execute(select(LoginAttempt.at))).scalars())
            lookups = list((await db.execute(select(LookupAttempt.at))).scalars())
            return len(logins), sum(1 for at in logins if at < utcnow() - THROTTLE.window), len(lookups)

        return _run(url, work)

    add_old()
    _fail(url, "judge1", ATTACKER, 1)
    assert counts()[:2] == (1, 0)  # the three old rows went; the new failure stays
    _run(url, lambda db: note_attempt(db, "verify", "", ATTACKER, False, THROTTLE))
    assert counts()[2] == 1
    add_old()  # within the minute: not pruned again
    _fail(url, "judge1", ATTACKER, 1)
    _run(url, lambda db: note_attempt(db, "verify", "", ATTACKER, False, THROTTLE))
    assert counts() == (5, 3, 5)
    monkeypatch.setattr(accounts, "_last_pruned", {k: v - accounts.PRUNE_EVERY_SECONDS for k, v in accounts._last_pruned.items()})
    _fail(url, "judge1", ATTACKER, 1)
    _run(url, lambda db: note_attempt(db, "verify", "", ATTACKER, False, THROTTLE))
    assert counts() == (3, 0, 3)
    assert _try(url, "judge1", PASSWORD, JUDGES_TABLET) == "ok"  # pruning never touched what counts
