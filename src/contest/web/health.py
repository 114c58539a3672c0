"""/healthz (the process answers), /readyz (it can do its work: database, mark writer, Redis) and
/metrics (Prometheus: marks, acknowledgement times, writer batches, connected devices, errors).

A load balancer sends traffic to a process only while /readyz answers 200; /healthz is for
"restart it if this fails". Neither needs a sign-in nor says anything about the data.
"""

from __future__ import annotations

import asyncio
import hmac
from functools import lru_cache

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from sqlalchemy import text

from contest.domain.roles import ORGANIZER
from contest.domain.text import N_
from contest.metrics import exposition
from contest.web.guards import EVERYONE

CHECK_TIMEOUT = 2.0  # seconds per check: a hung database must not hang the probe


@lru_cache(maxsize=1)
def schema_head() -> str:
    from alembic.script import ScriptDirectory

    from contest.db.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("")).get_current_head() or ""


@get("/healthz", opt=EVERYONE, include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _database(state: State) -> str:
    """Reachable and migrated to this code's schema (an old schema would fail on the first write)."""
    async with state.session_factory() as db:
        found = (await db.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
    expected = schema_head()
    return "ok" if found == expected else f"failed: schema {found}, expected {expected} (contest db upgrade)"


async def _redis(state: State) -> str:
    from redis.asyncio import Redis

    client = Redis.from_url(state.settings.redis_url, socket_connect_timeout=CHECK_TIMEOUT, socket_timeout=CHECK_TIMEOUT)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return "ok"


async def _writer(state: State) -> str:
    return "ok" if state.mark_writer.accepting else "stopped"


def _board_processes(state: State) -> str | None:
    """Advisory: while a board process is down its boards are served by this process (slower
    acknowledgements under a big audience, nothing refused), so it does not make the process unready."""
    boards = state.get("board_processes")
    if boards is None or not boards.count:
        return None
    if boards.alive == boards.count:
        return "ok"
    return f"degraded: {boards.alive} of {boards.count} running; this process serves the boards meanwhile"


@get("/readyz", opt=EVERYONE, include_in_schema=False)
async def readyz(state: State) -> Response:
    checks = {"database": _database, "mark_writer": _writer}
    if state.settings.redis_url:
        checks["redis"] = _redis
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            results[name] = await asyncio.wait_for(check(state), CHECK_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
            results[name] = f"failed: {type(exc).__name__}"
    ready = all(value == "ok" for value in results.values())
    boards = _board_processes(state)
    if boards is not None:
        results["board_processes"] = boards
    return Response({"status": "ok" if ready else "unavailable", "checks": results}, status_code=200 if ready else 503)


@get("/metrics", opt=EVERYONE, include_in_schema=False)
async def metrics_page(request: Request) -> Response:
    """Prometheus metrics (contest.metrics): for a signed-in organizer, or a scraper that sends
    ``Authorization: Bearer <CONTEST_METRICS_TOKEN>``."""
    token = request.app.state.settings.metrics_token
    user = request.scope.get("user")
    offered = request.headers.get("authorization", "")
    if not (token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode())):
        if user is None:
            raise NotAuthorizedException()
        if user.role != ORGANIZER:
            raise PermissionDeniedException(N_("只有组织方可以查看运行指标"))
    body, content_type = exposition()
    return Response(body, media_type=content_type)


HEALTH_HANDLERS = [healthz, readyz, metrics_page]
