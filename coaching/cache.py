"""A Redis cache that degrades to a miss when Redis is unreachable, and is cheap per call.

Pages must keep serving while Redis is down (they are simply not cached), so
connection errors are logged and treated as "nothing cached".
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client, with one `redis.Redis` per connection pool instead of one per call.

    Django builds a new `redis.Redis` for every cache operation, and its
    constructor fills a case-insensitive table of some 170 response callbacks:
    cProfile put that at about half of a page-cache hit. The object holds no
    connection of its own (the pool does, and resets itself after a fork), so
    sharing it between calls and threads is what redis-py intends.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNAVAILABLE as error:
            log.warning("cache unavailable on get: %s", error)
            return default

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNAVAILABLE as error:
            log.warning("cache unavailable on set: %s", error)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except UNAVAILABLE as error:
            log.warning("cache unavailable on add: %s", error)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except UNAVAILABLE as error:
            log.warning("cache unavailable on delete: %s", error)
            return False

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except UNAVAILABLE as error:
            log.warning("cache unavailable on get_many: %s", error)
            return {}

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except UNAVAILABLE as error:
            log.warning("cache unavailable on incr: %s", error)
            raise ValueError("cache unavailable") from error
