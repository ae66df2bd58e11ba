"""The one Redis client a process uses for RQ, handed to django_rq through `USE_REDIS_CACHE`.

django_rq builds a new Redis client, with a connection pool of its own, every time it is asked
for a connection: django-tasks-rq asks on every enqueue and again for every job's result, so
each task cost three new TCP connections to Redis (62 for 20 tasks queued and run, now 2:
tests/core/test_worker_backends.py), and a host runs out of ephemeral ports at about 470 new
connections a second, each held 60 s in TIME_WAIT. django_rq takes the client from a cache
named in `USE_REDIS_CACHE` instead, and reads its `_client`: this "cache" is only that, a
client kept for the life of the thread, whose pool reconnects after a fork. It stores nothing;
nothing should use it as a cache.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import redis
from django.core.cache.backends.base import BaseCache


class SharedRedis(BaseCache):
    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.url = location

    @cached_property
    def _client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)
