"""Users, logins and sessions. Throttling is counted in the database so every process agrees.

Usernames are stored normalised (contest.domain.usernames): sign-in, look-ups and new accounts all
go through `normalise`, and a new account that reads like an existing one is refused.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.accounts.security import hash_password, new_token, token_hash, verify_password
from contest.audit.service import Actor, record
from contest.db.models import LoginAttempt, User, UserSession, utcnow
from contest.domain import limits, usernames
from contest.domain.roles import ROLES
from contest.domain.text import Text, message_of
from contest.errors import ContestError


class AccountError(ContestError):
    """A refused account operation; the message is Chinese and safe to show."""


@dataclass(frozen=True)
class CurrentUser:
    """What a request knows about its user; kept small and detached from the ORM session."""

    id: int
    username: str
    display_name: str
    role: str
    person_id: int | None

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


def _current(user: User) -> CurrentUser:
    return CurrentUser(user.id, user.username, user.display_name or user.username, user.role, user.person_id)


async def lookalikes(session: AsyncSession, names: Iterable[str]) -> dict[str, str]:
    """For each (normalised) name that reads like an existing account with another name: that
    account's username. One query for any number of names (the judges' import checks a file)."""
    by_skeleton: dict[str, list[str]] = {}
    for name in names:
        by_skeleton.setdefault(usernames.skeleton(name), []).append(name)
    found: dict[str, str] = {}
    skeletons = list(by_skeleton)
    for start in range(0, len(skeletons), 500):
        chunk = skeletons[start : start + 500]
        rows = await session.execute(select(User.username, User.username_skeleton).where(User.username_skeleton.in_(chunk)))
        for existing, skeleton in rows:
            for name in by_skeleton[skeleton]:
                if name != existing:
                    found.setdefault(name, existing)
    return found


async def _reads_like(session: AsyncSession, name: str) -> str | None:
    """The username of an existing account that is `name` or reads like it, if any."""
    rows = await session.execute(
        select(User.username).where(or_(User.username == name, User.username_skeleton == usernames.skeleton(name)))
    )
    found = list(rows.scalars())
    return name if name in found else (found[0] if found else None)


async def check_new_username(session: AsyncSession, raw: str) -> str:
    """The normalised username for a new account, or AccountError (Chinese) if it is unsafe, taken,
    or reads like an existing account (case, full-width, look-alike letters)."""
    try:
        name = usernames.validate(raw)
    except usernames.UsernameError as exc:
        latin = usernames.latinised(str(raw))
        twin = await _reads_like(session, latin) if latin else None
        raise AccountError(
            Text("{problem};与已有账号「{twin}」形似", problem=message_of(exc), twin=twin) if twin else message_of(exc)
        ) from None
    twin = await _reads_like(session, name)
    if twin == name:
        typed = str(raw).strip()
        same = "" if typed == name else Text("(用户名不区分大小写和全角/半角,「{typed}」即「{name}」)", typed=typed, name=name)
        raise AccountError(Text("用户名「{name}」已存在{same}", name=name, same=same))
    if twin is not None:
        raise AccountError(Text("用户名「{name}」与已有账号「{twin}」形似,容易认错,请换一个", name=name, twin=twin))
    return name


async def create_user(
    session: AsyncSession,
    actor: Actor,
    username: str,
    password: str | None,
    role: str,
    display_name: str = "",
    person_id: int | None = None,
) -> User:
    """The one way accounts are made (CLI, demo, judges' import): the username is checked here."""
    username = await check_new_username(session, username)
    if role not in ROLES:
        raise AccountError(Text("角色「{role}」无效,应为:{roles}", role=role, roles="、".join(ROLES)))
    try:
        password_hash = hash_password(password) if password else None
    except ValueError as exc:
        raise AccountError(message_of(exc)) from None
    user = User(
        username=username,
        username_skeleton=usernames.skeleton(username),
        password_hash=password_hash,
        role=role,
        display_name=display_name or username,
        person_id=person_id,
    )
    session.add(user)
    await session.flush()
    await record(session, actor, "user.create", "user", user.id, {"username": username, "role": role})
    return user


async def set_password(session: AsyncSession, actor: Actor, username: str, password: str) -> None:
    username = usernames.normalise(username)
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if user is None:
        raise AccountError(Text("用户「{username}」不存在", username=username))
    try:
        user.password_hash = hash_password(password)
    except ValueError as exc:
        raise AccountError(message_of(exc)) from None
    await session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    await record(session, actor, "user.password", "user", user.id, {"username": username})


@dataclass(frozen=True)
class Throttle:
    """Failed sign-ins allowed within the window: per account from one address, and per address
    across accounts (a few times more). Never per account alone: then anyone in the hall could
    lock a judge out by typing wrong passwords for the judge's name."""

    max_failures: int
    window: timedelta
    address_factor: int = 4

    @property
    def address_max(self) -> int:
        return self.max_failures * self.address_factor


async def failures_free_at(
    session: AsyncSession, attempts: Any, since: datetime, limit: int, window: timedelta, *where: Any
) -> datetime | None:
    """When fewer than `limit` failures matching `where` will be left in the window (the limit-th
    most recent one leaves it then), or None if there are fewer already. `attempts` is a model with
    `at` and `success` columns: sign-ins here, competitors' look-ups in contest.competitors."""
    nth = (
        select(attempts.at)
        .where(attempts.at >= since, attempts.success.is_(False), *where)
        .order_by(attempts.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    at = (await session.execute(nth)).scalar()
    return at + window if at is not None else None


PRUNE_EVERY_SECONDS = 60.0
_last_pruned: dict[str, float] = {}


async def prune_attempts(session: AsyncSession, attempts: Any, window: timedelta) -> int:
    """Delete the attempts that have left the throttle window (they no longer count for anything),
    at most once a minute per process and table: sign-ins here, look-ups in contest.competitors.
    Called on each attempt recorded; returns how many rows went (0 when it was not time yet)."""
    now = time.monotonic()
    last = _last_pruned.get(attempts.__tablename__)
    if last is not None and now - last < PRUNE_EVERY_SECONDS:
        return 0
    _last_pruned[attempts.__tablename__] = now
    result = cast("CursorResult[Any]", await session.execute(delete(attempts).where(attempts.at < utcnow() - window)))
    return result.rowcount or 0


async def _free_at(session: AsyncSession, since: datetime, limit: int, window: timedelta, *where: Any) -> datetime | None:
    return await failures_free_at(session, LoginAttempt, since, limit, window, *where)


async def _account_at_address_until(session: AsyncSession, username: str, ip: str, since: datetime, throttle: Throttle) -> datetime | None:
    pair = LoginAttempt.username == username, LoginAttempt.ip == ip
    # A success from the address ends the account's run of failures there (a judge's typos).
    last_success = (await session.execute(select(func.max(LoginAttempt.at)).where(*pair, LoginAttempt.success.is_(True)))).scalar()
    return await _free_at(session, max(since, last_success) if last_success else since, throttle.max_failures, throttle.window, *pair)


async def _address_until(session: AsyncSession, ip: str, since: datetime, throttle: Throttle) -> datetime | None:
    return await _free_at(session, since, throttle.address_max, throttle.window, LoginAttempt.ip == ip) if ip else None


async def throttled_until(session: AsyncSession, username: str, ip: str, throttle: Throttle) -> datetime | None:
    """When this account may be tried again from this address, or None if it may be now."""
    since = utcnow() - throttle.window
    until = [await _account_at_address_until(session, username, ip, since, throttle), await _address_until(session, ip, since, throttle)]
    return max((u for u in until if u is not None), default=None)


async def login(
    session: AsyncSession, username: str, password: str, ip: str, user_agent: str, throttle: Throttle, session_days: int
) -> tuple[CurrentUser, str]:
    """Check the credentials and open a session; returns the user and the cookie token. Commits.
    `username` may be typed in any case or full-width: it is normalised before the look-up."""
    if len(username) > limits.USERNAME.max * 4 or len(password) > limits.PASSWORD.max:
        raise AccountError("用户名或密码过长")  # refused before normalising or hashing megabytes
    username, ip = usernames.normalise(username)[: limits.USERNAME.max], ip[:64]
    until = await throttled_until(session, username, ip, throttle)
    if until is not None:
        minutes = max(1, math.ceil((until - utcnow()).total_seconds() / 60))
        raise AccountError(Text("登录失败次数过多,请 {minutes} 分钟后再试(或请组织方解除)", minutes=minutes))
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else None, password) and user is not None and user.is_active
    session.add(LoginAttempt(username=username, ip=ip, success=ok))
    await prune_attempts(session, LoginAttempt, throttle.window)
    if not ok or user is None:
        await session.commit()
        raise AccountError("用户名或密码错误")
    await session.commit()
    return await open_session(session, user.id, user_agent, session_days)


@dataclass(frozen=True)
class Lock:
    """A throttled account at one address (username set), or a throttled address (username None)."""

    ip: str
    username: str | None
    failures: int
    until: datetime


async def current_locks(session: AsyncSession, throttle: Throttle) -> list[Lock]:
    """Every account/address pair and every address that is throttled now, for the organizer."""
    since = utcnow() - throttle.window
    failed = select(LoginAttempt.ip, func.count()).where(LoginAttempt.at >= since, LoginAttempt.success.is_(False))
    locks = []
    pairs = await session.execute(
        failed.add_columns(LoginAttempt.username)
        .group_by(LoginAttempt.username, LoginAttempt.ip)
        .having(func.count() >= throttle.max_failures)
        .order_by(LoginAttempt.username, LoginAttempt.ip)
    )
    for ip, count, username in pairs.all():
        until = await _account_at_address_until(session, username, ip, since, throttle)
        if until is not None:
            locks.append(Lock(ip, username, count, until))
    addresses = await session.execute(
        failed.group_by(LoginAttempt.ip).having(func.count() >= throttle.address_max).order_by(LoginAttempt.ip)
    )
    for ip, count in addresses.all():
        until = await _address_until(session, ip, since, throttle)
        if until is not None:
            locks.append(Lock(ip, None, count, until))
    return locks


async def clear_lock(session: AsyncSession, actor: Actor, ip: str, username: str | None, throttle: Throttle) -> int:
    """Forget the recent failures of an account at an address (or of a whole address), so it may
    sign in again at once. Recorded in the audit log. Returns how many failures were cleared. Commits."""
    since = utcnow() - throttle.window
    statement = delete(LoginAttempt).where(LoginAttempt.ip == ip, LoginAttempt.success.is_(False), LoginAttempt.at >= since)
    if username is not None:
        statement = statement.where(LoginAttempt.username == username)
    cleared = cast("CursorResult[Any]", await session.execute(statement)).rowcount or 0  # a DELETE's result has a rowcount
    if not cleared:
        await session.rollback()
        if username:
            raise AccountError(Text("地址 {ip} 上的账号「{username}」没有被限制的登录(可能已自动解除)", ip=ip, username=username))
        raise AccountError(Text("地址 {ip}没有被限制的登录(可能已自动解除)", ip=ip))
    detail = {"ip": ip, "username": username, "failures": cleared}
    await record(session, actor, "login.unlock", "login", username or ip, detail)
    await session.commit()
    return cleared


async def open_session(
    session: AsyncSession, user_id: int, user_agent: str, session_days: int, via: str = "password"
) -> tuple[CurrentUser, str]:
    """A new server-side session for the user; returns the user and the cookie token. Commits."""
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise AccountError("账号不存在或已停用")
    token = new_token()
    session.add(
        UserSession(
            token_hash=token_hash(token), user_id=user.id, expires_at=utcnow() + timedelta(days=session_days), user_agent=user_agent[:300]
        )
    )
    await record(session, Actor(user.id, user.username, user_agent[:200]), "user.login", "user", user.id, {"via": via})
    await session.commit()
    return _current(user), token


async def user_for_token(session: AsyncSession, token: str) -> CurrentUser | None:
    row = (
        await session.execute(
            select(User)
            .join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.token_hash == token_hash(token), UserSession.expires_at > utcnow(), User.is_active.is_(True))
        )
    ).scalar_one_or_none()
    return _current(row) if row else None


async def logout(session: AsyncSession, token: str) -> None:
    await session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))
    await session.commit()
