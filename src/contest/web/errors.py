"""Exception handlers: Chinese pages for people, ``{"error": {code, message}}`` for the API."""

from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException, PermissionDeniedException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from contest import metrics
from contest.domain.text import N_, Text
from contest.errors import ContestError
from contest.web.pages import render
from contest.xlsx.upload import MAX_FILE_BYTES

log = logging.getLogger("contest")

CSRF_MESSAGE = "安全令牌(CSRF)校验失败:页面可能已过期,请刷新页面后重新提交。"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


# An htmx request (a search as one types, the judge picker, the console's fragments) swaps what it
# gets into a part of the page: a whole error page would not fit there, and htmx swaps no 4xx/5xx
# by itself. It gets the message alone (templates/_error_fragment.html), sent to the page's
# #request-error (templates/base.html, which lets htmx swap error statuses) whatever the request
# targeted and selected; static/js/forms.js clears it once that element's next request succeeds.
HTMX_ERROR_HEADERS = {
    "HX-Retarget": "#request-error",
    "HX-Reswap": "innerHTML",
    "HX-Reselect": "#request-error-message",
}


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


def _respond(request: Request, status: int, code: str, message: str, details: list[str] | None = None) -> Response:
    metrics.ERRORS.labels(code).inc()
    if _wants_json(request):
        # str(): a contest.domain.text.Text is a str subclass the JSON encoder does not take
        body = {"error": {"code": code, "message": str(message), "details": [str(d) for d in details or []]}}
        return Response(body, status_code=status, media_type=MediaType.JSON)
    context = {"status": status, "code": code, "message": message, "details": details or []}
    if _is_htmx(request):
        return Template("_error_fragment.html", context=context, status_code=status, media_type=MediaType.HTML, headers=HTMX_ERROR_HEADERS)
    return render("error.html", status, **context)


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
    details = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in (exc.extra or [])]
    return _respond(request, 400, "bad_request", "请求参数无效", details)


# Litestar's own refusals carry English details ("Request Entity Too Large"): people get Chinese.
HTTP_MESSAGES = {
    400: ("bad_request", N_("请求无效:请检查填写的内容后重试")),
    405: ("method_not_allowed", N_("不支持该请求方式")),
    413: ("too_large", Text("提交的内容过大:上传文件不能超过 {megabytes} MB", megabytes=MAX_FILE_BYTES // 1024 // 1024)),
    415: ("unsupported_media_type", N_("不支持的提交格式")),
    429: ("too_many_requests", N_("请求过于频繁,请稍后再试")),
}


def http_error(request: Request, exc: HTTPException) -> Response:
    code, message = HTTP_MESSAGES.get(exc.status_code, ("http_error", N_("请求无法完成")))
    return _respond(request, exc.status_code, code, message)


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
