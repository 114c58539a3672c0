"""A board process: started by `contest serve` beside the judge process, it serves the boards'
websockets handed to it over its control socket (live/handoff.py). Not run by hand:

    python -m contest.boardserver CONTROL_FD
"""

from __future__ import annotations

import asyncio
import socket
import sys

import uvicorn

from contest.app import create_app
from contest.cli import uvicorn_options
from contest.live.frames import served
from contest.live.handoff import HandoffReceiver
from contest.live.hub import CHANNEL, LiveHub
from contest.settings import Settings

STARTUP_POLL = 0.02  # seconds between two looks at whether the server has started


async def serve_handed_boards(control: socket.socket, settings: Settings) -> None:
    litestar_app = create_app(settings)
    hub: LiveHub = litestar_app.state.hub
    # No listening socket of its own: every connection arrives through the control socket.
    server = uvicorn.Server(uvicorn.Config(served(litestar_app), log_level="warning", **uvicorn_options(settings)))
    serving = asyncio.create_task(server.serve(sockets=[]))
    while not server.started:
        if serving.done():
            await serving
            return
        await asyncio.sleep(STARTUP_POLL)
    hub.ensure_started()
    config, state = server.config, server.server_state

    def make_protocol() -> asyncio.Protocol:
        return config.http_protocol_class(config=config, server_state=state, app_state=server.lifespan.state)  # type: ignore[call-arg]  # typed as type[asyncio.Protocol]; it is uvicorn's H11/httptools protocol class, which takes these

    def stop() -> None:  # the judge process has gone or is stopping
        server.should_exit = True

    HandoffReceiver(control, make_protocol, lambda notice: hub.channels.publish(notice, CHANNEL), stop).start()
    await serving


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    asyncio.run(serve_handed_boards(control, Settings.from_env()))


if __name__ == "__main__":
    main()
