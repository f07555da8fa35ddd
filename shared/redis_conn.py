"""One way to open the Redis connection: from REDIS_URL (password in the URL or in
REDIS_PASSWORD)."""

from __future__ import annotations

import redis

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def connect(url: str, password: str | None = None) -> redis.Redis:
    client = redis.Redis.from_url(url, password=password or None, socket_timeout=30,
                                  socket_connect_timeout=5, health_check_interval=30)
    return client

