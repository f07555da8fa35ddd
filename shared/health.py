"""Heartbeats: each loop iteration proves liveness with a Redis key that has a TTL.

``python -m shared.health SERVICE`` exits 0 when some replica of SERVICE has a live
heartbeat, 1 otherwise: the docker-compose healthcheck.
"""

from __future__ import annotations

import json
import os
import sys
import time

import redis

from shared import streams


class Heartbeat:
    def __init__(self, client: redis.Redis, service: str, consumer: str, *,
                 ttl_ms: int = 15_000, every_s: float = 1.0, wall=time.time):
        self.redis = client
        self.key = streams.health_key(service, consumer)
        self.ttl_ms = ttl_ms
        self.every_s = every_s
        self.wall = wall
        self._last = 0.0
        self.counters = {"processed": 0, "errors": 0, "dead_lettered": 0}

    def beat(self, force: bool = False, **extra) -> None:
        now = self.wall()
        if not force and now - self._last < self.every_s:
            return
        self._last = now
        value = {"pid": os.getpid(), "ts": round(now, 3), **self.counters, **extra}
        self.redis.set(self.key, json.dumps(value), px=self.ttl_ms)

    def clear(self) -> None:
        self.redis.delete(self.key)


def read_heartbeats(client: redis.Redis, service: str = "*") -> dict[str, dict]:
    out = {}
    for key in client.scan_iter(match=streams.health_key(service, "*")):
        raw = client.get(key)
        if raw:
            name = key.decode() if isinstance(key, bytes) else key
            out[name.rsplit(":", 2)[-2] + ":" + name.rsplit(":", 1)[-1]] = json.loads(raw)
    return out


def main(argv: list[str] | None = None) -> int:
    from shared.config import ConfigError, load, read_environment
    from shared.redis_conn import connect
    from shared.runtime import RuntimeConfig

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m shared.health SERVICE", file=sys.stderr)
        return 2
    try:
        cfg = load(RuntimeConfig, read_environment())
        return 0 if read_heartbeats(connect(cfg.redis_url, cfg.redis_password), args[0]) else 1
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except redis.RedisError as exc:
        print(f"health check failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
