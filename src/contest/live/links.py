"""Per-judge sign-in links (printed as QR codes): a judge scans, and the tablet is signed in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.accounts.security import new_token, token_hash
from contest.accounts.service import CurrentUser, open_session
from contest.audit.service import Actor, record
from contest.db.models import LoginLink, Person, User, utcnow
from contest.errors import NotFound
from contest.events.service import judge_accounts

LINK_DAYS = 7


async def issue_links(db: AsyncSession, actor: Actor, competition_id: int) -> list[tuple[Person, User, str]]:
    """A fresh link for every judge account of the competition (earlier links stop working)."""
    rows = await db.execute(judge_accounts(competition_id))
    issued = []
    for person, user in rows.all():
        await db.execute(delete(LoginLink).where(LoginLink.user_id == user.id))
        token = new_token()
        db.add(LoginLink(token_hash=token_hash(token), user_id=user.id, expires_at=utcnow() + timedelta(days=LINK_DAYS)))
        issued.append((person, user, token))
    await record(db, actor, "judge_links.issue", "competition", competition_id, {"users": [u.id for _, u, _ in issued]})
    await db.commit()
    return issued


async def sign_in_with_link(db: AsyncSession, token: str, user_agent: str, session_days: int) -> tuple[CurrentUser, str]:
    link = (
        await db.execute(select(LoginLink).where(LoginLink.token_hash == token_hash(token), LoginLink.expires_at > utcnow()))
    ).scalar_one_or_none()
    if link is None:
        raise NotFound("登录链接无效或已过期,请向组织方索取新的二维码")
    return await open_session(db, link.user_id, user_agent, session_days, via="link")
