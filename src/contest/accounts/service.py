"""Users, logins and sessions. Throttling is counted in the database so every process agrees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.accounts.security import hash_password, new_token, token_hash, verify_password
from contest.audit.service import Actor, record
from contest.db.models import LoginAttempt, User, UserSession, utcnow
from contest.domain.roles import ROLES
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


async def create_user(
    session: AsyncSession,
    actor: Actor,
    username: str,
    password: str | None,
    role: str,
    display_name: str = "",
    person_id: int | None = None,
) -> User:
    username = username.strip()
    if not username or len(username) > 64:
        raise AccountError("用户名不能为空,且不超过 64 个字符")
    if role not in ROLES:
        raise AccountError(f"角色「{role}」无效,应为:{'、'.join(ROLES)}")
    if (await session.execute(select(User.id).where(User.username == username))).first():
        raise AccountError(f"用户名「{username}」已存在")
    try:
        password_hash = hash_password(password) if password else None
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    user = User(username=username, password_hash=password_hash, role=role, display_name=display_name or username, person_id=person_id)
    session.add(user)
    await session.flush()
    await record(session, actor, "user.create", "user", user.id, {"username": username, "role": role})
    return user


async def set_password(session: AsyncSession, actor: Actor, username: str, password: str) -> None:
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if user is None:
        raise AccountError(f"用户「{username}」不存在")
    try:
        user.password_hash = hash_password(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    await session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    await record(session, actor, "user.password", "user", user.id, {"username": username})


@dataclass(frozen=True)
class Throttle:
    max_failures: int
    window: timedelta


async def is_throttled(session: AsyncSession, username: str, ip: str, throttle: Throttle) -> bool:
    since = utcnow() - throttle.window
    failures = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at >= since, LoginAttempt.success.is_(False))
    by_user = (await session.execute(failures.where(LoginAttempt.username == username))).scalar_one()
    # An address may try several accounts; allow it a few times the per-account budget.
    by_ip = (await session.execute(failures.where(LoginAttempt.ip == ip))).scalar_one() if ip else 0
    return by_user >= throttle.max_failures or by_ip >= throttle.max_failures * 4


async def login(
    session: AsyncSession, username: str, password: str, ip: str, user_agent: str, throttle: Throttle, session_days: int
) -> tuple[CurrentUser, str]:
    """Check the credentials and open a session; returns the user and the cookie token. Commits."""
    username = username.strip()
    if await is_throttled(session, username, ip, throttle):
        minutes = int(throttle.window.total_seconds() // 60)
        raise AccountError(f"登录失败次数过多,请 {minutes} 分钟后再试")
    user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else None, password) and user is not None and user.is_active
    session.add(LoginAttempt(username=username[:64], ip=ip[:64], success=ok))
    if not ok or user is None:
        await session.commit()
        raise AccountError("用户名或密码错误")
    await session.commit()
    return await open_session(session, user.id, user_agent, session_days)


async def open_session(session: AsyncSession, user_id: int, user_agent: str, session_days: int, via: str = "password") -> tuple[CurrentUser, str]:
    """A new server-side session for the user; returns the user and the cookie token. Commits."""
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise AccountError("账号不存在或已停用")
    token = new_token()
    session.add(
        UserSession(token_hash=token_hash(token), user_id=user.id, expires_at=utcnow() + timedelta(days=session_days), user_agent=user_agent[:300])
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
