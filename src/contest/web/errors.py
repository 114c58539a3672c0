"""Exception handlers: Chinese pages for people, ``{"error": {code, message}}`` for the API."""

from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.exceptions import ValidationException
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from contest.web.pages import render
from contest.errors import ContestError

log = logging.getLogger("contest")

CSRF_MESSAGE = "安全令牌(CSRF)校验失败:页面可能已过期,请刷新页面后重新提交。"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _respond(request: Request, status: int, code: str, message: str, details: list[str] | None = None) -> Response:
    if _wants_json(request):
        body = {"error": {"code": code, "message": message, "details": details or []}}
        return Response(body, status_code=status, media_type=MediaType.JSON)
    return render("error.html", status, status=status, code=code, message=message, details=details or [])


def contest_error(request: Request, exc: ContestError) -> Response:
    return _respond(request, exc.status_code, exc.code, exc.message, exc.details)


def not_authorized(request: Request, exc: NotAuthorizedException) -> Response:
    if not _wants_json(request) and request.method == "GET":
        return Redirect(f"/login?next={quote(request.url.path)}")
    return _respond(request, 401, "not_signed_in", "请先登录")


def permission_denied(request: Request, exc: PermissionDeniedException) -> Response:
    if "CSRF" in str(exc.detail):
        return _respond(request, 403, "csrf_failed", CSRF_MESSAGE)
    return _respond(request, 403, "forbidden", exc.detail if exc.detail and exc.detail != "Forbidden" else "无权访问")


def not_found(request: Request, exc: NotFoundException) -> Response:
    return _respond(request, 404, "not_found", "页面不存在")


def validation_error(request: Request, exc: ValidationException) -> Response:
    details = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in (exc.extra or [])]  # type: ignore[union-attr]
    return _respond(request, 400, "bad_request", "请求参数无效", details)


def http_error(request: Request, exc: HTTPException) -> Response:
    return _respond(request, exc.status_code, "http_error", str(exc.detail))


def overflow_error(request: Request, exc: OverflowError) -> Response:
    """A number too large for the database (an id or a value beyond 64 bits): the request's fault."""
    return _respond(request, 400, "bad_request", "请求参数无效:数值超出范围")


def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _respond(request, HTTP_500_INTERNAL_SERVER_ERROR, "server_error", "服务器内部错误,请稍后重试")


EXCEPTION_HANDLERS = {
    ContestError: contest_error,
    NotAuthorizedException: not_authorized,
    PermissionDeniedException: permission_denied,
    NotFoundException: not_found,
    ValidationException: validation_error,
    HTTPException: http_error,
    OverflowError: overflow_error,
    HTTP_500_INTERNAL_SERVER_ERROR: server_error,
}
