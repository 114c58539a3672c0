"""create_app(settings) -> Litestar: the one place where plugins, routers and stores are wired."""

from __future__ import annotations

import gc
import logging
import sys

from litestar import Litestar, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Response, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp

from contest import __version__
from contest.accounts.controllers import AccountController, LoginLockController
from contest.accounts.sessions import SessionAuthMiddleware, provide_actor
from contest.competitors.controllers import COMPETITOR_HANDLERS
from contest.db.engine import make_engine, make_session_factory
from contest.desks.controllers import DESK_HANDLERS
from contest.events.controllers import CompetitionController, ConflictController, ItemController, PeopleController, UnitController
from contest.live.channels import make_channels
from contest.live.controllers import LIVE_HANDLERS
from contest.live.frames import served
from contest.live.handoff import BoardProcesses
from contest.live.hub import LiveHub
from contest.live.sockets import SOCKET_HANDLERS
from contest.live.writer import MarkWriter
from contest.payouts.controllers import PayoutController
from contest.resources import static_dir, templates_dir
from contest.results.controllers import PapersController, ResultsController
from contest.rosters.controllers import RosterController
from contest.settings import Settings
from contest.web import templating
from contest.web.deps import provide_db
from contest.web.errors import EXCEPTION_HANDLERS
from contest.web.flash import clear_shown_flash
from contest.web.guards import EVERYONE, access_guard, parameter_guard
from contest.web.headers import add_security_headers
from contest.web.health import HEALTH_HANDLERS
from contest.web.log_masking import mask_id_numbers_in_logs
from contest.web.pages import render
from contest.web.request_log import configure_logging, with_request_ids


@get("/", opt=EVERYONE)
async def home(state: State) -> Template:
    from contest.events.service import list_competitions

    async with state.session_factory() as db:
        competitions = await list_competitions(db)
    return render("home.html", competitions=competitions)


# Young collections every 50,000 allocations (not 700), full ones rarely. A server holding thousands
# of websockets has a big long-lived heap: with the defaults a full collection ran every few seconds
# under load and paused the event loop for up to 0.6 s each time, the largest part of the tail
# latency of acks and boards (bench/results/live.md). Cycles are still collected, less often.
FAVICON = (static_dir() / "favicon.svg").read_bytes()


@get("/favicon.ico", opt=EVERYONE, include_in_schema=False)
async def favicon() -> Response:
    """The tab icon (an SVG, which browsers take at this address too): no 404 on any page."""
    return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


GC_THRESHOLDS = (50_000, 20, 100)


def tune_garbage_collector() -> None:
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine, settings.audit_key)
    channels = make_channels(settings)
    hub = LiveHub(session_factory, channels)
    writer = MarkWriter(session_factory, settings.database_url)
    state = State({"settings": settings, "engine": engine, "session_factory": session_factory, "hub": hub, "mark_writer": writer})

    async def shutdown() -> None:
        await writer.stop()
        await engine.dispose()

    configure_logging(logging.DEBUG if settings.debug else logging.INFO, settings.log_json)
    mask_id_numbers_in_logs()
    app = Litestar(
        route_handlers=[
            home,
            favicon,
            *HEALTH_HANDLERS,
            AccountController,
            LoginLockController,
            CompetitionController,
            ItemController,
            UnitController,
            PeopleController,
            ConflictController,
            *DESK_HANDLERS,
            *LIVE_HANDLERS,
            ResultsController,
            PapersController,
            *SOCKET_HANDLERS,
            RosterController,
            PayoutController,
            *COMPETITOR_HANDLERS,
            create_static_files_router(path="/static", directories=[static_dir()], opt=EVERYONE),
        ],
        state=state,
        plugins=[channels, hub],
        dependencies={"db": Provide(provide_db), "actor": Provide(provide_actor, sync_to_thread=False)},
        guards=[access_guard, parameter_guard],  # who may, then ids in range and no NUL
        middleware=[DefineMiddleware(SessionAuthMiddleware, exclude=["^/static/", "^/healthz", "^/readyz"])],
        csrf_config=CSRFConfig(secret=settings.secret_key, cookie_secure=settings.secure_cookies, cookie_samesite="lax"),
        template_config=TemplateConfig(directory=templates_dir(), engine=JinjaTemplateEngine, engine_callback=templating.configure),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]  # each handler takes its own exception type; the mapping's type cannot say so
        openapi_config=OpenAPIConfig(
            title="contest",
            version=__version__,
            render_plugins=[JsonRenderPlugin()],
            openapi_router=Router(path="/schema", route_handlers=[], opt=EVERYONE),
        ),
        before_send=[add_security_headers, clear_shown_flash],
        logging_config=None,  # configure_logging above: one format, the request id on every line
        on_startup=[tune_garbage_collector],
        on_shutdown=[shutdown],
        debug=settings.debug,
    )
    # Around everything Litestar does, 404s from the router included: a request id on every log line.
    app.asgi_handler = with_request_ids(app.asgi_handler)
    return app


BOARD_PROCESS_COMMAND = [sys.executable, "-m", "contest.boardserver"]


def create_served_app() -> ASGIApp:
    """What `contest serve` runs: the app, with the server's websocket protocol in websocket scopes
    so that board updates are framed once for every viewer (live/frames.py), and the board
    processes that take the boards' websockets off the judge process (live/handoff.py)."""
    app = create_app()
    settings: Settings = app.state.settings
    boards = BoardProcesses(settings.board_processes, BOARD_PROCESS_COMMAND, app.state.hub.channels, forward_notices=not settings.redis_url)
    app.state.board_processes = boards
    app.on_startup.append(boards.start)
    app.on_shutdown.append(boards.stop)  # shutdown hooks run last-first: the board processes stop first
    return served(app, boards)
