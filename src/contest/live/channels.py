"""The channels backend: memory in one process, Redis pub/sub across processes.

Litestar 2.x's publish worker dies silently on one backend exception (litestar#5008); these
subclasses log and swallow instead, so one Redis hiccup cannot stop every later broadcast.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend

from contest.settings import Settings

log = logging.getLogger("contest.live")


class GuardedMemoryBackend(MemoryChannelsBackend):
    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        try:
            await super().publish(data, channels)
        except Exception:  # noqa: BLE001 - see module docstring
            log.exception("channels publish failed")


class GuardedRedisBackend(RedisChannelsPubSubBackend):
    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        try:
            await super().publish(data, channels)
        except Exception:  # noqa: BLE001 - see module docstring
            log.exception("channels publish to Redis failed")


def make_channels(settings: Settings) -> ChannelsPlugin:
    if settings.redis_url:
        from redis.asyncio import Redis

        backend = GuardedRedisBackend(redis=Redis.from_url(settings.redis_url))
    else:
        backend = GuardedMemoryBackend()
    return ChannelsPlugin(backend=backend, channels=["changes"])
