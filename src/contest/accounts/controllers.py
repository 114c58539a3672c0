"""Sign in, sign out, language switch; the organizer's view of throttled sign-ins."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from contest.accounts.service import AccountError, clear_lock, current_locks, login, logout
from contest.accounts.sessions import SESSION_COOKIE, session_cookie, throttle_of
from contest.audit.service import Actor
from contest.domain import limits
from contest.domain.roles import CHIEF_JUDGE, FINANCE, JUDGE, ORGANIZER
from contest.domain.text import N_
from contest.i18n import LANGUAGES
from contest.web import fields
from contest.web.client import client_address
from contest.web.flash import saved
from contest.web.guards import EVERYONE, ORGANIZERS, SIGNED_IN
from contest.web.openapi import form_body
from contest.web.pages import render

HOME_BY_ROLE: dict[str, str] = {ORGANIZER: "/competitions", CHIEF_JUDGE: "/chief", JUDGE: "/tablet", FINANCE: "/finance"}


def _safe_next(target: str | None, fallback: str) -> str:
    # Only local paths: an open redirect would let a phishing link bounce through our login.
    if target and target.startswith("/") and not target.startswith("//") and not urlparse(target).netloc:
        return target
    return fallback


class AccountController(Controller):
    @get("/login", opt=EVERYONE)
    async def login_form(self, next: str | None = None) -> Template:
        return render("accounts/login.html", next=next or "", error=None, username="")

    @post("/login", opt=EVERYONE, **form_body(username=limits.USERNAME, password=limits.PASSWORD, next=limits.NEXT_URL))
    async def login_submit(self, request: Request, db: AsyncSession) -> Any:
        form = await request.form()
        username = str(form.get("username", ""))
        password = str(form.get("password", ""))
        settings = request.app.state.settings
        ip = client_address(request, settings.trusted_proxies)
        try:
            user_agent = request.headers.get("user-agent", "")
            user, token = await login(db, username, password, ip, user_agent, throttle_of(settings), settings.session_days)
        except AccountError as exc:
            context = {"next": str(form.get("next", "")), "error": exc.message, "username": username}
            return render("accounts/login.html", 400, **context)
        target = _safe_next(str(form.get("next", "")), HOME_BY_ROLE.get(user.role, "/"))
        return Redirect(target, cookies=[session_cookie(settings, token)])

    @post("/logout", opt=SIGNED_IN)
    async def logout_submit(self, request: Request, db: AsyncSession) -> Redirect:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await logout(db, token)
        response = Redirect("/")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @get("/lang/{code:str}", opt=EVERYONE)
    async def switch_language(self, request: Request, code: str, next: str | None = None) -> Redirect:
        language = code if code in LANGUAGES else "zh"
        referer = urlparse(request.headers.get("referer", "")).path or "/"
        response = Redirect(_safe_next(next or referer, "/"))
        response.set_cookie("lang", language, max_age=365 * 86400, path="/", samesite="lax")
        return response


class LoginLockController(Controller):
    """Sign-ins being throttled (an account at one address, or a whole address), and clearing them."""

    path = "/accounts/locks"
    opt = ORGANIZERS

    async def _page(self, request: Request, db: AsyncSession, errors: list[str] | None = None, status: int = 200) -> Template:
        throttle = throttle_of(request.app.state.settings)
        context = {"locks": await current_locks(db, throttle), "throttle": throttle, "errors": errors or []}
        return render("accounts/locks.html", status, **context)

    @get("/")
    async def index(self, request: Request, db: AsyncSession) -> Template:
        return await self._page(request, db)

    @post("/clear", **form_body(ip=limits.CLIENT_ADDRESS, username=limits.USERNAME))
    async def clear(self, request: Request, db: AsyncSession, actor: Actor) -> Any:
        form = await request.form()
        ip = fields.raw(form, "ip")[: limits.CLIENT_ADDRESS.max]
        username = fields.raw(form, "username")[: limits.USERNAME.max] or None
        try:
            await clear_lock(db, actor, ip, username, throttle_of(request.app.state.settings))
        except AccountError as exc:
            return await self._page(request, db, [exc.message], status=exc.status_code)
        return saved(request, "/accounts/locks", N_("已解除登录限制"))
