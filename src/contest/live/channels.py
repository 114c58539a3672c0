"""The channels backend: memory in one process, Redis pub/sub across processes.

Litestar 2.x's publish worker dies silently on one backend exception (litestar#5008); these
subclasses log and swallow instead, so one Redis hiccup cannot stop every later broadcast.
Its subscribe worker dies the same way when the Redis connection drops (a Redis restart left
every process deaf until it was restarted): the Redis backend's event stream reconnects instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Iterable
from typing import Any

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend

from contest.settings import Settings

log = logging.getLogger("contest.live")

RECONNECT_DELAY = 1.0  # seconds between attempts to read from a lost Redis subscription


class GuardedMemoryBackend(MemoryChannelsBackend):
    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        try:
            await super().publish(data, channels)
        except Exception:  # see module docstring
            log.exception("channels publish failed")


class GuardedRedisBackend(RedisChannelsPubSubBackend):
    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        try:
            await super().publish(data, channels)
        except Exception:  # see module docstring
            log.exception("channels publish to Redis failed")

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        """Never ends on a lost connection: wait and read again; redis-py then reconnects and
        re-subscribes (PubSub.on_connect). Changes published during the outage are lost (pub/sub
        keeps no history); boards catch up with the next change or their next hello."""
        failures = 0
        while True:
            try:
                async for event in super().stream_events():
                    failures = 0
                    yield event
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # see module docstring
                if failures == 0:
                    log.exception("channels subscription to Redis lost; reconnecting")
                else:
                    log.warning("channels subscription to Redis still down (%s); retrying", exc)
                failures += 1
                await asyncio.sleep(RECONNECT_DELAY)


def make_channels(settings: Settings) -> ChannelsPlugin:
    if settings.redis_url:
        from redis.asyncio import Redis

        backend: GuardedRedisBackend | GuardedMemoryBackend = GuardedRedisBackend(redis=Redis.from_url(settings.redis_url))
    else:
        backend = GuardedMemoryBackend()
    return ChannelsPlugin(backend=backend, channels=["changes"])
